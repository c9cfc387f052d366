"""`stablechain node init`: a node's keys, its `node.toml`, and a validator's public `operator.json`.

Nothing here needs the genesis: the node reads `genesis.json` from its directory once the ceremony made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nacl.utils

from node.ceremony import OPERATOR_FILE, CeremonyError, OperatorFile, encode_operator_file
from node.config import ROLE_FULL, ROLE_VALIDATOR
from node.keys.files import save_private_key
from node.seeds import parse_seed
from primitives.keys import PrivateKey
from primitives.network_address import NetworkAddress, parse_network_address

CONFIG_FILE = "node.toml"
GENESIS_FILE = "genesis.json"
DATA_DIRECTORY = "data"
SEED_BYTES = 32
VALIDATOR_KEY_NAMES = ("consensus", "network", "account")
FULL_NODE_KEY_NAMES = ("network",)
# `node init` leaves this line for `node set-waypoint` to fill (a TOML key must come before the first table).
WAYPOINT_PLACEHOLDER = "# waypoint: recorded by `stablechain node set-waypoint` after `stablechain genesis verify`"
_WAYPOINT_LINE = re.compile(r"^(# waypoint: .*|waypoint = \"[0-9a-f]*\")$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class NodeSetup:
    """What `node init` asks for."""

    directory: Path
    role: str
    name: str
    listen: NetworkAddress
    rpc_listen: NetworkAddress
    seeds: tuple[str, ...] = ()
    address: NetworkAddress | None = None  # where peers dial a validator, when not its listening address
    passphrase_env: str | None = None


def parse_listen(text: str, option: str) -> NetworkAddress:
    """Return HOST:PORT, or CeremonyError naming the option."""
    address = parse_network_address(text)
    if address is None:
        raise CeremonyError(f"{option} {text!r} is not HOST:PORT")
    return address


def init_node(setup: NodeSetup, passphrase: str | None) -> tuple[dict[str, PrivateKey], OperatorFile | None]:
    """Create the node's keys and config (and a validator's operator.json); refuse to overwrite a node."""
    config_path = setup.directory / CONFIG_FILE
    if config_path.exists():
        raise CeremonyError(f"{config_path} exists; refusing to overwrite a node's keys")
    for seed in setup.seeds:
        if parse_seed(seed) is None:
            raise CeremonyError(f"--seed {seed!r} is not NETWORK_PUBLIC_KEY@HOST:PORT")
    names = VALIDATOR_KEY_NAMES if setup.role == ROLE_VALIDATOR else FULL_NODE_KEY_NAMES
    keys = {name: PrivateKey(nacl.utils.random(SEED_BYTES)) for name in names}
    for name, key in keys.items():
        save_private_key(setup.directory / "keys" / f"{name}.key", key, passphrase)
    operator = None
    if setup.role == ROLE_VALIDATOR:
        reachable = setup.address or setup.listen
        operator = OperatorFile(setup.name, keys["account"].public_key().address(), keys["account"].public_key().data,
                                keys["consensus"].public_key().data, keys["network"].public_key().data,
                                (reachable.encode(),))
        (setup.directory / OPERATOR_FILE).write_bytes(encode_operator_file(operator))
    config_path.write_text(compose_node_toml(setup))
    return keys, operator


def compose_node_toml(setup: NodeSetup) -> str:
    """Return the node.toml `node init` writes (node/config.py documents every field)."""
    key_lines = [f'{name}_key_file = "keys/{name}.key"' for name in
                 (VALIDATOR_KEY_NAMES if setup.role == ROLE_VALIDATOR else FULL_NODE_KEY_NAMES)]
    if setup.passphrase_env:
        key_lines.append(f'passphrase_env = "{setup.passphrase_env}"')
    seeds = ", ".join(f'"{seed}"' for seed in setup.seeds)
    return "\n".join([
        "# written by `stablechain node init`; node/config.py documents every field",
        f'role = "{setup.role}"',
        f'name = "{setup.name}"',
        f'data_dir = "{DATA_DIRECTORY}"',
        f'genesis_file = "{GENESIS_FILE}"',
        WAYPOINT_PLACEHOLDER,
        "",
        "[keys]", *key_lines, "",
        "[network]",
        f'listen_host = "{setup.listen.host}"',
        f"listen_port = {setup.listen.port}",
        f"seeds = [{seeds}]",
        "",
        "[rpc]",
        f'listen_host = "{setup.rpc_listen.host}"',
        f"listen_port = {setup.rpc_listen.port}",
        "",
        "[log]",
        'level = "info"',
        'format = "json"',
        "",
    ])


def record_waypoint(config_path: Path, waypoint: str) -> None:
    """Write `waypoint = "…"` into a config `node init` wrote (replacing an earlier one)."""
    text = config_path.read_text()
    line = f'waypoint = "{waypoint}"'
    if _WAYPOINT_LINE.search(text) is None:
        raise CeremonyError(f"{config_path} has no waypoint line (written by another tool?); add {line} at its top")
    config_path.write_text(_WAYPOINT_LINE.sub(line, text, count=1))


__all__ = ["NodeSetup", "ROLE_FULL", "ROLE_VALIDATOR", "init_node", "parse_listen", "record_waypoint"]
