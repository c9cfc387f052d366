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
from pathlib import Path
from typing import Any

import aiohttp
import nacl.signing

from devnet.launcher import Devnet, call_rpc
from devnet.layout import load_issuer_keys, prepare_devnet
from devnet.manifest import Manifest
from primitives.types import AccountAddress
from contracts.transaction_builder import Account, compose_create_parent_vasp, compose_peer_to_peer

SENDER_ACCOUNTS = 64
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
    """Return user + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


def read_peak_rss_mb(pid: int) -> float:
    """Return a process's peak resident set size in MB (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def get_sequence_number(url: str, address: bytes) -> int:
    """Return an account's next sequence number."""
    account = call_rpc(url, "get_account", [address.hex()])["result"]
    return 0 if account is None else account["sequence_number"]


class Submitter:
    """Signs and submits transfers, and matches committed transactions to their submit times."""

    def __init__(self, urls: list[str], senders: list[Account], chain_id: int) -> None:
        self.urls, self.senders, self.chain_id = urls, senders, chain_id
        self.next_sequence = [0] * len(senders)
        self.committed_sequence = [0] * len(senders)
        self.pending: dict[bytes, tuple[int, float]] = {}
        self.latencies: list[float] = []
        self.submitted = self.rejected = 0
        self.next_version = 0
        self.cursor = 0

    def pick_sender(self) -> int | None:
        """Return a sender with room in flight, round robin."""
        for _ in range(len(self.senders)):
            index = self.cursor
            self.cursor = (self.cursor + 1) % len(self.senders)
            if self.next_sequence[index] - self.committed_sequence[index] < IN_FLIGHT_PER_ACCOUNT_MAX:
                return index
        return None

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

    async def submit_batch(self, session: aiohttp.ClientSession, indexes: list[int], url: str) -> None:
        """Submit one JSON-RPC batch of transfers (Diem allows up to 20 per batch)."""
        signed = [(index, *self.sign_next(index)) for index in indexes]
        async with session.post(url, json=[request for _, _, request in signed]) as response:
            answers = await response.json()
        self.submitted += len(signed)
        if not isinstance(answers, list):
            answers = [answers] * len(signed)
        for (index, txn_hash, _), answer in zip(signed, answers):
            if "error" in answer:
                self.rejected += 1
                self.pending.pop(txn_hash, None)

    async def poll_commits(self, session: aiohttp.ClientSession) -> int:
        """Read newly committed transactions from node 0; return how many were ours."""
        body = {"jsonrpc": "2.0", "id": 1, "method": "get_transactions", "params": [self.next_version, PAGE_SIZE, False]}
        async with session.post(self.urls[0], json=body) as response:
            transactions = (await response.json()).get("result") or []
        now, matched = time.perf_counter(), 0
        for transaction in transactions:
            entry = self.pending.pop(bytes.fromhex(transaction["hash"]), None)
            if entry is not None:
                index, submitted_at = entry
                self.committed_sequence[index] += 1
                self.latencies.append(now - submitted_at)
                matched += 1
        self.next_version += len(transactions)
        return matched


async def drive_load(submitter: Submitter, duration_s: float, rate_per_s: float) -> tuple[int, float]:
    """Submit for duration_s at rate_per_s (0 = as fast as possible); return (committed, elapsed)."""
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        submitter.next_version = call_rpc(submitter.urls[0], "get_metadata", [])["result"]["version"] + 1
        started, committed, budget = time.perf_counter(), 0, 0.0
        last_poll = last_tick = started
        while (now := time.perf_counter()) - started < duration_s:
            # The budget follows elapsed time, so a slow iteration never lowers the offered rate.
            budget = budget + (now - last_tick) * rate_per_s if rate_per_s else 256.0
            last_tick = now
            chosen = []
            while budget >= 1 and (index := submitter.pick_sender()) is not None:
                chosen.append(index)
                budget -= 1
            batches = [chosen[i:i + SUBMIT_BATCH_SIZE] for i in range(0, len(chosen), SUBMIT_BATCH_SIZE)]
            await asyncio.gather(*(submitter.submit_batch(session, batch, submitter.urls[n % len(submitter.urls)])
                                   for n, batch in enumerate(batches)))
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


