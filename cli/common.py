"""What every `stablechain` command shares: the consoles and the one way to fail with a clear message."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console()
error_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a clear error and exit non-zero (no traceback for operator mistakes)."""
    error_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)
