"""Lay a devnet out on disk with the genesis ceremony's own steps: issuer keys, each node's init, genesis build.

Layout of DATA_DIR:
    manifest.json           the manifest the directory was built from (reuse needs the same one)
    genesis.json            the genesis config every node rebuilds genesis from (validators' addresses on chain)
    keys/{root,treasury,dealer,auditor}.key, keys/issuer.json    `genesis issuer-keys` (the faucet signs with
                            treasury and dealer)
    node-I/node.toml        node I's config; node-I/keys/{consensus,network,account}.key and node-I/operator.json
                            as `node init` writes them; node-I/data/ its database
                            (nodes 0..validators-1 are the genesis validators, then the manifest's standby nodes:
                            listed as peers, since their on-chain config has no address yet; they join by staking)
    node-I/data/<list_file> an empty sanctions list, when the manifest's admission hooks read a relative one
                            that does not exist yet (a missing list would refuse every transaction)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.framework.staking import StakingParams
from contracts.genesis import NO_PERIODIC_EPOCHS, GenesisConfig
from devnet.manifest import Manifest
from node.ceremony import ISSUER_KEY_NAMES, GenesisOptions, IssuerFile, OperatorFile, compose_genesis
from node.ceremony import create_issuer_keys
from node.genesis import compute_waypoint as compute_genesis_waypoint
from node.genesis import save_genesis_file
from node.keys.files import load_private_key
from node.operator_setup import ROLE_VALIDATOR, NodeSetup, init_node
from primitives.errors import invariant
from primitives.keys import PrivateKey
from primitives.network_address import NetworkAddress

INITIAL_RESERVES_MICRO = 2**63
# The dealer holds the reserves less the genesis stake and this headroom, which the treasury may still mint.
MINT_HEADROOM_MICRO = 2_000_000_000_001
DEALER_INITIAL_BALANCE_MICRO = INITIAL_RESERVES_MICRO - MINT_HEADROOM_MICRO  # before the genesis stake is minted
# Devnet staking: the default power cap and stake bounds; an epoch ends after a validator-set change or an hour of
# block time (fees are paid out hourly), never by block count; unbonding and evidence age are ten minutes.
DEVNET_STAKE_WINDOW_US = 10 * 60 * 1_000_000
DEVNET_STAKING = StakingParams(
    epoch_blocks=NO_PERIODIC_EPOCHS, epoch_duration_us=3_600_000_000,
    unbonding_us=DEVNET_STAKE_WINDOW_US, max_evidence_age_us=DEVNET_STAKE_WINDOW_US,
)
# A devnet never goes stale: the genesis attestation stays valid for a year of block time.
RESERVE_MAX_AGE_US = 365 * 24 * 3600 * 1_000_000
NODE_DATA_DIR = "data"
# Client addresses of the machine itself: a devnet on loopback never rate-limits them.
LOOPBACK_HOSTS = ("127.0.0.1", "::1")
# Bumped when what a directory holds changes meaning (genesis contents, block id rule): an older devnet
# directory is then refused with a clear message instead of running yesterday's chain.
LAYOUT_VERSION = 4  # 2: proof of stake in genesis, block ids over headers; 3: failed authors; 4: addresses on chain
LAYOUT_VERSION_KEY = "layout_version"



class LayoutError(ValueError):
    """The data directory holds a devnet built from a different manifest."""


@dataclass(frozen=True, slots=True)
class ValidatorFiles:
    """Where one validator's files live."""

    index: int
    directory: Path
    config_path: Path
    log_path: Path


@dataclass(frozen=True, slots=True)
class DevnetLayout:
    """The files of a devnet."""

    root: Path
    manifest: Manifest
    genesis_path: Path
    validators: tuple[ValidatorFiles, ...]

    @property
    def pid_path(self) -> Path:
        """The file listing the launcher's node processes."""
        return self.root / "pids.json"

    def get_key_path(self, name: str) -> Path:
        """Return the path of a devnet-wide key (root, treasury, dealer)."""
        return self.root / "keys" / f"{name}.key"


def get_layout(root: Path, manifest: Manifest) -> DevnetLayout:
    """Return the file layout of a devnet without touching the disk."""
    # Absolute, because each node process runs in its own directory.
    root = root.resolve()
    validators = tuple(
        ValidatorFiles(i, root / f"node-{i}", root / f"node-{i}" / "node.toml", root / f"node-{i}" / "node.log")
        for i in range(manifest.get_node_count())
    )
    return DevnetLayout(root, manifest, root / "genesis.json", validators)


def load_stored_manifest(root: Path) -> Manifest:
    """Return the manifest a devnet directory was built from; LayoutError if an older stablechain laid it out."""
    stored = json.loads((root / "manifest.json").read_text())
    if stored.pop(LAYOUT_VERSION_KEY, None) != LAYOUT_VERSION:
        raise LayoutError(f"{root} holds a devnet laid out by an older stablechain (another genesis and block "
                          f"rules); remove it (rm -rf {root}) or use another --dir")
    return Manifest.model_validate(stored)


