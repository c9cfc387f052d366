"""Diem's stream RPC over WebSocket: subscriptions to transactions and event streams, bounded per client and node."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import WSCloseCode, WSMsgType, web

from node.rpc.events import compute_event_view
from node.rpc.jsonrpc import (
    JSONRPC_VERSION,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    SUBSCRIPTION_LIMIT_EXCEEDED,
    JsonObject,
    JsonRpcError,
    JsonValue,
    LedgerSnapshot,
    RequestId,
    compose_error,
    compose_rate_limited,
    compose_result,
    invalid_params,
    invalid_request,
)
from node.rpc.jsondepth import JSON_DEPTH_MAX, is_nesting_within
from node.rpc.ledger import LedgerReader
from node.rpc.methods import render_transaction
from node.rpc.pacing import READ_CHUNK_ITEMS, ReadPacer, encode_json
from node.rpc.params import U64_MAX, parse_bool, parse_event_key, parse_u64

STREAM_PATH = "/v1/stream/ws"
STREAM_SUBSCRIPTIONS_PER_CONNECTION_MAX = 16
STREAM_SUBSCRIPTIONS_MAX = 1024
STREAM_CONNECTIONS_MAX = 256
STREAM_CONNECTIONS_PER_CLIENT_MAX = 16
# Messages waiting for one client; a client that keeps it full for STREAM_SEND_TIMEOUT_S is dropped.
STREAM_QUEUE_MESSAGES_MAX = 256
STREAM_SEND_TIMEOUT_S = 5.0
# Items a subscription reads, renders and encodes at a time: one chunk of the node's read pacer (node/rpc/pacing.py),
# so replays never monopolise the event loop consensus runs on.
STREAM_PAGE_SIZE = READ_CHUNK_ITEMS
# Subscriptions re-read the ledger this often even without a commit notification.
STREAM_POLL_INTERVAL_S = 1.0
STREAM_MESSAGE_BYTES_MAX = 16 * 1024
STREAM_HEARTBEAT_S = 30.0
STREAM_CLOSE_TIMEOUT_S = 1.0
SUBSCRIBE_TO_TRANSACTIONS = "subscribe_to_transactions"
SUBSCRIBE_TO_EVENTS = "subscribe_to_events"
UNSUBSCRIBE = "unsubscribe"

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """The per-connection and per-node bounds of the stream endpoint."""

    subscriptions_per_connection_max: int = STREAM_SUBSCRIPTIONS_PER_CONNECTION_MAX
    subscriptions_max: int = STREAM_SUBSCRIPTIONS_MAX
    connections_max: int = STREAM_CONNECTIONS_MAX
    connections_per_client_max: int = STREAM_CONNECTIONS_PER_CLIENT_MAX
    queue_messages_max: int = STREAM_QUEUE_MESSAGES_MAX
    send_timeout_s: float = STREAM_SEND_TIMEOUT_S
    poll_interval_s: float = STREAM_POLL_INTERVAL_S


def subscription_limit(detail: str) -> JsonRpcError:
    """Return the error of a subscription over a limit."""
    return JsonRpcError(SUBSCRIPTION_LIMIT_EXCEEDED, f"Server error: {detail}")


def compose_subscribed(snapshot: LedgerSnapshot, request_id: RequestId) -> JsonObject:
    """Return Diem's answer to a (un)subscription: status OK and the latest version."""
    return compose_result(snapshot, request_id, {"status": "OK", "transaction_version": snapshot.version})


