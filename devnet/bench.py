"""`stablechain bench`: committed transfers/s and submit-to-commit latency on a devnet of its own."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import nacl.signing

from contracts.transaction_builder import Account, compose_create_parent_vasp, compose_peer_to_peer
from devnet.launcher import Devnet, call_rpc
from devnet.layout import DevnetLayout, load_issuer_keys, prepare_devnet
from devnet.manifest import Manifest
from primitives.types.names import AccountAddress

# Not a hot set: every transfer goes from one of these senders to another, so a block touches many accounts.
SENDER_ACCOUNTS = 1_000
# A node that fails a request is skipped for this long (a killed or cut-off validator); its batch goes elsewhere.
NODE_RETRY_INTERVAL_S = 5.0
REQUEST_TIMEOUT_S = 3.0
# With --kill-validator-after, the rate after the kill is measured from this long after it (issue M: 10 s).
KILL_RECOVERY_S = 10.0
# The rate before the kill is measured from this long after the load starts (leaders warm up).
WARMUP_S = 5.0
SUBMIT_BATCH_SIZE = 20
IN_FLIGHT_PER_ACCOUNT_MAX = 32
FUNDING_MICRO = 1_000_000_000_000
TRANSFER_MICRO = 1
POLL_INTERVAL_S = 0.05
DRAIN_TIMEOUT_S = 15.0
SETUP_TIMEOUT_S = 60.0
TICK_S = 0.01
PAGE_SIZE = 1000
EXPIRATION_S = 600
VERIFY_SAMPLE = 3000
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass
class BenchResult:
    """What one benchmark run measured."""

    validators: int
    duration_s: float
    target_rate_per_s: float
    submitted: int = 0
    committed: int = 0
    rejected: int = 0
    committed_per_s: float = 0.0
    latency_p50_s: float | None = None
    latency_p99_s: float | None = None
    cpu_s_per_tx: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    ed25519_verifications_per_s: float = 0.0
    machine: str = ""
    # Committed transfers in each second of the load (index = second since the load started).
    timeline_per_s: list[int] = field(default_factory=list)
    # --kill-validator-after: when the last validator was killed, and the rates around it.
    kill_validator_after_s: float | None = None
    rate_before_kill_per_s: float | None = None
    rate_after_kill_per_s: float | None = None
    kill_rate_ratio: float | None = None


def measure_ed25519_verifications_per_s() -> float:
    """Return PyNaCl's strict verifications per second on this core."""
    key = nacl.signing.SigningKey(b"\x01" * 32)
    signed = key.sign(b"x" * 200)
    verify = key.verify_key
    started = time.perf_counter()
    for _ in range(VERIFY_SAMPLE):
        verify.verify(signed)
    return VERIFY_SAMPLE / (time.perf_counter() - started)


def read_cpu_s(pid: int) -> float:
    """Return user + system CPU seconds of a process (Linux /proc); 0 once it is gone (a killed validator)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


def read_peak_rss_mb(pid: int) -> float:
    """Return a process's peak resident set size in MB (VmHWM); 0 once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return 0.0
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def get_sequence_number(url: str, address: bytes) -> int:
    """Return an account's next sequence number."""
    account = call_rpc(url, "get_account", [address.hex()])["result"]
    return 0 if account is None else account["sequence_number"]


