"""Availability with f validators down: each outage keeps at least 90 % of the all-up commit rate (issue M).

The CI sample runs every outage kind (crashed from the start, crashed mid-run, partitioned so its connections go
silent, flapping) for 4 validators with f = 1 and 7 with f = 2; `python -m tests.sim --availability` runs more
seeds. A control shows the measure can fail: without leader reputation a dead validator keeps being elected.
"""

from __future__ import annotations

import pytest

from tests.sim.availability import (
    AVAILABILITY_RATIO_MIN,
    Outage,
    get_outages,
    measure_availability,
    run_availability,
)

# Seeds in CI; the scenario is nearly deterministic (a steady network), so a few seeds sample it well.
CI_SEEDS = {4: range(2), 7: range(1)}


@pytest.mark.parametrize("validators", sorted(CI_SEEDS))
def test_every_outage_keeps_ninety_percent_of_the_all_up_commit_rate(validators: int) -> None:
    results = run_availability(CI_SEEDS[validators], validators)
    assert len(results) == len(CI_SEEDS[validators]) * len(get_outages(validators))
    failing = [result.describe() for result in results if result.ratio < AVAILABILITY_RATIO_MIN]
    assert not failing, "below 90 % of the all-up rate:\n" + "\n".join(failing)


def test_without_reputation_a_crashed_validator_costs_far_more_than_ten_percent() -> None:
    # Control: with power-weighted election only, the dead validator still leads a quarter of the rounds and
    # each of them waits for a timeout, so the same measure fails.
    result = measure_availability(0, 4, Outage("crash", (3,)), reputation=False)
    assert result.ratio < AVAILABILITY_RATIO_MIN, result.describe()
