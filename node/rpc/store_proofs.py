"""The v2 ledger reads (proofs, commit notifications) over the node's Store, ready for node/ledger.py to reuse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from contracts.state import (
    AccumulatorConsistencyProof,
    AccumulatorProof,
    MerkleAccumulator,
    SparseMerkleProof,
    SparseMerkleTree,
    TransactionInfo,
)
from node.execution import LayeredNodeStore, decode_stored_info
from node.storage import Store
from primitives.certified.ledger_info import LedgerInfoWithSignatures, decode_ledger_info

_log = logging.getLogger(__name__)


class StoreProofReader:
    """docs/notes/rpc-ledger-api.md "v2 additions", read from committed data only (no speculative layers)."""

    def __init__(self, store: Store) -> None:
        self.store = store

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

    def get_transaction_info(self, version: int) -> TransactionInfo | None:
        """Return the TransactionInfo committed at version."""
        data = self.store.get_transaction_info(version)
        return None if data is None else decode_stored_info(data)[0]

    def get_accumulator(self) -> MerkleAccumulator:
        """Return the committed transaction accumulator."""
        nodes = LayeredNodeStore(self.store.get_accumulator_node, [])
        return MerkleAccumulator(nodes, self.get_latest_committed_version() + 1)

    def get_accumulator_proof(self, version: int, ledger_version: int) -> AccumulatorProof:
        """Return the inclusion proof of leaf version in the accumulator of ledger_version."""
        return self.get_accumulator().get_proof(version, ledger_version + 1)

    def get_accumulator_consistency_proof(self, old_num_leaves: int,
                                          new_num_leaves: int) -> AccumulatorConsistencyProof:
        """Return the proof that the accumulator of new_num_leaves extends that of old_num_leaves."""
        return self.get_accumulator().get_consistency_proof(old_num_leaves, new_num_leaves)

    def get_state_value_with_proof(self, state_key: bytes, version: int) -> tuple[bytes | None, SparseMerkleProof]:
        """Return the value under state_key at a state checkpoint version, and its tree proof."""
        tree = SparseMerkleTree(LayeredNodeStore(self.store.get_state_node, []), self.get_latest_committed_version())
        return tree.get_with_proof(state_key, version)


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