class Submitter:
    """Signs and submits transfers to the live nodes, and matches committed transactions to their submit times."""

    def __init__(self, urls: list[str], senders: list[Account], chain_id: int,
                 in_flight_per_account: int = IN_FLIGHT_PER_ACCOUNT_MAX) -> None:
        self.urls, self.senders, self.chain_id = urls, senders, chain_id
        # 1 makes each account a closed-loop client: it pays again once its payment committed.
        self.in_flight_per_account = in_flight_per_account
        self.next_sequence = [0] * len(senders)
        self.committed_sequence = [0] * len(senders)
        self.pending: dict[bytes, tuple[int, float]] = {}
        self.latencies: list[float] = []
        self.submitted = self.rejected = 0
        self.next_version = 0
        self.cursor = 0
        self.url_cursor = 0
        self.down_until: dict[str, float] = {}  # url -> monotonic time before which it is skipped
        self.started = time.perf_counter()
        self.timeline: list[int] = []  # committed transfers per second since `started`

    def pick_sender(self) -> int | None:
        """Return a sender with room in flight, round robin."""
        for _ in range(len(self.senders)):
            index = self.cursor
            self.cursor = (self.cursor + 1) % len(self.senders)
            if self.next_sequence[index] - self.committed_sequence[index] < self.in_flight_per_account:
                return index
        return None

    def get_live_urls(self) -> list[str]:
        """Return the nodes not known to be down (all of them if every one failed lately)."""
        now = time.monotonic()
        live = [url for url in self.urls if self.down_until.get(url, 0.0) <= now]
        return live or list(self.urls)

    def pick_url(self) -> str:
        """Return the next live node, round robin."""
        live = self.get_live_urls()
        self.url_cursor += 1
        return live[self.url_cursor % len(live)]

    def mark_down(self, url: str) -> None:
        """Skip a node that failed a request for a while (it was killed or cut off)."""
        self.down_until[url] = time.monotonic() + NODE_RETRY_INTERVAL_S

    def sign_next(self, index: int) -> tuple[bytes, dict]:
        """Sign the sender's next transfer; return its hash and the JSON-RPC submit request."""
        sender, sequence = self.senders[index], self.next_sequence[index]
        payee = self.senders[(index + 1) % len(self.senders)].address
        signed = sender.sign(compose_peer_to_peer(payee, TRANSFER_MICRO), sequence, int(time.time()) + EXPIRATION_S,
                             chain_id=self.chain_id)
        self.next_sequence[index] += 1
        self.pending[signed.hash()] = (index, time.perf_counter())
        return signed.hash(), {"jsonrpc": "2.0", "id": len(self.pending), "method": "submit",
                               "params": [signed.to_bcs().hex()]}

    async def submit_batch(self, session: aiohttp.ClientSession, signed: list[tuple[int, bytes, dict]]) -> None:
        """Submit one JSON-RPC batch of signed transfers (Diem allows up to 20 per batch) to a live node."""
        answers = await self.post_to_live_node(session, [request for _, _, request in signed])
        self.submitted += len(signed)
        if not isinstance(answers, list):
            answers = [answers] * len(signed)
        for (index, txn_hash, _), answer in zip(signed, answers):
            if "error" in answer:
                self.rejected += 1
                self.pending.pop(txn_hash, None)

    async def post_to_live_node(self, session: aiohttp.ClientSession, body: object) -> object:
        """POST body to a live node; a node that fails is skipped and the same signed body goes to the next."""
        for _ in range(len(self.urls)):
            url = self.pick_url()
            try:
                async with session.post(url, json=body, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)) as response:
                    return await response.json()
            except (aiohttp.ClientError, asyncio.TimeoutError):
                self.mark_down(url)
        return {"error": "no node answered"}

    async def poll_commits(self, session: aiohttp.ClientSession) -> int:
        """Read newly committed transactions from a live node; return how many were ours."""
        body = {"jsonrpc": "2.0", "id": 1, "method": "get_transactions", "params": [self.next_version, PAGE_SIZE, False]}
        answer = await self.post_to_live_node(session, body)
        transactions = (answer.get("result") if isinstance(answer, dict) else None) or []
        now, matched = time.perf_counter(), 0
        for transaction in transactions:
            entry = self.pending.pop(bytes.fromhex(transaction["hash"]), None)
            if entry is not None:
                index, submitted_at = entry
                self.committed_sequence[index] += 1
                self.latencies.append(now - submitted_at)
                matched += 1
        self.next_version += len(transactions)
        self.record_commits(now, matched)
        return matched

    def record_commits(self, now: float, count: int) -> None:
        """Add committed transfers to the second they were seen in."""
        second = int(now - self.started)
        while len(self.timeline) <= second:
            self.timeline.append(0)
        self.timeline[second] += count


async def drive_load(submitter: Submitter, duration_s: float, rate_per_s: float,
                     on_tick: Callable[[float], None] | None = None) -> tuple[int, float]:
    """Submit for duration_s at rate_per_s (0 = as fast as possible); return (committed, elapsed).

    on_tick(elapsed_s) runs every tick (e.g. to kill a validator at a given second).
    """
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        submitter.next_version = call_rpc(submitter.get_live_urls()[0], "get_metadata", [])["result"]["version"] + 1
        started, committed, budget = time.perf_counter(), 0, 0.0
        submitter.started = started
        last_poll = last_tick = started
        while (now := time.perf_counter()) - started < duration_s:
            if on_tick is not None:
                on_tick(now - started)
            # The budget follows elapsed time, so a slow iteration never lowers the offered rate.
            budget = budget + (now - last_tick) * rate_per_s if rate_per_s else 256.0
            last_tick = now
            chosen = []
            while budget >= 1 and (index := submitter.pick_sender()) is not None:
                chosen.append((index, *submitter.sign_next(index)))  # signing takes the account's room in flight
                budget -= 1
            batches = [chosen[i:i + SUBMIT_BATCH_SIZE] for i in range(0, len(chosen), SUBMIT_BATCH_SIZE)]
            await asyncio.gather(*(submitter.submit_batch(session, batch) for batch in batches))
            if now - last_poll >= POLL_INTERVAL_S:
                committed += await submitter.poll_commits(session)
                last_poll = now
            await asyncio.sleep(TICK_S)
        elapsed = time.perf_counter() - started
        drain_deadline = time.perf_counter() + DRAIN_TIMEOUT_S
        while submitter.pending and time.perf_counter() < drain_deadline:
            await submitter.poll_commits(session)
            await asyncio.sleep(POLL_INTERVAL_S)
        return committed, elapsed


