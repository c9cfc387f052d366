"""The one ledger reader of the JSON-RPC methods, proofs, streams, faucet and compliance: committed data only."""

# LedgerReader says what they read; StoreLedgerReader reads it from the node's store, capped per call and
# never above a committed version (tests read an in-memory chain through the same protocol).

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from contracts.framework import block as block_module
from contracts.state import (
    AccumulatorConsistencyProof,
    AccumulatorProof,
    MerkleAccumulator,
    SparseMerkleProof,
    SparseMerkleTree,
    TransactionInfo,
)
from contracts.vm.errors import explain
from contracts.vm.status import VMStatus, VMStatusKind
from contracts.vm.storage import StateView
from node.rpc.jsonrpc import LedgerSnapshot
from node.storage.codecs import decode_stored_info
from node.storage.records import TransactionRecord
from node.storage.store import Store
from node.storage.views import LayeredNodeStore, StoreStateView
from primitives.certified.ledger_info import LedgerInfoWithSignatures
from primitives.certified.ledger_info import decode_ledger_info
from primitives.types.events import ContractEvent
from primitives.types.ledger_transactions import Transaction
from primitives.types.names import AccountAddress

# Readers page at most this many rows per store scan (the store's own cap).
READ_PAGE_MAX = 1000
DIEM_ROOT_ADDRESS = AccountAddress.DIEM_ROOT.value

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CommittedTransaction:
    """A committed transaction as the RPC views render it."""

    version: int
    transaction: Transaction
    status: VMStatus
    gas_used: int
    events: tuple[ContractEvent, ...]
    hash: bytes = b""


@dataclass(frozen=True, slots=True)
class CommittedEvent:
    """A committed event and the version that emitted it."""

    event: ContractEvent
    transaction_version: int


class LedgerReader(Protocol):
    """What the RPC methods, proofs, streams, the faucet and the compliance parts read from the ledger."""

    chain_id: int

    def get_snapshot(self) -> LedgerSnapshot: ...
    def get_state_view(self, version: int) -> StateView: ...
    def get_accumulator_root(self, version: int) -> bytes: ...
    def get_timestamp_usecs(self, version: int) -> int: ...
    def get_transactions(self, start_version: int, limit: int) -> list[CommittedTransaction]: ...
    def get_transaction_by_sequence(self, sender: bytes, sequence_number: int) -> CommittedTransaction | None: ...
    def get_events(self, event_key: bytes, start_sequence: int, limit: int) -> list[CommittedEvent]: ...
    def get_ledger_info(self, version: int) -> LedgerInfoWithSignatures | None: ...
    def get_epoch_ending_ledger_info(self, epoch: int) -> LedgerInfoWithSignatures | None: ...
    def get_transaction_info(self, version: int) -> TransactionInfo | None: ...
    def get_accumulator_proof(self, version: int, ledger_version: int) -> AccumulatorProof: ...
    def get_accumulator_consistency_proof(self, old_num_leaves: int,
                                          new_num_leaves: int) -> AccumulatorConsistencyProof: ...
    def get_state_value_with_proof(self, state_key: bytes,
                                   version: int) -> tuple[bytes | None, SparseMerkleProof]: ...
    def subscribe_commits(self, callback: Callable[[int], None]) -> Callable[[], None]: ...


def make_status(kind: str, location: str | None, abort_code: int | None) -> VMStatus:
    """Rebuild the VM status of a committed transaction (explanations come from the abort tables)."""
    if kind == VMStatusKind.MOVE_ABORT and location is not None and abort_code is not None:
        return VMStatus(kind, location, abort_code, explain(location, abort_code))
    return VMStatus(kind, location, abort_code)