def fund_senders(url: str, keys: dict, count: int, chain_id: int) -> list[Account]:
    """Create count parent-VASP senders (signed by treasury compliance) and fund them from the dealer."""
    from primitives.keys import PrivateKey

    treasury = Account(keys["treasury"], AccountAddress.TREASURY_COMPLIANCE.value)
    dealer = Account(keys["dealer"], AccountAddress.TESTNET_DD.value)
    senders = [Account(PrivateKey(os.urandom(32))) for _ in range(count)]
    expiration = int(time.time()) + EXPIRATION_S
    treasury_sequence = get_sequence_number(url, AccountAddress.TREASURY_COMPLIANCE.value)
    dealer_sequence = get_sequence_number(url, dealer.address)
    for offset, sender in enumerate(senders):
        payload = compose_create_parent_vasp(sender.address, sender.auth_key_prefix, f"bench {offset}".encode())
        submit_and_check(url, treasury.sign(payload, treasury_sequence + offset, expiration, chain_id))
    for offset, sender in enumerate(senders):
        payload = compose_peer_to_peer(sender.address, FUNDING_MICRO)
        submit_and_check(url, dealer.sign(payload, dealer_sequence + offset, expiration, chain_id))
    wait_for_sequence(url, dealer.address, dealer_sequence + count)
    return senders


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
              accounts: int = SENDER_ACCOUNTS, directory: Path | None = None) -> BenchResult:
    """Start a devnet, load it, and return the measurements; the devnet is always stopped."""
    root = directory or Path(tempfile.mkdtemp(prefix="stablechain-bench-"))
    manifest = Manifest(validators=validators, base_port=base_port, network_base_port=base_port - 1900,
                        rpc_client_rate_per_s=0)
    layout = prepare_devnet(root, manifest)
    urls = [manifest.get_rpc_url(i) for i in range(validators)]
    result = BenchResult(validators, duration_s, rate_per_s, machine=f"{platform.machine()} {os.cpu_count()} cores")
    result.ed25519_verifications_per_s = round(measure_ed25519_verifications_per_s())
    with Devnet(layout) as devnet:
        devnet.start()
        devnet.wait_healthy()
        senders = fund_senders(urls[0], load_issuer_keys(layout), accounts, manifest.chain_id)
        submitter = Submitter(urls, senders, manifest.chain_id)
        for index, sender in enumerate(senders):
            submitter.next_sequence[index] = submitter.committed_sequence[index] = get_sequence_number(urls[0], sender.address)
        pids = [process.pid for process in devnet.processes.values()]
        cpu_before = [read_cpu_s(pid) for pid in pids]
        committed, elapsed = asyncio.run(drive_load(submitter, duration_s, rate_per_s))
        cpu_after = [read_cpu_s(pid) for pid in pids]
        result.peak_rss_mb = [round(read_peak_rss_mb(pid), 1) for pid in pids]
    fill_result(result, submitter, committed, elapsed, cpu_before, cpu_after)
    return result


def fill_result(result: BenchResult, submitter: Submitter, committed: int, elapsed: float,
                cpu_before: list[float], cpu_after: list[float]) -> None:
    """Turn raw counts into the reported figures."""
    result.submitted, result.rejected, result.committed = submitter.submitted, submitter.rejected, committed
    result.committed_per_s = round(committed / elapsed, 1) if elapsed else 0.0
    if submitter.latencies:
        ordered = sorted(submitter.latencies)
        result.latency_p50_s = round(statistics.median(ordered), 3)
        result.latency_p99_s = round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3)
    total = max(1, len(submitter.latencies))
    result.cpu_s_per_tx = [round((after - before) / total, 6) for before, after in zip(cpu_before, cpu_after)]


def format_result(result: BenchResult, as_json: bool) -> str:
    """Render the result as JSON or as a short human summary."""
    if as_json:
        return json.dumps(asdict(result), indent=2)
    return (f"{result.committed} transfers committed in {result.duration_s:.0f} s = {result.committed_per_s} tx/s "
            f"({result.validators} validators); latency p50 {result.latency_p50_s} s, p99 {result.latency_p99_s} s; "
            f"CPU s/tx per validator {result.cpu_s_per_tx}; peak RSS MB {result.peak_rss_mb}; "
            f"ed25519 {result.ed25519_verifications_per_s:.0f} verifications/s")
