"""Clients inside the client host's namespace: wait for nodes, or fund senders, pay steadily and sample versions.

`python -m tests.netns.client wait URL ...` exits 0 once every node answers (1 after WAIT_TIMEOUT_S).
`python -m tests.netns.client ready URL ...` prints every node's readiness report as a JSON list ({} if silent).
`python -m tests.netns.client sample RESULT.json --watch URL ... --duration S` records rounds and versions.
`python -m tests.netns.client load RESULT.json --submit URL ... [--pay-through URL ...] --watch URL ... --keys DIR
--duration S --rate R` funds senders through the first --submit URL, pays through --pay-through (default --submit),
writes RESULT.started (the wall clock when the load starts, after funding) and, at the end, RESULT.json:
{"started_wall_s", "timeline_per_s", "versions": [[t_s, [version or null per watched node], [round or null per
watched node]], ...]} (the rounds tell a stalled chain from a stalled client when a test fails).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp

from devnet.bench import Submitter, drive_load, fund_senders, get_sequence_number
from node.keys.files import load_private_key

SENDER_ACCOUNTS = 24
VERSION_SAMPLE_INTERVAL_S = 0.5
VERSION_TIMEOUT_S = 0.4
WAIT_TIMEOUT_S = 60.0
WAIT_POLL_INTERVAL_S = 0.2
CHAIN_ID = 2
ISSUER_KEY_NAMES = ("treasury", "dealer")
ROUND_METRIC = "stablechain_round"
PEER_CONNECTED_METRIC = "stablechain_peer_connected"


async def get_version(session: aiohttp.ClientSession, url: str, timeout_s: float = VERSION_TIMEOUT_S) -> int | None:
    """Return a node's ledger version, or None when it does not answer in time (cut off or down)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "get_metadata", "params": []}
    try:
        async with session.post(url, json=body, timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            return (await response.json())["result"]["version"]
    except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, TypeError, ValueError):
        return None


async def get_round(session: aiohttp.ClientSession, url: str) -> int | None:
    """Return a node's current consensus round from its /metrics, or None when it does not answer in time."""
    metrics_url = url.rsplit("/v1", 1)[0] + "/metrics"
    try:
        async with session.get(metrics_url, timeout=aiohttp.ClientTimeout(total=VERSION_TIMEOUT_S)) as response:
            text = await response.text()
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return None
    for line in text.splitlines():
        if line.startswith(ROUND_METRIC + " "):
            return int(float(line.split()[1]))
    return None


async def sample_rounds(urls: list[str], duration_s: float) -> tuple[float, list]:
    """Return the start time and [t_s, [round per node], [version per node]] samples over duration_s."""
    samples: list = []
    started = time.time()
    async with aiohttp.ClientSession() as session:
        while time.time() - started < duration_s:
            rounds = await asyncio.gather(*(get_round(session, url) for url in urls))
            versions = await asyncio.gather(*(get_version(session, url) for url in urls))
            samples.append([round(time.time() - started, 2), list(rounds), list(versions)])
            await asyncio.sleep(VERSION_SAMPLE_INTERVAL_S)
    return started, samples


async def get_readiness(urls: list[str]) -> list[dict]:
    """Return each node's `/-/ready` report ({} when it does not answer), its peers' connection gauges added."""
    async def read(session: aiohttp.ClientSession, url: str) -> dict:
        base = url.rsplit("/v1", 1)[0]
        try:
            async with session.get(base + "/-/ready", timeout=aiohttp.ClientTimeout(total=2.0)) as response:
                report = await response.json(content_type=None)
            async with session.get(base + "/metrics", timeout=aiohttp.ClientTimeout(total=2.0)) as response:
                lines = (await response.text()).splitlines()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return {}
        report["peers"] = {line.split('"')[1]: float(line.split()[-1]) for line in lines
                           if line.startswith(PEER_CONNECTED_METRIC + "{")}
        return report

    async with aiohttp.ClientSession() as session:
        return list(await asyncio.gather(*(read(session, url) for url in urls)))


