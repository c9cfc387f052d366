"""The one command-line interface, `stablechain`, built with typer."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="stablechain: a permissioned proof-of-stake BFT chain for a reserve-backed stablecoin.",
    no_args_is_help=True,
)


@app.command()
def version() -> None:
    """Print the stablechain version."""
    from importlib.metadata import version as get_version

    typer.echo(get_version("stablechain"))


@app.command("bench-executor")
def bench_executor(
    block_size: int = typer.Option(1000, help="Transfers per block."),
    blocks: int = typer.Option(10, help="Blocks to execute."),
) -> None:
    """Measure executed peer-to-peer transfers per second on one core, state root included."""
    from contracts.bench import run_benchmark

    run_benchmark(block_size=block_size, blocks=blocks)


if __name__ == "__main__":
    app()
