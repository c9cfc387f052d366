"""Safety rules, one rule per test: pre-state, request, signed result or typed refusal."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from consensus.safety import Refusal, RefusalReason, SafetyData
from consensus.types import Timeout
from primitives.certified.blocks import BlockData
from tests.consensus.builders import RULES, Chain
from tests.consensus.harness import make_address

CHAIN = Chain()
# genesis <- b1 <- b2 <- b3 with QCs q1, q2, q3
(B1, B2, B3), (Q1, Q2, Q3) = CHAIN.make_chain([1, 2, 3])
ME = CHAIN.context(0)


def vote(safety: SafetyData, block, tc=None):
    return RULES.construct_and_sign_vote(safety, block, tc, ME)


def test_vote_extends_previous_round_qc():
    safety, signed = vote(SafetyData(1), B2)
    assert signed.vote_data.proposed == B2.get_info() and signed.vote_data.parent == B1.get_info()
    assert (safety.last_voted_round, safety.one_chain_round, safety.last_vote) == (2, 1, signed)


def test_asked_twice_for_one_round_returns_the_same_vote():
    safety, first = vote(SafetyData(1), B2)
    other_block_same_round = CHAIN.make_block(2, Q1, author=1, payload=(b"other",))
    again_safety, again = vote(safety, other_block_same_round)
    assert again == first and again_safety == safety


def test_vote_on_an_older_round_is_refused_with_the_values():
    safety, _ = vote(SafetyData(1), B3)
    refusal = vote(safety, B2)
    assert refusal == Refusal(RefusalReason.ROUND_NOT_INCREASING, (("round", 2), ("last_voted_round", 3)))


def test_vote_in_another_epoch_is_refused():
    refusal = vote(SafetyData(2), B1)
    assert isinstance(refusal, Refusal) and refusal.reason == RefusalReason.WRONG_EPOCH


def test_vote_skipping_a_round_without_tc_is_refused():
    block4_on_q2 = CHAIN.make_block(4, Q2)
    refusal = vote(SafetyData(1), block4_on_q2)
    assert refusal.reason == RefusalReason.NOT_SAFE_TO_VOTE
    assert dict(refusal.values)["qc_round"] == 2


def test_vote_after_tc_with_qc_as_high_as_the_tc_reports():
    tc3 = CHAIN.make_tc(3, {0: Q2, 1: Q2, 2: Q1})  # highest reported QC round: 2
    block4 = CHAIN.make_block(4, Q2)
    result = vote(SafetyData(1, last_voted_round=3), block4, tc3)
    assert not isinstance(result, Refusal) and result[0].last_voted_round == 4


def test_proposal_whose_qc_is_older_than_the_tc_highest_qc_is_refused():
    tc3 = CHAIN.make_tc(3, {0: Q2, 1: Q1, 2: Q1})
    block4_on_q1 = CHAIN.make_block(4, Q1)
    refusal = vote(SafetyData(1), block4_on_q1, tc3)
    assert refusal.reason == RefusalReason.NOT_SAFE_TO_VOTE
    assert dict(refusal.values) == {"round": 4, "qc_round": 1, "tc_round": 3, "tc_hqc_round": 2}


def test_tc_of_a_different_round_does_not_justify_a_vote():
    tc2 = CHAIN.make_tc(2, {0: Q1, 1: Q1, 2: Q1})
    block4 = CHAIN.make_block(4, Q1)
    assert vote(SafetyData(1), block4, tc2).reason == RefusalReason.NOT_SAFE_TO_VOTE


def timeout(safety: SafetyData, round_: int, high_qc, tc=None):
    return RULES.sign_timeout(safety, Timeout(1, round_, high_qc), tc, ME)


def test_timeout_of_round_after_highest_qc_is_signed_and_blocks_voting_there():
    safety, signed = timeout(SafetyData(1, last_voted_round=2, one_chain_round=1), 3, Q2)
    assert (safety.last_voted_round, safety.highest_timeout_round) == (3, 3)
    assert signed.timeout.round == 3 and signed.author == make_address(0)
    assert vote(safety, B3).reason == RefusalReason.ROUND_NOT_INCREASING


def test_timeout_of_round_after_a_tc_is_signed():
    tc3 = CHAIN.make_tc(3, {0: Q2, 1: Q2, 2: Q2})
    result = timeout(SafetyData(1, last_voted_round=3), 4, Q2, tc3)
    assert not isinstance(result, Refusal) and result[0].highest_timeout_round == 4


def test_timeout_in_another_epoch_is_refused():
    refusal = RULES.sign_timeout(SafetyData(1), Timeout(2, 3, Q2), None, ME)
    assert refusal == Refusal(RefusalReason.WRONG_EPOCH, (("epoch", 1), ("timeout_epoch", 2)))


def test_timeout_of_a_round_not_entered_by_qc_or_tc_is_refused():
    refusal = timeout(SafetyData(1), 5, Q2)
    assert refusal == Refusal(RefusalReason.NOT_SAFE_TO_TIMEOUT, (("round", 5), ("qc_round", 2), ("tc_round", 0)))


def test_timeout_reporting_a_qc_older_than_one_we_extended_is_refused():
    refusal = timeout(SafetyData(1, last_voted_round=3, one_chain_round=2), 2, Q1)
    assert refusal.reason == RefusalReason.TIMEOUT_QC_TOO_OLD


def test_timeout_of_a_round_older_than_our_last_vote_is_refused():
    refusal = timeout(SafetyData(1, last_voted_round=4, one_chain_round=1), 3, Q2)
    assert refusal == Refusal(RefusalReason.TIMEOUT_ROUND_TOO_OLD, (("round", 3), ("last_voted_round", 4)))


def test_timeout_again_in_the_same_round_is_allowed():
    safety, first = timeout(SafetyData(1, last_voted_round=2, one_chain_round=1), 3, Q2)
    safety_again, second = timeout(safety, 3, Q2)
    assert safety_again == safety and second == first


def test_sign_proposal_rules():
    data = BlockData(1, 4, 99, make_address(0), B3.id, Q3, ())
    assert not isinstance(RULES.sign_proposal(SafetyData(1, last_voted_round=3), data, ME), Refusal)
    assert RULES.sign_proposal(SafetyData(1, last_voted_round=4), data, ME).reason == RefusalReason.PROPOSAL_ROUND_TOO_OLD
    assert RULES.sign_proposal(SafetyData(2), data, ME).reason == RefusalReason.WRONG_EPOCH
    foreign = replace(data, author=make_address(1))
    assert RULES.sign_proposal(SafetyData(1), foreign, ME).reason == RefusalReason.NOT_THE_AUTHOR


def test_commit_vote_only_for_the_ordered_block():
    info = CHAIN.make_ledger_info(B1)
    assert not isinstance(RULES.sign_commit_vote(SafetyData(1), info, B1.get_info(), ME), Refusal)
    refusal = RULES.sign_commit_vote(SafetyData(1), info, B2.get_info(), ME)
    assert refusal.reason == RefusalReason.COMMIT_VOTE_NOT_ORDERED
    assert RULES.sign_commit_vote(SafetyData(2), info, B1.get_info(), ME).reason == RefusalReason.WRONG_EPOCH


# --- property: any request sequence -----------------------------------------------------------

# A small block tree with forks: rounds 1..6, each on some earlier QC.
_TREE_BLOCKS = []
_TREE_QCS = [CHAIN.genesis_qc]
for _round, _parent in [(1, 0), (2, 1), (2, 0), (3, 2), (4, 3), (4, 1), (5, 4), (6, 5), (6, 2)]:
    _block = CHAIN.make_block(_round, _TREE_QCS[_parent], author=len(_TREE_BLOCKS) % 4)
    _TREE_BLOCKS.append(_block)
    _TREE_QCS.append(CHAIN.make_qc(_block))
_TCS = [None] + [CHAIN.make_tc(r, {0: _TREE_QCS[q], 1: _TREE_QCS[q], 2: _TREE_QCS[q]})
                 for r, q in [(2, 1), (3, 2), (4, 4), (5, 5), (3, 3)]]

requests = st.lists(st.tuples(st.sampled_from(["vote", "timeout"]), st.integers(0, len(_TREE_BLOCKS) - 1),
                              st.integers(0, len(_TCS) - 1), st.integers(0, len(_TREE_QCS) - 1), st.booleans()),
                    max_size=25)


def _find_violation(rules, sequence) -> str | None:
    """Replay requests against rules; return a description of the first safety violation."""
    safety = SafetyData(1)
    persisted = safety
    votes_by_round = {}
    for kind, block_index, tc_index, qc_index, restart in sequence:
        if restart:
            safety = persisted  # a crash keeps exactly what was persisted
        tc = _TCS[tc_index]
        if kind == "vote":
            result = rules.construct_and_sign_vote(safety, _TREE_BLOCKS[block_index], tc, ME)
        else:
            high_qc = _TREE_QCS[qc_index]
            result = rules.sign_timeout(safety, Timeout(1, high_qc.round + 1, high_qc), tc, ME)
        if isinstance(result, Refusal):
            continue
        new_safety, signed = result
        if new_safety.last_voted_round < safety.last_voted_round:
            return "last voted round went down"
        safety = persisted = new_safety  # the core persists before sending
        if kind == "vote" and votes_by_round.setdefault(signed.round, signed) != signed:
            return f"two votes in round {signed.round}"
    return None


@settings(max_examples=150, deadline=None)
@given(requests)
def test_never_two_votes_for_one_round_and_rounds_only_grow(sequence):
    assert _find_violation(RULES, sequence) is None


class _NoRoundCheck(type(RULES)):
    def is_round_increasing(self, round_, last_voted_round):
        return True


def test_the_property_catches_a_rule_that_forgets_the_last_voted_round():
    # vote round 2 on b2, then round 1, then round 2 again on the fork block b2'
    sequence = [("vote", 1, 0, 0, False), ("vote", 0, 0, 0, False), ("vote", 2, 0, 0, False)]
    assert _find_violation(RULES, sequence) is None
    assert _find_violation(_NoRoundCheck(), sequence) is not None
