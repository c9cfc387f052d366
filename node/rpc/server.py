"""The aiohttp front door: JSON-RPC on `/` and `/v1`, health check, faucet, WebSocket streams, per-client rate limits."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from aiohttp import web

from node.config import RpcConfig
from node.rpc.faucet import Faucet
from node.rpc.jsonrpc import RATE_LIMITED, Charge, Dispatcher, LedgerSnapshot
from node.rpc.ledger import LedgerReader
from node.rpc.pacing import encode_answer
from node.rpc.ratelimit import RateLimiter
from node.rpc.streams import STREAM_PATH, StreamHub, StreamLimits

HEALTHY_BODY = "diem-node:ok"
JSON_CONTENT_TYPE = "application/json"
# aiohttp refuses larger bodies before we read them; our dispatcher then answers with -32600.
BODY_READ_SLACK_BYTES = 1024
MS_PER_S = 1000
STREAM_HUB_KEY = web.AppKey("stream_hub", StreamHub)


def get_client_key(request: web.Request) -> str:
    """Return the key a client is rate-limited by: its IP address."""
    return request.remote or ""


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(dispatcher: Dispatcher, faucet: Faucet | None = None, *, ledger: LedgerReader | None = None,
               rate_limiter: RateLimiter | None = None, stream_limits: StreamLimits | None = None) -> web.Application:
    """Return the aiohttp app: JSON-RPC, the faucet on POST /mint (if any), streams on GET /v1/stream/ws
    (if a ledger is given), all under the per-client rate limiter (if any)."""
    app = web.Application(client_max_size=dispatcher.body_bytes_max + BODY_READ_SLACK_BYTES)

    def get_charge(request: web.Request) -> Charge | None:
        if rate_limiter is None:
            return None
        client = get_client_key(request)
        return lambda cost: rate_limiter.charge(client, cost)

    async def handle_rpc(request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            body = b" " * (dispatcher.body_bytes_max + 1)
        answer = await dispatcher.dispatch(body, get_charge(request))
        snapshot = _get_snapshot_of(answer)
        response = web.Response(
            body=(await encode_answer(answer, dispatcher.pacer)).encode(),
            content_type=JSON_CONTENT_TYPE,
        )
        if snapshot is not None:
            response.headers.update(compose_headers(snapshot))
        retry_after_ms = _get_retry_after_ms(answer)
        if retry_after_ms is not None:
            response.headers["Retry-After"] = str(math.ceil(retry_after_ms / MS_PER_S))
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    async def handle_options(_request: web.Request) -> web.Response:
        return web.Response(headers=compose_cors_headers())

    async def handle_healthy(_request: web.Request) -> web.Response:
        return web.Response(text=HEALTHY_BODY)

    for path in ("/", "/v1"):
        app.router.add_post(path, handle_rpc)
        app.router.add_route("OPTIONS", path, handle_options)
    app.router.add_get("/-/healthy", handle_healthy)
    if faucet is not None:
        app.router.add_post("/mint", _limit_faucet(faucet.handle, faucet.limiter or rate_limiter))
    if ledger is not None:
        _add_streams(app, StreamHub(ledger, stream_limits or StreamLimits(),
                                    None if rate_limiter is None else rate_limiter.charge, dispatcher.pacer))
    return app


def create_probe_app() -> web.Application:
    """Return the app of a node whose JSON-RPC is off: the liveness probe only (the service adds the rest)."""
    app = web.Application()

    async def handle_healthy(_request: web.Request) -> web.Response:
        return web.Response(text=HEALTHY_BODY)

    app.router.add_get("/-/healthy", handle_healthy)
    return app


def create_app_from_config(rpc: RpcConfig, dispatcher: Dispatcher, faucet: Faucet | None,
                           ledger: LedgerReader) -> web.Application:
    """Return the app with the limits of an RpcConfig (node/config.py)."""
    limiter = RateLimiter(rpc.client_rate_per_s, rpc.client_burst, exempt=frozenset(rpc.client_rate_exempt_hosts))
    limits = StreamLimits(rpc.stream_subscriptions_per_connection_max, rpc.stream_subscriptions_max,
                          rpc.stream_connections_max, rpc.stream_connections_per_client_max)
    return create_app(dispatcher, faucet, ledger=ledger, rate_limiter=limiter, stream_limits=limits)


def _add_streams(app: web.Application, hub: StreamHub) -> None:
    app[STREAM_HUB_KEY] = hub
    app.router.add_get(STREAM_PATH, hub.handle)

    async def start(_app: web.Application) -> None:
        hub.start()

    async def stop(_app: web.Application) -> None:
        await hub.stop()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)


def _limit_faucet(handle: Handler, rate_limiter: RateLimiter | None) -> Handler:
    """Wrap the faucet's handler: a client over its rate gets HTTP 429 (the faucet speaks HTTP statuses)."""
    if rate_limiter is None:
        return handle

    async def handle_limited(request: web.Request) -> web.StreamResponse:
        retry_after_ms = rate_limiter.charge(get_client_key(request), 1)
        if retry_after_ms is not None:
            return web.Response(status=429, text=f"rate limit exceeded, retry after {retry_after_ms} ms",
                                headers={"Retry-After": str(math.ceil(retry_after_ms / MS_PER_S))})
        return await handle(request)

    return handle_limited


def _get_retry_after_ms(answer: object) -> int | None:
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict) or error.get("code") != RATE_LIMITED or not isinstance(error.get("data"), dict):
        return None
    return error["data"].get("retry_after_ms")


def _get_snapshot_of(answer: object) -> LedgerSnapshot | None:
    first = answer[0] if isinstance(answer, list) and answer else answer
    if not isinstance(first, dict) or "diem_chain_id" not in first:
        return None
    return LedgerSnapshot(
        first["diem_chain_id"], first["diem_ledger_version"], first["diem_ledger_timestampusec"]
    )


def compose_headers(snapshot: LedgerSnapshot) -> dict[str, str]:
    """Return Diem's X-Diem-* response headers for a snapshot."""
    return {
        "X-Diem-Chain-Id": str(snapshot.chain_id),
        "X-Diem-Ledger-Version": str(snapshot.version),
        "X-Diem-Ledger-TimestampUsec": str(snapshot.timestamp_usecs),
    }


def compose_cors_headers() -> dict[str, str]:
    """Return permissive CORS headers, as Diem serves them."""
    return {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "content-type",
    }
