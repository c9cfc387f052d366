"""Supply against reserves over time: pure computations shared by the public page and the regulator's dashboard."""

# Supply is known exactly now (a proven resource, or the regulator's supply report); each mint or burn
# event says how much it changed. Walking the events backwards from the present therefore gives the supply
# after every event without reading the whole history, and a window of recent events is enough.

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MICROS_PER_SECOND = 1_000_000
GENESIS_LEAD_US = 3_600_000_000  # values from before the first dated point are drawn from an hour before it


@dataclass(frozen=True, slots=True)
class SupplyChange:
    """A mint (positive) or burn (negative) of delta_micro at a ledger version and its block time."""

    version: int
    time_us: int
    delta_micro: int


@dataclass(frozen=True, slots=True)
class Point:
    """A value in micro-units from time_us on."""

    time_us: int
    value_micro: int


@dataclass(frozen=True, slots=True)
class ChartData:
    """Aligned series for a chart: times in seconds, supply and reserves in units (None: not known yet)."""

    times_s: tuple[float, ...]
    supply: tuple[float | None, ...]
    reserves: tuple[float | None, ...]

    def to_json(self) -> list[list[float | None]]:
        """Return [times, supply, reserves], the column layout the chart script draws."""
        return [list(self.times_s), list(self.supply), list(self.reserves)]


def get_window_start(oldest_versions: Iterable[int | None]) -> int:
    """Return the first version from which every stream's changes are all known (streams cut short give theirs)."""
    return max((version for version in oldest_versions if version is not None), default=0)


def compute_supply_points(supply_now_micro: int, now_us: int, changes: Iterable[SupplyChange],
                          window_start_version: int = 0) -> tuple[Point, ...]:
    """Return the supply before the window (at time 0: drawn from the chart's left edge), after each change at
    or after window_start_version, and now, oldest first."""
    kept = sorted((change for change in changes if change.version >= window_start_version),
                  key=lambda change: change.version)
    supply = supply_now_micro - sum(change.delta_micro for change in kept)
    points = [Point(0, supply)]
    for change in kept:
        supply += change.delta_micro
        points.append(Point(change.time_us, supply))
    points.append(Point(now_us, supply_now_micro))
    return tuple(sorted(points, key=lambda point: point.time_us))  # stable: at equal times the later one wins


def get_value_at(points: tuple[Point, ...], time_us: int) -> int | None:
    """Return the value of a step series at time_us (None before its first point)."""
    value = None
    for point in points:
        if point.time_us > time_us:
            break
        value = point.value_micro
    return value


def clamp_to_chain_start(points: tuple[Point, ...], start_us: int) -> tuple[Point, ...]:
    """Return points with genesis times (before the first block, time 0) moved to the chain's first plotted time."""
    return tuple(Point(max(point.time_us, start_us), point.value_micro) for point in points)


def compute_chart_data(supply: tuple[Point, ...], reserves: tuple[Point, ...]) -> ChartData:
    """Return both step series on one time axis, in units (a chart shows magnitudes, tables show exact figures)."""
    dated = [point.time_us for point in (*supply, *reserves) if point.time_us > 0]
    start_us = max(0, min(dated) - GENESIS_LEAD_US) if dated else 0
    supply, reserves = clamp_to_chain_start(supply, start_us), clamp_to_chain_start(reserves, start_us)
    times = sorted({point.time_us for point in supply} | {point.time_us for point in reserves})
    supply_values = [get_value_at(supply, time_us) for time_us in times]
    reserve_values = [get_value_at(reserves, time_us) for time_us in times]
    return ChartData(
        tuple(time_us / MICROS_PER_SECOND for time_us in times),
        tuple(None if value is None else value / MICROS_PER_SECOND for value in supply_values),
        tuple(None if value is None else value / MICROS_PER_SECOND for value in reserve_values),
    )
