"""The aiohttp front door: JSON-RPC on `/` and `/v1`, a health check, Diem's headers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from node.rpc.jsonrpc import Dispatcher, LedgerSnapshot

HEALTHY_BODY = "diem-node:ok"
JSON_CONTENT_TYPE = "application/json"
# aiohttp refuses larger bodies before we read them; our dispatcher then answers with -32600.
BODY_READ_SLACK_BYTES = 1024


def create_app(dispatcher: Dispatcher, faucet: Any | None = None) -> web.Application:
    """Return an aiohttp application serving the dispatcher (and the faucet on POST /mint, if any)."""
    app = web.Application(client_max_size=dispatcher.body_bytes_max + BODY_READ_SLACK_BYTES)

    async def handle_rpc(request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            body = b" " * (dispatcher.body_bytes_max + 1)
        answer = await dispatcher.dispatch(body)
        snapshot = _get_snapshot_of(answer)
        response = web.Response(
            body=json.dumps(answer, separators=(",", ":")).encode(),
            content_type=JSON_CONTENT_TYPE,
        )
        if snapshot is not None:
            response.headers.update(compose_headers(snapshot))
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
        app.router.add_post("/mint", faucet.handle)
    return app


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
