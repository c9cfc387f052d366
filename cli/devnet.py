"""`stablechain devnet`: a local network of validators on 127.0.0.1 (up, down, status, check)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cli.common import console, fail

DEFAULT_DEVNET_DIR = Path(".devnet")

devnet_app = typer.Typer(help="A local network of validators on 127.0.0.1.", no_args_is_help=True)


def _get_devnet_layout(directory: Path, validators: int, base_port: int, network_base_port: int,  # noqa: ANN202
                       standby_nodes: int = 0):
    from devnet.layout import LayoutError, prepare_devnet
    from devnet.manifest import Manifest

    try:
        manifest = Manifest(validators=validators, base_port=base_port, network_base_port=network_base_port,
                            standby_nodes=standby_nodes)
        return prepare_devnet(directory, manifest)
    except (LayoutError, ValueError) as error:
        fail(str(error))


def _load_existing_layout(directory: Path):  # noqa: ANN202
    from devnet.layout import LayoutError, get_layout, load_stored_manifest

    if not (directory / "manifest.json").exists():
        fail(f"no devnet in {directory} (run `stablechain devnet up --dir {directory}`)")
    try:
        return get_layout(directory, load_stored_manifest(directory.resolve()))
    except LayoutError as error:
        fail(str(error))


@devnet_app.command("up")
def devnet_up(
    validators: int = typer.Option(4, help="Number of validators."),
    base_port: int = typer.Option(8080, help="Node i serves JSON-RPC on base-port + i."),
    network_base_port: int = typer.Option(None, help="Node i's validator port (default base-port - 1900)."),
    directory: Path = typer.Option(DEFAULT_DEVNET_DIR, "--dir", help="Data directory (reused when it exists)."),
    standby_nodes: int = typer.Option(0, "--standby-nodes",
                                      help="Extra nodes outside genesis that may join by staking (docs/staking.md)."),
) -> None:
    """Start N validators on 127.0.0.1; Ctrl-C stops every process started."""
    from devnet.launcher import Devnet, DevnetError, run_until_interrupted
    from devnet.layout import compute_waypoint, describe

    network_base = network_base_port if network_base_port is not None else base_port - 1900
    layout = _get_devnet_layout(directory, validators, base_port, network_base, standby_nodes)

    def on_ready() -> None:
        table = Table(title=f"devnet: {validators} validators, data in {directory}")
        for column in ("node", "JSON-RPC", "validator port", "genesis role"):
            table.add_column(column)
        for row in describe(layout):
            table.add_row(str(row["index"]), str(row["rpc"]), str(row["network_port"]), str(row["role"]))
        console.print(table)
        console.print(f"waypoint: {compute_waypoint(layout)}", soft_wrap=True)
        if layout.manifest.faucet:
            console.print(f"faucet: http://127.0.0.1:{base_port}/mint    Ctrl-C stops the devnet")

    try:
        run_until_interrupted(Devnet(layout), on_ready)
    except DevnetError as error:
        fail(str(error))


@devnet_app.command("down")
def devnet_down(directory: Path = typer.Option(DEFAULT_DEVNET_DIR, "--dir")) -> None:
    """Stop the node processes a devnet launcher recorded."""
    from devnet.launcher import stop_recorded_processes

    stopped = stop_recorded_processes(_load_existing_layout(directory))
    console.print(f"stopped {stopped} node process(es)")


@devnet_app.command("status")
def devnet_status(directory: Path = typer.Option(DEFAULT_DEVNET_DIR, "--dir")) -> None:
    """Show each node's health, ledger version and timestamp."""
    from devnet.layout import compute_waypoint

    layout = _load_existing_layout(directory)
    table = Table(title=f"devnet in {directory}, waypoint {compute_waypoint(layout)}")
    for column in ("node", "JSON-RPC", "version", "timestamp (µs)", "state"):
        table.add_column(column)
    for files in layout.validators:
        url = layout.manifest.get_rpc_url(files.index)
        table.add_row(str(files.index), url, *_get_node_state(url))
    console.print(table)


def _get_node_state(url: str) -> tuple[str, str, str]:
    from devnet.launcher import call_rpc

    try:
        response = call_rpc(url, "get_metadata", [])
        return str(response["diem_ledger_version"]), str(response["diem_ledger_timestampusec"]), "up"
    except OSError:
        return "-", "-", "down"


@devnet_app.command("check")
def devnet_check(directory: Path = typer.Option(DEFAULT_DEVNET_DIR, "--dir")) -> None:
    """Check over JSON-RPC that all nodes agree and that the supply adds up."""
    from devnet.check import CheckFailed, run_checks

    layout = _load_existing_layout(directory)
    urls = [layout.manifest.get_rpc_url(files.index) for files in layout.validators]
    try:
        report = run_checks(urls)
    except (CheckFailed, OSError) as error:
        fail(f"check failed: {error}")
    console.print(f"agreement: all {len(urls)} nodes match at version {report.common_version} (versions {report.versions})")
    for code, supply in report.supply_micro.items():
        console.print(f"supply {code}: minted - burned = {supply}, held by {report.accounts} accounts = {report.held_micro[code]}")
    if report.staked_micro:
        console.print(f"of which in stake pools (active, pending, unbonding, rewards): {report.staked_micro}")
