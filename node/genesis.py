"""Genesis: the genesis file, the version-0 commit every node rebuilds from it, and the chain's identity.

Genesis is a pure function of its config (`contracts.genesis.build_genesis`), so shipping the
config as JSON is enough; the node checks the resulting hash against the one stored in its database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from consensus.types import Block
from contracts.framework.staking import StakingParams
from contracts.genesis import CurrencyConfig, DealerConfig, GenesisConfig, ValidatorConfig, build_genesis
from contracts.state import MerkleAccumulator, SparseMerkleTree, TransactionInfo, compute_state_change_hash
from contracts.state.accumulator import compute_event_root
from contracts.state.transaction_info import encode_state_changes
from contracts.state.hashes import compute_event_hashes
from node.runtime.application import compute_installed_validator_set
from node.runtime.commit import IndexWriter, make_block_commit, save_commits
from node.runtime.executor import STATUS_EXECUTED, VM_RESERVED_ADDRESS, ExecutedBlock, ExecutedTransaction
from node.runtime.executor import encode_events
from node.storage.records import BlockCommit
from node.storage.store import Store
from node.storage.views import LayeredNodeStore, get_no_node
from primitives.certified.blocks import BlockData
from primitives.certified.ledger_info import LedgerInfo, LedgerInfoWithSignatures, compute_genesis_hash
from primitives.certified.validators import ValidatorSet
from primitives.hashing import ZERO_HASH
from primitives.network_address import parse_network_address
from primitives.types.events import ContractEvent
from primitives.types.ledger_transactions import Transaction
from primitives.types.write_sets import AccessPath, ChangeSet, WriteOp, WriteSet, WriteSetPayload

GENESIS_FILE_VERSION = 1
PUBLIC_KEY_LENGTH = 32
ADDRESS_LENGTH = 16
GENESIS_VERSION = 0
GENESIS_EPOCH_BEFORE = 0  # the genesis ledger info ends "epoch 0" and announces epoch 1's validators
GENESIS_STATUS_CODE = 4001  # Diem's EXECUTED
# The stand-in block stored at version 0 (id ZERO_HASH: the parent of epoch 1's genesis block).
GENESIS_PLACEHOLDER_BLOCK = Block(BlockData(GENESIS_EPOCH_BEFORE, 0, 0, b"", ZERO_HASH, None, ()), ZERO_HASH, b"")


class GenesisFileError(ValueError):
    """The genesis file is missing or malformed; the message says which field."""


def encode_genesis_config(config: GenesisConfig) -> bytes:
    """Return the genesis config as canonical JSON (sorted keys, hex bytes)."""
    document = {
        "version": GENESIS_FILE_VERSION,
        "chain_id": config.chain_id,
        "diem_root_key": config.diem_root_key.hex(),
        "treasury_compliance_key": config.treasury_compliance_key.hex(),
        "currencies": [
            {"code": c.code, "scaling_factor": c.scaling_factor, "fractional_part": c.fractional_part,
             "to_xdx_rate_raw": c.to_xdx_rate_raw, "is_synthetic": c.is_synthetic, "can_mint": c.can_mint,
             "pays_fees": c.pays_fees}
            for c in config.currencies
        ],
        "dealers": [
            {"address": d.address.hex(), "public_key": d.public_key.hex(), "human_name": d.human_name.hex(),
             "initial_balance": d.initial_balance, "currency_code": d.currency_code}
            for d in config.dealers
        ],
        "validators": [
            {"address": v.address.hex(), "stake": v.stake, "consensus_public_key": v.consensus_public_key.hex(),
             "network_public_key": v.network_public_key.hex(), "account_public_key": v.account_public_key.hex(),
             "human_name": v.human_name.hex(), "network_addresses": [a.decode("ascii") for a in v.network_addresses]}
            for v in config.validators
        ],
        "reserve_auditors": [{"address": a.hex(), "public_key": k.hex()} for a, k in config.reserve_auditors],
        "initial_reserves": {
            code: {"amount": amount, "report_hash": report_hash.hex(), "attested_at_us": attested_at_us}
            for code, (amount, report_hash, attested_at_us) in sorted(config.initial_reserves.items())
        },
        "max_reserve_age_us": config.max_reserve_age_us,
    }
    if config.staking is not None:  # absent = no staking: files written before staking keep their meaning
        document["staking"] = {item.name: getattr(config.staking, item.name) for item in fields(StakingParams)}
    return json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"


def decode_genesis_config(data: bytes) -> GenesisConfig:
    """Parse a genesis file; GenesisFileError names the offending field."""
    try:
        document = json.loads(data)
        if document.get("version") != GENESIS_FILE_VERSION:
            raise GenesisFileError(f"unsupported genesis file version {document.get('version')!r}")
        return GenesisConfig(
            diem_root_key=_hex(document["diem_root_key"], PUBLIC_KEY_LENGTH),
            treasury_compliance_key=_hex(document["treasury_compliance_key"], PUBLIC_KEY_LENGTH),
            chain_id=int(document["chain_id"]),
            currencies=tuple(CurrencyConfig(**item) for item in document["currencies"]),
            dealers=tuple(_decode_dealer(item) for item in document["dealers"]),
            validators=tuple(_decode_validator(item) for item in document["validators"]),
            reserve_auditors=tuple(
                (_hex(item["address"], ADDRESS_LENGTH), _hex(item["public_key"], PUBLIC_KEY_LENGTH))
                for item in document["reserve_auditors"]
            ),
            initial_reserves={
                code: (int(item["amount"]), _hex(item["report_hash"], 32), int(item["attested_at_us"]))
                for code, item in document["initial_reserves"].items()
            },
            max_reserve_age_us=int(document["max_reserve_age_us"]),
            staking=_decode_staking(document.get("staking")),
        )
    except GenesisFileError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise GenesisFileError(f"malformed genesis file: {type(error).__name__}: {error}") from None


def _decode_dealer(item: dict[str, Any]) -> DealerConfig:
    return DealerConfig(
        address=_hex(item["address"], ADDRESS_LENGTH), public_key=_hex(item["public_key"], PUBLIC_KEY_LENGTH),
        human_name=bytes.fromhex(item["human_name"]), initial_balance=int(item["initial_balance"]),
        currency_code=str(item["currency_code"]),
    )


def _decode_staking(item: dict[str, Any] | None) -> StakingParams | None:
    if item is None:
        return None
    params = StakingParams(**{entry.name: int(item[entry.name]) for entry in fields(StakingParams)})
    if not params.is_valid():
        raise ValueError("staking: inconsistent parameters (see StakingParams.is_valid)")
    return params


def _decode_validator(item: dict[str, Any]) -> ValidatorConfig:
    return ValidatorConfig(
        address=_hex(item["address"], ADDRESS_LENGTH), stake=int(item["stake"]),
        consensus_public_key=_hex(item["consensus_public_key"], PUBLIC_KEY_LENGTH),
        network_public_key=_hex(item["network_public_key"], PUBLIC_KEY_LENGTH),
        account_public_key=_hex(item["account_public_key"], PUBLIC_KEY_LENGTH),
        human_name=bytes.fromhex(item["human_name"]),
        network_addresses=tuple(_decode_address(text) for text in item.get("network_addresses", [])),
    )


def _decode_address(text: Any) -> bytes:
    if not isinstance(text, str) or parse_network_address(text) is None:
        raise ValueError(f"network address {text!r} is not HOST:PORT")
    return text.encode("ascii")


def _hex(value: Any, length: int) -> bytes:
    data = bytes.fromhex(value)
    if len(data) != length:
        raise ValueError(f"expected {length} bytes, got {len(data)} in {value!r}")
    return data


# ---- the file --------------------------------------------------------------------------------------


def save_genesis_file(path: Path, config: GenesisConfig) -> None:
    """Write the genesis file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_genesis_config(config))


