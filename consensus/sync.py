"""Certificates, ordering and block retrieval: how a validator catches up with what others certified."""

from __future__ import annotations

from collections.abc import Callable

from consensus.block_tree import BlockTree
from consensus.equivocation import check_proposal
from consensus.events import ExecuteBlocks, FetchBlocks, PersistBlock, Send, VerifiedBlocks
from consensus.state import Work
from consensus.types import (
    Block,
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    BlockRetrievalStatus,
    SyncInfo,
    TimeoutCertificate,
)
from consensus.verify import MAX_BLOCKS_PER_RETRIEVAL
from primitives.certified.blocks import QuorumCertificate
from primitives.errors import invariant

# Outstanding block requests remembered at most (they are also forgotten at each local timeout).
REQUESTED_BLOCKS_MAX = 64


def process_sync_info(work: Work, sync_info: SyncInfo, sender: bytes) -> None:
    """[SYNC-1] Adopt every certificate in sync_info that is newer than ours."""
    from consensus.commit import process_commit_cert  # commit imports sync; resolve at call time

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


def order_to(work: Work, block_id: bytes) -> None:
    """Order block_id and its unordered ancestors, and hand them to the executor."""
    tree = work.state.tree
    path = tree.get_path(tree.ordered_id, block_id)
    # Two ordered blocks that do not extend each other mean more than 1/3 of power is faulty.
    invariant(path is not None, "conflicting blocks ordered: the BFT assumption is broken")
    tree.ordered_id = block_id
    work.state.record_ordered(path)  # type: ignore[arg-type]
    send_for_execution(work)


def send_for_execution(work: Work) -> None:
    """Emit ExecuteBlocks for ordered blocks not yet handed to the executor (none past a reconfiguration)."""
    state = work.state
    tree = state.tree
    start_id = state.execution_sent_id if tree.is_known(state.execution_sent_id) else tree.root_id
    path = tree.get_path(start_id, tree.ordered_id)
    if not path or _is_epoch_ended(work):
        return
    state.execution_sent_id = path[-1].id
    work.emit(ExecuteBlocks(tuple(path)))


def _is_epoch_ended(work: Work) -> bool:
    return any(info.is_epoch_ending() for info in work.state.executed.values())


def request_blocks(work: Work, peer: bytes, block_id: bytes, round_: int) -> None:
    """[SYNC-3] Ask peer for the block and its ancestors down to our committed root, once until it arrives.

    Every message repeats the certificates it carries; without the once, each would fetch the same blocks
    again and a node that lags would flood its peers (and itself) with retrievals.
    """
    state = work.state
    if peer == state.config.author or block_id in state.requested_blocks:
        return
    if len(state.requested_blocks) >= REQUESTED_BLOCKS_MAX:
        state.requested_blocks = frozenset()  # unanswered requests (lost, or a peer without them): ask again
    state.requested_blocks = state.requested_blocks | {block_id}
    gap = round_ - state.tree.get_root().round
    count = max(1, min(MAX_BLOCKS_PER_RETRIEVAL, gap))
    work.emit(FetchBlocks(peer, block_id, count))


def process_block_retrieval(work: Work, sender: bytes, request: BlockRetrievalRequest) -> None:
    """[SYNC-4] Answer a peer with up to count blocks ending at the requested id."""
    work.emit(Send(sender, compute_block_retrieval_response(work.state.tree.blocks.get, request)))


def compute_block_retrieval_response(
    get_block: Callable[[bytes], Block | None], request: BlockRetrievalRequest
) -> BlockRetrievalResponse:
    """Walk parent links from the requested id (newest first); runtimes may call it over their store."""
    blocks: list[Block] = []
    current = get_block(request.block_id)
    while current is not None and len(blocks) < min(request.count, MAX_BLOCKS_PER_RETRIEVAL):
        blocks.append(current)
        current = None if current.is_genesis() else get_block(current.parent_id)
    if not blocks:
        status = BlockRetrievalStatus.ID_NOT_FOUND
    elif len(blocks) < request.count:
        status = BlockRetrievalStatus.NOT_ENOUGH_BLOCKS
    else:
        status = BlockRetrievalStatus.SUCCEEDED
    return BlockRetrievalResponse(int(status), tuple(blocks))


def process_retrieved_blocks(work: Work, event: VerifiedBlocks) -> None:
    """Insert fetched blocks (oldest first) and replay the certificates that waited for them."""
    state = work.state
    tree = state.tree
    state.requested_blocks = state.requested_blocks - {block.id for block in event.blocks}
    for block in reversed(event.blocks):
        check_proposal(work, block)  # [EVIDENCE-1] fetched blocks are signature-checked too
        if tree.is_known(block.id) or not tree.is_insertable(block):
            continue
        insert_block(work, block)
    oldest = event.blocks[-1]
    if not tree.is_known(oldest.id) and oldest.round > tree.get_root().round:
        request_blocks(work, event.sender, oldest.parent_id, oldest.round)
        return
    replay_pending(work, event.sender)


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
    from consensus.commit import try_commit

    state = work.state
    for block_id, qc in sorted(state.pending_qcs.items(), key=lambda item: item[1].round):
        if state.tree.is_known(block_id):
            del state.pending_qcs[block_id]
            insert_qc(work, qc, sender)
    try_commit(work, sender)
