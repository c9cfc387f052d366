"""The simulator finds bugs: three safety bugs injected into copies of the rules are each caught.

The bugs live in tests/sim/bugs.py (nothing in consensus/ is edited). Each test also runs the
correct rules on the same seeds, so a bug is only "found" when the correct code passes there.
"""

from __future__ import annotations

from consensus.safety import SafetyRules
from tests.sim.bugs import (
    IgnoreTimeoutCertificateHighestQc,
    VoteWithoutLastVotedRound,
    step_forgetting_to_persist_votes,
)
from tests.sim.checkers import AGREEMENT, DOUBLE_VOTE, PERSIST_BEFORE_SEND, VOTE_ORDER
from tests.sim.config import FaultMix, SimConfig
from tests.sim.result import SeedResult
from tests.sim.world import StepFunction, run_seed

# A bug must be caught within this many seeds (each runs a few dozen rounds).
SEED_BUDGET = 40


def find_first_failure(config: SimConfig, rules: SafetyRules | None = None,
                       step: StepFunction | None = None) -> SeedResult | None:
    """Return the first failing seed within the budget, or None."""
    for seed in range(SEED_BUDGET):
        result = run_seed(seed, config, safety_rules=rules, step=step)
        if not result.is_ok:
            return result
    return None


def assert_correct_rules_pass(config: SimConfig, seed_count: int) -> None:
    """The same seeds with the correct rules hold every invariant."""
    for seed in range(seed_count):
        result = run_seed(seed, config)
        assert result.is_ok, f"seed {seed}: {result.invariant_name}: {result.detail}"


def test_voting_twice_in_a_round_is_caught() -> None:
    # Lossy network with partitions and crashes: some proposals arrive after their round timed out.
    config = SimConfig(validators=4, faults=FaultMix(drop_probability=0.1, partition_phases=2,
                                                     crash_probability=0.003))
    found = find_first_failure(config, rules=VoteWithoutLastVotedRound())
    assert found is not None, f"bug 1 not found within {SEED_BUDGET} seeds"
    assert found.invariant_name in (VOTE_ORDER, DOUBLE_VOTE, AGREEMENT), found.detail
    assert_correct_rules_pass(config, found.seed + 1)


def test_accepting_a_qc_older_than_the_tc_is_caught() -> None:
    # Honest leaders always extend the TC's highest QC, so only a Byzantine leader offers a stale one.
    config = SimConfig(validators=4, byzantine=1, faults=FaultMix(drop_probability=0.05,
                                                                  stale_leaders=True))
    found = find_first_failure(config, rules=IgnoreTimeoutCertificateHighestQc())
    assert found is not None, f"bug 2 not found within {SEED_BUDGET} seeds"
    assert found.invariant_name == AGREEMENT, found.detail
    assert_correct_rules_pass(config, found.seed + 1)


def test_sending_a_vote_before_persisting_it_is_caught_at_once() -> None:
    config = SimConfig(validators=4)
    found = find_first_failure(config, step=step_forgetting_to_persist_votes)
    assert found is not None and found.seed == 0
    assert found.invariant_name == PERSIST_BEFORE_SEND, found.detail


def test_forgetting_to_persist_leads_to_a_double_vote_after_a_crash() -> None:
    # With the persist-before-send checker off, the bug shows as its consequence: a node that
    # crashes after voting restarts from a disk without that vote and votes again differently.
    config = SimConfig(validators=4, check_persist_before_send=False,
                       faults=FaultMix(drop_probability=0.05, crash_probability=0.01))
    found = find_first_failure(config, step=step_forgetting_to_persist_votes)
    assert found is not None, f"bug 3 not found within {SEED_BUDGET} seeds"
    assert found.invariant_name in (DOUBLE_VOTE, VOTE_ORDER), found.detail
    assert_correct_rules_pass(config, found.seed + 1)


def test_restarting_with_a_lost_disk_is_caught() -> None:
    # Not a code bug but an operating fault the design forbids (Twins' "lost lock"): a node that
    # forgets what it signed votes again; the checkers must see it.
    config = SimConfig(validators=4, faults=FaultMix(drop_probability=0.05, crash_probability=0.01,
                                                     disk_loss=True))
    found = find_first_failure(config)
    assert found is not None, f"disk loss not caught within {SEED_BUDGET} seeds"
    assert found.invariant_name in (DOUBLE_VOTE, VOTE_ORDER, AGREEMENT), found.detail
