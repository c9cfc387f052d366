"""Restart from persisted data only: never a conflicting vote, and the chain keeps committing."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensus import events as ev
from consensus.core import step
from consensus.election import get_weighted_leader
from consensus.events import PersistenceChecker, check_effects_order
from consensus.safety import SafetyData
from primitives.errors import InvariantViolation
from tests.consensus.harness import Cluster
from tests.consensus.test_scenarios import assert_agreement


def test_restart_right_after_voting_resends_the_same_vote_and_never_another():
    cluster = Cluster([1, 1, 1, 1])
    cluster.start()
    cluster.run(max_messages=40)
    node = cluster.nodes[1]
    voted_round = node.safety.last_voted_round
    last_vote = node.safety.last_vote
    cluster.restart(1)
    assert node.state.safety.last_vote == last_vote and node.state.safety.last_voted_round == voted_round
    cluster.run(max_messages=500)  # Cluster._record_vote fails on a second, different vote per round
    assert len(node.committed) > 0
    assert_agreement(cluster)


def test_restart_rebuilds_the_tree_and_commits_on():
    cluster = Cluster([1, 1, 1, 1])
    cluster.start()
    cluster.run(max_messages=300)
    committed_before = len(cluster.nodes[2].committed)
    cluster.restart(2)
    assert cluster.nodes[2].state.tree.get_root().id == cluster.nodes[2].committed[-1].id
    cluster.run(max_messages=300)
    cluster.fire_timeouts()
    cluster.run(max_messages=300)
    assert len(cluster.nodes[2].committed) > committed_before
    assert_agreement(cluster)


actions = st.lists(st.one_of(
    st.tuples(st.just("run"), st.integers(1, 60)),
    st.tuples(st.just("timeout"), st.integers(0, 3)),
    st.tuples(st.just("restart"), st.integers(0, 3)),
    st.tuples(st.just("block"), st.integers(0, 3)),
    st.tuples(st.just("heal"), st.just(0)),
), min_size=5, max_size=30)


@settings(max_examples=25, deadline=None)
@given(actions)
def test_random_crashes_partitions_and_timeouts_never_break_safety(schedule):
    cluster = Cluster([1, 1, 1, 1])
    cluster.start()
    for kind, value in schedule:
        if kind == "run":
            cluster.run(max_messages=value)
        elif kind == "timeout":
            cluster.fire_timeouts([value])
        elif kind == "restart":
            cluster.restart(value)
        elif kind == "block":
            cluster.blocked = {value}
        else:
            cluster.blocked = set()
    cluster.blocked = set()
    for _ in range(5):
        cluster.fire_timeouts()
        cluster.run(max_messages=250)
    assert_agreement(cluster)
    assert max(len(node.committed) for node in cluster.nodes) > 0  # healed: the chain moves


def test_persistence_checker_catches_a_vote_sent_before_its_safety_data():
    cluster = Cluster([1, 1, 1, 1])
    leader = cluster.by_address[get_weighted_leader(cluster.validators, 1, 1)]
    state, effects = step(cluster.nodes[leader].state, ev.Start())
    request = next(effect for effect in effects if isinstance(effect, ev.RequestPayload))
    state, effects = step(state, ev.PayloadReady(request.epoch, request.round, (), 10))
    assert any(isinstance(effect, ev.Broadcast) for effect in effects)
    check_effects_order(effects, None)  # the real core persists first
    without_persist = [effect for effect in effects if not isinstance(effect, ev.PersistSafety)]
    with pytest.raises(InvariantViolation):
        PersistenceChecker().observe(without_persist)


def test_a_stale_event_changes_nothing():
    cluster = Cluster([1, 1, 1, 1])
    cluster.start()
    cluster.run(max_messages=100)
    node = cluster.nodes[1]
    stale = ev.LocalTimeout(1, node.state.current_round - 1)
    state, effects = step(node.state, stale)
    assert effects == () and state == node.state


def test_safety_data_of_an_older_epoch_is_reset_on_recovery():
    from consensus.core import recover
    from tests.consensus.harness import make_config
    cluster = Cluster([1, 1, 1, 1])
    epoch_two = replace(cluster.epoch_state, epoch=2, genesis_block=replace(cluster.epoch_state.genesis_block))
    state = recover(make_config(0), epoch_two, SafetyData(1, last_voted_round=7), [], None)
    assert state.safety == SafetyData(2)


def test_restarted_peers_still_serve_committed_blocks_to_a_lagging_validator():
    cluster = Cluster([1, 1, 1, 1])
    cluster.blocked = {3}
    cluster.start()
    while len(cluster.nodes[0].committed) < 12:
        cluster.run(max_messages=400)
        cluster.fire_timeouts()
    assert not cluster.nodes[3].committed
    for index in range(3):
        cluster.restart(index)  # committed ancestors come back from the persisted blocks
    assert cluster.nodes[0].state.tree.committed_ids
    cluster.blocked = set()
    for _ in range(3):
        cluster.fire_timeouts()
        cluster.run(max_messages=1500)
    assert len(cluster.nodes[3].committed) >= len(cluster.nodes[0].committed) - 3
    assert_agreement(cluster)
