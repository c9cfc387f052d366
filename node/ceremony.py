"""The genesis ceremony's public files (the issuer's, each operator's) and the genesis config they make.

Every operator creates its keys on its own machine and publishes only `operator.json`; the issuer publishes
only `issuer.json`. Anyone can then build the same genesis from those files and compare the waypoint.
Malformed files and clashing operators are refused with a CeremonyError that names the file and field.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.utils

from contracts.framework.staking import StakingParams
from contracts.genesis import NO_PERIODIC_EPOCHS, DealerConfig, GenesisConfig, ValidatorConfig
from node.keys.files import save_private_key
from primitives.hashing import sha3_256
from primitives.keys import PrivateKey, PublicKey, is_valid_public_key
from primitives.network_address import NETWORK_ADDRESSES_MAX, parse_network_address
from primitives.types.names import AccountAddress

ISSUER_FILE = "issuer.json"
OPERATOR_FILE = "operator.json"
CEREMONY_FILE_VERSION = 1
ISSUER_KEY_NAMES = ("root", "treasury", "dealer", "auditor")
SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32
ADDRESS_BYTES = 16
OPERATOR_NAME_BYTES_MAX = 64
MICRO_PER_XUS = 1_000_000
# Defaults of `stablechain genesis build`: each operator stakes a million XUS; the issuer attests a billion XUS
# of reserves at genesis (stakes are minted within them) and mints the rest later with the treasury CLI.
DEFAULT_STAKE_MICRO = 1_000_000 * MICRO_PER_XUS
DEFAULT_INITIAL_RESERVES_MICRO = 1_000_000_000 * MICRO_PER_XUS
RESERVE_MAX_AGE_US = 365 * 24 * 3600 * 1_000_000
GENESIS_RESERVE_REPORT = b"stablechain genesis reserve report"
# An epoch ends after a validator-set change (a join, a leave, a new address) or an hour of block time.
CEREMONY_STAKING = StakingParams(epoch_blocks=NO_PERIODIC_EPOCHS, epoch_duration_us=3_600_000_000)
# The designated dealer sits at 0xDD, as on Diem's networks (the treasury CLI and faucet default to it).
DEALER_ADDRESS = AccountAddress.TESTNET_DD.value


class CeremonyError(ValueError):
    """A ceremony file is malformed, or the operators clash; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class IssuerFile:
    """The issuer's public keys: Diem root, treasury compliance, designated dealer, reserve auditor."""

    root_public_key: bytes
    treasury_public_key: bytes
    dealer_public_key: bytes
    auditor_public_key: bytes


@dataclass(frozen=True, slots=True)
class OperatorFile:
    """One validator operator's public file: name, account, consensus and network keys, where peers dial it."""

    name: str
    account_address: bytes
    account_public_key: bytes
    consensus_public_key: bytes
    network_public_key: bytes
    network_addresses: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class GenesisOptions:
    """What `genesis build` takes besides the files: chain id, stake, reserves, the dealer's opening balance."""

    chain_id: int
    stakes_micro: tuple[int, ...]  # one per operator, in the order given
    initial_reserves_micro: int = DEFAULT_INITIAL_RESERVES_MICRO
    dealer_balance_micro: int = 0
    staking: StakingParams | None = CEREMONY_STAKING
    max_reserve_age_us: int = RESERVE_MAX_AGE_US


# ---- the issuer ----------------------------------------------------------------------------------------


def create_issuer_keys(directory: Path, passphrase: str | None = None) -> IssuerFile:
    """Create the issuer's four keys in directory (refusing to overwrite) and write its public issuer.json."""
    paths = [directory / f"{name}.key" for name in ISSUER_KEY_NAMES]
    existing = [str(path) for path in (*paths, directory / ISSUER_FILE) if path.exists()]
    if existing:
        raise CeremonyError(f"{existing[0]} exists; refusing to overwrite the issuer's keys")
    keys = [PrivateKey(nacl.utils.random(SEED_BYTES)) for _ in ISSUER_KEY_NAMES]
    for path, key in zip(paths, keys):
        save_private_key(path, key, passphrase)
    issuer = IssuerFile(*(key.public_key().data for key in keys))
    (directory / ISSUER_FILE).write_bytes(encode_issuer_file(issuer))
    return issuer


def encode_issuer_file(issuer: IssuerFile) -> bytes:
    """Return issuer.json's bytes."""
    document = {"version": CEREMONY_FILE_VERSION, "root_public_key": issuer.root_public_key.hex(),
                "treasury_compliance_public_key": issuer.treasury_public_key.hex(),
                "designated_dealer_public_key": issuer.dealer_public_key.hex(),
                "designated_dealer_address": DEALER_ADDRESS.hex(),
                "reserve_auditor_public_key": issuer.auditor_public_key.hex(),
                "reserve_auditor_address": PublicKey(issuer.auditor_public_key).address().hex()}
    return json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"


def decode_issuer_file(data: bytes, source: str) -> IssuerFile:
    """Parse issuer.json; CeremonyError names the file and the field at fault."""
    document = _load_document(data, source)
    return IssuerFile(*(_get_public_key(document, field, source) for field in (
        "root_public_key", "treasury_compliance_public_key", "designated_dealer_public_key",
        "reserve_auditor_public_key")))


# ---- operators -----------------------------------------------------------------------------------------


