"""`stablechain bench-sync`: how fast a new node joins by fast sync (ADR 0018) and serves verified reads.

A devnet of its own is loaded with transfers; then the last validator is stopped, its database deleted and
fast sync switched on in its config, and it is restarted: it fetches the state of a recent certified version
in chunks, checks it against the certified roots, installs it and follows the chain by catch-up. The figure is
the time from its start to the first read it serves that a wallet verifies (from the waypoint alone) at or
past the version the others had reached, and that read must equal the same verified read on an archive node.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from devnet.bench import drive_load, make_bench_layout, make_funded_submitter, read_cpu_s
from devnet.bench_catchup import get_version, wait_until
from devnet.launcher import Devnet
from devnet.layout import NODE_DATA_DIR, add_storage_settings, compute_waypoint

# (url, waypoint, chain id, addresses) -> (verified version, per-address reads): a wallet's verifying client,
# given by the caller (the devnet package does not depend on the wallet).
VerifiedReader = Callable[[str, str, int, list[bytes]], tuple[int, list]]

SYNC_TIMEOUT_S = 600.0
SYNC_POLL_INTERVAL_S = 0.2


@dataclass
class SyncResult:
    """What one fast-sync run measured."""

    validators: int
    load_s: float
    accounts: int
    machine: str
    versions: int = 0
    synced_version: int = 0
    start_to_verified_read_s: float = 0.0
    cpu_s: float = 0.0
    reads_match_archive: bool = False


def enable_fast_sync(devnet: Devnet, index: int) -> None:
    """Delete a stopped validator's database and switch fast sync on in its config."""
    files = devnet.layout.validators[index]
    shutil.rmtree(files.directory / NODE_DATA_DIR)
    add_storage_settings(files.config_path, {"fast_sync": True})


def try_verified_read(read_verified: VerifiedReader, url: str, waypoint: str, chain_id: int, addresses: list[bytes],
                      target: int) -> list | None:
    """Return the verified reads when the node serves them at or past target, else None."""
    try:
        version, reads = read_verified(url, waypoint, chain_id, addresses)
    except Exception:  # noqa: BLE001 - not serving yet (starting, syncing, or behind): poll again
        return None
    return reads if version >= target else None


@dataclass
class FastSyncJoin:
    """What one wiped validator's fast sync measured, on a devnet that was already loaded."""

    versions: int = 0
    synced_version: int = 0
    start_to_verified_read_s: float = 0.0
    cpu_s: float = 0.0
    reads_match_archive: bool = False


def measure_fast_sync_join(devnet: Devnet, addresses: list[bytes], read_verified: VerifiedReader) -> FastSyncJoin:
    """Stop and wipe the last validator, restart it by fast sync and time its first verified read."""
    manifest = devnet.layout.manifest
    urls = [manifest.get_rpc_url(i) for i in range(len(devnet.layout.validators))]
    joining = len(urls) - 1
    waypoint = compute_waypoint(devnet.layout)
    target = get_version(urls[0])
    devnet.stop_node(joining)
    enable_fast_sync(devnet, joining)
    started = time.perf_counter()
    devnet.start_node(joining)
    reads: list = []
    wait_until(lambda: reads.extend(try_verified_read(read_verified, urls[joining], waypoint, manifest.chain_id, addresses,
                                                      target) or []) or bool(reads),
               SYNC_TIMEOUT_S, SYNC_POLL_INTERVAL_S, f"a verified read at version {target}")
    join = FastSyncJoin(versions=target, start_to_verified_read_s=round(time.perf_counter() - started, 2))
    join.cpu_s = round(read_cpu_s(devnet.processes[joining].pid), 2)
    join.synced_version = get_version(urls[joining])
    _, archive = read_verified(urls[0], waypoint, manifest.chain_id, addresses)
    join.reads_match_archive = archive == reads
    return join


def run_sync_bench(validators: int, load_s: float, base_port: int, accounts: int, read_verified: VerifiedReader,
                   directory: Path | None = None) -> SyncResult:
    """Fill a devnet for load_s, then time a wiped validator's fast sync to its first verified read."""
    root = directory or Path(tempfile.mkdtemp(prefix="stablechain-sync-"))
    layout = make_bench_layout(root, validators, base_port)
    result = SyncResult(validators, load_s, accounts, machine=f"{platform.machine()} {os.cpu_count()} cores")
    with Devnet(layout) as devnet:
        devnet.start()
        devnet.wait_healthy()
        submitter = make_funded_submitter(layout, accounts)
        asyncio.run(drive_load(submitter, load_s, 0))
        join = measure_fast_sync_join(devnet, [sender.address for sender in submitter.senders[:4]], read_verified)
    for name, value in asdict(join).items():
        setattr(result, name, value)
    return result


def format_sync_result(result: SyncResult, as_json: bool) -> str:
    """Render the result as JSON or as a short human summary."""
    if as_json:
        return json.dumps(asdict(result), indent=2)
    return (f"fast sync of a node joining a chain of {result.versions} versions ({result.accounts} funded senders): "
            f"first verified read after {result.start_to_verified_read_s} s, {result.cpu_s} s CPU, "
            f"reads equal the archive node's: {result.reads_match_archive} [{result.machine}]")
