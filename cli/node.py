"""`stablechain node`: set up a validator's keys and config, and run it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cli.common import console, fail

node_app = typer.Typer(help="Set up and run a validator or a full node.", no_args_is_help=True)


@node_app.command("start")
def node_start(config: Path = typer.Option(..., "--config", "-c", help="The node's TOML config.")) -> None:
    """Start a validator from its config; Ctrl-C or SIGTERM stops it cleanly."""
    import asyncio

    from node.config import ConfigError, load_config
    from node.genesis import GenesisFileError
    from node.keys.files import KeyFileError
    from node.logging import bind_node, configure_logging
    from node.service.assembly import NodeStartError

    try:
        loaded = load_config(config)
        configure_logging(loaded.log.format, loaded.log.level)
        bind_node(loaded.name or loaded.role)
        from node.service.run import run_node

        asyncio.run(run_node(loaded))
    except (ConfigError, KeyFileError, GenesisFileError, NodeStartError) as error:
        fail(str(error))
    except KeyboardInterrupt:
        pass


@node_app.command("init")
def node_init(
    directory: Path = typer.Option(..., "--dir", help="Where to create keys and the config."),
    role: str = typer.Option("validator", "--role", help="validator, or full (a full node: no consensus key)."),
    name: str = typer.Option(..., "--name", help="The node's name (logs; a validator's on-chain name)."),
    listen: str = typer.Option(..., "--listen", help="HOST:PORT the node's peer transport listens on."),
    rpc_listen: str = typer.Option(..., "--rpc-listen", help="HOST:PORT of its JSON-RPC, metrics and probes."),
    seeds: list[str] = typer.Option([], "--seed", help="NETWORK_PUBLIC_KEY@HOST:PORT of a node to follow (repeat)."),
    address: str = typer.Option(None, "--address", help="HOST:PORT peers dial, when not the --listen address."),
    passphrase_env: str = typer.Option(None, help="Encrypt the keys with the passphrase in this variable."),
) -> None:
    """Create a node's keys and node.toml; a validator also writes its public operator.json for the ceremony."""
    from cli.genesis import read_passphrase
    from node.ceremony import CeremonyError
    from node.operator_setup import ROLE_FULL, ROLE_VALIDATOR, NodeSetup, init_node, parse_listen

    if role not in (ROLE_VALIDATOR, ROLE_FULL):
        fail(f"--role must be {ROLE_VALIDATOR} or {ROLE_FULL}, got {role!r}")
    passphrase = read_passphrase(passphrase_env)
    try:
        setup = NodeSetup(directory, role, name, parse_listen(listen, "--listen"), parse_listen(rpc_listen, "--rpc-listen"),
                          tuple(seeds), None if address is None else parse_listen(address, "--address"), passphrase_env)
        keys, operator = init_node(setup, passphrase)
    except CeremonyError as error:
        fail(str(error))
    table = Table(title=f"{role} {name} in {directory}" + (" (publish operator.json)" if operator else ""))
    table.add_column("key")
    table.add_column("public key / address")
    for key_name, key in keys.items():
        table.add_row(key_name, key.public_key().hex())
    if operator is not None:
        table.add_row("account address", operator.account_address.hex())
    console.print(table)
    typer.echo(f"seed for others: {keys['network'].public_key().hex()}@{address or listen}")


@node_app.command("set-waypoint")
def node_set_waypoint(config: Path = typer.Option(..., "--config", "-c", help="The node's TOML config."),
                      waypoint: str = typer.Argument(..., help="The waypoint every operator compared.")) -> None:
    """Record the agreed waypoint in a node's config after checking its genesis file has it."""
    from node.ceremony import CeremonyError
    from node.config import ConfigError, load_config
    from node.genesis import GenesisFileError, compute_waypoint
    from node.operator_setup import record_waypoint

    try:
        actual = compute_waypoint(load_config(config).genesis_file)
        if actual != waypoint.lower():
            raise CeremonyError(f"the node's genesis file has waypoint {actual}, not {waypoint}: refusing to record it")
        record_waypoint(config, actual)
    except (ConfigError, GenesisFileError, CeremonyError) as error:
        fail(str(error))
    console.print(f"{config}: waypoint {actual} recorded; the node refuses any other genesis")
