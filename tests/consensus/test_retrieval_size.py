"""[SYNC-4] and [NET-4]: a retrieval response fits one peer frame however large the blocks are."""

from __future__ import annotations

from consensus.retrieval import RETRIEVAL_RESPONSE_BLOCK_BYTES_MAX, compute_block_retrieval_response
from consensus.types import (
    MAX_BLOCK_BYTES,
    MAX_BLOCK_PAYLOAD_BYTES,
    MAX_CONSENSUS_MESSAGE_BYTES,
    BlockRetrievalRequest,
    BlockRetrievalStatus,
    ProposalMsg,
    SyncInfo,
    compute_block_bytes,
    encode_message,
)
from consensus.verify import MAX_BLOCKS_PER_RETRIEVAL
from tests.consensus.builders import Chain

ENTRY_BYTES = 64 * 1024


def make_chain_of_blocks(chain: Chain, count: int, payload_bytes: int) -> list:
    """Return count linked blocks (oldest first), each with about payload_bytes of payload."""
    entries = max(1, payload_bytes // ENTRY_BYTES)
    blocks, qc = [], chain.genesis_qc
    for round_ in range(1, count + 1):
        block = chain.make_block(round_, qc, payload=tuple(bytes([round_ % 256]) * ENTRY_BYTES for _ in range(entries)))
        blocks.append(block)
        qc = chain.make_qc(block)
    return blocks


def test_a_request_for_a_hundred_large_blocks_gets_what_fits_one_frame_newest_first() -> None:
    chain = Chain()
    blocks = make_chain_of_blocks(chain, 30, 1024 * 1024)  # 30 MiB of blocks: more than any frame
    by_id = {block.id: block for block in blocks}
    response = compute_block_retrieval_response(by_id.get, BlockRetrievalRequest(blocks[-1].id, MAX_BLOCKS_PER_RETRIEVAL))
    assert response.status == BlockRetrievalStatus.NOT_ENOUGH_BLOCKS
    assert [block.round for block in response.blocks] == list(range(30, 30 - len(response.blocks), -1))
    assert 1 < len(response.blocks) < 30
    assert sum(map(compute_block_bytes, response.blocks)) <= RETRIEVAL_RESPONSE_BLOCK_BYTES_MAX
    assert len(encode_message(response)) <= MAX_CONSENSUS_MESSAGE_BYTES


def test_one_block_of_the_largest_size_is_always_sent_and_fits() -> None:
    chain = Chain()
    (block,) = make_chain_of_blocks(chain, 1, MAX_BLOCK_PAYLOAD_BYTES)
    assert MAX_BLOCK_PAYLOAD_BYTES - ENTRY_BYTES < sum(map(len, block.payload)) <= MAX_BLOCK_PAYLOAD_BYTES
    assert compute_block_bytes(block) <= MAX_BLOCK_BYTES
    response = compute_block_retrieval_response({block.id: block}.get, BlockRetrievalRequest(block.id, 1))
    assert response.blocks == (block,) and response.status == BlockRetrievalStatus.SUCCEEDED
    assert len(encode_message(response)) <= MAX_CONSENSUS_MESSAGE_BYTES


def test_small_blocks_are_limited_by_count_only() -> None:
    chain = Chain()
    blocks = make_chain_of_blocks(chain, MAX_BLOCKS_PER_RETRIEVAL + 5, 0)
    by_id = {block.id: block for block in blocks}
    response = compute_block_retrieval_response(by_id.get, BlockRetrievalRequest(blocks[-1].id, MAX_BLOCKS_PER_RETRIEVAL))
    assert len(response.blocks) == MAX_BLOCKS_PER_RETRIEVAL and response.status == BlockRetrievalStatus.SUCCEEDED


def test_a_proposal_of_the_largest_block_fits_the_largest_consensus_message() -> None:
    chain = Chain()
    (block,) = make_chain_of_blocks(chain, 1, MAX_BLOCK_PAYLOAD_BYTES)
    proposal = ProposalMsg(block, SyncInfo(chain.genesis_qc, chain.genesis_qc, None, None))
    assert len(encode_message(proposal)) <= MAX_CONSENSUS_MESSAGE_BYTES


def test_a_node_missing_many_large_blocks_fetches_them_over_several_responses() -> None:
    from consensus import events as ev
    from consensus.core import make_initial_state, step
    from consensus.election import get_weighted_leader
    from tests.consensus.harness import make_address, make_config

    chain = Chain()
    blocks = make_chain_of_blocks(chain, 20, 1024 * 1024)
    by_id = {block.id: block for block in blocks}
    leader = [make_address(i) for i in range(4)].index(get_weighted_leader(chain.validators, chain.epoch, 21))
    tip = chain.make_block(21, chain.make_qc(blocks[-1]), author=leader)
    state, _ = step(make_initial_state(make_config(1), chain.epoch_state), ev.Start())
    # A proposal whose parent is unknown: the node fetches it ([SYNC-6]), one frame's worth at a time.
    state, effects = step(state, ev.VerifiedProposal(tip.author, ProposalMsg(tip, SyncInfo(tip.quorum_cert, None, None, None))))
    responses = 0
    while fetches := [effect for effect in effects if isinstance(effect, ev.FetchBlocks)]:
        response = compute_block_retrieval_response(by_id.get, BlockRetrievalRequest(fetches[0].block_id, fetches[0].count))
        responses += 1
        state, effects = step(state, ev.VerifiedBlocks(tip.author, response.blocks))
    assert responses > 1
    assert all(state.tree.is_known(block.id) for block in blocks)
