"""Leader reputation (option): validators missing from recent committed history rarely lead."""

from __future__ import annotations

from collections import Counter

from consensus.election import ReputationConfig, get_reputation_leader
from consensus.pacemaker import PacemakerConfig
from tests.consensus.harness import Cluster, make_address, make_validators
from tests.consensus.test_scenarios import assert_agreement

CONFIG = ReputationConfig(window_rounds=20, lag_rounds=5)


def test_without_history_reputation_falls_back_to_power_weighted_election():
    validators = make_validators([1, 2, 3])
    assert all(get_reputation_leader(validators, 1, r, (), CONFIG) == validators.get_leader(1, r) for r in range(1, 50))


def test_a_validator_absent_from_recent_history_is_rarely_elected():
    validators = make_validators([1, 1, 1, 1])
    history = tuple((r, make_address(r % 3)) for r in range(1, 1000))  # node 3 never committed a block
    leaders = Counter(get_reputation_leader(validators, 1, r, history, CONFIG) for r in range(30, 1000))
    assert leaders[make_address(3)] < 0.02 * sum(leaders.values())
    assert all(leaders[make_address(i)] > 0.25 * sum(leaders.values()) for i in range(3))


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
    before = cluster.nodes[1].state.committed_history
    cluster.restart(1)
    assert before and cluster.nodes[1].state.committed_history == before