FUNDING_CHUNK_TRANSACTIONS = 90


def fund_senders(url: str, keys: dict, count: int, chain_id: int) -> list[Account]:
    """Create count parent-VASP senders (signed by treasury compliance) and fund them from the dealer."""
    from primitives.keys import PrivateKey

    treasury = Account(keys["treasury"], AccountAddress.TREASURY_COMPLIANCE.value)
    dealer = Account(keys["dealer"], AccountAddress.TESTNET_DD.value)
    senders = [Account(PrivateKey(os.urandom(32))) for _ in range(count)]
    expiration = int(time.time()) + EXPIRATION_S
    treasury_sequence = get_sequence_number(url, AccountAddress.TREASURY_COMPLIANCE.value)
    dealer_sequence = get_sequence_number(url, dealer.address)
    # An account may have at most capacity_per_account (100) transactions waiting: submit in chunks below it.
    for first in range(0, count, FUNDING_CHUNK_TRANSACTIONS):
        chunk = range(first, min(count, first + FUNDING_CHUNK_TRANSACTIONS))
        for offset in chunk:
            sender = senders[offset]
            payload = compose_create_parent_vasp(sender.address, sender.auth_key_prefix, f"bench {offset}".encode())
            submit_and_check(url, treasury.sign(payload, treasury_sequence + offset, expiration, chain_id))
        for offset in chunk:
            payload = compose_peer_to_peer(senders[offset].address, FUNDING_MICRO)
            submit_and_check(url, dealer.sign(payload, dealer_sequence + offset, expiration, chain_id))
        wait_for_sequence(url, dealer.address, dealer_sequence + chunk.stop)
    return senders


def make_bench_layout(root: Path, validators: int, base_port: int) -> DevnetLayout:
    """Lay out a benchmark's own devnet: JSON-RPC from base_port, peers 1,900 ports below, no client rate limit."""
    manifest = Manifest(validators=validators, base_port=base_port, network_base_port=base_port - 1900,
                        rpc_client_rate_per_s=0)
    return prepare_devnet(root, manifest)


def make_funded_submitter(layout: DevnetLayout, accounts: int,
                          in_flight_per_account: int = IN_FLIGHT_PER_ACCOUNT_MAX) -> Submitter:
    """Fund `accounts` senders through node 0 and return a submitter over every node, at their sequence numbers."""
    manifest = layout.manifest
    urls = [manifest.get_rpc_url(i) for i in range(manifest.validators)]
    senders = fund_senders(urls[0], load_issuer_keys(layout), accounts, manifest.chain_id)
    submitter = Submitter(urls, senders, manifest.chain_id, in_flight_per_account)
    for index, sender in enumerate(senders):
        submitter.next_sequence[index] = submitter.committed_sequence[index] = get_sequence_number(
            urls[0], sender.address)
    return submitter


def submit_and_check(url: str, signed: Any) -> None:
    """Submit one transaction and fail loudly if the node refuses it."""
    answer = call_rpc(url, "submit", [signed.to_bcs().hex()])
    if "error" in answer:
        raise RuntimeError(f"setup transaction refused: {answer['error']}")


def wait_for_sequence(url: str, address: bytes, sequence: int) -> None:
    """Wait until an account's sequence number reaches sequence."""
    deadline = time.monotonic() + SETUP_TIMEOUT_S
    while get_sequence_number(url, address) < sequence:
        if time.monotonic() > deadline:
            raise RuntimeError(f"setup transactions of {address.hex()} did not commit in {SETUP_TIMEOUT_S} s")
        time.sleep(POLL_INTERVAL_S)