def prepare_devnet(root: Path, manifest: Manifest) -> DevnetLayout:
    """Create keys, genesis and configs, or reuse them when the directory was built from this manifest."""
    layout = get_layout(root, manifest)
    root = layout.root
    manifest_path = root / "manifest.json"
    if manifest_path.exists():
        if load_stored_manifest(root) != manifest:
            raise LayoutError(f"{root} holds a devnet built from another manifest; use another --dir or remove it")
        return layout
    root.mkdir(parents=True, exist_ok=True)
    issuer = create_issuer_keys(layout.root / "keys")  # `stablechain genesis issuer-keys`
    operators = [_init_node(manifest, files) for files in layout.validators]  # `stablechain node init`
    save_genesis_file(layout.genesis_path, compose_genesis_config(manifest, issuer, operators))  # `genesis build`
    for files in layout.validators:
        files.config_path.write_text(compose_node_toml(manifest, files, operators, layout))
        create_sanctions_list(manifest, files)
    manifest_path.write_text(json.dumps({**manifest.model_dump(mode="json"), LAYOUT_VERSION_KEY: LAYOUT_VERSION},
                                        indent=2))
    return layout


def _init_node(manifest: Manifest, files: ValidatorFiles) -> OperatorFile:
    """Run `node init` for one devnet node: its keys, a config (rewritten below) and its operator.json."""
    index = files.index
    setup = NodeSetup(files.directory, ROLE_VALIDATOR, f"validator-{index}",
                      NetworkAddress(manifest.get_host(index), manifest.get_network_port(index)),
                      NetworkAddress(manifest.get_host(index), manifest.get_rpc_port(index)))
    _keys, operator = init_node(setup, None)
    invariant(operator is not None, "a validator's init writes its operator file")
    return operator  # type: ignore[return-value]


def compose_genesis_config(manifest: Manifest, issuer: IssuerFile, operators: list[OperatorFile]) -> GenesisConfig:
    """Return the genesis config of a devnet: Diem roles, an auditor, attested reserves, a funded dealer, staking.

    operators lists every node's operator file; only the first manifest.validators are in the genesis set.
    """
    in_genesis = operators[:manifest.validators]
    options = GenesisOptions(
        manifest.chain_id, tuple(manifest.get_stake_micro(index) for index in range(len(in_genesis))),
        initial_reserves_micro=INITIAL_RESERVES_MICRO, dealer_balance_micro=compute_dealer_balance_micro(manifest),
        staking=DEVNET_STAKING if manifest.staking else None, max_reserve_age_us=RESERVE_MAX_AGE_US)
    return compose_genesis(issuer, in_genesis, options)


def compute_dealer_balance_micro(manifest: Manifest) -> int:
    """Return the dealer's genesis balance: with staking, genesis also mints every stake, within the same reserves."""
    if not manifest.staking:
        return DEALER_INITIAL_BALANCE_MICRO
    return DEALER_INITIAL_BALANCE_MICRO - sum(manifest.get_stake_micro(i) for i in range(manifest.validators))


def compose_node_toml(
    manifest: Manifest, files: ValidatorFiles, operators: list[OperatorFile], layout: DevnetLayout
) -> str:
    """Return validator files.index's TOML config; it names only standby nodes as peers (genesis validators are
    dialled at their on-chain addresses)."""
    index = files.index
    peers = []
    for other, operator in enumerate(operators):
        if other == index or manifest.is_genesis_validator(other):
            continue
        peers.append(
            f'{{ address = "{operator.account_address.hex()}", host = "{manifest.get_host(other)}", '
            f'port = {manifest.get_network_port(other)}, '
            f'network_public_key = "{operator.network_public_key.hex()}" }}'
        )
    faucet_lines = [
        "[faucet]",
        f'treasury_key_file = "{layout.get_key_path("treasury").resolve()}"',
        f'dealer_key_file = "{layout.get_key_path("dealer").resolve()}"',
        *(["client_rate_per_s = 0"] if manifest.rpc_client_rate_per_s == 0 else []),
        "",
    ] if manifest.faucet and index == 0 else []
    return "\n".join([
        f"chain_id = {manifest.chain_id}",
        f'name = "validator-{index}"',
        f'data_dir = "{NODE_DATA_DIR}"',
        f'genesis_file = "{layout.genesis_path.resolve()}"',
        "",
        "[keys]",
        'consensus_key_file = "keys/consensus.key"',
        'network_key_file = "keys/network.key"',
        'account_key_file = "keys/account.key"',
        "",
        "[network]",
        f'listen_host = "{manifest.get_host(index)}"',
        f"listen_port = {manifest.get_network_port(index)}",
        "peers = [\n    " + ",\n    ".join(peers) + ",\n]" if peers else "peers = []",
        "",
        "[rpc]",
        f'listen_host = "{manifest.get_host(index)}"',
        f"listen_port = {manifest.get_rpc_port(index)}",
        f"client_rate_per_s = {manifest.rpc_client_rate_per_s}",
        # A devnet's own wallets, explorer and scripts run on this host: never refuse them (docs/json-rpc.md).
        f"client_rate_exempt_hosts = {json.dumps(list(LOOPBACK_HOSTS))}" if manifest.host in LOOPBACK_HOSTS else "",
        "",
        *faucet_lines,
        "[consensus]",
        f"round_timeout_ms = {manifest.round_timeout_ms}",
        "",
        *compose_compliance_lines(manifest, index),
    ])


