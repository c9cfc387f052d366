"""The state micro-benchmark runs end to end on a tiny tree (its figures are not asserted)."""

from __future__ import annotations

from contracts.state import bench


def test_the_benchmark_runs_and_reports_every_figure() -> None:
    figures = bench.run(state_keys=300, batch_keys=40, batches=2)
    assert set(figures) == {
        "load_s", "batch_ms_median", "batch_ms_best", "updates_per_s", "nodes_stored", "accumulator_ms_per_1000",
    }
    assert figures["nodes_stored"] > 300
