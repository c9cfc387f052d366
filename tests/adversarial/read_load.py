"""Client-side load for the live read tests: a ledger worth reading, a read flood, a polling wallet, block counts."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from dataclasses import dataclass, field

import aiohttp

from contracts.transaction_builder import Account, compose_peer_to_peer
from devnet.bench import fund_senders, get_sequence_number, wait_for_sequence
from devnet.launcher import call_rpc
from devnet.layout import DevnetLayout, load_issuer_keys
from node.rpc.jsonrpc import BATCH_PAGE_ITEMS_MAX, RATE_LIMITED, compute_request_cost
from node.rpc.streams import STREAM_PATH
from primitives.types.names import AccountAddress

# The wallet of item 6: a dozen accounts, each polled every 100 ms with the MiniWallet's get_events page of 100.
WALLET_ACCOUNTS = 12
WALLET_POLL_INTERVAL_S = 0.1
WALLET_EVENTS_PAGE = 100
# Dealer payments to the wallet accounts, so pages of 1,000 transactions with events are full.
PAYMENTS = 1_200
# Below the mempool's 100 transactions per account, in JSON-RPC batches of 20.
PAYMENT_CHUNK = 80
SUBMIT_BATCH = 20
PAGE_ITEMS = 1_000
EXPIRATION_S = 600
REQUEST_TIMEOUT_S = 30.0


@dataclass
class ReadTargets:
    """What the flood and the wallet read: the payer (dealer) and its payees, with their event keys."""

    dealer: bytes
    dealer_sent_key: str
    received_keys: list[str]
    latest_version: int


def post_json(url: str, body: object) -> object:
    """POST a JSON-RPC body and return the decoded answer."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
        return json.loads(response.read())


def fill_ledger(layout: DevnetLayout, url: str) -> ReadTargets:
    """Create WALLET_ACCOUNTS funded accounts and pay them PAYMENTS times from the dealer; return what to read."""
    chain_id = layout.manifest.chain_id
    keys = load_issuer_keys(layout)
    payees = fund_senders(url, keys, WALLET_ACCOUNTS, chain_id)
    dealer = Account(keys["dealer"], AccountAddress.TESTNET_DD.value)
    sequence = get_sequence_number(url, dealer.address)
    expiration = int(time.time()) + EXPIRATION_S
    for first in range(0, PAYMENTS, PAYMENT_CHUNK):
        signed = [dealer.sign(compose_peer_to_peer(payees[i % WALLET_ACCOUNTS].address, 1), sequence + i, expiration,
                              chain_id) for i in range(first, min(PAYMENTS, first + PAYMENT_CHUNK))]
        for start in range(0, len(signed), SUBMIT_BATCH):
            answers = post_json(url, [{"jsonrpc": "2.0", "id": i, "method": "submit", "params": [s.to_bcs().hex()]}
                                      for i, s in enumerate(signed[start:start + SUBMIT_BATCH])])
            refused = [answer for answer in answers if "error" in answer]  # type: ignore[union-attr]
            assert not refused, refused
        wait_for_sequence(url, dealer.address, sequence + first + len(signed))
    accounts = [call_rpc(url, "get_account", [payee.address.hex()])["result"] for payee in payees]
    dealer_view = call_rpc(url, "get_account", [dealer.address.hex()])["result"]
    return ReadTargets(dealer.address, dealer_view["sent_events_key"],
                       [account["received_events_key"] for account in accounts],
                       call_rpc(url, "get_metadata", [])["result"]["version"])


