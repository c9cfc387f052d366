"""Single-core handler stories: pre-state, one event, post-state and effects."""

from __future__ import annotations

from consensus import events as ev
from consensus.core import make_initial_state, step
from consensus.types import (
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    BlockRetrievalStatus,
    EpochChangeProof,
    EpochRetrievalRequest,
    SyncInfo,
    Vote,
    VoteMsg,
)
from tests.consensus.builders import Chain
from tests.consensus.harness import Cluster, make_address, make_config


def _leader_index(chain: Chain, round_: int) -> int:
    addresses = [make_address(i) for i in range(len(chain.powers))]
    return addresses.index(chain.validators.get_leader(chain.epoch, round_))


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
