"""`stablechain node`: set up a validator's keys and config, and run it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cli.common import console, fail

node_app = typer.Typer(help="Run and set up a validator.", no_args_is_help=True)


@node_app.command("start")
def node_start(config: Path = typer.Option(..., "--config", "-c", help="The node's TOML config.")) -> None:
    """Start a validator from its config; Ctrl-C or SIGTERM stops it cleanly."""
    import asyncio

    from node.config import ConfigError, load_config
    from node.genesis import GenesisFileError
    from node.keys.files import KeyFileError
    from node.logging import configure_logging
    from node.service.assembly import NodeStartError

    try:
        loaded = load_config(config)
        configure_logging(loaded.log.format, loaded.log.level)
        from node.service.run import run_node

        asyncio.run(run_node(loaded))
    except (ConfigError, KeyFileError, GenesisFileError, NodeStartError) as error:
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

    from node.keys.files import save_private_key
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
