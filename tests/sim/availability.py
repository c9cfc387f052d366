"""Availability under an outage: committed blocks per simulated second, against the all-up run of the same seed.

Liveness (tests/sim/liveness.py) asks whether the chain commits again after the heal; availability asks how
fast it commits *while* f validators are down ([ELECT-2], [VOTE-6], [PACE-2]). Each scenario runs the same
seed twice, all up and with the outage, over a datacenter-like network (a steady latency plus a little jitter,
no loss) and compares the commit rates of the window that starts a warm-up after the outage began.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tests.sim.config import FaultMix, SimConfig
from tests.sim.world import run_seed

# Ticks are simulated milliseconds.
OUTAGE_START_TICK = 2_000
# The rate is measured from this long after the outage starts: the time reputation takes to route around it.
WARMUP_TICKS = 10_000
MEASURE_TICKS = 12_000
# A datacenter network: every message takes 10 to 12 ms.
LATENCY_TICKS_MIN = 10
LATENCY_TICKS_MAX = 12
# A flapping validator is cut off for FLAP_DOWN_TICKS, reachable for FLAP_UP_TICKS, again and again.
FLAP_DOWN_TICKS = 3_000
FLAP_UP_TICKS = 3_000
# The required share of the all-up commit rate (issue M: at least 90 %).
AVAILABILITY_RATIO_MIN = 0.9
TICKS_PER_SECOND = 1_000

KINDS = ("crash-from-start", "crash", "partition", "flap")


@dataclass(frozen=True, slots=True)
class Outage:
    """Which validators fail, and how: killed from the start or mid-run, cut off, or flapping."""

    kind: str
    validators: tuple[int, ...]

    def describe(self) -> str:
        """Return a short label, e.g. 'partition of v3'."""
        return f"{self.kind} of " + ",".join(f"v{v}" for v in self.validators)


@dataclass(frozen=True, slots=True)
class Availability:
    """One seed's rates (blocks per simulated second) in the measured window, all up and with the outage."""

    seed: int
    outage: Outage
    all_up_rate: float
    outage_rate: float

    @property
    def ratio(self) -> float:
        """Return the outage rate as a share of the all-up rate."""
        return self.outage_rate / self.all_up_rate if self.all_up_rate else 0.0

    def describe(self) -> str:
        """Return one line for a report."""
        return (f"seed {self.seed} {self.outage.describe()}: {self.outage_rate:.1f} vs {self.all_up_rate:.1f} "
                f"blocks/s = {self.ratio:.0%}")


def get_run_ticks() -> int:
    """Return how long each run lasts after the heal (which comes at once: there is no chaos phase)."""
    return OUTAGE_START_TICK + WARMUP_TICKS + MEASURE_TICKS


def make_base_config(validators: int, reputation: bool = True) -> SimConfig:
    """Return the all-up run: no loss, no crashes, a steady network, leader reputation as nodes run it."""
    faults = FaultMix(drop_probability=0.0, duplicate_probability=0.0, delay_ticks_min=LATENCY_TICKS_MIN,
                      delay_ticks_max=LATENCY_TICKS_MAX)
    return SimConfig(validators=validators, faults=faults, rounds=1, check_liveness=False,
                     tail_ticks=get_run_ticks(), leader_reputation=reputation)


def make_outage_config(base: SimConfig, outage: Outage) -> SimConfig:
    """Return the base run with the outage applied to its validators."""
    end = 10**9
    if outage.kind == "crash-from-start":
        return replace(base, stops=tuple((v, 0) for v in outage.validators))
    if outage.kind == "crash":
        return replace(base, stops=tuple((v, OUTAGE_START_TICK) for v in outage.validators))
    if outage.kind == "partition":
        return replace(base, offline=tuple((v, OUTAGE_START_TICK, end) for v in outage.validators))
    if outage.kind == "flap":
        period = FLAP_DOWN_TICKS + FLAP_UP_TICKS
        windows = tuple((v, start, start + FLAP_DOWN_TICKS) for v in outage.validators
                        for start in range(OUTAGE_START_TICK, get_run_ticks(), period))
        return replace(base, offline=windows)
    raise ValueError(f"unknown outage kind {outage.kind!r}; expected one of {KINDS}")


def compute_rate(commit_ticks: dict[int, int], start_tick: int, end_tick: int) -> float:
    """Return the heights first committed in [start_tick, end_tick) per simulated second."""
    count = sum(1 for tick in commit_ticks.values() if start_tick <= tick < end_tick)
    return count * TICKS_PER_SECOND / (end_tick - start_tick)


def get_measured_window() -> tuple[int, int]:
    """Return [start, end) of the measured ticks: after the outage and its warm-up, to the end of the run."""
    start = OUTAGE_START_TICK + WARMUP_TICKS
    return start, start + MEASURE_TICKS


def measure_availability(seed: int, validators: int, outage: Outage, all_up_rate: float | None = None,
                         reputation: bool = True) -> Availability:
    """Run the seed with the outage (and all up unless given); return both rates over the measured window."""
    base = make_base_config(validators, reputation)
    start, end = get_measured_window()
    if all_up_rate is None:
        all_up = run_seed(seed, base)
        _require_ok(all_up, seed, "all up")
        all_up_rate = compute_rate(all_up.commit_ticks, start, end)
    down = run_seed(seed, make_outage_config(base, outage))
    _require_ok(down, seed, outage.describe())
    return Availability(seed, outage, all_up_rate, compute_rate(down.commit_ticks, start, end))


def _require_ok(result: object, seed: int, label: str) -> None:
    if not result.is_ok:  # type: ignore[attr-defined]
        raise AssertionError(f"seed {seed} ({label}): {result.invariant_name}: {result.detail}")  # type: ignore[attr-defined]


def get_outages(validators: int) -> list[Outage]:
    """Return every outage kind with the largest tolerated fault count f = (n - 1) // 3, the last validators."""
    failing = tuple(range(validators - (validators - 1) // 3, validators))
    return [Outage(kind, failing) for kind in KINDS]


def run_availability(seeds: range, validators: int, reputation: bool = True) -> list[Availability]:
    """Measure every outage kind for every seed (one all-up run per seed serves them all)."""
    results = []
    start, end = get_measured_window()
    for seed in seeds:
        all_up = run_seed(seed, make_base_config(validators, reputation))
        _require_ok(all_up, seed, "all up")
        rate = compute_rate(all_up.commit_ticks, start, end)
        results.extend(measure_availability(seed, validators, outage, rate, reputation)
                       for outage in get_outages(validators))
    return results
