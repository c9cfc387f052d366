"""Supply over time is walked back from today's proven supply through the mint and burn events."""

from __future__ import annotations

from explorer.series import (
    GENESIS_LEAD_US,
    Point,
    SupplyChange,
    compute_chart_data,
    compute_supply_points,
    get_window_start,
)

HOUR_US = 3_600_000_000


def test_supply_after_each_change_is_computed_back_from_now() -> None:
    changes = [SupplyChange(5, HOUR_US, +100), SupplyChange(9, 2 * HOUR_US, -30), SupplyChange(12, 3 * HOUR_US, +50)]
    points = compute_supply_points(1_120, 4 * HOUR_US, changes)
    assert points == (Point(0, 1_000), Point(HOUR_US, 1_100), Point(2 * HOUR_US, 1_070), Point(3 * HOUR_US, 1_120),
                      Point(4 * HOUR_US, 1_120))


def test_a_stream_cut_short_limits_the_window_to_where_every_stream_is_complete() -> None:
    # Mints were read back to version 9 only; the burn at version 3 is older than that window and left out.
    assert get_window_start((9, None)) == 9
    changes = [SupplyChange(3, HOUR_US, -10), SupplyChange(9, 2 * HOUR_US, +40)]
    assert compute_supply_points(1_000, 3 * HOUR_US, changes, 9) == (Point(0, 960), Point(2 * HOUR_US, 1_000),
                                                                     Point(3 * HOUR_US, 1_000))


def test_a_genesis_mint_is_the_supply_from_the_start() -> None:
    points = compute_supply_points(700, 5 * HOUR_US, [SupplyChange(0, 0, +500), SupplyChange(4, HOUR_US, +200)])
    chart = compute_chart_data(points, ())
    assert chart.supply == (500 / 1e6, 700 / 1e6, 700 / 1e6)


def test_the_chart_aligns_both_series_and_draws_genesis_values_from_the_left_edge() -> None:
    supply = (Point(0, 500), Point(10 * HOUR_US, 700))
    reserves = (Point(0, 1_000), Point(5 * HOUR_US, 900))
    chart = compute_chart_data(supply, reserves)
    assert chart.times_s == ((5 * HOUR_US - GENESIS_LEAD_US) / 1e6, 5 * 3_600.0, 10 * 3_600.0)
    assert chart.supply == (500 / 1e6, 500 / 1e6, 700 / 1e6)
    assert chart.reserves == (1_000 / 1e6, 900 / 1e6, 900 / 1e6)
