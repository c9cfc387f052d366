"""The ledger trees a node extends block by block, and what one block adds to them: infos, roots, nodes."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from functools import lru_cache

from contracts.outputs import LedgerUpdate, TransactionOutput
from contracts.state import (
    InMemoryAccumulatorStore,
    InMemoryNodeStore,
    MerkleAccumulator,
    SparseMerkleTree,
    TransactionInfo,
    compute_event_root,
    compute_state_change_hash,
)
from contracts.state.hashes import CONTRACT_EVENT_SALT, EVENT_ACCUMULATOR_SALT, compute_accumulator_parent
from contracts.vm.context import Event
from contracts.vm.status import VMStatus, VMStatusKind
from primitives.bcs import encode_uleb128
from primitives.hashing import get_salt
from primitives.types.events import EVENT_KEY_LENGTH
from primitives.types.ledger_transactions import BlockMetadata, Transaction
from primitives.types.transactions import SignedTransaction
from primitives.types.type_tags import StructTag, TypeTag

# Committed status codes in TransactionInfo (Diem's StatusCode numbers of the kept statuses).
STATUS_CODES = {
    VMStatusKind.EXECUTED: 4001,
    VMStatusKind.OUT_OF_GAS: 4002,
    VMStatusKind.EXECUTION_FAILURE: 4008,
    VMStatusKind.MOVE_ABORT: 4016,
    VMStatusKind.MISCELLANEOUS_ERROR: 1000,
}


def get_status_code(status: VMStatus) -> int:
    """Return the numeric code committed for a kept status."""
    return STATUS_CODES[status.kind]


class LedgerTrees:
    """The authenticated structures a node extends block by block: the state tree and the transaction accumulator."""

    def __init__(self, tree: SparseMerkleTree, accumulator: MerkleAccumulator, version: int) -> None:
        self.tree = tree
        self.accumulator = accumulator
        self.version = version

    @classmethod
    def in_memory(cls) -> LedgerTrees:
        """Return empty in-memory trees (version -1: nothing committed yet)."""
        return cls(SparseMerkleTree(InMemoryNodeStore()), MerkleAccumulator(InMemoryAccumulatorStore()), -1)

    def commit(self, update: LedgerUpdate) -> None:
        """Store the nodes a block's update computed and advance the version."""
        self.tree.store.put_batch(update.state_nodes)
        if update.last_version > self.version:
            self.tree.latest_version = update.last_version
        self.accumulator.store.put_batch(update.accumulator_nodes)
        self.accumulator.num_leaves = update.accumulator_leaves
        self.version = update.last_version


_EVENT_PREFIX = get_salt(CONTRACT_EVENT_SALT) + b"\x00" + encode_uleb128(EVENT_KEY_LENGTH)
_U64 = struct.Struct("<Q").pack
_sha3 = hashlib.sha3_256
_EVENT_ACCUMULATOR_PREFIX = get_salt(EVENT_ACCUMULATOR_SALT)


@lru_cache(maxsize=1024)
def _type_tag_bytes(tag: StructTag) -> bytes:
    return TypeTag.struct_of(tag).to_bcs()


def compute_runtime_event_hashes(events: tuple[Event, ...]) -> list[bytes]:
    """Same hashes as compute_event_hashes, computed from runtime events (BCS of ContractEvent::V0 by hand)."""
    return [
        _sha3(b"".join((_EVENT_PREFIX, e.key, _U64(e.sequence_number), _type_tag_bytes(e.type_tag),
                        encode_uleb128(len(e.data)), e.data))).digest()
        for e in events
    ]


def compute_runtime_event_root(events: tuple[Event, ...]) -> bytes:
    """compute_event_root of the events' hashes, with the common 1- and 2-event cases done directly."""
    hashes = compute_runtime_event_hashes(events)
    if len(hashes) == 1:
        return hashes[0]
    if len(hashes) == 2:
        return compute_accumulator_parent(_EVENT_ACCUMULATOR_PREFIX, hashes[0], hashes[1])
    return compute_event_root(hashes)


def compute_ledger_update(trees: LedgerTrees, outputs: Sequence[TransactionOutput],
                          write_set: dict[bytes, bytes | None], metadata: BlockMetadata,
                          txns: list[SignedTransaction]) -> LedgerUpdate:
    """Return the TransactionInfos of the kept transactions, the new state and accumulator roots, and their nodes."""
    hashes = [Transaction(metadata).hash()] + [txn.hash() for txn in txns]
    kept = [(h, out) for h, out in zip(hashes, outputs) if out.keep]
    last_version = trees.version + len(kept)
    root, nodes, stale = trees.tree.compute_update_with_stale(last_version, write_set)
    infos = []
    for index, (txn_hash, out) in enumerate(kept):
        status_code = get_status_code(out.status)  # type: ignore[arg-type]  # a kept output has a status
        infos.append(TransactionInfo(
            txn_hash, compute_state_change_hash(out.write_set), compute_runtime_event_root(out.runtime_events),
            root if index == len(kept) - 1 else None, out.gas_used, status_code,
        ))
    accumulator_leaves, accumulator_nodes = trees.accumulator.compute_append([info.hash() for info in infos])
    accumulator_root = _root_after(trees.accumulator, accumulator_leaves, accumulator_nodes)
    return LedgerUpdate(tuple(infos), last_version, root, accumulator_root, nodes, accumulator_leaves,
                        accumulator_nodes, tuple(stale))


def compute_certified_update(trees: LedgerTrees, infos: Sequence[TransactionInfo],
                             write_set: dict[bytes, bytes | None]) -> LedgerUpdate:
    """Return the update of trees by a block's infos and write set as others executed them (catch-up, ADR 0020)."""
    last_version = trees.version + len(infos)
    root, nodes, stale = trees.tree.compute_update_with_stale(last_version, write_set)
    accumulator_leaves, accumulator_nodes = trees.accumulator.compute_append([info.hash() for info in infos])
    accumulator_root = _root_after(trees.accumulator, accumulator_leaves, accumulator_nodes)
    return LedgerUpdate(tuple(infos), last_version, root, accumulator_root, nodes, accumulator_leaves,
                        accumulator_nodes, tuple(stale))


def _root_after(accumulator: MerkleAccumulator, num_leaves: int, nodes: dict[int, bytes]) -> bytes:
    probe = MerkleAccumulator(_Overlay(accumulator.store, nodes), num_leaves)
    probe.prefix = accumulator.prefix
    return probe.get_root(num_leaves)


class _Overlay:
    """Read-through accumulator store with pending nodes on top."""

    def __init__(self, base: object, pending: dict[int, bytes]) -> None:
        self.base = base
        self.pending = pending

    def get(self, position: int) -> bytes | None:
        found = self.pending.get(position)
        return found if found is not None else self.base.get(position)  # type: ignore[attr-defined]

    def put_batch(self, hashes: dict[int, bytes]) -> None:
        self.pending.update(hashes)
