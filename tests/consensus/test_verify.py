"""Verification at the edge: each malformed or unauthorised message gets its typed rejection."""

from __future__ import annotations

from dataclasses import replace

import pytest

from consensus import events as ev
from consensus.election import get_weighted_leader
from consensus.types import (
    CommitVote,
    CommitVoteMsg,
    ProposalMsg,
    SyncInfo,
    TimeoutMsg,
    Vote,
    VoteMsg,
    decode_message,
    encode_message,
)
from consensus.verify import RejectReason, Rejection, VerifyContext, verify_message
from primitives.certified.domains import COMMIT_VOTE_DOMAIN, compute_signing_bytes
from primitives.certified.ledger_info import EpochChangeProof
from primitives.certified.signatures import InsecureHashScheme
from primitives.certified.trust import follow_epoch_change_proof
from primitives.errors import DecodeError
from tests.consensus.builders import Chain
from tests.consensus.harness import CHAIN_ID, make_address, make_validators

CHAIN = Chain([1, 1, 1, 1])
CTX = VerifyContext(CHAIN.epoch_state, InsecureHashScheme(), CHAIN_ID)


def leader_of(round_: int) -> int:
    address = get_weighted_leader(CHAIN.validators, CHAIN.epoch, round_)
    return [make_address(i) for i in range(4)].index(address)


def proposal(round_: int = 1, qc=None, author: int | None = None) -> ProposalMsg:
    qc = qc or CHAIN.genesis_qc
    author = leader_of(round_) if author is None else author
    block = CHAIN.make_block(round_, qc, author=author)
    return ProposalMsg(block, SyncInfo(qc, None, None, None))


def reason(message, sender: int) -> RejectReason | None:
    result = verify_message(message, make_address(sender), CTX)
    return result.reason if isinstance(result, Rejection) else None


def test_valid_proposal_from_the_leader_verifies():
    msg = proposal()
    assert verify_message(msg, make_address(leader_of(1)), CTX) == ev.VerifiedProposal(make_address(leader_of(1)), msg)


def test_proposal_from_a_non_leader_is_rejected():
    other = (leader_of(1) + 1) % 4
    assert reason(proposal(author=other), other) == RejectReason.NOT_LEADER


def proposal_after_timeouts(failed_authors=None) -> ProposalMsg:
    """A proposal for round 4 on QC1, after TC3: rounds 2 and 3 were skipped."""
    b1 = CHAIN.make_block(1, CHAIN.genesis_qc, author=leader_of(1))
    qc1 = CHAIN.make_qc(b1)
    tc3 = CHAIN.make_tc(3, {0: qc1, 1: qc1, 2: qc1})
    block = CHAIN.make_block(4, qc1, author=leader_of(4), failed_authors=failed_authors)
    return ProposalMsg(block, SyncInfo(qc1, None, tc3, None))


def test_a_proposal_after_skipped_rounds_names_their_elected_leaders():
    # [ELECT-4] the leaders of rounds 2 and 3, as every validator elects them
    msg = proposal_after_timeouts()
    assert msg.block.data.failed_authors == ((2, make_address(leader_of(2))), (3, make_address(leader_of(3))))
    assert isinstance(verify_message(msg, make_address(leader_of(4)), CTX), ev.VerifiedProposal)


def test_a_proposer_blaming_another_validator_is_refused_but_its_certificates_are_kept():
    innocent = next(i for i in range(4) if i != leader_of(3))
    blamed = ((2, make_address(leader_of(2))), (3, make_address(innocent)))
    msg = proposal_after_timeouts(failed_authors=blamed)
    result = verify_message(msg, make_address(leader_of(4)), CTX)
    assert isinstance(result, Rejection) and result.reason == RejectReason.BAD_FAILED_AUTHORS
    assert result.sync_info == msg.sync_info  # [SYNC-1] its verified certificates are still adopted


def test_failed_authors_that_skip_or_invent_rounds_are_malformed():
    for rounds in ((3,), (1, 2, 3), (2, 3, 4), (3, 2)):
        failed = tuple((round_, make_address(leader_of(round_))) for round_ in rounds)
        assert reason(proposal_after_timeouts(failed_authors=failed), leader_of(4)) == RejectReason.BAD_FAILED_AUTHORS
    stranger = ((2, make_address(leader_of(2))), (3, b"\x77" * 16))
    assert reason(proposal_after_timeouts(failed_authors=stranger), leader_of(4)) == RejectReason.BAD_FAILED_AUTHORS