class StoreLedgerReader:
    """The LedgerReader over the node's store; the service tells it of every commit (notify_commit)."""

    def __init__(self, store: Store, chain_id: int) -> None:
        self.store = store
        self.chain_id = chain_id
        self.notifier = CommitNotifier()

    def subscribe_commits(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call callback(latest version) after every commit (on the event loop); return the remover."""
        return self.notifier.subscribe_commits(callback)

    def notify_commit(self, version: int) -> None:
        """Tell the subscribers that version is committed (the service calls this after each commit)."""
        self.notifier.notify(version)

    # ---- snapshot and certificates ---------------------------------------------------------------

    def get_latest_certificate(self) -> LedgerInfoWithSignatures:
        """Return the certificate of the last committed block."""
        record = self.store.get_latest_ledger_info()
        if record is None:
            raise LookupError("the ledger is empty (genesis not applied)")
        return decode_ledger_info(record.ledger_info)

    def get_snapshot(self) -> LedgerSnapshot:
        """Return the latest committed version and its timestamp; requests read nothing above it."""
        info = self.get_latest_certificate().ledger_info
        return LedgerSnapshot(self.chain_id, info.version, info.timestamp_usecs)

    def get_latest_committed_version(self) -> int:
        """Return the last committed version (genesis is always committed)."""
        latest = self.store.get_latest_version()
        if latest is None:
            raise LookupError("the ledger is empty (genesis not applied)")
        return latest

    def get_ledger_info(self, version: int) -> LedgerInfoWithSignatures | None:
        """Return the commit certificate whose ledger info ends exactly at version."""
        record = self.store.get_ledger_info(version)
        if record is None:
            return None
        certificate = decode_ledger_info(record.ledger_info)
        return certificate if certificate.ledger_info.version == version else None

    def get_epoch_ending_ledger_info(self, epoch: int) -> LedgerInfoWithSignatures | None:
        """Return the ledger info that ended epoch (0: the genesis ledger info)."""
        record = self.store.get_epoch_ending_ledger_info(epoch)
        return None if record is None else decode_ledger_info(record.ledger_info)

    # ---- state -----------------------------------------------------------------------------------

    def get_state_view(self, version: int) -> StoreStateView:
        """Return the state as of version (state key -> bytes)."""
        return StoreStateView(self.store, version)

    def get_timestamp_usecs(self, version: int) -> int:
        """Return the ledger clock (DiemTimestamp) in force at version."""
        data = self.get_state_view(version).get(block_module.CLOCK.state_key(DIEM_ROOT_ADDRESS))
        return 0 if data is None else block_module.CLOCK.decode(data).microseconds

    def get_state_value_with_proof(self, state_key: bytes, version: int) -> tuple[bytes | None, SparseMerkleProof]:
        """Return the value under state_key at a state checkpoint version, and its tree proof."""
        self.store.check_state_kept(version)
        tree = SparseMerkleTree(LayeredNodeStore(self.store.get_state_node), self.get_latest_committed_version())
        return tree.get_with_proof(state_key, version)

    # ---- the accumulator -------------------------------------------------------------------------

    def get_accumulator(self) -> MerkleAccumulator:
        """Return the committed transaction accumulator."""
        nodes = LayeredNodeStore(self.store.get_accumulator_node)
        return MerkleAccumulator(nodes, self.get_latest_committed_version() + 1)

    def get_accumulator_root(self, version: int) -> bytes:
        """Return the transaction accumulator root after version."""
        latest = self.store.get_latest_version()
        if latest is None or version > latest:
            raise LookupError(f"version {version} is not committed")
        nodes = LayeredNodeStore(self.store.get_accumulator_node)
        return MerkleAccumulator(nodes, latest + 1).get_root(version + 1)

    def get_accumulator_proof(self, version: int, ledger_version: int) -> AccumulatorProof:
        """Return the inclusion proof of leaf version in the accumulator of ledger_version."""
        self.store.check_ledger_kept(version)
        return self.get_accumulator().get_proof(version, ledger_version + 1)

    def get_accumulator_consistency_proof(self, old_num_leaves: int,
                                          new_num_leaves: int) -> AccumulatorConsistencyProof:
        """Return the proof that the accumulator of new_num_leaves extends that of old_num_leaves."""
        if old_num_leaves > 1:  # from genesis (one leaf) a synced or pruned node still proves it (ADR 0018)
            self.store.check_ledger_kept(old_num_leaves)
        return self.get_accumulator().get_consistency_proof(old_num_leaves, new_num_leaves)

    # ---- transactions and events -----------------------------------------------------------------

    def get_transactions(self, start_version: int, limit: int) -> list[CommittedTransaction]:
        """Return up to limit committed transactions from start_version, ascending."""
        records = self.store.get_transactions(start_version, min(limit, READ_PAGE_MAX))
        return [self.make_committed(record) for record in records]

    def get_transaction_by_sequence(self, sender: bytes, sequence_number: int) -> CommittedTransaction | None:
        """Return the committed transaction of (sender, sequence number)."""
        record = self.store.get_account_transaction(sender, sequence_number)
        return None if record is None else self.make_committed(record)

    def get_transaction(self, version: int) -> CommittedTransaction | None:
        """Return the committed transaction at version."""
        record = self.store.get_transaction(version)
        return None if record is None else self.make_committed(record)

    def get_transaction_info(self, version: int) -> TransactionInfo | None:
        """Return the TransactionInfo committed at version."""
        data = self.store.get_transaction_info(version)
        return None if data is None else decode_stored_info(data)[0]

    def make_committed(self, record: TransactionRecord) -> CommittedTransaction:
        """Decode one stored transaction with its info and events."""
        info, (kind, location, abort_code) = decode_stored_info(record.info)
        events = tuple(ContractEvent.from_bcs(event.event) for event in self.store.get_events_by_version(record.version))
        return CommittedTransaction(record.version, Transaction.from_bcs(record.transaction),
                                    make_status(kind, location, abort_code), info.gas_used, events,
                                    info.transaction_hash)

    def get_events(self, event_key: bytes, start_sequence: int, limit: int) -> list[CommittedEvent]:
        """Return up to limit events of one stream from start_sequence, ascending."""
        records = self.store.get_events_by_key(event_key, start_sequence, min(limit, READ_PAGE_MAX))
        return [CommittedEvent(ContractEvent.from_bcs(record.event), record.version) for record in records]


class CommitNotifier:
    """Fan-out of "new committed version" to callbacks; `notify` may be called from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop
        self.callbacks: list[Callable[[int], None]] = []

    def subscribe_commits(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Add a callback; return the function that removes it."""
        self.callbacks.append(callback)

        def remove() -> None:
            if callback in self.callbacks:
                self.callbacks.remove(callback)

        return remove

    def notify(self, version: int) -> None:
        """Tell every callback about a commit, on the event loop's thread when one was given."""
        loop = self.loop
        if loop is not None and not _is_running_in(loop):
            loop.call_soon_threadsafe(self.call_all, version)
        else:
            self.call_all(version)

    def call_all(self, version: int) -> None:
        """Run each callback; one that fails is logged, never propagated to the committing code."""
        for callback in list(self.callbacks):
            try:
                callback(version)
            except Exception:
                _log.exception("commit callback failed")


def _is_running_in(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
