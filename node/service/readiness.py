"""What operators watch beside liveness: readiness (in sync or not, by how much), RPC latency, peers, storage."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from aiohttp import web

from node.config import NodeConfig
from node.metrics import NodeMetrics
from node.network import Network
from node.runtime.runtime import Runtime

READY_PATH = "/-/ready"
# In sync: the last commit is at most this old, and at most this many versions behind the newest certificate seen.
READY_LAG_S_MAX = 10.0
READY_LAG_VERSIONS_MAX = 1_000
# Walking the database directory is cheap but not free: its size is refreshed at most this often.
STORAGE_REFRESH_INTERVAL_S = 10.0
USECS_PER_SEC = 1_000_000
# RPC latency is labelled by path; anything else (probes of random paths) shares one label.
KNOWN_PATHS = ("/", "/v1", "/mint", "/metrics", "/-/healthy", READY_PATH, "/v1/stream/ws")
OTHER_PATH = "other"


class OperatedNode(Protocol):
    """The parts of a running node the operations endpoints read."""

    config: NodeConfig
    runtime: Runtime
    network: Network
    metrics: NodeMetrics


def compute_lag(runtime: Runtime, now_usecs: int) -> tuple[int, float]:
    """Return (versions behind the newest certified commit seen, seconds since the last committed block's time)."""
    version = runtime.get_committed_version()
    lag_versions = max(0, runtime.catchup.highest_seen_version - version)
    lag_seconds = max(0, now_usecs - runtime.get_committed_timestamp_usecs()) / USECS_PER_SEC
    return lag_versions, lag_seconds


def describe_readiness(node: OperatedNode, now_usecs: int) -> dict[str, object]:
    """Return the readiness report: ready or not, the version, and the lag in versions and seconds."""
    lag_versions, lag_seconds = compute_lag(node.runtime, now_usecs)
    is_ready = lag_versions <= READY_LAG_VERSIONS_MAX and lag_seconds <= READY_LAG_S_MAX
    return {"ready": is_ready, "role": node.config.role, "epoch": node.runtime.state.epoch_state.epoch,
            "version": node.runtime.get_committed_version(), "lag_versions": lag_versions,
            "lag_seconds": round(lag_seconds, 3), "connected_peers": len(node.network.get_connected_peers())}


def add_operations_routes(app: web.Application, node: OperatedNode) -> None:
    """Serve GET /-/ready (200 in sync, 503 behind) and time every request on the RPC port."""
    async def handle_ready(_request: web.Request) -> web.Response:
        report = describe_readiness(node, time.time_ns() // 1_000)
        return web.Response(text=json.dumps(report), content_type="application/json",
                            status=200 if report["ready"] else 503)

    @web.middleware
    async def time_request(request: web.Request,
                           handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        path = request.path if request.path in KNOWN_PATHS else OTHER_PATH
        with node.metrics.rpc_latency.labels(path).time():
            return await handler(request)

    app.router.add_get(READY_PATH, handle_ready)
    app.middlewares.append(time_request)


def refresh_node_gauges(node: OperatedNode) -> None:
    """Copy the per-peer, full-node, lag and storage figures into the gauges."""
    metrics, network = node.metrics, node.network
    connected = network.get_connected_peers()
    for peer_id in network.peers.by_id:
        metrics.peer_connected.labels(peer_id.hex()).set(1 if peer_id in connected else 0)
    metrics.full_node_connections.set(len(network.full_nodes))
    metrics.refused_full_node_messages.set(network.stats.refused_full_node_messages)
    report = describe_readiness(node, time.time_ns() // 1_000)
    metrics.lag_versions.set(report["lag_versions"])  # type: ignore[arg-type]
    metrics.lag_seconds.set(report["lag_seconds"])  # type: ignore[arg-type]
    metrics.is_ready.set(1 if report["ready"] else 0)
    refresh_storage_size(metrics, node.config.data_dir)


_last_storage_refresh: dict[str, float] = {}


def refresh_storage_size(metrics: NodeMetrics, data_dir: Path) -> None:
    """Set the database's size on disk, at most every STORAGE_REFRESH_INTERVAL_S."""
    now = time.monotonic()
    key = str(data_dir)
    if now - _last_storage_refresh.get(key, -STORAGE_REFRESH_INTERVAL_S) < STORAGE_REFRESH_INTERVAL_S:
        return
    _last_storage_refresh[key] = now
    metrics.storage_bytes.set(compute_directory_bytes(data_dir))


def compute_directory_bytes(directory: Path) -> int:
    """Return the total size of the files under directory (0 when it is missing)."""
    total = 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue  # LevelDB removed it meanwhile
    return total
