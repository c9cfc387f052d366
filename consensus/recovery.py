"""Restart: rebuild the core from what was persisted (safety data, blocks, certificates) and nothing else."""

from __future__ import annotations

from collections.abc import Iterable

from consensus.block_tree import RETAINED_COMMITTED_BLOCKS, BlockTree
from consensus.election import HistoryEntry
from consensus.safety import SafetyData
from consensus.state import CoreConfig, CoreState, make_initial_state
from consensus.types import Block, EpochState, SyncInfo
from primitives.certified.ledger_info import LedgerInfoWithSignatures


def recover(
    config: CoreConfig,
    epoch_state: EpochState,
    safety_data: SafetyData | None,
    blocks: Iterable[Block],
    sync_info: SyncInfo | None,
    committed: LedgerInfoWithSignatures | None = None,
    history: tuple[HistoryEntry, ...] = (),
) -> CoreState:
    """[RECOVER-1] Rebuild state rooted at the last block the ledger committed; feed Start() next.

    history: the reputation records the runtime kept of committed blocks ([ELECT-3]), older than `blocks`.
    """
    state = make_initial_state(config, epoch_state)
    epoch = epoch_state.epoch
    # A crash between NewEpoch and its PersistSafety leaves older safety data: it starts afresh.
    if safety_data is not None and safety_data.epoch == epoch:
        state.safety = safety_data
    known = {block.id: block for block in blocks if block.epoch == epoch}
    known[epoch_state.genesis_block_id] = epoch_state.genesis_block
    root = epoch_state.genesis_block
    if committed is not None and committed.ledger_info.epoch == epoch and committed.ledger_info.block_id in known:
        root = known[committed.ledger_info.block_id]
    state.tree = BlockTree.create(root, None if root.round else state.highest_qc)
    state.execution_sent_id = root.id
    for block in sorted(known.values(), key=lambda candidate: candidate.round):
        if not state.tree.is_known(block.id) and state.tree.is_insertable(block):
            state.tree.insert(block)
    if sync_info is not None:
        _restore_certificates(state, sync_info)
    committed_chain = _get_committed_chain(known, root)
    state.record_history(tuple(entry for entry in history if entry.round <= root.round))
    state.record_ordered(committed_chain)  # [ELECT-3] the rest is re-ordered when Start() replays the QCs
    _retain_committed(state.tree, committed_chain[:-1])
    return state


def _retain_committed(tree: BlockTree, ancestors: list[Block]) -> None:
    """Keep the root's committed ancestors, as before the crash, to serve block retrieval."""
    kept = ancestors[-RETAINED_COMMITTED_BLOCKS:]
    for block in kept:
        tree.blocks[block.id] = block
    tree.committed_ids = tuple(block.id for block in kept)


def _get_committed_chain(known: dict[bytes, Block], root: Block) -> list[Block]:
    """Return the persisted committed blocks of the epoch up to root, oldest first (genesis excluded)."""
    chain = []
    current: Block | None = root
    while current is not None and not current.is_genesis():
        chain.append(current)
        current = known.get(current.parent_id)
    chain.reverse()
    return chain


def _restore_certificates(state: CoreState, sync_info: SyncInfo) -> None:
    """Keep persisted certificates of this epoch; Start() replays them through the normal path."""
    epoch = state.epoch_state.epoch
    if sync_info.highest_quorum_cert.epoch == epoch and state.tree.is_known(sync_info.highest_quorum_cert.certified_block.id):
        state.highest_qc = sync_info.highest_quorum_cert
    elif sync_info.highest_quorum_cert.epoch == epoch:
        state.pending_qcs[sync_info.highest_quorum_cert.certified_block.id] = sync_info.highest_quorum_cert
    if sync_info.highest_ordered_cert is not None and sync_info.highest_ordered_cert.epoch == epoch:
        state.highest_ordered_cert = sync_info.highest_ordered_cert
    if sync_info.highest_timeout_cert is not None and sync_info.highest_timeout_cert.epoch == epoch:
        state.highest_tc = sync_info.highest_timeout_cert
    commit_cert = sync_info.highest_commit_cert
    if commit_cert is not None and commit_cert.ledger_info.epoch == epoch:
        state.highest_commit_cert = commit_cert
