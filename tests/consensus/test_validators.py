"""Stake-weighted validator sets: quorum by power, leader frequency proportional to power."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from consensus.election import get_weighted_leader
from tests.consensus.harness import make_address, make_validators


def test_quorum_is_more_than_two_thirds_of_power_not_of_count():
    validators = make_validators([10, 1, 1, 1])  # total 13, quorum 9
    assert validators.get_quorum_power() == 9
    light = [make_address(1), make_address(2), make_address(3)]
    assert validators.get_power_of(light) == 3 < validators.get_quorum_power()
    assert validators.get_power_of([make_address(0)]) == 10 >= validators.get_quorum_power()


@given(st.lists(st.integers(1, 1000), min_size=1, max_size=20))
def test_quorum_threshold_is_the_smallest_power_above_two_thirds(powers):
    validators = make_validators(powers)
    total = sum(powers)
    quorum = validators.get_quorum_power()
    assert 3 * quorum > 2 * total and 3 * (quorum - 1) <= 2 * total
    # two quorums always share more than a third of power: at least one honest validator
    assert 2 * quorum - total >= validators.get_fault_power()


def test_leader_frequency_is_proportional_to_power():
    powers = [1, 2, 3, 4]
    validators = make_validators(powers)
    rounds = 20_000
    counts = Counter(get_weighted_leader(validators, 1, round_) for round_ in range(1, rounds + 1))
    for index, power in enumerate(powers):
        expected = rounds * power / sum(powers)
        assert abs(counts[make_address(index)] - expected) < 0.05 * expected


def test_leader_election_is_deterministic_and_depends_on_epoch():
    validators = make_validators([1, 1, 1, 1])
    first = [get_weighted_leader(validators, 1, r) for r in range(1, 50)]
    assert first == [get_weighted_leader(validators, 1, r) for r in range(1, 50)]
    assert first != [get_weighted_leader(validators, 2, r) for r in range(1, 50)]


def test_membership_and_power_lookup():
    validators = make_validators([3, 5])
    assert validators.is_member(make_address(1)) and not validators.is_member(make_address(7))
    assert validators.get_power(make_address(1)) == 5 and validators.get_power(make_address(7)) == 0
    assert validators.get_power_of([make_address(0), make_address(0)]) == 3  # counted once
