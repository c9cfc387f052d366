"""`stablechain soak`: a long run at a saturating load with pruning on; memory, disk and throughput over time.

The run commits `transactions` transfers in slices of `slice_s` seconds. After each slice it records the
committed rate, every validator's current RSS and the size of every validator's database. The verdict compares
the median rate of the last five slices with that of the first five (target: within 10 %), the largest RSS
(target: 500 MB) and the largest database (which must stop growing once the retention window is full).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from devnet.bench import drive_load, make_bench_layout, make_funded_submitter
from devnet.launcher import Devnet
from devnet.bench_sync import FastSyncJoin, VerifiedReader, measure_fast_sync_join
from devnet.layout import NODE_DATA_DIR, add_storage_settings

BYTES_PER_MB = 1024 * 1024
# Slices whose median rate stands for the start and for the end of the run.
RATE_WINDOW_SLICES = 5


@dataclass
class SoakSlice:
    """One slice of the soak: committed so far, its rate, validators' RSS and database sizes."""

    committed_total: int
    committed_per_s: float
    rss_mb: list[float]
    database_mb: list[float]


@dataclass
class SoakResult:
    """What one soak measured."""

    validators: int
    transactions: int
    retention_versions: int
    accounts: int
    machine: str
    slices: list[SoakSlice] = field(default_factory=list)
    rss_max_mb: float = 0.0
    database_max_mb: float = 0.0
    first_rate_per_s: float = 0.0
    last_rate_per_s: float = 0.0
    last_to_first_ratio: float = 0.0
    fast_sync: FastSyncJoin | None = None


def read_rss_mb(pid: int) -> float:
    """Return a process's current resident set size in MB (VmRSS); 0 once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:")), 0.0)


def get_directory_mb(path: Path) -> float:
    """Return the bytes under path, in MB."""
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file()) / BYTES_PER_MB


def write_pruning_config(devnet: Devnet, retention_versions: int) -> None:
    """Switch pruning on in every validator's config."""
    for files in devnet.layout.validators:
        add_storage_settings(files.config_path, {"ledger_retention_versions": retention_versions,
                                                 "state_retention_versions": retention_versions})


def run_soak(validators: int, transactions: int, retention_versions: int, accounts: int, slice_s: float,
             base_port: int, read_verified: VerifiedReader | None = None, directory: Path | None = None) -> SoakResult:
    """Load a pruning devnet until `transactions` transfers committed, measuring each slice; then, given a
    verifying reader, time a wiped validator's fast sync onto the chain the soak built."""
    root = directory or Path(tempfile.mkdtemp(prefix="stablechain-soak-"))
    layout = make_bench_layout(root, validators, base_port)
    result = SoakResult(validators, transactions, retention_versions, accounts,
                        machine=f"{platform.machine()} {os.cpu_count()} cores")
    with Devnet(layout) as devnet:
        if retention_versions:
            write_pruning_config(devnet, retention_versions)
        devnet.start()
        devnet.wait_healthy()
        submitter = make_funded_submitter(layout, accounts)
        first = sum(submitter.committed_sequence)
        pids = [process.pid for process in devnet.processes.values()]
        while (done := sum(submitter.committed_sequence) - first) < transactions:
            _, elapsed = asyncio.run(drive_load(submitter, slice_s, 0))
            total = sum(submitter.committed_sequence) - first
            databases = [get_directory_mb(files.directory / NODE_DATA_DIR) for files in layout.validators]
            result.slices.append(SoakSlice(total, round((total - done) / elapsed, 1),
                                           [round(read_rss_mb(pid), 1) for pid in pids],
                                           [round(size, 1) for size in databases]))
            print(json.dumps(asdict(result.slices[-1])), file=sys.stderr, flush=True)  # progress of a long run
        if read_verified is not None:
            addresses = [sender.address for sender in submitter.senders[:4]]
            result.fast_sync = measure_fast_sync_join(devnet, addresses, read_verified)
    summarize(result)
    return result


def summarize(result: SoakResult) -> None:
    """Fill the verdict fields from the slices."""
    if not result.slices:
        return
    result.rss_max_mb = max(max(item.rss_mb) for item in result.slices)
    result.database_max_mb = max(max(item.database_mb) for item in result.slices)
    # One slice swings by 10-20 % on shared cores: compare the medians of the first and the last few slices.
    window = max(1, min(RATE_WINDOW_SLICES, len(result.slices) // 2))
    result.first_rate_per_s = statistics.median(item.committed_per_s for item in result.slices[:window])
    result.last_rate_per_s = statistics.median(item.committed_per_s for item in result.slices[-window:])
    if result.first_rate_per_s:
        result.last_to_first_ratio = round(result.last_rate_per_s / result.first_rate_per_s, 3)


def format_soak_result(result: SoakResult, as_json: bool) -> str:
    """Render the result as JSON or as a short human summary."""
    if as_json:
        return json.dumps(asdict(result), indent=2)
    return (f"soak: {result.slices[-1].committed_total if result.slices else 0} transfers committed; "
            f"rate first {result.first_rate_per_s} tx/s, last {result.last_rate_per_s} tx/s "
            f"({result.last_to_first_ratio:.0%}); max RSS {result.rss_max_mb} MB; max database "
            f"{result.database_max_mb} MB (retention {result.retention_versions} versions) [{result.machine}]"
            + format_join(result.fast_sync))


def format_join(join: FastSyncJoin | None) -> str:
    """Render the closing fast-sync measurement, if there was one."""
    if join is None:
        return ""
    return (f"; a wiped validator fast-synced onto {join.versions} versions served its first verified read after "
            f"{join.start_to_verified_read_s} s ({join.cpu_s} s CPU, equal to the archive's: {join.reads_match_archive})")