def compose_heavy_bodies(targets: ReadTargets) -> list[list[dict]]:
    """Return batches that each ask for the most items one body may (BATCH_PAGE_ITEMS_MAX), all with events."""
    def request(method: str, page: int, params: list) -> dict:
        return {"jsonrpc": "2.0", "id": page, "method": method, "params": params}

    pages = range(BATCH_PAGE_ITEMS_MAX // PAGE_ITEMS)
    dealer = targets.dealer.hex()
    return [
        [request("get_transactions", i, [1 + i * PAGE_ITEMS, PAGE_ITEMS, True]) for i in pages],
        [request("get_account_transactions", i, [dealer, i * PAGE_ITEMS, PAGE_ITEMS, True]) for i in pages],
        [request("get_events", i, [targets.dealer_sent_key, i * PAGE_ITEMS, PAGE_ITEMS]) for i in pages],
    ]


@dataclass
class FloodCounts:
    """What a read flood got answered."""

    bodies: int = 0
    response_bytes: int = 0
    stream_items: int = 0
    errors: list[str] = field(default_factory=list)


async def flood_reads(urls: list[str], bodies: list[list[dict]], clients_per_node: int,
                      duration_s: float) -> FloodCounts:
    """Send heavy bodies from clients_per_node concurrent clients to every node, plus a stream replaying the whole
    ledger on each, for duration_s; return what was answered."""
    counts = FloodCounts()
    deadline = time.monotonic() + duration_s
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        clients = [send_heavy(session, url, bodies, offset, deadline, counts)
                   for url in urls for offset in range(clients_per_node)]
        streams = [replay_streams(session, url, deadline, counts) for url in urls]
        await asyncio.gather(*clients, *streams)
    return counts


async def send_heavy(session: aiohttp.ClientSession, url: str, bodies: list[list[dict]], offset: int,
                     deadline: float, counts: FloodCounts) -> None:
    """POST the heavy bodies in turn until deadline, reading each answer whole (not decoding it)."""
    turn = offset
    while time.monotonic() < deadline:
        try:
            async with session.post(url, json=bodies[turn % len(bodies)]) as response:
                counts.response_bytes += len(await response.read())
                counts.bodies += 1
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            counts.errors.append(repr(error))
        turn += 1


async def replay_streams(session: aiohttp.ClientSession, url: str, deadline: float, counts: FloodCounts) -> None:
    """Subscribe to every transaction with events from version 0, over and over, until deadline."""
    subscription = 0
    async with session.ws_connect(url.removesuffix("/v1") + STREAM_PATH) as socket:
        while time.monotonic() < deadline:
            subscription += 1
            await socket.send_json({"jsonrpc": "2.0", "id": subscription, "method": "subscribe_to_transactions",
                                    "params": {"starting_version": 0, "include_events": True}})
            tip = None
            while time.monotonic() < deadline:
                try:
                    message = await socket.receive_json(timeout=max(0.1, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    return
                result = message.get("result") or {}
                if message.get("id") != subscription:
                    continue
                if tip is None:
                    tip = result.get("transaction_version", 0)
                    continue
                counts.stream_items += 1
                if result.get("version", 0) >= tip:
                    break
            await socket.send_json({"jsonrpc": "2.0", "id": subscription, "method": "unsubscribe"})


@dataclass
class PollCounts:
    """What a polling wallet was answered: requests, the rate-limit tokens they cost, refusals and failures."""

    requests: int = 0
    tokens: int = 0
    refused: int = 0
    failed: list[str] = field(default_factory=list)


async def poll_wallet(url: str, received_keys: list[str], duration_s: float, client_host: str) -> PollCounts:
    """Poll each account's received events every WALLET_POLL_INTERVAL_S, one request per poll (as the Diem SDK's
    MiniWallet does), from client_host, for duration_s."""
    counts = PollCounts()
    deadline = time.monotonic() + duration_s
    connector = aiohttp.TCPConnector(local_addr=(client_host, 0))
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as session:
        await asyncio.gather(*(poll_account(session, url, key, deadline, counts) for key in received_keys))
    return counts


async def poll_account(session: aiohttp.ClientSession, url: str, key: str, deadline: float, counts: PollCounts) -> None:
    """Poll one event stream from its next sequence number on, every WALLET_POLL_INTERVAL_S, until deadline."""
    next_sequence, tick = 0, time.monotonic()
    while tick < deadline:
        params = [key, next_sequence, WALLET_EVENTS_PAGE]
        request = {"jsonrpc": "2.0", "id": 1, "method": "get_events", "params": params}
        counts.requests += 1
        counts.tokens += compute_request_cost(request)
        try:
            async with session.post(url, json=request) as response:
                answer = await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            counts.failed.append(repr(error))
        else:
            if answer.get("error", {}).get("code") == RATE_LIMITED:
                counts.refused += 1
            elif "error" in answer:
                counts.failed.append(str(answer["error"]))
            else:
                next_sequence += len(answer["result"])
        # A late poll is not made up for (the MiniWallet sleeps after each sweep): never more than one per interval.
        tick = max(tick + WALLET_POLL_INTERVAL_S, time.monotonic())
        await asyncio.sleep(tick - time.monotonic())


def get_block_times_s(url: str, from_version: int) -> list[float]:
    """Return the proposal time (the ledger clock, seconds) of every block committed from from_version on."""
    times: list[float] = []
    version = from_version
    while True:
        page = call_rpc(url, "get_transactions", [version, PAGE_ITEMS, False], timeout_s=REQUEST_TIMEOUT_S)["result"]
        times += [item["transaction"]["timestamp_usecs"] / 1e6 for item in page
                  if item["transaction"]["type"] == "blockmetadata"]
        if len(page) < PAGE_ITEMS:
            return times
        version += len(page)


def count_rate_per_s(times_s: list[float], window: tuple[float, float]) -> float:
    """Return blocks per second proposed within a window of wall-clock seconds."""
    start, end = window
    return sum(start <= t < end for t in times_s) / (end - start)
