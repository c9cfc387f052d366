"""Items 4, 5 and 6: connection caps with no idle socket held, per-client WebSocket caps, reads charged by cost,
batches that let consensus run between their items, and a devnet that never refuses its own local clients."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
from aiohttp import web

from devnet.layout import LOOPBACK_HOSTS, prepare_devnet
from devnet.manifest import Manifest
from node.config import load_config
from node.rpc.connlimit import ConnectionLimits, LimitedSite
from node.rpc.jsonrpc import BATCH_PAGE_ITEMS_MAX, INVALID_REQUEST, PAGE_ITEMS_PER_TOKEN, compute_request_cost
from node.rpc.ratelimit import DEFAULT_CLIENT_BURST, DEFAULT_CLIENT_RATE_PER_S, RateLimiter
from node.rpc.streams import STREAM_PATH, StreamLimits
from tests.node.rpc.harness import open_chain

IDLE_SOCKETS = 2_000


async def healthy(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def serve_healthy(limits: ConnectionLimits) -> tuple[web.AppRunner, LimitedSite]:
    app = web.Application()
    app.router.add_get("/-/healthy", healthy)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = LimitedSite(runner, "127.0.0.1", 0, limits)
    await site.start()
    return runner, site


async def test_two_thousand_idle_sockets_from_one_client_neither_exhaust_descriptors_nor_block_others() -> None:
    limits = ConnectionLimits(total_max=1_024, per_client_max=256)
    runner, site = await serve_healthy(limits)
    sockets = []
    try:
        for _ in range(IDLE_SOCKETS):
            sockets.append(await asyncio.open_connection("127.0.0.1", site.get_port()))
        await asyncio.sleep(0.1)
        gate = site.gate
        assert gate is not None and gate.counts.total <= limits.per_client_max, "the listener holds at most its cap"
        assert gate.counts.refused >= IDLE_SOCKETS - limits.per_client_max
        # Another client (127.0.0.2 is loopback too) is still served.
        connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get(f"http://127.0.0.1:{site.get_port()}/-/healthy") as response:
                assert response.status == 200 and await response.text() == "ok"
    finally:
        for _, writer in sockets:
            writer.close()
        await runner.cleanup()


async def test_a_socket_that_sends_nothing_is_closed_after_the_first_byte_timeout() -> None:
    limits = ConnectionLimits(total_max=10, per_client_max=10, first_byte_timeout_s=0.2)
    runner, site = await serve_healthy(limits)
    try:
        idle = [await asyncio.open_connection("127.0.0.1", site.get_port()) for _ in range(5)]
        for reader, _ in idle:
            assert await asyncio.wait_for(reader.read(), 5) == b"", "the listener hung up"
        assert site.gate is not None and site.gate.counts.total == 0 and site.gate.counts.closed_idle == 5
    finally:
        await runner.cleanup()


async def test_one_client_cannot_take_every_websocket_slot() -> None:
    async with open_chain(stream_limits=StreamLimits(connections_per_client_max=2)) as chain:
        first = await chain.client.ws_connect(STREAM_PATH)
        second = await chain.client.ws_connect(STREAM_PATH)
        response = await chain.client.get(STREAM_PATH, headers={"Connection": "Upgrade", "Upgrade": "websocket",
                                                                 "Sec-WebSocket-Version": "13",
                                                                 "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        assert response.status == 429 and "limit 2" in (await response.json())["error"]["message"]
        await first.close()
        await second.close()


def test_a_request_costs_by_the_items_it_asks_for() -> None:
    page = {"jsonrpc": "2.0", "id": 1, "method": "get_transactions", "params": [0, 1_000, True]}
    assert compute_request_cost(page) == 1 + 1_000 // PAGE_ITEMS_PER_TOKEN
    assert compute_request_cost({"jsonrpc": "2.0", "id": 1, "method": "get_metadata", "params": []}) == 1


async def test_a_batch_of_heavy_pages_is_refused_and_charged_by_its_items() -> None:
    limiter = RateLimiter(rate_per_s=0.001, burst=30)
    async with open_chain(rate_limiter=limiter) as chain:
        heavy = [{"jsonrpc": "2.0", "id": i, "method": "get_transactions", "params": [0, 1_000, True]}
                 for i in range(20)]
        answer = await (await chain.client.post("/v1", json=heavy)).json()
        assert answer["error"]["code"] == INVALID_REQUEST and str(BATCH_PAGE_ITEMS_MAX) in answer["error"]["message"]
        polls = [{"jsonrpc": "2.0", "id": i, "method": "get_events", "params": ["00" * 24, 0, 10]} for i in range(12)]
        assert isinstance(await (await chain.client.post("/v1", json=polls)).json(), list)
        again = await (await chain.client.post("/v1", json=polls * 2)).json()
        assert again["error"]["code"] == -32020, "a batch is charged by its items (12 + 24 > a burst of 30)"


def test_a_devnet_on_loopback_never_rate_limits_its_local_clients(tmp_path: Path) -> None:
    layout = prepare_devnet(tmp_path / "devnet", Manifest(validators=1))
    config = load_config(layout.validators[0].config_path)
    assert set(config.rpc.client_rate_exempt_hosts) == set(LOOPBACK_HOSTS)
    # Production defaults stay on for everyone else: a wallet backend polling a dozen accounts every 100 ms
    # (120 requests/s) from one host is over DEFAULT_CLIENT_RATE_PER_S, as docs/json-rpc.md says.
    assert (config.rpc.client_rate_per_s, config.rpc.client_burst) == (DEFAULT_CLIENT_RATE_PER_S, DEFAULT_CLIENT_BURST)
    assert json.dumps(sorted(config.rpc.client_rate_exempt_hosts))