def load_genesis_file(path: Path) -> GenesisConfig:
    """Read the genesis file."""
    try:
        return decode_genesis_config(path.read_bytes())
    except OSError as error:
        raise GenesisFileError(f"{path}: cannot read genesis file: {error.strerror}") from None


# ---- the version-0 commit ---------------------------------------------------------------------------


def make_genesis_transaction(write_set: Mapping[bytes, bytes | None], events: Sequence[ContractEvent]) -> Transaction:
    """Return the genesis transaction: a direct write set (state keys stand in the access paths)."""
    entries = tuple((AccessPath(VM_RESERVED_ADDRESS, key), WriteOp(value)) for key, value in sorted(write_set.items()))
    return Transaction(WriteSetPayload(ChangeSet(WriteSet(entries), tuple(events))))


def make_genesis_commit(transaction: Transaction, write_set: Mapping[bytes, bytes | None],
                        events: Sequence[ContractEvent],
                        validators: ValidatorSet) -> tuple[BlockCommit, LedgerInfoWithSignatures]:
    """Return the commit of version 0 and its ledger info (unsigned: trusted through the genesis file)."""
    writes = dict(write_set)
    state_root, tree_nodes = SparseMerkleTree(LayeredNodeStore(get_no_node)).compute_update(
        GENESIS_VERSION, writes, None)
    event_root = compute_event_root(compute_event_hashes(tuple(events)))
    info = TransactionInfo(transaction.hash(), compute_state_change_hash(writes), event_root, state_root, 0,
                           GENESIS_STATUS_CODE)
    accumulator_store: LayeredNodeStore[int] = LayeredNodeStore(get_no_node)
    accumulator_root = MerkleAccumulator(accumulator_store, 0).append([info.hash()])
    ledger_info = LedgerInfo(GENESIS_EPOCH_BEFORE, 0, ZERO_HASH, 0, GENESIS_VERSION, state_root, accumulator_root,
                             validators)
    certificate = LedgerInfoWithSignatures(ledger_info, ())
    executed_txn = ExecutedTransaction(GENESIS_VERSION, transaction.to_bcs(), info, (STATUS_EXECUTED, None, None),
                                       encode_events(events), state_changes=encode_state_changes(writes))
    accumulator_nodes = {position: node for layer in accumulator_store.layers for position, node in layer.items()}
    executed = ExecutedBlock(ZERO_HASH, ZERO_HASH, GENESIS_VERSION, (executed_txn,), writes, state_root,
                             accumulator_root, tree_nodes, accumulator_nodes, validators)
    commit = make_block_commit(GENESIS_PLACEHOLDER_BLOCK, executed, certificate, True)
    return commit, certificate


