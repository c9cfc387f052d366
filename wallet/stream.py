"""A client for the node's WebSocket stream RPC: follow an event stream or the transactions as they commit.

`async for event in stream_events(url, key, start)` yields each event once, in order, forever: after a
lost connection it reconnects with backoff and resubscribes from the next sequence number it has not
yielded, so a consumer that records what it processed sees no gap and no repeat.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from wallet.errors import InvalidServerResponse, JsonRpcError, NetworkError
from wallet.models import Event, Transaction

STREAM_PATH = "/v1/stream/ws"
RECONNECT_BASE_S = 0.2
RECONNECT_CAP_S = 10.0
RECONNECT_DOUBLINGS_MAX = 16  # past the cap already
MESSAGE_BYTES_MAX = 4 * 1024 * 1024
HEARTBEAT_S = 30.0


def get_stream_url(rpc_url: str) -> str:
    """Return the WebSocket stream URL served beside a JSON-RPC URL."""
    parts = urlsplit(rpc_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, STREAM_PATH, "", ""))


@dataclass
class Subscription:
    """What to subscribe to, and where the stream has got to (the next item not yet yielded)."""

    method: str
    position_field: str
    position: int
    parameters: dict[str, Any] = field(default_factory=dict)

    def compose_request(self, request_id: int) -> dict[str, Any]:
        """Return the subscribe request from the current position."""
        params = {**self.parameters, self.position_field: self.position}
        return {"jsonrpc": "2.0", "id": request_id, "method": self.method, "params": params}


class StreamClient:
    """One WebSocket connection to a node's stream endpoint (use `async with`)."""

    def __init__(self, rpc_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.url = get_stream_url(rpc_url)
        self._session = session
        self._owns_session = session is None
        self._ids = itertools.count(1)

    async def __aenter__(self) -> StreamClient:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()

    async def follow(self, subscription: Subscription, parse: Callable[[Any], Any],
                     get_next_position: Callable[[Any], int]) -> AsyncIterator[Any]:
        """Yield the subscription's items forever, reconnecting and resuming after any disconnection."""
        failures = 0
        while True:
            try:
                async for item in self._follow_once(subscription, parse):
                    subscription.position = get_next_position(item)
                    failures = 0
                    yield item
            except (aiohttp.ClientError, NetworkError, asyncio.TimeoutError):
                pass
            failures += 1
            await asyncio.sleep(min(RECONNECT_CAP_S, RECONNECT_BASE_S * 2 ** min(failures, RECONNECT_DOUBLINGS_MAX)))

    async def _follow_once(self, subscription: Subscription, parse: Callable[[Any], Any]) -> AsyncIterator[Any]:
        if self._session is None:
            raise NetworkError("use StreamClient inside `async with`")
        request = subscription.compose_request(next(self._ids))
        async with self._session.ws_connect(self.url, heartbeat=HEARTBEAT_S, max_msg_size=MESSAGE_BYTES_MAX) as ws:
            await ws.send_str(json.dumps(request))
            acknowledged = False
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                body = decode_message(message.data, request["id"])
                if body is None:
                    continue
                if not acknowledged:  # the first answer confirms the subscription
                    acknowledged = True
                    continue
                yield parse(body["result"])
        raise NetworkError(f"the stream at {self.url} closed")


def decode_message(text: str, request_id: int) -> dict[str, Any] | None:
    """Return a stream message of our subscription (None for another id); raise its JSON-RPC error."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        raise InvalidServerResponse("the stream sent a message that is not JSON") from None
    if not isinstance(body, dict) or body.get("id") != request_id:
        return None
    if "error" in body:
        error = body["error"] if isinstance(body["error"], dict) else {}
        raise JsonRpcError(int(error.get("code", 0)), str(error.get("message", "stream error")), error.get("data"))
    if "result" not in body:
        raise InvalidServerResponse("a stream message has neither result nor error")
    return body


async def stream_events(rpc_url: str, event_key: str, start_sequence: int = 0,
                        session: aiohttp.ClientSession | None = None) -> AsyncIterator[Event]:
    """Yield the events of one stream from start_sequence on, live, without gaps or repeats."""
    subscription = Subscription("subscribe_to_events", "event_seq_num", start_sequence, {"event_key": event_key})
    async with StreamClient(rpc_url, session) as client:
        async for event in client.follow(subscription, Event.from_json, lambda item: item.sequence_number + 1):
            yield event


async def stream_transactions(rpc_url: str, start_version: int = 0, include_events: bool = False,
                              session: aiohttp.ClientSession | None = None) -> AsyncIterator[Transaction]:
    """Yield every committed transaction from start_version on, live, without gaps or repeats."""
    subscription = Subscription("subscribe_to_transactions", "starting_version", start_version,
                                {"include_events": include_events})
    async with StreamClient(rpc_url, session) as client:
        async for transaction in client.follow(subscription, Transaction.from_json, lambda item: item.version + 1):
            yield transaction
