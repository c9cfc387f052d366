"""Certificates and retrieved blocks: how a validator catches up with what others certified."""

from __future__ import annotations

from consensus.block_tree import BlockTree
from consensus.commit import process_commit_cert, try_commit
from consensus.equivocation import check_proposal
from consensus.events import PersistBlock, VerifiedBlocks
from consensus.ordering import order_to
from consensus.retrieval import request_blocks
from consensus.state import Work
from consensus.types import Block, SyncInfo, TimeoutCertificate
from consensus.verify import MAX_BLOCKS_PER_RETRIEVAL
from primitives.certified.blocks import QuorumCertificate


def process_sync_info(work: Work, sync_info: SyncInfo, sender: bytes) -> None:
    """[SYNC-1] Adopt every certificate in sync_info that is newer than ours."""
    if sync_info.highest_commit_cert is not None:
        process_commit_cert(work, sync_info.highest_commit_cert, sender)
    if sync_info.highest_ordered_cert is not None:
        insert_qc(work, sync_info.highest_ordered_cert, sender)
    insert_qc(work, sync_info.highest_quorum_cert, sender)
    if sync_info.highest_timeout_cert is not None:
        insert_qc(work, sync_info.highest_timeout_cert.high_qc, sender)
        insert_tc(work, sync_info.highest_timeout_cert)


def insert_tc(work: Work, tc: TimeoutCertificate) -> None:
    """Keep the highest TC of the epoch."""
    state = work.state
    if tc.epoch == state.epoch_state.epoch and (state.highest_tc is None or tc.round > state.highest_tc.round):
        state.highest_tc = tc


def insert_qc(work: Work, qc: QuorumCertificate, sender: bytes) -> None:
    """[SYNC-2] Record a QC; fetch its block if unknown; order what its 2-chain orders ([COMMIT-1])."""
    state = work.state
    tree = state.tree
    block_id = qc.certified_block.id
    if qc.epoch != state.epoch_state.epoch or qc.round <= tree.get_root().round and qc.round > 0:
        return
    if not tree.is_known(block_id):
        if block_id not in state.pending_qcs:
            state.pending_qcs[block_id] = qc
            request_blocks(work, sender, block_id, qc.round)
        return
    tree.certified.setdefault(block_id, qc)
    if qc.round > state.highest_qc.round:
        state.highest_qc = qc
    ordered = qc.vote_data.get_ordered_block()
    if ordered is not None and ordered.round > tree.get_ordered().round and tree.is_known(ordered.id):
        order_to(work, ordered.id)
        if state.highest_ordered_cert is None or qc.round > state.highest_ordered_cert.round:
            state.highest_ordered_cert = qc


def process_retrieved_blocks(work: Work, event: VerifiedBlocks) -> None:
    """Insert fetched blocks (oldest first) and replay the certificates that waited for them."""
    state = work.state
    tree = state.tree
    # [SYNC-8] Only a block we asked for (a certified id) and its linked ancestors are inserted.
    is_requested = event.blocks[0].id in state.requested_blocks
    state.requested_blocks = state.requested_blocks - {block.id for block in event.blocks}
    for block in reversed(event.blocks):
        check_proposal(work, block)  # [EVIDENCE-1] fetched blocks are signature-checked too, solicited or not
    if not is_requested:
        return
    chain = join_fetched_chain(state.fetched_chain, event.blocks)
    for block in reversed(chain):
        if not tree.is_known(block.id) and tree.is_insertable(block):
            insert_block(work, block)
    oldest = chain[-1]
    if not tree.is_known(oldest.id) and oldest.round > tree.get_root().round:
        # [SYNC-4] The answer stopped short (count or bytes): keep what came, ask for the rest below it.
        state.fetched_chain = chain if len(chain) <= MAX_BLOCKS_PER_RETRIEVAL else ()
        request_blocks(work, event.sender, oldest.parent_id, oldest.round)
        return
    state.fetched_chain = ()
    replay_pending(work, event.sender)


def join_fetched_chain(kept: tuple[Block, ...], blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """Return the fetched blocks (newest first) after the kept ones they extend downwards, if they do."""
    return kept + blocks if kept and kept[-1].parent_id == blocks[0].id else blocks


def insert_block(work: Work, block: Block) -> bool:
    """Persist and insert a block whose parent is known; also take its parent QC into account."""
    tree: BlockTree = work.state.tree
    if not tree.insert(block):
        return False
    work.emit(PersistBlock(block))
    if block.quorum_cert is not None:
        insert_qc(work, block.quorum_cert, work.state.config.author)
    return True


def replay_pending(work: Work, sender: bytes) -> None:
    """Re-insert QCs and the commit certificate that were waiting for now-known blocks."""
    state = work.state
    for block_id, qc in sorted(state.pending_qcs.items(), key=lambda item: item[1].round):
        if state.tree.is_known(block_id):
            del state.pending_qcs[block_id]
            insert_qc(work, qc, sender)
    try_commit(work, sender)