def test_proposal_relayed_by_another_sender_is_rejected():
    assert reason(proposal(), (leader_of(1) + 1) % 4) == RejectReason.SENDER_MISMATCH


def test_tampered_block_id_and_bad_signature_are_rejected():
    msg = proposal()
    tampered = replace(msg, block=replace(msg.block, data=replace(msg.block.data, payload=(b"evil",))))
    assert reason(tampered, leader_of(1)) == RejectReason.BAD_BLOCK_ID
    forged = replace(msg, block=replace(msg.block, signature=b"\x00" * 32))
    assert reason(forged, leader_of(1)) == RejectReason.BAD_SIGNATURE


def test_message_from_a_non_member_is_rejected():
    assert reason(proposal(), 9) == RejectReason.NOT_A_MEMBER


def test_wrong_epoch_is_rejected_as_future_or_past():
    vote = _vote(0)
    future = replace(vote, vote_data=replace(vote.vote_data, proposed=replace(vote.vote_data.proposed, epoch=2),
                                             parent=replace(vote.vote_data.parent, epoch=2)))
    assert reason(VoteMsg(future, SyncInfo(CHAIN.genesis_qc, None, None, None)), 0) == RejectReason.FUTURE_EPOCH
    past_ctx = replace(CTX, epoch_state=replace(CHAIN.epoch_state, epoch=2))
    assert verify_message(VoteMsg(vote, SyncInfo(CHAIN.genesis_qc, None, None, None)), make_address(0),
                          past_ctx).reason == RejectReason.PAST_EPOCH


def _vote(index: int) -> Vote:
    (block,), _ = CHAIN.make_chain([1])
    qc = CHAIN.make_qc(block, [index])
    return Vote(qc.vote_data, make_address(index), qc.signatures[0][1])


def test_vote_with_a_bad_signature_is_rejected():
    vote = replace(_vote(1), signature=b"\x01" * 32)
    assert reason(VoteMsg(vote, SyncInfo(CHAIN.genesis_qc, None, None, None)), 1) == RejectReason.BAD_SIGNATURE


def test_qc_below_quorum_power_is_rejected():
    (block1,), _ = CHAIN.make_chain([1])
    weak_qc = CHAIN.make_qc(block1, [0, 1])  # 2 of 4 power; quorum is 3
    assert reason(proposal(2, weak_qc), leader_of(2)) == RejectReason.NO_QUORUM


def test_qc_with_a_duplicated_signer_is_rejected():
    (block1,), _ = CHAIN.make_chain([1])
    qc = CHAIN.make_qc(block1, [0, 1, 2])
    duplicated = replace(qc, signatures=qc.signatures[:2] + (qc.signatures[1],))
    assert reason(proposal(2, duplicated), leader_of(2)) == RejectReason.DUPLICATE_SIGNER


def test_qc_below_quorum_by_power_not_count():
    heavy = Chain([5, 1, 1, 1])  # total 8, quorum 6: three light validators (3) are not enough
    ctx = VerifyContext(heavy.epoch_state, InsecureHashScheme(), CHAIN_ID)
    (block1,), _ = heavy.make_chain([1])
    light = heavy.make_qc(block1, [1, 2, 3])
    with_heavy = heavy.make_qc(block1, [0, 1])
    msg = lambda qc: ProposalMsg(heavy.make_block(2, qc, author=_leader(heavy, 2)), SyncInfo(qc, None, None, None))
    assert verify_message(msg(light), make_address(_leader(heavy, 2)), ctx).reason == RejectReason.NO_QUORUM
    assert isinstance(verify_message(msg(with_heavy), make_address(_leader(heavy, 2)), ctx), ev.VerifiedProposal)


def _leader(chain: Chain, round_: int) -> int:
    return [make_address(i) for i in range(len(chain.powers))].index(get_weighted_leader(chain.validators, chain.epoch, round_))


def test_forged_genesis_qc_is_rejected():
    fake_genesis = CHAIN.make_block(1, CHAIN.genesis_qc)
    forged = replace(CHAIN.genesis_qc, vote_data=replace(CHAIN.genesis_qc.vote_data,
                                                         proposed=replace(fake_genesis.get_info(), round=0)))
    assert reason(proposal(1, forged), leader_of(1)) == RejectReason.BAD_QC