class StreamHub:
    """Node-wide stream state: the ledger, the limits, live connections and the commit wake-up."""

    def __init__(self, ledger: LedgerReader, limits: StreamLimits = StreamLimits(),
                 charge: Callable[[str, int], int | None] | None = None, pacer: ReadPacer | None = None) -> None:
        self.ledger = ledger
        self.limits = limits
        self.charge = charge
        self.connections: set[StreamConnection] = set()
        self.subscription_count = 0
        self.pacer = pacer or ReadPacer()
        self._commit_event = asyncio.Event()
        self._unsubscribe_commits: Callable[[], None] | None = None

    def start(self) -> None:
        """Listen to the ledger's commit notifications (polling covers a ledger without them)."""
        subscribe = getattr(self.ledger, "subscribe_commits", None)
        if subscribe is not None:
            self._unsubscribe_commits = subscribe(self.on_commit)

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._unsubscribe_commits is not None:
            self._unsubscribe_commits()
            self._unsubscribe_commits = None
        closing = [connection.drop(WSCloseCode.GOING_AWAY, "node shutting down") for connection in list(self.connections)]
        await asyncio.gather(*(task for task in closing if task is not None), return_exceptions=True)

    def on_commit(self, _version: int) -> None:
        """Wake every waiting subscription; O(1) and never blocks the committing code."""
        event, self._commit_event = self._commit_event, asyncio.Event()
        event.set()

    def get_commit_event(self) -> asyncio.Event:
        """Return the event the next commit sets (take it before reading the ledger)."""
        return self._commit_event

    async def wait_for_commit(self, event: asyncio.Event) -> None:
        """Wait for the commit after event was taken, or the poll interval."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), self.limits.poll_interval_s)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one WebSocket connection until it closes or is dropped."""
        if len(self.connections) >= self.limits.connections_max:
            error = subscription_limit(f"too many stream connections (limit {self.limits.connections_max})")
            return web.json_response(compose_error(self.ledger.get_snapshot(), None, error), status=503)
        client = request.remote or ""
        if sum(1 for item in self.connections if item.client == client) >= self.limits.connections_per_client_max:
            error = subscription_limit(f"too many stream connections from one client "
                                       f"(limit {self.limits.connections_per_client_max})")
            return web.json_response(compose_error(self.ledger.get_snapshot(), None, error), status=429)
        ws = web.WebSocketResponse(max_msg_size=STREAM_MESSAGE_BYTES_MAX, heartbeat=STREAM_HEARTBEAT_S)
        await ws.prepare(request)
        connection = StreamConnection(self, ws.send_str, make_closer(ws, request), request.remote or "")
        self.connections.add(connection)
        writer = asyncio.create_task(connection.run_writer())
        try:
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                await connection.on_message(message.data)
                if connection.is_closed:
                    break
        finally:
            connection.shutdown()
            writer.cancel()
            self.connections.discard(connection)
        return ws


def make_closer(ws: web.WebSocketResponse, request: web.Request) -> Callable[[int, str], Awaitable[None]]:
    """Return a close that cannot hang on a client that stopped reading: it aborts the socket instead."""

    async def close(code: int, reason: str) -> None:
        try:
            await asyncio.wait_for(ws.close(code=code, message=reason.encode()), STREAM_CLOSE_TIMEOUT_S)
        except (asyncio.TimeoutError, ConnectionError):
            if request.transport is not None:
                request.transport.abort()

    return close


