"""The one command-line interface, `stablechain`, built with typer: every command of the product mounted here."""

from __future__ import annotations

import typer

from cli.bench import bench, bench_catchup, bench_executor, bench_rpc, bench_sync, soak, status
from cli.devnet import devnet_app
from cli.explorer import register_web_commands
from cli.genesis import genesis_app
from cli.node import node_app
from cli.regulator import app as regulator_app
from cli.treasury import app as treasury_app
from cli.treasury_accounts import create_vasp  # noqa: F401  (registers the onboarding commands)
from cli.validator import app as validator_app
from cli.wallet import app as wallet_app
from cli.wallet_payments import pay_command, request_command, rotate_key_command
from cli.wallet_serve import serve_command as wallet_serve_command

app = typer.Typer(
    help="stablechain: a permissioned proof-of-stake BFT chain for a reserve-backed stablecoin.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(node_app, name="node")
app.add_typer(devnet_app, name="devnet")
app.add_typer(genesis_app, name="genesis")
wallet_app.command("serve")(wallet_serve_command)
wallet_app.command("request")(request_command)
wallet_app.command("pay")(pay_command)
wallet_app.command("rotate-key")(rotate_key_command)
app.add_typer(wallet_app, name="wallet")
app.add_typer(treasury_app, name="treasury")
app.add_typer(regulator_app, name="regulator")
app.add_typer(validator_app, name="validator")
register_web_commands(app, regulator_app)


@app.command()
def version() -> None:
    """Print the stablechain version."""
    from importlib.metadata import version as get_version

    typer.echo(get_version("stablechain"))


app.command("status")(status)
app.command("bench")(bench)
app.command("bench-rpc")(bench_rpc)
app.command("bench-catchup")(bench_catchup)
app.command("bench-sync")(bench_sync)
app.command("soak")(soak)
app.command("bench-executor")(bench_executor)


if __name__ == "__main__":
    app()
