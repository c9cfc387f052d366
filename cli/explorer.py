"""`stablechain explorer`, `stablechain regulator dashboard` and `stablechain regulator mica-report`."""

# cli/main.py mounts these functions on its typer apps; they only parse options and start a server or
# print a report, so the commands stay thin and the pages stay testable without a process.

from __future__ import annotations

import ipaddress
from pathlib import Path

import typer
from aiohttp import web

from cli.regulator import (
    CHAIN_ID,
    ENVELOPE,
    EXPORT,
    HEADS,
    KEY_FILE,
    NODE_ID,
    PASSPHRASE_ENV,
    URL,
    emit,
    error_console,
    make_client,
    run,
)
from explorer.chain import ChainReader
from explorer.dashboard.mica import compute_report_rows, fetch_mica_report
from explorer.dashboard.routes import create_dashboard_app
from explorer.inputs import BadInput, parse_currency, parse_period
from explorer.routes import create_explorer_app
from wallet.errors import WalletError
from wallet.verify import parse_waypoint

DEFAULT_EXPLORER_PORT = 8070
DEFAULT_DASHBOARD_PORT = 8071
LOOPBACK_HOST = "127.0.0.1"


def check_waypoint(waypoint: str | None) -> str | None:
    """Return a waypoint in canonical hex, or exit with a clear message when it is not 32 bytes of hex."""
    if waypoint is None:
        return None
    try:
        return parse_waypoint(waypoint).genesis_hash.hex()
    except WalletError as error:
        error_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None


def explorer(rpc: str = typer.Option("http://127.0.0.1:8080/v1", "--rpc", help="A node's JSON-RPC URL."),
             host: str = typer.Option(LOOPBACK_HOST, "--host", help="Address to listen on."),
             port: int = typer.Option(DEFAULT_EXPLORER_PORT, "--port", help="Port to listen on."),
             waypoint: str = typer.Option(None, "--waypoint", envvar="STABLECHAIN_WAYPOINT",
                                          help="Trust this genesis hash (hex); without it the node's genesis is "
                                               "trusted on first use and every page says so.")) -> None:
    """Serve the explorer and the public proof of reserves; every figure is verified against the validators."""
    reader = ChainReader(rpc, check_waypoint(waypoint))
    typer.echo(f"explorer on http://{host}:{port}/ reading {rpc}")
    web.run_app(create_explorer_app(reader), host=host, port=port, print=None)


def is_loopback(host: str) -> bool:
    """Return True iff host names this machine only (a loopback address or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dashboard(url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
              chain_id: int = CHAIN_ID, node_id: str = NODE_ID, envelope: str = ENVELOPE, heads: Path = HEADS,
              host: str = typer.Option(LOOPBACK_HOST, "--host", help="Loopback address to listen on."),
              port: int = typer.Option(DEFAULT_DASHBOARD_PORT, "--port", help="Port to listen on.")) -> None:
    """Serve the regulator's dashboard on this machine; the key signs every request and never leaves it."""
    if not is_loopback(host):
        error_console.print(f"[bold red]error:[/] the dashboard serves regulator data and listens on this machine "
                            f"only; {host!r} is not a loopback address")
        raise typer.Exit(1)
    client = make_client(url, key_file, passphrase_env, chain_id, node_id, heads, envelope)
    typer.echo(f"regulator dashboard on http://{host}:{port}/ for {url}")
    web.run_app(create_dashboard_app(client, host, port), host=host, port=port, print=None)


def mica_report(currency: str = typer.Option("XUS", "--currency", help="The e-money token's currency."),
                start: str = typer.Option(..., "--from", help="First day of the period, YYYY-MM-DD (UTC)."),
                end: str = typer.Option(..., "--to", help="Last day of the period, YYYY-MM-DD (UTC)."),
                url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
                chain_id: int = CHAIN_ID,
                node_id: str = NODE_ID, envelope: str = ENVELOPE, export: tuple[str, Path] = EXPORT) -> None:
    """The MiCA Art. 22 report for a period: holders, value issued, reserve, transactions per day."""
    try:
        first, last = parse_period(start, end)
        code = parse_currency(currency)
    except BadInput as error:
        error_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None
    client = make_client(url, key_file, passphrase_env, chain_id, node_id, envelope=envelope)
    report = run(fetch_mica_report(client, code, first, last))
    emit(f"MiCA Art. 22 report, {code}, {first.isoformat()} to {last.isoformat()}", compute_report_rows(report),
         export)


def register_web_commands(app: typer.Typer, regulator_app: typer.Typer) -> None:
    """Mount `explorer` on the main app and `dashboard`, `mica-report` on the regulator app."""
    app.command("explorer")(explorer)
    regulator_app.command("dashboard")(dashboard)
    regulator_app.command("mica-report")(mica_report)