def encode_operator_file(operator: OperatorFile) -> bytes:
    """Return operator.json's bytes."""
    document = {"version": CEREMONY_FILE_VERSION, "name": operator.name,
                "account_address": operator.account_address.hex(),
                "account_public_key": operator.account_public_key.hex(),
                "consensus_public_key": operator.consensus_public_key.hex(),
                "network_public_key": operator.network_public_key.hex(),
                "network_addresses": [address.decode("ascii") for address in operator.network_addresses]}
    return json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"


def decode_operator_file(data: bytes, source: str) -> OperatorFile:
    """Parse operator.json; CeremonyError names the file and the field at fault."""
    document = _load_document(data, source)
    name = document.get("name")
    if not isinstance(name, str) or not 0 < len(name.encode()) <= OPERATOR_NAME_BYTES_MAX:
        raise CeremonyError(f"{source}: name must be a string of 1 to {OPERATOR_NAME_BYTES_MAX} bytes")
    account_key = _get_public_key(document, "account_public_key", source)
    address = _get_hex(document, "account_address", ADDRESS_BYTES, source)
    if PublicKey(account_key).address() != address:
        raise CeremonyError(f"{source}: account_address {address.hex()} is not the address of account_public_key "
                            f"({PublicKey(account_key).address().hex()})")
    return OperatorFile(name, address, account_key, _get_public_key(document, "consensus_public_key", source),
                        _get_public_key(document, "network_public_key", source),
                        _get_addresses(document, source))


def check_operators(operators: Sequence[tuple[str, OperatorFile]]) -> None:
    """Refuse a ceremony where two operators share an account, a key, a network address or a name."""
    for what in ("account_address", "consensus_public_key", "network_public_key", "name"):
        seen: dict[object, str] = {}
        for source, operator in operators:
            value = getattr(operator, what)
            if value in seen:
                raise CeremonyError(f"{source} and {seen[value]} have the same {what.replace('_', ' ')}: each "
                                    "operator needs its own keys (run `stablechain node init` on each machine)")
            seen[value] = source
    owners: dict[bytes, str] = {}
    for source, operator in operators:
        for address in operator.network_addresses:
            if address in owners:
                raise CeremonyError(f"{source} and {owners[address]} both listen at {address.decode()}")
            owners[address] = source


def compose_genesis(issuer: IssuerFile, operators: Sequence[OperatorFile], options: GenesisOptions) -> GenesisConfig:
    """Return the genesis config: the issuer's roles, the operators as validators with stake, attested reserves."""
    validators = tuple(
        ValidatorConfig(operator.account_address, stake, operator.consensus_public_key, operator.network_public_key,
                        operator.account_public_key, operator.name.encode(), operator.network_addresses)
        for operator, stake in zip(operators, options.stakes_micro, strict=True))
    auditor = PublicKey(issuer.auditor_public_key)
    dealer = DealerConfig(DEALER_ADDRESS, issuer.dealer_public_key, initial_balance=options.dealer_balance_micro)
    return GenesisConfig(
        diem_root_key=issuer.root_public_key, treasury_compliance_key=issuer.treasury_public_key,
        chain_id=options.chain_id, dealers=(dealer,), validators=validators,
        reserve_auditors=((auditor.address(), auditor.data),),
        initial_reserves={"XUS": (options.initial_reserves_micro, sha3_256(GENESIS_RESERVE_REPORT), 0)},
        max_reserve_age_us=options.max_reserve_age_us, staking=options.staking)


def load_ceremony_files(issuer_path: Path, operator_paths: Sequence[Path]) -> tuple[IssuerFile, list[OperatorFile]]:
    """Read and check the issuer's file and every operator's; CeremonyError on the first problem."""
    issuer = decode_issuer_file(_read(issuer_path), str(issuer_path))
    operators = [(str(path), decode_operator_file(_read(path), str(path))) for path in operator_paths]
    if not operators:
        raise CeremonyError("a genesis needs at least one --operator file")
    check_operators(operators)
    return issuer, [operator for _source, operator in operators]


# ---- fields --------------------------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CeremonyError(f"{path}: cannot read: {error.strerror}") from None


def _load_document(data: bytes, source: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except ValueError as error:
        raise CeremonyError(f"{source}: not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("version") != CEREMONY_FILE_VERSION:
        raise CeremonyError(f"{source}: expected a JSON object with \"version\": {CEREMONY_FILE_VERSION}")
    return document


def _get_hex(document: dict[str, Any], field: str, length: int, source: str) -> bytes:
    value = document.get(field)
    try:
        data = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        data = b""
    if len(data) != length:
        raise CeremonyError(f"{source}: {field} must be {2 * length} hex characters, got {value!r}")
    return data


def _get_public_key(document: dict[str, Any], field: str, source: str) -> bytes:
    key = _get_hex(document, field, PUBLIC_KEY_BYTES, source)
    if not is_valid_public_key(key):
        raise CeremonyError(f"{source}: {field} is not a valid Ed25519 public key")
    return key


def _get_addresses(document: dict[str, Any], source: str) -> tuple[bytes, ...]:
    values = document.get("network_addresses")
    if not isinstance(values, list) or not 0 < len(values) <= NETWORK_ADDRESSES_MAX:
        raise CeremonyError(f"{source}: network_addresses must list 1 to {NETWORK_ADDRESSES_MAX} HOST:PORT addresses")
    for value in values:
        if not isinstance(value, str) or parse_network_address(value) is None:
            raise CeremonyError(f"{source}: network address {value!r} is not HOST:PORT")
    if len(set(values)) != len(values):
        raise CeremonyError(f"{source}: network_addresses lists an address twice")
    return tuple(value.encode("ascii") for value in values)