async def wait_for_nodes(urls: list[str]) -> bool:
    """Return True once every node answers, False after WAIT_TIMEOUT_S."""
    deadline = time.monotonic() + WAIT_TIMEOUT_S
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            versions = await asyncio.gather(*(get_version(session, url, 2.0) for url in urls))
            if all(version is not None for version in versions):
                return True
            await asyncio.sleep(WAIT_POLL_INTERVAL_S)
    return False


async def sample_versions(urls: list[str], started: float, samples: list, stop: asyncio.Event) -> None:
    """Record every watched node's version and consensus round every half second until stopped."""
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            versions = await asyncio.gather(*(get_version(session, url) for url in urls))
            rounds = await asyncio.gather(*(get_round(session, url) for url in urls))
            samples.append([round(time.time() - started, 2), list(versions), list(rounds)])
            try:
                await asyncio.wait_for(stop.wait(), VERSION_SAMPLE_INTERVAL_S)
            except asyncio.TimeoutError:
                pass


async def run_load(submitter: Submitter, watch: list[str], duration_s: float, rate: float,
                   started_path: Path) -> tuple[float, list]:
    """Drive the load while sampling versions; return the wall-clock start and the samples."""
    samples: list = []
    stop = asyncio.Event()
    started = time.time()
    started_path.write_text(str(started))  # the test schedules its cuts from this moment
    sampler = asyncio.create_task(sample_versions(watch, started, samples, stop))
    try:
        await drive_load(submitter, duration_s, rate)
    finally:
        stop.set()
        await sampler
    return started, samples


def load(args: argparse.Namespace) -> int:
    """Fund senders through the first submit URL, then pay for the duration and write the result."""
    keys = {name: load_private_key(args.keys / f"{name}.key") for name in ISSUER_KEY_NAMES}
    senders = fund_senders(args.submit[0], keys, SENDER_ACCOUNTS, CHAIN_ID)
    submitter = Submitter(args.pay_through or args.submit, senders, CHAIN_ID, args.in_flight)
    for index, sender in enumerate(senders):
        submitter.next_sequence[index] = submitter.committed_sequence[index] = get_sequence_number(
            args.submit[0], sender.address)
    started_path = args.result.with_suffix(".started")
    started, samples = asyncio.run(run_load(submitter, args.watch, args.duration, args.rate, started_path))
    submitter.started = started  # the timeline's second 0 is the load's start
    result = {"started_wall_s": started, "timeline_per_s": submitter.timeline, "versions": samples,
              "submitted": submitter.submitted, "rejected": submitter.rejected}
    args.result.write_text(json.dumps(result))
    return 0


def main(argv: list[str]) -> int:
    """Run `wait` or `load`."""
    parser = argparse.ArgumentParser(prog="python -m tests.netns.client")
    commands = parser.add_subparsers(dest="command", required=True)
    wait = commands.add_parser("wait")
    wait.add_argument("urls", nargs="+")
    ready = commands.add_parser("ready")
    ready.add_argument("urls", nargs="+")
    run = commands.add_parser("load")
    run.add_argument("result", type=Path)
    run.add_argument("--submit", nargs="+", required=True)
    run.add_argument("--pay-through", nargs="+", default=None, help="where the payments go (default: --submit)")
    run.add_argument("--watch", nargs="+", required=True)
    run.add_argument("--keys", type=Path, required=True, help="the devnet's issuer key directory")
    run.add_argument("--duration", type=float, required=True)
    run.add_argument("--rate", type=float, required=True, help="payments offered per second (0: as fast as allowed)")
    run.add_argument("--in-flight", type=int, default=1,
                     help="uncommitted payments per account (1: closed-loop clients, as wallets pay)")
    sample = commands.add_parser("sample")
    sample.add_argument("result", type=Path)
    sample.add_argument("--watch", nargs="+", required=True)
    sample.add_argument("--duration", type=float, required=True)
    args = parser.parse_args(argv)
    if args.command == "wait":
        return 0 if asyncio.run(wait_for_nodes(args.urls)) else 1
    if args.command == "ready":
        print(json.dumps(asyncio.run(get_readiness(args.urls))))
        return 0
    if args.command == "sample":
        args.result.with_suffix(".started").write_text(str(time.time()))
        started, samples = asyncio.run(sample_rounds(args.watch, args.duration))
        args.result.write_text(json.dumps({"started_wall_s": started, "samples": samples}))
        return 0
    return load(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
