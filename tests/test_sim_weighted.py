"""Weighted voting in the simulator: a validator with more than 1/3 of power offline halts progress."""

from __future__ import annotations

from tests.sim.config import SimConfig
from tests.sim.world import run_seed

# Voting power 3 of 6: the heavy validator alone holds half the power; quorum is 5.
STAKES = (3, 1, 1, 1)
OUTAGE_START_TICK = 3_000
OUTAGE_END_TICK = 12_000
# Blocks already certified when the outage starts may still finish committing shortly after.
PIPELINE_SLACK_TICKS = 1_000
RUN_TICKS = 24_000


def get_heights_committed_between(commit_ticks: dict[int, int], start: int, end: int) -> list[int]:
    """Return the heights first committed by any honest node in [start, end)."""
    return sorted(height for height, tick in commit_ticks.items() if start <= tick < end)


def make_config(offline_validator: int) -> SimConfig:
    """Four validators with unequal stakes; one is cut off the network for a while."""
    return SimConfig(validators=4, stakes=STAKES, rounds=5, check_liveness=False,
                     offline=((offline_validator, OUTAGE_START_TICK, OUTAGE_END_TICK),),
                     tail_ticks=RUN_TICKS)


def test_heavy_validator_offline_halts_then_progress_resumes() -> None:
    for seed in range(5):
        result = run_seed(seed, make_config(offline_validator=0))
        assert result.is_ok, f"seed {seed}: {result.invariant_name}: {result.detail}"
        before = get_heights_committed_between(result.commit_ticks, 0, OUTAGE_START_TICK)
        during = get_heights_committed_between(
            result.commit_ticks, OUTAGE_START_TICK + PIPELINE_SLACK_TICKS, OUTAGE_END_TICK)
        after = get_heights_committed_between(result.commit_ticks, OUTAGE_END_TICK, 10**9)
        assert before, f"seed {seed}: nothing committed before the outage"
        assert not during, f"seed {seed}: committed {during} with only 1/2 of power online"
        assert len(after) >= 3, f"seed {seed}: progress did not resume ({after})"


def test_light_validator_offline_does_not_halt_progress() -> None:
    # Control: 1/6 of power offline leaves 5/6 >= quorum, so blocks keep committing.
    for seed in range(5):
        result = run_seed(seed, make_config(offline_validator=1))
        assert result.is_ok, f"seed {seed}: {result.invariant_name}: {result.detail}"
        during = get_heights_committed_between(
            result.commit_ticks, OUTAGE_START_TICK + PIPELINE_SLACK_TICKS, OUTAGE_END_TICK)
        assert len(during) >= 5, f"seed {seed}: only {during} committed during a light outage"
