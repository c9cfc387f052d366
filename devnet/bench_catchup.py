"""`stablechain bench-catchup`: how fast a validator that lost its database replays the chain.

A devnet of its own is loaded with transfers; then one validator is stopped, its database deleted,
and restarted: it fetches the committed blocks with their outputs from its peers, verifies each certificate
and the outputs against it (re-executing only what the outputs cannot stand for, ADR 0020) and commits. The
figure is versions replayed per second of catch-up.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from devnet.bench import drive_load, make_bench_layout, make_funded_submitter, read_cpu_s
from devnet.launcher import Devnet, call_rpc, is_healthy
from devnet.layout import NODE_DATA_DIR

CATCHUP_SENDER_ACCOUNTS = 64
CATCHUP_TIMEOUT_S = 600.0
CATCHUP_POLL_INTERVAL_S = 0.1
HEALTH_POLL_INTERVAL_S = 0.05


@dataclass
class CatchUpResult:
    """What one catch-up run measured."""

    validators: int
    load_s: float
    machine: str
    versions: int = 0
    user_transactions: int = 0
    start_to_healthy_s: float = 0.0
    healthy_to_caught_up_s: float = 0.0
    versions_per_s: float = 0.0
    transactions_per_s: float = 0.0
    cpu_s: float = 0.0


def get_version(url: str) -> int:
    """Return a node's latest committed version."""
    return call_rpc(url, "get_metadata", [])["result"]["version"]


def is_true(condition) -> bool:  # noqa: ANN001
    """Return condition(); a node too busy to answer in time (it applies a batch of blocks) counts as not yet."""
    try:
        return bool(condition())
    except OSError:
        return False


def wait_until(condition, timeout_s: float, interval_s: float, what: str) -> None:  # noqa: ANN001
    """Poll condition() until it holds; raise RuntimeError after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not is_true(condition):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(interval_s)


def run_catchup_bench(validators: int, load_s: float, base_port: int, directory: Path | None = None) -> CatchUpResult:
    """Fill a devnet for load_s, wipe the last validator's database, and time its catch-up."""
    root = directory or Path(tempfile.mkdtemp(prefix="stablechain-catchup-"))
    layout = make_bench_layout(root, validators, base_port)
    manifest = layout.manifest
    urls = [manifest.get_rpc_url(i) for i in range(validators)]
    lagging = validators - 1
    result = CatchUpResult(validators, load_s, machine=f"{platform.machine()} {os.cpu_count()} cores")
    with Devnet(layout) as devnet:
        devnet.start()
        devnet.wait_healthy()
        submitter = make_funded_submitter(layout, CATCHUP_SENDER_ACCOUNTS)
        initial_sequences = sum(submitter.committed_sequence)
        asyncio.run(drive_load(submitter, load_s, 0))
        target = get_version(urls[0])
        devnet.stop_node(lagging)
        shutil.rmtree(layout.validators[lagging].directory / NODE_DATA_DIR)
        started = time.perf_counter()
        devnet.start_node(lagging)
        port = manifest.get_rpc_port(lagging)
        wait_until(lambda: is_healthy(port, manifest.host), CATCHUP_TIMEOUT_S, HEALTH_POLL_INTERVAL_S, "restart")
        healthy = time.perf_counter()
        wait_until(lambda: get_version(urls[lagging]) >= target, CATCHUP_TIMEOUT_S, CATCHUP_POLL_INTERVAL_S,
                   f"catch-up to version {target}")
        done = time.perf_counter()
        result.cpu_s = round(read_cpu_s(devnet.processes[lagging].pid), 2)
    result.versions = target
    result.user_transactions = sum(submitter.committed_sequence) - initial_sequences
    result.start_to_healthy_s = round(healthy - started, 2)
    result.healthy_to_caught_up_s = round(done - healthy, 2)
    result.versions_per_s = round(target / max(done - healthy, 1e-9), 1)
    result.transactions_per_s = round(result.user_transactions / max(done - healthy, 1e-9), 1)
    return result


def format_catchup_result(result: CatchUpResult, as_json: bool) -> str:
    """Render the result as JSON or as a short human summary."""
    if as_json:
        return json.dumps(asdict(result), indent=2)
    return (f"catch-up of {result.versions} versions ({result.user_transactions} transfers) after a database wipe: "
            f"{result.healthy_to_caught_up_s} s once serving ({result.start_to_healthy_s} s to start), "
            f"{result.versions_per_s} versions/s, {result.transactions_per_s} transfers/s, "
            f"{result.cpu_s} s CPU [{result.machine}]")