def test_tc_whose_high_qc_is_not_the_highest_reported_is_rejected():
    (b1, b2), (q1, q2) = CHAIN.make_chain([1, 2])
    tc = CHAIN.make_tc(3, {0: q2, 1: q1, 2: q1})
    lying = replace(tc, high_qc=q1)
    timeout = CHAIN.make_timeout(0, 4, q2)
    assert reason(TimeoutMsg(timeout, SyncInfo(q2, None, tc, None)), 0) is None
    assert reason(TimeoutMsg(timeout, SyncInfo(q2, None, lying, None)), 0) == RejectReason.BAD_TC


def test_commit_vote_signature_and_author_are_checked():
    (b1,), _ = CHAIN.make_chain([1])
    info = CHAIN.make_ledger_info(b1)
    signature = CHAIN.signer(2).sign(compute_signing_bytes(COMMIT_VOTE_DOMAIN, CHAIN_ID, info))
    good = CommitVoteMsg(CommitVote(info, make_address(2), signature))
    assert reason(good, 2) is None
    assert reason(good, 1) == RejectReason.SENDER_MISMATCH
    assert reason(CommitVoteMsg(CommitVote(info, make_address(1), signature)), 1) == RejectReason.BAD_SIGNATURE


def test_epoch_change_proof_moves_through_signed_epoch_endings_only():
    (b1,), _ = CHAIN.make_chain([1])
    next_set = make_validators([1, 1, 1, 1, 1])
    ending = CHAIN.certify(CHAIN.make_ledger_info(b1, next_set=next_set))
    moved = follow_epoch_change_proof(EpochChangeProof((ending,), False), 1, CHAIN.validators, InsecureHashScheme(),
                                      CHAIN_ID)
    assert (moved.epoch, moved.validators) == (2, next_set)
    assert reason(EpochChangeProof((ending,), False), 0) is None
    weak = CHAIN.certify(CHAIN.make_ledger_info(b1, next_set=next_set), [0, 1])
    assert reason(EpochChangeProof((weak,), False), 0) == RejectReason.NO_QUORUM
    not_ending = CHAIN.certify(CHAIN.make_ledger_info(b1))
    assert reason(EpochChangeProof((not_ending,), False), 0) == RejectReason.BAD_EPOCH_PROOF


def test_wire_round_trip_and_malformed_bytes():
    (b1, b2), (q1, q2) = CHAIN.make_chain([1, 2])
    tc = CHAIN.make_tc(3, {0: q2, 1: q1, 2: q1})
    msg = ProposalMsg(CHAIN.make_block(4, q2), SyncInfo(q2, q2, tc, CHAIN.certify(CHAIN.make_ledger_info(b1))))
    assert decode_message(encode_message(msg)) == msg
    with pytest.raises(DecodeError):
        decode_message(encode_message(msg)[:-3])
    with pytest.raises(DecodeError):
        decode_message(b"\x92\x63\x90")  # [99, []]: unknown tag


def test_proposal_from_too_far_in_the_future_is_rejected_when_the_runtime_gives_its_clock():
    msg = proposal()
    sender = make_address(leader_of(1))
    late_clock = replace(CTX, now_usecs=msg.block.timestamp_usecs)
    assert isinstance(verify_message(msg, sender, late_clock), ev.VerifiedProposal)
    early_clock = replace(CTX, now_usecs=msg.block.timestamp_usecs - 6 * 60 * 1_000_000)
    assert verify_message(msg, sender, early_clock).reason == RejectReason.TIMESTAMP_IN_FUTURE


def test_an_empty_retrieval_answer_is_told_apart_from_an_oversized_one():
    from consensus.types import BlockRetrievalResponse, BlockRetrievalStatus
    from consensus.verify import MAX_BLOCKS_PER_RETRIEVAL

    block = CHAIN.make_block(1, CHAIN.genesis_qc)
    empty = verify_message(BlockRetrievalResponse(int(BlockRetrievalStatus.ID_NOT_FOUND), ()), make_address(1), CTX)
    oversized = verify_message(BlockRetrievalResponse(0, (block,) * (MAX_BLOCKS_PER_RETRIEVAL + 1)), make_address(1), CTX)
    assert isinstance(empty, Rejection) and empty.reason == RejectReason.NO_BLOCKS  # an honest "I lack it"
    assert isinstance(oversized, Rejection) and oversized.reason == RejectReason.TOO_LARGE
