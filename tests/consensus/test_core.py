"""Single-core handler stories: pre-state, one event, post-state and effects."""

from __future__ import annotations

from consensus import events as ev
from consensus.core import make_initial_state, step
from consensus.election import get_weighted_leader
from consensus.types import (
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    BlockRetrievalStatus,
    EpochRetrievalRequest,
    ProposalMsg,
    SyncInfo,
    Vote,
    VoteMsg,
)
from primitives.certified.ledger_info import EpochChangeProof
from tests.consensus.builders import Chain
from tests.consensus.harness import Cluster, make_address, make_config


def _leader_index(chain: Chain, round_: int) -> int:
    addresses = [make_address(i) for i in range(len(chain.powers))]
    return addresses.index(get_weighted_leader(chain.validators, chain.epoch, round_))


def _vote_event(chain: Chain, block, index: int) -> ev.VerifiedVote:
    qc = chain.make_qc(block, [index])
    vote = Vote(qc.vote_data, make_address(index), qc.signatures[0][1])
    return ev.VerifiedVote(make_address(index), VoteMsg(vote, SyncInfo(chain.genesis_qc, None, None, None)))


def _core_with_block(chain: Chain, index: int):
    state = make_initial_state(make_config(index), chain.epoch_state)
    state, _ = step(state, ev.Start())
    block = chain.make_block(1, chain.genesis_qc, author=_leader_index(chain, 1))
    state, _ = step(state, ev.VerifiedProposal(block.author, _proposal(chain, block)))
    return state, block


def _proposal(chain: Chain, block):
    from consensus.types import ProposalMsg
    return ProposalMsg(block, SyncInfo(chain.genesis_qc, None, None, None))


def test_next_leader_forms_a_qc_by_power_not_by_count():
    chain = Chain([5, 1, 1, 1])  # total 8, quorum 6; the leader's own vote is already counted
    leader = _leader_index(chain, 2)
    state, block = _core_with_block(chain, leader)
    lights = [i for i in range(1, 4) if i != leader]
    if leader == 0:  # heavy leader + one light = power 6 with only 2 of 4 voters
        state, _ = step(state, _vote_event(chain, block, lights[0]))
        assert state.highest_qc.round == 1 and state.current_round == 2
    else:  # three light voters = 3 of 4 voters but power 3
        for index in lights:
            state, _ = step(state, _vote_event(chain, block, index))
        assert state.highest_qc.round == 0
        state, _ = step(state, _vote_event(chain, block, 0))
        assert state.highest_qc.round == 1 and state.current_round == 2


def test_an_equivocating_voter_counts_once():
    chain = Chain([1, 1, 1, 1])
    leader = _leader_index(chain, 2)
    state, block = _core_with_block(chain, leader)
    voter = (leader + 1) % 4
    other_block = chain.make_block(1, chain.genesis_qc, author=_leader_index(chain, 1), payload=(b"fork",))
    state, _ = step(state, _vote_event(chain, other_block, voter))
    state, _ = step(state, _vote_event(chain, block, voter))
    third = (leader + 2) % 4
    state, _ = step(state, _vote_event(chain, block, third))
    assert state.highest_qc.round == 0  # leader + third only: voter's second vote was ignored


def test_block_retrieval_is_served_newest_first_with_a_status():
    cluster = Cluster([1, 1, 1, 1])
    cluster.start()
    cluster.run(max_messages=200)
    state = cluster.nodes[0].state
    tip = state.highest_qc.certified_block
    _, effects = step(state, ev.VerifiedBlockRetrievalRequest(make_address(1), BlockRetrievalRequest(tip.id, 3)))
    (send,) = effects[:1]
    response = send.message
    assert isinstance(response, BlockRetrievalResponse) and response.status == BlockRetrievalStatus.SUCCEEDED
    assert [block.round for block in response.blocks] == sorted((b.round for b in response.blocks), reverse=True)
    assert response.blocks[0].id == tip.id and response.blocks[0].parent_id == response.blocks[1].id
    _, effects = step(state, ev.VerifiedBlockRetrievalRequest(make_address(1), BlockRetrievalRequest(b"?" * 32, 3)))
    assert effects[0].message.status == BlockRetrievalStatus.ID_NOT_FOUND


