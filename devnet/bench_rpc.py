"""`stablechain bench-rpc`: JSON-RPC get_account requests per second served by one node."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp

from devnet.launcher import Devnet
from devnet.layout import prepare_devnet
from devnet.manifest import Manifest
from primitives.types.names import AccountAddress

CONCURRENT_CLIENTS = 32
ADDRESSES = (AccountAddress.TREASURY_COMPLIANCE, AccountAddress.TESTNET_DD, AccountAddress.DIEM_ROOT)


@dataclass
class RpcBenchResult:
    """What one get_account benchmark measured."""

    duration_s: float
    clients: int
    requests: int = 0
    errors: int = 0
    requests_per_s: float = 0.0
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None


async def hammer(url: str, duration_s: float, clients: int) -> tuple[int, int, list[float]]:
    """Run `clients` concurrent loops of get_account for duration_s; return (ok, errors, latencies)."""
    deadline = time.perf_counter() + duration_s
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}

    async def client_loop(session: aiohttp.ClientSession, offset: int) -> None:
        index = offset
        while time.perf_counter() < deadline:
            address = ADDRESSES[index % len(ADDRESSES)].hex()
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "get_account", "params": [address]})
            started = time.perf_counter()
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
                answer = await response.json()
            latencies.append(time.perf_counter() - started)
            counts["ok" if "result" in answer else "errors"] += 1
            index += 1

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client_loop(session, i) for i in range(clients)))
    return counts["ok"], counts["errors"], latencies


def run_rpc_bench(duration_s: float, base_port: int, clients: int = CONCURRENT_CLIENTS,
                  directory: Path | None = None) -> RpcBenchResult:
    """Start a one-validator devnet, measure get_account throughput, always stop it."""
    root = directory or Path(tempfile.mkdtemp(prefix="stablechain-bench-rpc-"))
    manifest = Manifest(validators=1, base_port=base_port, network_base_port=base_port - 1900, rpc_client_rate_per_s=0)
    result = RpcBenchResult(duration_s, clients)
    with Devnet(prepare_devnet(root, manifest)) as devnet:
        devnet.start()
        devnet.wait_healthy()
        ok, errors, latencies = asyncio.run(hammer(manifest.get_rpc_url(0), duration_s, clients))
    result.requests, result.errors = ok, errors
    result.requests_per_s = round(ok / duration_s, 1)
    if latencies:
        ordered = sorted(latencies)
        result.latency_p50_ms = round(statistics.median(ordered) * 1000, 2)
        result.latency_p99_ms = round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 2)
    return result


def format_rpc_result(result: RpcBenchResult, as_json: bool) -> str:
    """Render the result as JSON or one line."""
    if as_json:
        return json.dumps(asdict(result), indent=2)
    return (f"get_account: {result.requests_per_s} requests/s over {result.duration_s:.0f} s with {result.clients} "
            f"clients ({result.errors} errors); latency p50 {result.latency_p50_ms} ms, p99 {result.latency_p99_ms} ms")
