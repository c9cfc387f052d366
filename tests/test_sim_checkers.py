"""The simulator's checkers on their own: each fires on the situation it guards, and only then."""

from __future__ import annotations

import pytest

from primitives.certified.blocks import BlockInfo, VoteData
from tests.sim.checkers import (
    AGREEMENT,
    CHAIN_VALIDITY,
    DOUBLE_VOTE,
    VOTE_ORDER,
    CommitLedger,
    CommittedBlock,
    Violation,
    VoteLedger,
    check_chain_extension,
)

AUTHOR = b"a" * 16


def make_vote_data(tag: bytes, round_: int) -> VoteData:
    """Return vote data for a block with an id derived from a short tag."""
    parent = BlockInfo(1, round_ - 1, b"P" * 32, 1)
    return VoteData(BlockInfo(1, round_, tag * 32, 2), parent)


def make_block(tag: bytes, parent: bytes, round_: int, version: int) -> CommittedBlock:
    """Return a committed block with ids derived from short tags."""
    return CommittedBlock(tag * 32, parent * 32, 1, round_, version, b"s" * 32)


def test_two_nodes_committing_different_blocks_at_one_height_is_a_fork() -> None:
    ledger = CommitLedger()
    ledger.record(1, make_block(b"A", b"G", 1, 2), "v0")
    ledger.record(1, make_block(b"A", b"G", 1, 2), "v1")  # the same block again: fine
    with pytest.raises(Violation) as caught:
        ledger.record(1, make_block(b"B", b"G", 2, 3), "v2")
    assert caught.value.invariant_name == AGREEMENT


def test_one_version_for_two_blocks_is_a_fork() -> None:
    ledger = CommitLedger()
    ledger.record(1, make_block(b"A", b"G", 1, 2), "v0")
    with pytest.raises(Violation):
        ledger.record(2, make_block(b"B", b"A", 2, 2), "v1")


def test_resending_the_same_vote_is_fine_but_a_second_vote_is_not() -> None:
    votes = VoteLedger()
    votes.record_vote(AUTHOR, 1, 5, make_vote_data(b"A", 5), "v0")
    votes.record_vote(AUTHOR, 1, 5, make_vote_data(b"A", 5), "v0")  # re-sent after a restart
    with pytest.raises(Violation) as caught:
        votes.record_vote(AUTHOR, 1, 5, make_vote_data(b"B", 5), "v1")
    assert caught.value.invariant_name == DOUBLE_VOTE


def test_voting_in_a_round_after_timing_it_out_breaks_vote_order() -> None:
    votes = VoteLedger()
    votes.record_vote(AUTHOR, 1, 4, make_vote_data(b"A", 4), "v0")
    votes.record_timeout(AUTHOR, 1, 5)
    with pytest.raises(Violation) as caught:
        votes.record_vote(AUTHOR, 1, 5, make_vote_data(b"B", 5), "v0")
    assert caught.value.invariant_name == VOTE_ORDER
    votes.record_vote(AUTHOR, 1, 6, make_vote_data(b"C", 6), "v0")  # the next round is fine
    with pytest.raises(Violation):
        votes.record_vote(AUTHOR, 1, 3, make_vote_data(b"D", 3), "v0")  # going back is not


def test_committed_chain_must_link_and_increase() -> None:
    genesis = make_block(b"G", b"Z", 0, 0)
    good = [make_block(b"A", b"G", 1, 2), make_block(b"B", b"A", 3, 4)]
    check_chain_extension(genesis, good, "v0")
    for broken in ([make_block(b"A", b"X", 1, 2)],            # parent link
                   [good[0], make_block(b"B", b"A", 1, 4)],     # round not increasing
                   [good[0], make_block(b"B", b"A", 3, 1)]):    # version going back
        with pytest.raises(Violation) as caught:
            check_chain_extension(genesis, broken, "v0")
        assert caught.value.invariant_name == CHAIN_VALIDITY
