"""Test servers on 127.0.0.1: the real JSON-RPC app (proof methods and faucet included) over a certified
in-memory chain, a block producer that commits whatever is queued, and a tampering proxy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import aiohttp
from aiohttp import web

from node.config import MAX_BATCH_SIZE, MAX_REQUEST_BODY_BYTES
from node.rpc.faucet import Faucet
from node.rpc.methods import create_dispatcher
from node.rpc.server import create_app
from tests.node.rpc.memory_ledger import CHAIN_ID
from tests.wallet.chain import ProvenLedger

COMMIT_INTERVAL_S = 0.02


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve app on 127.0.0.1 at a free port; return the runner and the base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


class TestNode:
    """The JSON-RPC app, the faucet and a block producer over one ProvenLedger."""

    __test__ = False

    def __init__(self, ledger: ProvenLedger | None = None) -> None:
        self.ledger = ledger or ProvenLedger()
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.producer: asyncio.Task | None = None

    async def start(self) -> str:
        ledger = self.ledger
        dispatcher = create_dispatcher(ledger, ledger.submit, MAX_BATCH_SIZE, MAX_REQUEST_BODY_BYTES)
        faucet = Faucet(ledger, ledger.submit, ledger.keys["treasury"], ledger.keys["dealer"], CHAIN_ID)
        self.runner, self.url = await start_app(create_app(dispatcher, faucet))
        self.producer = asyncio.create_task(self._produce())
        return self.url + "/v1"

    async def _produce(self) -> None:
        while True:
            await asyncio.sleep(COMMIT_INTERVAL_S)
            if self.ledger.mempool:
                self.ledger.commit_block()

    async def stop(self) -> None:
        if self.producer is not None:
            self.producer.cancel()
        if self.runner is not None:
            await self.runner.cleanup()


Tamper = Callable[[str, list, dict], dict]


class TamperingProxy:
    """Forwards JSON-RPC to upstream and lets a test rewrite each response (method, params, body)."""

    __test__ = False

    def __init__(self, upstream_url: str) -> None:
        self.upstream_url = upstream_url
        self.tamper: Tamper | None = None
        self.url = ""
        self.runner: web.AppRunner | None = None
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        self.session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/v1", self._handle)
        self.runner, url = await start_app(app)
        return url + "/v1"

    async def _handle(self, request: web.Request) -> web.Response:
        payload = await request.json()
        async with self.session.post(self.upstream_url, json=payload) as upstream:  # type: ignore[union-attr]
            body = await upstream.json()
        if self.tamper is not None and isinstance(payload, dict) and "result" in body:
            body = self.tamper(payload["method"], payload.get("params", []), body)
        return web.Response(text=json.dumps(body), content_type="application/json")

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.runner is not None:
            await self.runner.cleanup()
