"""Liveness with one validator of four down, on test hosts in network namespaces (`make bench-liveness`, root).

`python -m tests.netns.liveness [--json]` runs one devnet through two schedules and prints the figures issue M
asks for, each against the all-up figure of the same run:
- idle (no clients): consensus rounds per second, all up, with validator 3 killed, with its link cut;
- steady closed-loop clients paying through validators 0-2: payments per second all up, killed, cut, and how
  long validator 3 takes to be back at the others' version after its restart or the restored link.
Each phase is measured from MEASURE_AFTER_S after the change (issue M: "within 10 s") for MEASURE_S seconds.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.netns.cluster import NetnsDevnet, read_client_result, start_netns_devnet
from tests.netns.test_link_cut import find_catch_up_s, wait_for_file

VICTIM = 3
MEASURE_AFTER_S = 10
MEASURE_S = 20
# Each phase: all up, then down (killed or cut), then back up; the phase length covers recovery and measure.
PHASE_S = MEASURE_AFTER_S + MEASURE_S
SCHEDULE = (("all-up", 0), ("killed", PHASE_S), ("restarted", 2 * PHASE_S), ("cut", 3 * PHASE_S),
            ("restored", 4 * PHASE_S))
RUN_S = 5 * PHASE_S
CLIENT_START_TIMEOUT_S = 180


def run_schedule(net: NetnsDevnet, started: float) -> dict[str, float]:
    """Kill, restart, cut and restore validator 3 at the scheduled seconds; return when each happened."""
    actions: dict[str, Callable[[], None]] = {
        "all-up": lambda: None,
        "killed": lambda: net.devnet.kill_node(VICTIM),
        "restarted": lambda: net.devnet.start_node(VICTIM),
        "cut": lambda: net.fabric.set_link(f"v{VICTIM}", False),
        "restored": lambda: net.fabric.set_link(f"v{VICTIM}", True),
    }
    moments = {}
    for name, at_s in SCHEDULE:
        time.sleep(max(0.0, started + at_s - time.time()))
        actions[name]()
        moments[name] = time.time() - started
    return moments


def compute_rate(points: list[tuple[float, int]], start_s: float, end_s: float) -> float:
    """Return the slope of a counter sampled as (t, value) between two instants."""
    inside = [(t, value) for t, value in points if start_s <= t <= end_s and value is not None]
    if len(inside) < 2:
        return 0.0
    (t0, v0), (t1, v1) = inside[0], inside[-1]
    return (v1 - v0) / (t1 - t0) if t1 > t0 else 0.0


def measure_idle(net: NetnsDevnet, directory: Path) -> dict[str, float]:
    """Return node 0's rounds per second all up, with validator 3 killed and with its link cut (no clients)."""
    result_path = directory / "idle.json"
    sampler = net.start_client("sample", str(result_path), "--watch", net.get_rpc_url(0), "--duration", str(RUN_S))
    started = wait_for_file(result_path.with_suffix(".started"), CLIENT_START_TIMEOUT_S)
    moments = run_schedule(net, started)
    sampler.communicate(timeout=RUN_S + 60)
    samples = read_client_result(result_path)["samples"]
    rounds = [(t, sample[0]) for t, sample, _ in samples]
    return {f"idle_rounds_per_s_{name}": round(compute_rate(rounds, moments[name] + MEASURE_AFTER_S,
                                                            moments[name] + PHASE_S), 2)
            for name in ("all-up", "killed", "cut")}


def measure_loaded(net: NetnsDevnet, directory: Path) -> dict[str, float]:
    """Return closed-loop payments per second all up, killed and cut, and validator 3's catch-up times."""
    urls = net.get_rpc_urls()
    result_path = directory / "loaded.json"
    client = net.start_client("load", str(result_path), "--submit", *urls[:VICTIM], "--watch", *urls,
                              "--keys", str(net.layout.root / "keys"), "--duration", str(RUN_S), "--rate", "0")
    started = wait_for_file(result_path.with_suffix(".started"), CLIENT_START_TIMEOUT_S)
    moments = run_schedule(net, started)
    client.communicate(timeout=RUN_S + 120)
    result = read_client_result(result_path)
    timeline = result["timeline_per_s"]
    figures: dict[str, float] = {}
    for name in ("all-up", "killed", "cut"):
        start = int(moments[name]) + MEASURE_AFTER_S
        window = timeline[start:int(moments[name]) + PHASE_S]
        figures[f"payments_per_s_{name}"] = round(sum(window) / max(1, len(window)), 1)
    for name in ("restarted", "restored"):
        figures[f"catch_up_s_after_{name}"] = find_catch_up_s(result["versions"], moments[name])
    return figures


def add_ratios(figures: dict[str, float]) -> dict[str, float]:
    """Add each down figure's share of its all-up figure."""
    for prefix in ("idle_rounds_per_s", "payments_per_s"):
        base = figures.get(f"{prefix}_all-up") or 0
        for name in ("killed", "cut"):
            value = figures.get(f"{prefix}_{name}")
            if base and value is not None:
                figures[f"{prefix}_{name}_share"] = round(value / base, 3)
    return figures


def main() -> None:
    """Run both schedules on one devnet of namespace hosts and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m tests.netns.liveness")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="stablechain-liveness-"))
    with start_netns_devnet(directory / "devnet") as net:
        figures = measure_idle(net, directory)
        net.wait_healthy()
        figures.update(measure_loaded(net, directory))
    figures = add_ratios(figures)
    print(json.dumps(figures, indent=2) if args.json else
          "\n".join(f"{name}: {value}" for name, value in figures.items()))


if __name__ == "__main__":
    main()