def create_sanctions_list(manifest: Manifest, files: ValidatorFiles) -> None:
    """Create an empty sanctions list for a validator whose sanctions hook reads a file that does not exist yet."""
    admission = manifest.admission
    if admission is None or admission.sanctions is None or not manifest.is_admission_on(files.index):
        return
    path = admission.sanctions.list_file
    path = path if path.is_absolute() else files.directory / NODE_DATA_DIR / path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# sanctioned addresses, one hex address per line (reloaded when this file changes)\n")


def compose_compliance_lines(manifest: Manifest, index: int) -> list[str]:
    """Return validator index's [admission] and [regulator] sections (none unless the manifest sets them)."""
    lines: list[str] = []
    if manifest.admission is not None and manifest.is_admission_on(index):
        lines += compose_toml_table("admission", manifest.admission.model_dump(mode="json", exclude_none=True))
    if manifest.regulator is not None and manifest.is_regulator_on(index):
        section = manifest.regulator.model_dump(mode="json", exclude_none=True)
        section["listen_port"] = manifest.get_regulator_port(index)
        lines += compose_toml_table("regulator", section)
    return lines


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_toml_key(key: str) -> str:
    """Return a TOML key, quoted unless it is bare."""
    return key if _BARE_KEY.match(key) else json.dumps(key)


def format_toml_value(value: Any) -> str:
    """Return a JSON-shaped value (str, int, bool, list, dict) as a TOML value (dicts as inline tables)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{format_toml_key(k)} = {format_toml_value(v)}" for k, v in value.items()
                                if v is not None) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(format_toml_value(item) for item in value) + "]"
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    # A JSON string with ASCII escapes (\", \\, \uXXXX) is a valid TOML basic string.
    return json.dumps(str(value), ensure_ascii=True)


def compose_toml_table(name: str, table: dict[str, Any]) -> list[str]:
    """Return [name] with its plain keys, then a [name.key] section per nested table, then a blank line."""
    lines = [f"[{name}]"]
    nested = {key: value for key, value in table.items() if isinstance(value, dict)}
    lines += [f"{format_toml_key(key)} = {format_toml_value(value)}" for key, value in table.items()
              if key not in nested and value is not None]
    lines.append("")
    for key, value in nested.items():
        lines += compose_toml_table(f"{name}.{format_toml_key(key)}", value)
    return lines


def add_storage_settings(config_path: Path, settings: dict[str, Any]) -> None:
    """Set plain keys in a node config's [storage] table, creating the table when it is missing."""
    text = config_path.read_text()
    lines = [f"{format_toml_key(key)} = {format_toml_value(value)}" for key, value in settings.items()]
    header = "\n[storage]\n"
    if header in text:  # TOML forbids a second [storage] table: the keys go under the first
        text = text.replace(header, header + "\n".join(lines) + "\n", 1)
    else:
        text = text.rstrip("\n") + header + "\n".join(lines) + "\n"
    config_path.write_text(text)


def load_issuer_keys(layout: DevnetLayout) -> dict[str, PrivateKey]:
    """Return the devnet's root, treasury, dealer and auditor keys (faucet and treasury CLI sign with them)."""
    return {name: load_private_key(layout.get_key_path(name)) for name in ISSUER_KEY_NAMES}


def compute_waypoint(layout: DevnetLayout) -> str:
    """Return the genesis hash wallets trust (what `stablechain wallet balance --waypoint` takes)."""
    return compute_genesis_waypoint(layout.genesis_path)


def describe(layout: DevnetLayout) -> list[dict[str, object]]:
    """Return one row per validator for status tables."""
    return [
        {"index": files.index, "rpc": layout.manifest.get_rpc_url(files.index),
         "network_port": layout.manifest.get_network_port(files.index), "config": str(files.config_path),
         "role": "validator" if layout.manifest.is_genesis_validator(files.index) else "standby"}
        for files in layout.validators
    ]


def dump_pids(layout: DevnetLayout, pids: dict[int, int]) -> None:
    """Record the launcher's node processes so `devnet down` can stop them."""
    layout.pid_path.write_text(json.dumps({str(index): pid for index, pid in pids.items()}))
