"""What a committed block writes: its records, and the index entries the writers given at start-up add to its batch."""

# One atomic synced batch per commit holds the blocks and every index entry derived from them, so an index never
# runs ahead of or behind the chain. The writers are plain functions of one committed block: the leader-reputation
# records the core recovers from ([ELECT-3]) and, on a full node, the compliance indexes (node.compliance.index).

from __future__ import annotations

from collections.abc import Callable, Sequence

from consensus.state import make_history_entry
from consensus.types import Block
from node.runtime.executor import ExecutedBlock
from node.storage.codecs import encode_block, encode_history_entry, encode_quorum_cert
from node.storage.records import (
    BlockCommit,
    EventRecord,
    LedgerInfoRecord,
    StateValueWrite,
    TransactionRecord,
)
from node.storage.schema import leader_history_key
from node.storage.store import Store
from primitives.certified.ledger_info import LedgerInfo, LedgerInfoWithSignatures
from primitives.certified.ledger_info import encode_ledger_info

# A writer returns the (key, value) index entries of one committed block; keys come from node/storage/schema.py.
IndexWriter = Callable[[Block, BlockCommit], list[tuple[bytes, bytes]]]


def write_leader_history(block: Block, _commit: BlockCommit) -> list[tuple[bytes, bytes]]:
    """Return the leader-reputation record of an ordered block ([ELECT-3]); an epoch's genesis block has none."""
    if block.is_genesis():
        return []
    return [(leader_history_key(block.epoch, block.round), encode_history_entry(make_history_entry(block)))]


# The writers every runtime needs: without its reputation records a restarted node disagrees on leaders.
CONSENSUS_INDEX_WRITERS: tuple[IndexWriter, ...] = (write_leader_history,)


def make_ledger_info(block: Block, executed: ExecutedBlock) -> LedgerInfo:
    """Return the ledger info this node computed for an executed block."""
    return LedgerInfo(block.epoch, block.round, block.id, block.timestamp_usecs, executed.last_version,
                      executed.state_root, executed.accumulator_root, executed.next_validator_set)


def make_block_commit(block: Block, executed: ExecutedBlock, certificate: LedgerInfoWithSignatures,
                      is_certified: bool) -> BlockCommit:
    """Return everything one committed block writes; is_certified marks the certificate's own block."""
    info = certificate.ledger_info
    records = tuple(TransactionRecord(txn.version, txn.transaction, txn.encode_info(), txn.sender,
                                      txn.sequence_number) for txn in executed.transactions)
    events = tuple(EventRecord(key, sequence_number, txn.version, index, event)
                   for txn in executed.transactions for index, (key, sequence_number, event) in enumerate(txn.events))
    values = tuple(StateValueWrite(key, executed.last_version, value) for key, value in executed.write_set.items())
    encoded = encode_ledger_info(certificate)
    record = LedgerInfoRecord(info.version, info.epoch, encoded, info.is_epoch_ending())
    return BlockCommit(block.round, block.id, encode_block(block), encode_quorum_cert(block.quorum_cert),
                       encoded if is_certified else b"", record, records, events, tuple(executed.tree_nodes.items()),
                       tuple(executed.accumulator_nodes.items()), values, executed.stale_tree_nodes,
                       tuple(txn.state_changes for txn in executed.transactions))


def compute_index_puts(blocks: Sequence[Block], commits: Sequence[BlockCommit],
                       writers: Sequence[IndexWriter]) -> list[tuple[bytes, bytes]]:
    """Return every writer's entries for the committed blocks, writer by writer."""
    return [put for writer in writers for block, commit in zip(blocks, commits) for put in writer(block, commit)]


def save_commits(store: Store, blocks: Sequence[Block], commits: Sequence[BlockCommit],
                 writers: Sequence[IndexWriter]) -> None:
    """Write the commits and their index entries in the store's one atomic synced batch."""
    store.commit_blocks(commits, extra_puts=compute_index_puts(blocks, commits, writers))