def run_bench(validators: int, duration_s: float, rate_per_s: float, base_port: int,
              accounts: int = SENDER_ACCOUNTS, directory: Path | None = None,
              kill_validator_after_s: float | None = None,
              in_flight_per_account: int = IN_FLIGHT_PER_ACCOUNT_MAX) -> BenchResult:
    """Start a devnet, load it (killing the last validator after kill_validator_after_s), return the measurements."""
    root = directory or Path(tempfile.mkdtemp(prefix="stablechain-bench-"))
    layout = make_bench_layout(root, validators, base_port)
    result = BenchResult(validators, duration_s, rate_per_s, machine=f"{platform.machine()} {os.cpu_count()} cores",
                         kill_validator_after_s=kill_validator_after_s)
    result.ed25519_verifications_per_s = round(measure_ed25519_verifications_per_s())
    with Devnet(layout) as devnet:
        devnet.start()
        devnet.wait_healthy()
        submitter = make_funded_submitter(layout, accounts, in_flight_per_account)
        pids = [process.pid for process in devnet.processes.values()]
        cpu_before = [read_cpu_s(pid) for pid in pids]
        on_tick = make_killer(devnet, validators - 1, kill_validator_after_s)
        committed, elapsed = asyncio.run(drive_load(submitter, duration_s, rate_per_s, on_tick))
        cpu_after = [read_cpu_s(pid) for pid in pids]
        result.peak_rss_mb = [round(read_peak_rss_mb(pid), 1) for pid in pids]
    fill_result(result, submitter, committed, elapsed, cpu_before, cpu_after)
    return result


def make_killer(devnet: Devnet, index: int, after_s: float | None) -> Callable[[float], None] | None:
    """Return an on_tick callback that SIGKILLs validator index once after_s seconds of load passed."""
    if after_s is None:
        return None
    killed = False

    def on_tick(elapsed_s: float) -> None:
        nonlocal killed
        if not killed and elapsed_s >= after_s:
            devnet.kill_node(index)
            killed = True

    return on_tick


def compute_kill_rates(timeline: list[int], kill_after_s: float) -> tuple[float, float]:
    """Return the committed rates before the kill (after the warm-up) and from KILL_RECOVERY_S after it to the end."""
    kill_second = int(kill_after_s)
    before = timeline[int(WARMUP_S):kill_second]
    after = timeline[kill_second + int(KILL_RECOVERY_S):]
    return (sum(before) / len(before) if before else 0.0), (sum(after) / len(after) if after else 0.0)


def fill_result(result: BenchResult, submitter: Submitter, committed: int, elapsed: float,
                cpu_before: list[float], cpu_after: list[float]) -> None:
    """Turn raw counts into the reported figures."""
    result.submitted, result.rejected, result.committed = submitter.submitted, submitter.rejected, committed
    result.committed_per_s = round(committed / elapsed, 1) if elapsed else 0.0
    if submitter.latencies:
        ordered = sorted(submitter.latencies)
        result.latency_p50_s = round(statistics.median(ordered), 3)
        result.latency_p99_s = round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3)
    result.timeline_per_s = list(submitter.timeline[:int(elapsed) + 1])
    if result.kill_validator_after_s is not None:
        before, after = compute_kill_rates(result.timeline_per_s[:int(elapsed)], result.kill_validator_after_s)
        result.rate_before_kill_per_s, result.rate_after_kill_per_s = round(before, 1), round(after, 1)
        result.kill_rate_ratio = round(after / before, 3) if before else None
    total = max(1, len(submitter.latencies))
    result.cpu_s_per_tx = [round(max(0.0, after - before) / total, 6) for before, after in zip(cpu_before, cpu_after)]


def format_result(result: BenchResult, as_json: bool) -> str:
    """Render the result as JSON or as a short human summary."""
    if as_json:
        return json.dumps(asdict(result), indent=2)
    kill = "" if result.kill_validator_after_s is None else (
        f"; validator {result.validators - 1} killed after {result.kill_validator_after_s:g} s: "
        f"{result.rate_before_kill_per_s} tx/s before, {result.rate_after_kill_per_s} tx/s from "
        f"{KILL_RECOVERY_S:g} s after it ({result.kill_rate_ratio:.0%})")
    return (f"{result.committed} transfers committed in {result.duration_s:.0f} s = {result.committed_per_s} tx/s "
            f"({result.validators} validators); latency p50 {result.latency_p50_s} s, p99 {result.latency_p99_s} s; "
            f"CPU s/tx per validator {result.cpu_s_per_tx}; peak RSS MB {result.peak_rss_mb}; "
            f"ed25519 {result.ed25519_verifications_per_s:.0f} verifications/s{kill}")
