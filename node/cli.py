"""The one command-line interface, `stablechain`, built with typer."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from explorer.cli import register_web_commands
from wallet.cli import app as wallet_app
from wallet.cli_payments import pay_command, request_command, rotate_key_command
from wallet.regulator import app as regulator_app
from wallet.treasury import app as treasury_app
from wallet.validator import app as validator_app
from wallet_service.cli import serve_command as wallet_serve_command

app = typer.Typer(
    help="stablechain: a permissioned proof-of-stake BFT chain for a reserve-backed stablecoin.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
node_app = typer.Typer(help="Run and set up a validator.", no_args_is_help=True)
devnet_app = typer.Typer(help="A local network of validators on 127.0.0.1.", no_args_is_help=True)
app.add_typer(node_app, name="node")
app.add_typer(devnet_app, name="devnet")
wallet_app.command("serve")(wallet_serve_command)
wallet_app.command("request")(request_command)
wallet_app.command("pay")(pay_command)
wallet_app.command("rotate-key")(rotate_key_command)
app.add_typer(wallet_app, name="wallet")
app.add_typer(treasury_app, name="treasury")
app.add_typer(regulator_app, name="regulator")
app.add_typer(validator_app, name="validator")
register_web_commands(app, regulator_app)
console = Console()
error_console = Console(stderr=True)

DEFAULT_DEVNET_DIR = Path(".devnet")
DEFAULT_RPC_URL = "http://127.0.0.1:8080/v1"


def fail(message: str, code: int = 1) -> None:
    """Print a clear error and exit non-zero (no traceback for operator mistakes)."""
    error_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the stablechain version."""
    from importlib.metadata import version as get_version

    typer.echo(get_version("stablechain"))


@node_app.command("start")
def node_start(config: Path = typer.Option(..., "--config", "-c", help="The node's TOML config.")) -> None:
    """Start a validator from its config; Ctrl-C or SIGTERM stops it cleanly."""
    import asyncio

    from node.config import ConfigError, load_config
    from node.genesis_file import GenesisFileError
    from node.keys import KeyFileError

    try:
        loaded = load_config(config)
        from node.service import run_node

        asyncio.run(run_node(loaded))
    except (ConfigError, KeyFileError, GenesisFileError) as error:
        fail(str(error))
    except KeyboardInterrupt:
        pass


@node_app.command("init")
def node_init(
    directory: Path = typer.Option(..., "--dir", help="Where to create keys and the config."),
    genesis: Path = typer.Option(..., "--genesis", help="The network's genesis file."),
    rpc_port: int = typer.Option(8080, help="JSON-RPC port."),
    network_port: int = typer.Option(6180, help="Validator network port."),
    passphrase_env: str = typer.Option(None, help="Encrypt the keys with the passphrase in this environment variable."),
) -> None:
    """Create a validator's keys and a config skeleton; prints the public keys for genesis."""
    import os

    from node.keys import save_private_key
    from primitives.keys import PrivateKey

    import nacl.utils

    if (directory / "node.toml").exists():
        fail(f"{directory / 'node.toml'} exists; refusing to overwrite a validator's keys")
    passphrase = os.environ.get(passphrase_env) if passphrase_env else None
    if passphrase_env and passphrase is None:
        fail(f"environment variable {passphrase_env} is not set")
    keys = {name: PrivateKey(nacl.utils.random(32)) for name in ("consensus", "network", "account")}
    for name, key in keys.items():
        save_private_key(directory / "keys" / f"{name}.key", key, passphrase)
    passphrase_line = f'passphrase_env = "{passphrase_env}"\n' if passphrase_env else ""
    (directory / "node.toml").write_text(
        f'data_dir = "data"\ngenesis_file = "{genesis.resolve()}"\n\n[keys]\n'
        f'consensus_key_file = "keys/consensus.key"\nnetwork_key_file = "keys/network.key"\n{passphrase_line}\n'
        f"[network]\nlisten_port = {network_port}\npeers = []\n\n[rpc]\nlisten_port = {rpc_port}\n"
    )
    table = Table(title=f"validator keys in {directory}")
    table.add_column("key")
    table.add_column("public key / address")
    for name, key in keys.items():
        table.add_row(name, key.public_key().hex())
    table.add_row("account address", keys["account"].public_key().address().hex())
    console.print(table)


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