def build_genesis_commit(genesis: GenesisConfig) -> tuple[BlockCommit, bytes, ValidatorSet]:
    """Return (version-0 commit, genesis hash, first validator set), deterministic for one genesis config.

    The first set is the one genesis execution installs (DiemSystem's ValidatorSet): with staking its voting
    powers are the capped stakes, not the configured ones.
    """
    output = build_genesis(genesis)
    validators = compute_installed_validator_set(output.write_set)
    if validators is None:
        raise GenesisFileError("the genesis file installs no validator (with stake); check its validators")
    transaction = make_genesis_transaction(output.write_set, output.events)
    commit, certificate = make_genesis_commit(transaction, output.write_set, output.events, validators)
    return commit, compute_genesis_hash(certificate), validators


def compute_waypoint(genesis_path: Path) -> str:
    """Return the genesis hash of a genesis file, in hex: the waypoint wallets trust."""
    _commit, genesis_hash, _validators = build_genesis_commit(load_genesis_file(genesis_path))
    return genesis_hash.hex()


def apply_genesis(store: Store, commit: BlockCommit, index_writers: Sequence[IndexWriter] = ()) -> bool:
    """Write the genesis commit (and its index entries) into an empty store; False when it already holds a ledger."""
    if store.get_latest_version() is not None:
        return False
    save_commits(store, [GENESIS_PLACEHOLDER_BLOCK], [commit], index_writers)
    return True
