"""A real in-memory chain whose every committed block is also written, with its indexes, to a MemoryStore."""

from __future__ import annotations

from typing import Any

from collections.abc import Sequence

from node.compliance.index.queries import ComplianceIndex
from node.compliance.index.writes import compute_commits_index_writes
from node.runtime.executor import encode_status
from node.storage import BlockCommit, EventRecord, LedgerInfoRecord, MemoryStore, Store, TransactionRecord
from primitives.codec import pack
from primitives.hashing import sha3_256
from primitives.types.transactions import SignedTransaction
from tests.node.compliance.admission.chain import ComplianceChain

EPOCH = 1


def commit_with_indexes(store: Store, commits: Sequence[BlockCommit]) -> None:
    """Write commits with their compliance-index entries in one batch, as the runtime's index writer does."""
    store.commit_blocks(commits, extra_puts=compute_commits_index_writes(commits))


class IndexedChain(ComplianceChain):
    """ComplianceChain (real executor) plus a Store fed one BlockCommit per committed block."""

    def __init__(self) -> None:
        super().__init__()
        self.store = MemoryStore()
        self.index = ComplianceIndex(self.store)
        self.round = 0
        self.commits: list[BlockCommit] = []
        self.write_commit(self.ledger.transactions[:1])
        commit_block = self.ledger.commit_block

        def commit_and_index(*args: Any, **kwargs: Any) -> list[Any]:
            committed = commit_block(*args, **kwargs)
            self.write_commit(committed)
            return committed

        self.ledger.commit_block = commit_and_index  # type: ignore[method-assign]

    def make_commit(self, committed: list[Any]) -> BlockCommit:
        """Return the BlockCommit of committed transactions, as node.runtime.commit.make_block_commit shapes it."""
        records, events = [], []
        for item in committed:
            value = item.transaction.value
            signed = isinstance(value, SignedTransaction)
            info = pack([self.ledger.infos[item.version].to_bcs(), list(encode_status(item.status))])
            records.append(TransactionRecord(item.version, item.transaction.to_bcs(), info,
                                             value.sender.value if signed else None,
                                             value.sequence_number if signed else None))
            events += [EventRecord(event.key.value, event.sequence_number, item.version, index, event.to_bcs())
                       for index, event in enumerate(item.events)]
        block_id = sha3_256(self.round.to_bytes(8, "big"))
        ledger_info = LedgerInfoRecord(committed[-1].version, EPOCH, b"ledger info")
        return BlockCommit(self.round, block_id, b"block", b"", b"", ledger_info, tuple(records), tuple(events))

    def write_commit(self, committed: list[Any]) -> None:
        """Write one committed block and its indexes in one batch."""
        commit = self.make_commit(committed)
        commit_with_indexes(self.store, [commit])
        self.commits.append(commit)
        self.round += 1
