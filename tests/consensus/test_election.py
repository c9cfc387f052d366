"""Leader reputation ([ELECT-2]): validators absent from, or failing in, recent ordered history rarely lead."""

from __future__ import annotations

from collections import Counter

import pytest

from consensus.election import (
    HistoryEntry,
    ReputationConfig,
    add_turns,
    compute_failed_authors,
    get_reputation_leader,
    get_weighted_leader,
    is_failed,
)
from consensus.pacemaker import PacemakerConfig
from tests.consensus.harness import Cluster, make_address, make_validators
from tests.consensus.test_scenarios import assert_agreement

CONFIG = ReputationConfig(window_rounds=20, lag_rounds=5, failure_memory_rounds=200, penalty_rounds=30)


def count_leaders(history: tuple[HistoryEntry, ...], rounds: range) -> Counter:
    validators = make_validators([1, 1, 1, 1])
    turns = add_turns({}, history, 0)
    return Counter(get_reputation_leader(validators, 1, r, history, turns, CONFIG) for r in rounds)


def entry(round_: int, author: int, voters: tuple[int, ...] = (), failed: tuple[tuple[int, int], ...] = ()) -> HistoryEntry:
    return HistoryEntry(round_, make_address(author), tuple(make_address(v) for v in voters),
                        tuple((r, make_address(a)) for r, a in failed))


def test_without_history_reputation_falls_back_to_power_weighted_election():
    validators = make_validators([1, 2, 3])
    assert all(get_reputation_leader(validators, 1, r, (), {}, CONFIG) == get_weighted_leader(validators, 1, r)
               for r in range(1, 50))


def test_a_validator_absent_from_recent_history_leads_a_little_so_it_is_never_starved():
    # node 3 never proposed and never signed a QC (the slowest voter, or one that just joined): it is inactive,
    # weight 100 against 1,000: about 3 % of rounds, enough to propose and become active again.
    history = tuple(entry(r, r % 3, voters=((r + 1) % 3,)) for r in range(1, 3000))
    share = count_leaders(history, range(30, 3000))[make_address(3)] / (3000 - 30)
    assert 0.015 < share < 0.06
    config = CONFIG
    assert config.inactive_weight / (config.inactive_weight + 3 * config.active_weight) == pytest.approx(0.032, abs=0.001)


def test_a_voter_that_never_proposed_is_active():
    # Control for the rule above: signing QCs alone keeps node 3 in the rotation.
    history = tuple(entry(r, r % 3, voters=(3,)) for r in range(1, 1000))
    leaders = count_leaders(history, range(30, 1000))
    assert leaders[make_address(3)] > 0.15 * sum(leaders.values())


def test_a_validator_that_failed_twice_is_rarely_elected_even_while_it_votes():
    # node 3 signs every QC, but both rounds it led (10 and 20) were skipped and named in the next blocks.
    history = tuple(entry(r, r % 3, voters=(3,), failed=((r - 1, 3),) if r in (11, 21) else ()) for r in range(1, 1000))
    leaders = count_leaders(history, range(30, 180))
    assert leaders[make_address(3)] < 0.02 * sum(leaders.values())


def test_one_failure_costs_a_short_penalty_a_second_one_the_whole_memory():
    lag, penalty, memory = CONFIG.lag_rounds, CONFIG.penalty_rounds, CONFIG.failure_memory_rounds
    turns = add_turns({}, (entry(9, 3), entry(11, 0, failed=((10, 3),))), 0)[make_address(3)]
    assert turns == ((9, True), (10, False))
    assert not is_failed(turns, 10 + lag - 1, CONFIG)  # the failure is not visible yet ([ELECT-3] lag)
    assert is_failed(turns, 10 + lag, CONFIG)
    assert is_failed(turns, 10 + lag + penalty - 1, CONFIG)
    assert not is_failed(turns, 10 + lag + penalty, CONFIG)  # one miss (e.g. while joining): soon back
    twice = add_turns({make_address(3): turns}, (entry(81, 0, failed=((80, 3),)),), 0)[make_address(3)]
    assert is_failed(twice, 80 + lag + penalty, CONFIG)  # a second failure in the memory: out for the memory
    assert is_failed(twice, 80 + lag + memory - 1, CONFIG)
    assert not is_failed(twice, 80 + lag + memory, CONFIG)
    redeemed = add_turns({make_address(3): twice}, (entry(90, 3),), 0)[make_address(3)]
    assert not is_failed(redeemed, 90 + lag, CONFIG)  # a later success ends the penalty at once


def test_failed_authors_name_the_elected_leaders_of_the_newest_skipped_rounds():
    leader = {round_: make_address(round_ % 4) for round_ in range(100)}
    assert compute_failed_authors(leader.__getitem__, 4, 5) == ()
    assert compute_failed_authors(leader.__getitem__, 4, 7) == ((5, leader[5]), (6, leader[6]))
    assert [r for r, _ in compute_failed_authors(leader.__getitem__, 10, 40)] == list(range(30, 40))


def test_reputation_routes_around_a_crashed_validator_and_keeps_agreement():
    def run(reputation: ReputationConfig | None) -> tuple[int, Cluster]:
        cluster = Cluster([1, 1, 1, 1], pacemaker=PacemakerConfig(reputation=reputation))
        cluster.blocked = {3}
        cluster.start()
        for _ in range(20):
            cluster.run(max_messages=300)
            if not cluster.queue:
                cluster.fire_timeouts()
        return len(cluster.nodes[0].committed), cluster

    plain_commits, _ = run(None)
    reputation_commits, cluster = run(CONFIG)
    # node 3 leads ~1/4 of rounds without reputation, ~1/300 with it once history shows it inactive
    assert reputation_commits > 5 * plain_commits
    assert_agreement(cluster)


def test_restart_rebuilds_the_reputation_history_from_persisted_blocks():
    cluster = Cluster([1, 1, 1, 1], pacemaker=PacemakerConfig(reputation=CONFIG))
    cluster.start()
    cluster.run(max_messages=400)
    before = cluster.nodes[1].state.history
    cluster.restart(1)
    assert before and cluster.nodes[1].state.history == before