class StreamConnection:
    """One client: its subscriptions (by request id) and its bounded outgoing queue."""

    def __init__(self, hub: StreamHub, send: Callable[[str], Awaitable[None]],
                 close: Callable[[int, str], Awaitable[None]], client: str) -> None:
        self.hub = hub
        self.send = send
        self.close = close
        self.client = client
        self.queue: asyncio.Queue[str] = asyncio.Queue(hub.limits.queue_messages_max)
        self.subscriptions: dict[RequestId, asyncio.Task[None]] = {}
        self.is_closed = False
        self.closing: asyncio.Task[None] | None = None

    async def run_writer(self) -> None:
        """Send queued messages in order; a failed send drops the connection."""
        try:
            while True:
                text = await self.queue.get()
                await self.send(text)
        except (ConnectionError, RuntimeError) as error:
            self.drop(WSCloseCode.ABNORMAL_CLOSURE, f"send failed: {error}")

    async def enqueue(self, message: JsonObject | str) -> bool:
        """Queue a message (or its JSON text); drop the connection if the client leaves its queue full too long."""
        if self.is_closed:
            return False
        text = message if isinstance(message, str) else encode_json(message)
        try:
            self.queue.put_nowait(text)
            return True
        except asyncio.QueueFull:
            pass
        try:
            await asyncio.wait_for(self.queue.put(text), self.hub.limits.send_timeout_s)
            return True
        except asyncio.TimeoutError:
            self.drop(WSCloseCode.TRY_AGAIN_LATER, "slow client: send queue full")
            return False

    def shutdown(self) -> None:
        """Cancel every subscription; idempotent."""
        self.is_closed = True
        for task in list(self.subscriptions.values()):
            task.cancel()

    def drop(self, code: int, reason: str) -> asyncio.Task[None] | None:
        """Cancel the subscriptions and close the connection with a reason (in its own task: a
        subscription may be the caller, and cancelling it must not interrupt the close)."""
        if self.is_closed:
            return None
        _log.info("dropping stream client %s: %s", self.client, reason)
        self.shutdown()
        self.closing = asyncio.create_task(self.close(code, reason))
        return self.closing

    async def on_message(self, data: str | bytes) -> None:
        """Answer one client message: a subscription, an unsubscription, or an error."""
        snapshot = self.hub.ledger.get_snapshot()
        if self.hub.charge is not None:
            retry_after_ms = self.hub.charge(self.client, 1)
            if retry_after_ms is not None:
                await self.enqueue(compose_error(snapshot, None, compose_rate_limited(retry_after_ms)))
                return
        if not is_nesting_within(data):
            await self.enqueue(compose_error(snapshot, None, invalid_request(f"JSON nests deeper than {JSON_DEPTH_MAX} levels")))
            return
        try:
            request = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            await self.enqueue(compose_error(snapshot, None, JsonRpcError(PARSE_ERROR, "Parse error")))
            return
        request_id = request.get("id") if isinstance(request, dict) else None
        if not is_valid_id(request_id):
            await self.enqueue(compose_error(snapshot, None, invalid_request("stream requests need an integer or string id")))
            return
        try:
            await self.process(snapshot, request, request_id)
        except JsonRpcError as error:
            await self.enqueue(compose_error(snapshot, request_id, error))

    async def process(self, snapshot: LedgerSnapshot, request: JsonObject, request_id: RequestId) -> None:
        """Run a validated request, raising JsonRpcError for anything the client got wrong."""
        if request.get("jsonrpc") != JSONRPC_VERSION:
            raise invalid_request("jsonrpc must be 2.0")
        method = request.get("method")
        if method == UNSUBSCRIBE:
            task = self.subscriptions.get(request_id)
            if task is None:
                raise invalid_request(f"no subscription with id {json.dumps(request_id)}")
            task.cancel()
            await self.enqueue(compose_subscribed(snapshot, request_id))
            return
        if method not in (SUBSCRIBE_TO_TRANSACTIONS, SUBSCRIBE_TO_EVENTS):
            raise JsonRpcError(METHOD_NOT_FOUND, "Method not found")
        params = request.get("params")
        stream = self.parse_subscription(method, params)
        self.check_limits(request_id)
        await self.enqueue(compose_subscribed(snapshot, request_id))
        self.start_subscription(request_id, stream)

    def parse_subscription(self, method: str, params: JsonValue) -> Callable[[RequestId], Awaitable[None]]:
        """Return the coroutine function that streams what params ask for."""
        if not isinstance(params, dict):
            raise invalid_params(method)
        if method == SUBSCRIBE_TO_TRANSACTIONS:
            if not set(params) <= {"starting_version", "include_events"}:
                raise invalid_params(method)
            start = parse_u64(method, params.get("starting_version"))
            include_events = parse_bool(method, params.get("include_events"))
            return lambda request_id: self.stream_transactions(request_id, start, include_events)
        if set(params) != {"event_key", "event_seq_num"}:
            raise invalid_params(method)
        key = parse_event_key(method, params["event_key"])
        start = parse_u64(method, params["event_seq_num"])
        return lambda request_id: self.stream_events(request_id, key, start)

    def check_limits(self, request_id: RequestId) -> None:
        """Refuse a duplicate id or a subscription over the connection's or the node's limit."""
        limits = self.hub.limits
        if request_id in self.subscriptions:
            raise invalid_request(f"subscription id {json.dumps(request_id)} is already in use")
        if len(self.subscriptions) >= limits.subscriptions_per_connection_max:
            raise subscription_limit(
                f"too many subscriptions on this connection (limit {limits.subscriptions_per_connection_max})")
        if self.hub.subscription_count >= limits.subscriptions_max:
            raise subscription_limit(f"too many subscriptions on this node (limit {limits.subscriptions_max})")

    def start_subscription(self, request_id: RequestId, stream: Callable[[RequestId], Awaitable[None]]) -> None:
        """Run a subscription as its own task; count it against the node's limit until it ends."""
        task = asyncio.create_task(self.run_subscription(request_id, stream))
        self.subscriptions[request_id] = task
        self.hub.subscription_count += 1

        def on_done(_task: asyncio.Task[None]) -> None:
            self.hub.subscription_count -= 1
            if self.subscriptions.get(request_id) is task:
                del self.subscriptions[request_id]

        task.add_done_callback(on_done)

    async def run_subscription(self, request_id: RequestId,
                               stream: Callable[[RequestId], Awaitable[None]]) -> None:
        """Stream until cancelled; a ledger failure ends this subscription with an error, not the node."""
        try:
            await stream(request_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("stream subscription %r failed", request_id)
            error = JsonRpcError(-32000, "Server error: subscription ended")
            await self.enqueue(compose_error(self.hub.ledger.get_snapshot(), request_id, error))

    async def stream_transactions(self, request_id: RequestId, next_version: int, include_events: bool) -> None:
        """Send every committed transaction from next_version on, in order, then each new one."""
        ledger = self.hub.ledger

        def read(snapshot: LedgerSnapshot, first: int) -> list[tuple[int, str]]:
            page = ledger.get_transactions(first, min(STREAM_PAGE_SIZE, snapshot.version - first + 1))
            return [(committed.version, encode_json(compose_result(snapshot, request_id, render_transaction(
                committed, include_events)))) for committed in page]

        while next_version <= U64_MAX:
            event = self.hub.get_commit_event()
            snapshot = ledger.get_snapshot()
            found = []
            if next_version <= snapshot.version:
                found = await self.hub.pacer.run(lambda: read(snapshot, next_version))
            for version, text in found:
                if not await self.enqueue(text):
                    return
                next_version = version + 1
            if not found or next_version > snapshot.version:
                await self.hub.wait_for_commit(event)

    async def stream_events(self, request_id: RequestId, key: bytes, next_sequence: int) -> None:
        """Send every event of one stream from next_sequence on, in order, then each new one."""
        ledger = self.hub.ledger

        def read(snapshot: LedgerSnapshot, first: int) -> list[tuple[int, str]]:
            page = [item for item in ledger.get_events(key, first, STREAM_PAGE_SIZE)
                    if item.transaction_version <= snapshot.version]
            return [(item.event.sequence_number, encode_json(compose_result(snapshot, request_id, compute_event_view(
                item.event, item.transaction_version)))) for item in page]

        while next_sequence <= U64_MAX:
            event = self.hub.get_commit_event()
            snapshot = ledger.get_snapshot()
            found = await self.hub.pacer.run(lambda: read(snapshot, next_sequence))
            for sequence, text in found:
                if not await self.enqueue(text):
                    return
                next_sequence = sequence + 1
            if len(found) < STREAM_PAGE_SIZE:
                await self.hub.wait_for_commit(event)


def is_valid_id(value: JsonValue) -> bool:
    """Return whether value can identify a subscription (an integer or a string, not a bool)."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)
