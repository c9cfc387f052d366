"""`python -m wallet_service ...` runs `stablechain wallet serve ...` (tests start it as a process)."""

from __future__ import annotations

import typer

from wallet_service.cli import serve_command

if __name__ == "__main__":
    typer.run(serve_command)