@app.command("status")
def status(url: str = typer.Option(DEFAULT_RPC_URL, help="A node's JSON-RPC URL.")) -> None:
    """Show a node's chain id, ledger version and timestamp."""
    from devnet.launcher import call_rpc

    try:
        response = call_rpc(url, "get_metadata", [])
    except OSError as error:
        fail(f"{url}: {error}")
    result = response.get("result") or {}
    console.print(f"chain id {response['diem_chain_id']}  version {response['diem_ledger_version']}  "
                  f"timestamp {response['diem_ledger_timestampusec']} µs  accumulator {result.get('accumulator_root_hash')}")


@app.command("bench")
def bench(
    validators: int = typer.Option(4, help="Validators in the benchmark's own devnet."),
    duration: float = typer.Option(60.0, help="Seconds of load."),
    rate: float = typer.Option(0.0, help="Transfers submitted per second (0 = as fast as possible)."),
    accounts: int = typer.Option(64, help="Sending accounts."),
    base_port: int = typer.Option(28080, help="JSON-RPC base port of the benchmark devnet."),
    in_flight: int = typer.Option(32, "--in-flight", min=1, help="Uncommitted transfers per account (1: closed-loop "
                                  "clients that pay again once the previous payment committed)."),
    kill_validator_after: Optional[float] = typer.Option(
        None, "--kill-validator-after", help="SIGKILL the last validator after this many seconds of load; "
        "report the rates before it and from 10 s after it."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Measure committed transfers/s and submit-to-commit latency on a fresh local devnet."""
    from devnet.bench import format_result, run_bench

    if kill_validator_after is not None and not 0 < kill_validator_after < duration:
        fail("--kill-validator-after must lie inside the load's duration")
    try:
        result = run_bench(validators, duration, rate, base_port, accounts,
                           kill_validator_after_s=kill_validator_after, in_flight_per_account=in_flight)
    except (RuntimeError, OSError) as error:
        fail(f"benchmark failed: {error}")
    typer.echo(format_result(result, as_json))


@app.command("bench-rpc")
def bench_rpc(
    duration: float = typer.Option(20.0, help="Seconds of load."),
    clients: int = typer.Option(32, help="Concurrent HTTP clients."),
    base_port: int = typer.Option(28180, help="JSON-RPC port of the one-node devnet."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Measure get_account requests per second served by one node."""
    from devnet.bench_rpc import format_rpc_result, run_rpc_bench

    try:
        result = run_rpc_bench(duration, base_port, clients)
    except (RuntimeError, OSError) as error:
        fail(f"benchmark failed: {error}")
    typer.echo(format_rpc_result(result, as_json))


@app.command("bench-catchup")
def bench_catchup(
    validators: int = typer.Option(4, help="Validators in the benchmark's own devnet."),
    load: float = typer.Option(30.0, help="Seconds of transfers before the last validator's database is wiped."),
    base_port: int = typer.Option(28280, help="JSON-RPC base port of the benchmark devnet."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Measure how fast a validator that lost its database catches up (versions replayed per second)."""
    from devnet.bench_catchup import format_catchup_result, run_catchup_bench

    try:
        result = run_catchup_bench(validators, load, base_port)
    except (RuntimeError, OSError) as error:
        fail(f"benchmark failed: {error}")
    typer.echo(format_catchup_result(result, as_json))


@app.command("bench-executor")
def bench_executor(
    block_size: int = typer.Option(1000, help="Transfers per block."),
    blocks: int = typer.Option(10, help="Blocks to execute."),
) -> None:
    """Measure executed peer-to-peer transfers per second on one core, state root included."""
    import sys

    from contracts import bench

    sys.argv = ["contracts.bench", "--block-size", str(block_size), "--blocks", str(blocks)]
    bench.main()


if __name__ == "__main__":
    app()
