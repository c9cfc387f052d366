"""Scenarios for equivocation evidence: genuine double votes and proposals are slashed once; the rest is refused."""

from __future__ import annotations

import pytest

from contracts.framework import evidence
from tests.contracts.framework.staking.evidence_helpers import (
    evidence_payload, signed_proposal, signed_timeout, signed_vote,
)
from tests.contracts.framework.staking.helpers import (
    DD, DD_KEY, PARAMS, abort_of, assert_executed, consensus_key, events_of, make_staking_chain, staking_events, u64,
    vec,
)

VOTE, PROPOSAL = evidence.KIND_DOUBLE_VOTE, evidence.KIND_DOUBLE_PROPOSAL
STAKE_V1 = 3_000_000


@pytest.fixture()
def chain():
    return make_staking_chain()


def v1(chain):
    return chain.validators["v1"][1], consensus_key("v1")


def double_vote(chain, round_number: int = 7, epoch: int | None = None):
    address, key = v1(chain)
    epoch = chain.epoch() if epoch is None else epoch
    return address, signed_vote(key, epoch, round_number, b"\xaa" * 32), signed_vote(key, epoch, round_number,
                                                                                       b"\xbb" * 32)


def submit(chain, kind, author, first, second):
    return chain.submit(DD_KEY, evidence_payload(kind, author, first, second), sender=DD)


def test_a_double_vote_burns_the_slash_fraction_and_removes_the_validator_next_epoch(chain):
    address, first, second = double_vote(chain)
    supply = chain.total_xus([])["supply"]
    out = submit(chain, VOTE, address, first, second)
    assert_executed(out)
    slashed = STAKE_V1 * PARAMS.slash_bps // 10_000
    pool = chain.pool(address)
    assert (pool.active.value, pool.tombstoned) == (STAKE_V1 - slashed, True)
    assert chain.total_xus([])["supply"] == supply - slashed
    names = [name for name, _ in events_of(out)]
    assert names == ["Diem::PreburnEvent", "Diem::BurnEvent", "Evidence::EquivocationEvidenceEvent",
                     "Evidence::SlashEvent"]
    assert staking_events(out) == [
        ("Evidence::EquivocationEvidenceEvent", {"validator": address, "kind": VOTE, "epoch": chain.epoch(),
                                                 "round": 7, "submitter": DD}),
        ("Evidence::SlashEvent", {"validator": address, "amount": slashed, "epoch": chain.epoch()}),
    ]
    assert address in [a for a, _ in chain.system_set()]  # still a member until the boundary, which is next
    boundary = chain.run()
    assert address not in [a for a, _ in chain.system_set()]
    assert ("Staking::ValidatorSetChangeEvent", {"validator": address, "joined": False, "reason": 3,
                                                 "epoch": chain.epoch()}) in staking_events(boundary)


def test_the_same_equivocation_slashes_only_once_in_any_order(chain):
    epoch = chain.epoch()
    address, first, second = double_vote(chain)
    assert_executed(submit(chain, VOTE, address, first, second))
    assert abort_of(submit(chain, VOTE, address, first, second)) == ("Evidence", 6 + 7 * 256)  # EALREADY_USED
    assert abort_of(submit(chain, VOTE, address, second, first)) == ("Evidence", 6 + 7 * 256)
    _, third, fourth = double_vote(chain, round_number=8, epoch=epoch)
    assert abort_of(submit(chain, VOTE, address, third, fourth)) == ("Evidence", 1 + 9 * 256)  # EALREADY_SLASHED


def test_a_double_proposal_is_evidence(chain):
    address, key = v1(chain)
    first = signed_proposal(key, address, chain.epoch(), 4, (b"tx-a",))
    second = signed_proposal(key, address, chain.epoch(), 4, (b"tx-b",))
    out = submit(chain, PROPOSAL, address, first, second)
    assert_executed(out)
    assert staking_events(out)[0][1]["kind"] == PROPOSAL and chain.pool(address).tombstoned


def test_proposals_by_another_author_than_named_are_not_conflicting(chain):
    address, key = v1(chain)
    other = chain.validators["v2"][1]
    first = signed_proposal(key, other, chain.epoch(), 4, (b"a",))
    second = signed_proposal(key, other, chain.epoch(), 4, (b"b",))
    assert abort_of(submit(chain, PROPOSAL, address, first, second)) == ("Evidence", 7 + 3 * 256)


