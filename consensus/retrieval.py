"""Block retrieval: ask a peer for missing blocks once, and answer peers from our tree ([SYNC-3], [SYNC-4])."""

from __future__ import annotations

from collections.abc import Callable

from consensus.events import FetchBlocks, Send
from consensus.state import Work
from consensus.types import (
    MAX_BLOCK_BYTES,
    Block,
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    BlockRetrievalStatus,
    compute_block_bytes,
)
from consensus.verify import MAX_BLOCKS_PER_RETRIEVAL

# Outstanding block requests remembered at most (they are also forgotten at each local timeout).
REQUESTED_BLOCKS_MAX = 64
# [SYNC-4] The blocks of one response fit this many encoded bytes (the first block always goes: it fits, being at
# most MAX_BLOCK_BYTES), so a response always fits a peer frame however large the blocks are.
RETRIEVAL_RESPONSE_BLOCK_BYTES_MAX = MAX_BLOCK_BYTES


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
    """Walk parent links from the requested id (newest first), within the count and byte limits of [SYNC-4]."""
    blocks: list[Block] = []
    size_bytes = 0
    current = get_block(request.block_id)
    while current is not None and len(blocks) < min(request.count, MAX_BLOCKS_PER_RETRIEVAL):
        size_bytes += compute_block_bytes(current)
        if blocks and size_bytes > RETRIEVAL_RESPONSE_BLOCK_BYTES_MAX:
            break  # the requester asks again from the oldest block it got ([SYNC-3])
        blocks.append(current)
        current = None if current.is_genesis() else get_block(current.parent_id)
    if not blocks:
        status = BlockRetrievalStatus.ID_NOT_FOUND
    elif len(blocks) < request.count:
        status = BlockRetrievalStatus.NOT_ENOUGH_BLOCKS
    else:
        status = BlockRetrievalStatus.SUCCEEDED
    return BlockRetrievalResponse(int(status), tuple(blocks))