def test_epoch_retrieval_is_answered_with_the_epoch_ending_certificates():
    from tests.consensus.harness import make_validators
    cluster = Cluster([1, 1, 1, 1])
    cluster.start()
    cluster.run(max_messages=50)
    cluster.reconfigure_next = make_validators([1, 1, 2, 1])
    cluster.run(max_messages=800)
    state = cluster.nodes[0].state
    assert state.epoch_state.epoch == 2
    _, effects = step(state, ev.VerifiedEpochRetrievalRequest(make_address(3), EpochRetrievalRequest(1, 2)))
    proof = effects[0].message
    assert isinstance(proof, EpochChangeProof) and proof.ledger_infos == state.epoch_proofs


def test_a_validator_outside_the_set_never_votes_or_times_out():
    chain = Chain([1, 1, 1])
    outsider = make_initial_state(make_config(3), chain.epoch_state)
    state, effects = step(outsider, ev.Start())
    assert not any(isinstance(effect, (ev.ScheduleTimeout, ev.RequestPayload)) for effect in effects)
    block = chain.make_block(1, chain.genesis_qc, author=_leader_index(chain, 1))
    state, effects = step(state, ev.VerifiedProposal(block.author, _proposal(chain, block)))
    assert not any(isinstance(effect, (ev.Send, ev.Broadcast, ev.PersistSafety)) for effect in effects)


def test_only_a_qc_over_consecutive_rounds_orders_the_parent():
    chain = Chain()
    (b1, b2), (q1, q2) = chain.make_chain([1, 2])
    assert q2.vote_data.get_ordered_block() == b1.get_info()
    b4 = chain.make_block(4, q2)
    assert chain.make_qc(b4).vote_data.get_ordered_block() is None
    assert chain.genesis_qc.vote_data.get_ordered_block() is None


def test_a_node_behind_asks_for_missing_blocks_once_whatever_the_messages_that_repeat_them():
    # Pre-state: node 3 at genesis; blocks 1..3 certified and committed elsewhere. Action: twelve messages
    # arrive, each carrying the same commit certificate for block 3 in its sync info.
    chain = Chain()
    blocks, qcs = chain.make_chain([1, 2, 3])
    sync_info = SyncInfo(qcs[0], None, None, chain.certify(chain.make_ledger_info(blocks[2])))
    state = make_initial_state(make_config(3), chain.epoch_state)
    state, _ = step(state, ev.Start())
    fetches = []
    for sender in (0, 1, 2) * 4:
        state, effects = step(state, ev.VerifiedSyncInfo(make_address(sender), sync_info))
        fetches += [effect.block_id for effect in effects if isinstance(effect, ev.FetchBlocks)]
    # Post-state: [SYNC-3] one retrieval request per missing block, not one per message (a lagging node would
    # flood its peers and itself with retrievals).
    assert sorted(fetches) == sorted({blocks[2].id, blocks[0].id})
    # A local timeout forgets the requests, so a lost answer is asked for again.
    state, _ = step(state, ev.LocalTimeout(state.epoch_state.epoch, state.current_round))
    state, effects = step(state, ev.VerifiedSyncInfo(make_address(0), sync_info))
    assert blocks[2].id in [effect.block_id for effect in effects if isinstance(effect, ev.FetchBlocks)]


def test_a_proposal_whose_parent_is_being_fetched_is_voted_for_when_it_arrives():
    # Pre-state: node 3 at genesis. Action: the proposal for round 3 arrives before blocks 1 and 2.
    chain = Chain()
    blocks, qcs = chain.make_chain([1, 2])
    b3 = chain.make_block(3, qcs[1], author=_leader_index(chain, 3))
    state = make_initial_state(make_config(3), chain.epoch_state)
    state, _ = step(state, ev.Start())
    state, effects = step(state, ev.VerifiedProposal(b3.author, ProposalMsg(b3, SyncInfo(qcs[1], None, None, None))))
    assert not [effect for effect in effects if isinstance(effect, ev.Broadcast)]  # nothing to vote on yet
    assert state.pending_proposal == b3  # [SYNC-6]
    # Post-state: once the fetched blocks arrive, node 3 votes for B3 in its round (it would otherwise fetch one
    # block per round behind the chain forever and never vote again).
    state, effects = step(state, ev.VerifiedBlocks(make_address(0), (blocks[1], blocks[0])))
    votes = [effect.message for effect in effects if isinstance(effect, ev.Broadcast) and isinstance(effect.message, VoteMsg)]
    assert state.current_round == 3 and [vote.vote.round for vote in votes] == [3]
    assert state.pending_proposal is None