def test_two_timeouts_with_different_highest_qc_rounds_are_not_evidence(chain):
    address, key = v1(chain)
    first, second = signed_timeout(key, chain.epoch(), 9, 5), signed_timeout(key, chain.epoch(), 9, 7)
    assert abort_of(submit(chain, VOTE, address, first, second)) == ("Evidence", 7 + 2 * 256)  # EMALFORMED
    assert abort_of(submit(chain, 2, address, first, second)) == ("Evidence", 7 + 1 * 256)  # EUNKNOWN_KIND
    assert not chain.pool(address).tombstoned


@pytest.mark.parametrize("case", ["forged", "other_chain", "same_vote", "other_round", "not_member", "future",
                                  "malformed"])
def test_fake_evidence_is_refused(chain, case):
    address, key = v1(chain)
    epoch = chain.epoch()
    first = signed_vote(key, epoch, 7, b"\xaa" * 32)
    second = signed_vote(key, epoch, 7, b"\xbb" * 32)
    author = address
    if case == "forged":
        second = signed_vote(consensus_key("v2"), epoch, 7, b"\xbb" * 32)
        expected = ("Evidence", 7 + 4 * 256)
    elif case == "other_chain":
        second = signed_vote(key, epoch, 7, b"\xbb" * 32, chain_id=3)
        expected = ("Evidence", 7 + 4 * 256)
    elif case == "same_vote":
        second = first
        expected = ("Evidence", 7 + 3 * 256)
    elif case == "other_round":
        second = signed_vote(key, epoch, 8, b"\xbb" * 32)
        expected = ("Evidence", 7 + 3 * 256)
    elif case == "not_member":
        author = DD
        expected = ("Evidence", 7 + 6 * 256)
    elif case == "future":
        first, second = signed_vote(key, epoch + 1, 7, b"\xaa" * 32), signed_vote(key, epoch + 1, 7, b"\xbb" * 32)
        expected = ("Evidence", 7 + 8 * 256)
    else:
        first = (first[0] + b"\x00", first[1])
        expected = ("Evidence", 7 + 2 * 256)
    assert abort_of(submit(chain, VOTE, author, first, second)) == expected
    assert not chain.pool(address).tombstoned and chain.pool(address).active.value == STAKE_V1


def test_stale_evidence_is_refused_after_the_maximum_age(chain):
    address, first, second = double_vote(chain)
    chain.next_epoch()  # the offence's epoch ends at this block's time
    ended = chain.time_us
    chain.run(advance_us=PARAMS.max_evidence_age_us)
    assert chain.time_us + 1_000_000 - ended > PARAMS.max_evidence_age_us  # the submission's block is too late
    assert abort_of(submit(chain, VOTE, address, first, second)) == ("Evidence", 1 + 5 * 256)  # EEXPIRED
    assert not chain.pool(address).tombstoned


def test_evidence_about_a_past_epoch_uses_that_epochs_key(chain):
    address, first, second = double_vote(chain)
    key, _ = chain.validators["v1"]
    assert_executed(chain.op(key, "rotate_consensus_key", vec(consensus_key("v1-new").public_key().data)))
    chain.next_epoch()
    assert chain.pool(address).consensus_public_key == consensus_key("v1-new").public_key().data
    assert_executed(submit(chain, VOTE, address, first, second))


def test_unbonding_stake_is_still_slashed_within_the_evidence_age(chain):
    op_key, op = chain.new_operator("op-e")
    assert_executed(chain.register(op_key, "op-e"))
    assert_executed(chain.op(op_key, "add_stake", u64(2_000_000)))
    assert_executed(chain.op(op_key, "join_validator_set"))
    chain.run()
    epoch = chain.epoch()
    first = signed_vote(consensus_key("op-e"), epoch, 3, b"\xaa" * 32)
    second = signed_vote(consensus_key("op-e"), epoch, 3, b"\xbb" * 32)
    assert_executed(chain.op(op_key, "unlock_stake", u64(2_000_000)))
    assert_executed(chain.op(op_key, "leave_validator_set"))
    chain.run()  # the boundary: everything unbonds and the operator is out
    assert chain.pool(op).unbonding.value == 2_000_000 and chain.epoch() == epoch + 1
    chain.run(advance_us=PARAMS.max_evidence_age_us - 2_000_000)
    assert abort_of(chain.op(op_key, "withdraw_stake")) == ("Staking", 1 + 14 * 256)
    out = submit(chain, VOTE, op, first, second)
    assert_executed(out)
    assert chain.pool(op).unbonding.value == 2_000_000 - 200_000 == sum(chain.pool(op).unbonding_amounts)
