"""`python -m node CONFIG [json|console]`: run one validator in the foreground with the chosen log format."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from node.config import ConfigError, load_config
from node.keys.files import KeyFileError
from node.logging import configure_logging
from node.service.assembly import NodeStartError
from node.service.run import run_node


def main(argv: list[str] | None = None) -> int:
    """Run the validator a config describes until SIGINT/SIGTERM; exit 1 with a clear message when it cannot start."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m node CONFIG.toml [json|console]", file=sys.stderr)
        return 2
    configure_logging(args[1] if len(args) > 1 else "console")
    try:
        asyncio.run(run_node(load_config(Path(args[0]))))
    except (ConfigError, KeyFileError, NodeStartError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
