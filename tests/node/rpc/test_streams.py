"""WebSocket streams as a wallet uses them: ordered delivery from a starting point, limits, slow clients."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import WSCloseCode, WSServerHandshakeError

from node.rpc.jsonrpc import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, SUBSCRIPTION_LIMIT_EXCEEDED
from node.rpc.streams import STREAM_PATH, StreamConnection, StreamHub, StreamLimits
from tests.node.rpc.harness import Chain, new_account, open_chain
from tests.node.rpc.memory_ledger import MemoryLedger

RECEIVE_TIMEOUT_S = 5.0
ENVELOPE_KEYS = {"diem_chain_id", "diem_ledger_version", "diem_ledger_timestampusec", "jsonrpc", "id"}


async def receive(ws: Any) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive_json(), RECEIVE_TIMEOUT_S)
    assert ENVELOPE_KEYS <= message.keys(), message
    return message


async def subscribe(ws: Any, request_id: Any, method: str, params: Any) -> dict[str, Any]:
    await ws.send_json({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
    return await receive(ws)


@pytest.fixture
async def chain():  # noqa: ANN201
    async with open_chain(stream_limits=StreamLimits(subscriptions_per_connection_max=2, subscriptions_max=3)) as opened:
        yield opened


async def test_transactions_arrive_in_order_from_the_starting_version_then_live(chain: Chain) -> None:
    for _ in range(3):
        chain.ledger.commit_block()
    async with chain.client.ws_connect(STREAM_PATH) as ws:
        ack = await subscribe(ws, "txns", "subscribe_to_transactions", {"starting_version": 1, "include_events": True})
        assert ack["result"] == {"status": "OK", "transaction_version": 3}
        seen = [(await receive(ws)) for _ in range(3)]
        assert [m["result"]["version"] for m in seen] == [1, 2, 3]
        assert {m["id"] for m in seen} == {"txns"}
        assert seen[0]["result"]["transaction"]["type"] == "blockmetadata"
        chain.ledger.commit_block()
        chain.ledger.commit_block()
        live = [(await receive(ws)) for _ in range(2)]
        assert [m["result"]["version"] for m in live] == [4, 5]
        assert live[1]["diem_ledger_version"] == 5


async def test_an_event_stream_delivers_from_a_sequence_number_then_new_payments(chain: Chain) -> None:
    alice, bob = new_account("alice"), new_account("bob")
    await chain.mint(alice, 1_000_000)
    await chain.mint(bob, 5)
    chain.pay(alice, bob, 7, 0)
    chain.ledger.commit_block()
    key = (await chain.result("get_account", bob.address.hex()))["received_events_key"]
    async with chain.client.ws_connect(STREAM_PATH) as ws:
        ack = await subscribe(ws, 9, "subscribe_to_events", {"event_key": key, "event_seq_num": 1})
        assert ack["result"]["status"] == "OK"
        first = await receive(ws)
        assert (first["id"], first["result"]["sequence_number"], first["result"]["data"]["amount"]["amount"]) == (9, 1, 7)
        chain.pay(alice, bob, 8, 1)
        chain.ledger.commit_block()
        second = await receive(ws)
        assert (second["result"]["sequence_number"], second["result"]["data"]["amount"]["amount"]) == (2, 8)
        assert second["result"]["key"] == key


async def test_subscription_limits_per_connection_and_per_node_with_unsubscribe_freeing_a_slot(chain: Chain) -> None:
    params = {"starting_version": 10**6}
    async with chain.client.ws_connect(STREAM_PATH) as first, chain.client.ws_connect(STREAM_PATH) as second:
        assert (await subscribe(first, 1, "subscribe_to_transactions", params))["result"]["status"] == "OK"
        duplicate = await subscribe(first, 1, "subscribe_to_transactions", params)
        assert duplicate["error"]["code"] == INVALID_REQUEST and duplicate["id"] == 1
        assert "result" in await subscribe(first, 2, "subscribe_to_transactions", params)
        over_connection = await subscribe(first, 3, "subscribe_to_transactions", params)
        assert over_connection["error"]["code"] == SUBSCRIPTION_LIMIT_EXCEEDED
        assert "connection (limit 2)" in over_connection["error"]["message"]
        assert "result" in await subscribe(second, 1, "subscribe_to_transactions", params)
        over_node = await subscribe(second, 2, "subscribe_to_transactions", params)
        assert over_node["error"]["code"] == SUBSCRIPTION_LIMIT_EXCEEDED and "node (limit 3)" in over_node["error"]["message"]
        await first.send_json({"jsonrpc": "2.0", "id": 2, "method": "unsubscribe"})
        assert (await receive(first))["result"]["status"] == "OK"
        for _ in range(100):  # the cancelled task releases its slot on its next turn
            if "result" in (answer := await subscribe(second, 2, "subscribe_to_transactions", params)):
                break
            await asyncio.sleep(0.01)
        assert answer["result"]["status"] == "OK"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("{not json", PARSE_ERROR),
        ('{"jsonrpc": "2.0", "method": "subscribe_to_transactions", "params": {"starting_version": 0}}', INVALID_REQUEST),
        ('{"jsonrpc": "2.0", "id": 1, "method": "get_account", "params": {}}', METHOD_NOT_FOUND),
        ('{"jsonrpc": "2.0", "id": 1, "method": "subscribe_to_transactions", "params": {"starting_version": -1}}', INVALID_PARAMS),
        ('{"jsonrpc": "2.0", "id": 1, "method": "subscribe_to_transactions", "params": [0]}', INVALID_PARAMS),
        ('{"jsonrpc": "2.0", "id": 1, "method": "subscribe_to_transactions", "params": {"starting_version": 0, "x": 1}}', INVALID_PARAMS),
        ('{"jsonrpc": "2.0", "id": 1, "method": "subscribe_to_events", "params": {"event_key": "zz", "event_seq_num": 0}}', INVALID_PARAMS),
        ('{"jsonrpc": "2.0", "id": 1, "method": "unsubscribe"}', INVALID_REQUEST),
        ('[{"jsonrpc": "2.0", "id": 1, "method": "unsubscribe"}]', INVALID_REQUEST),
    ],
)
async def test_bad_stream_messages_get_errors_and_the_connection_stays_usable(chain: Chain, message: str, code: int) -> None:
    async with chain.client.ws_connect(STREAM_PATH) as ws:
        await ws.send_str(message)
        answer = await receive(ws)
        assert answer["error"]["code"] == code, answer
        ack = await subscribe(ws, "ok", "subscribe_to_transactions", {"starting_version": 0})
        assert ack["result"]["status"] == "OK"


async def test_an_oversized_stream_message_closes_the_connection(chain: Chain) -> None:
    async with chain.client.ws_connect(STREAM_PATH) as ws:
        await ws.send_str("x" * (64 * 1024))
        closing = await asyncio.wait_for(ws.receive(), RECEIVE_TIMEOUT_S)
        assert ws.closed or closing.type.name in ("CLOSE", "CLOSING", "CLOSED")
        assert ws.close_code == WSCloseCode.MESSAGE_TOO_BIG


async def test_connections_over_the_node_limit_are_refused_before_the_upgrade() -> None:
    async with open_chain(stream_limits=StreamLimits(connections_max=1)) as chain:
        async with chain.client.ws_connect(STREAM_PATH) as first:
            await subscribe(first, 1, "subscribe_to_transactions", {"starting_version": 0})
            with pytest.raises(WSServerHandshakeError) as refused:
                await chain.client.ws_connect(STREAM_PATH)
            assert refused.value.status == 503
        for _ in range(100):  # the server notices the close on its next turn
            try:
                async with chain.client.ws_connect(STREAM_PATH) as again:
                    assert (await subscribe(again, 1, "unsubscribe", None))["error"]["code"] == INVALID_REQUEST
                    return
            except WSServerHandshakeError:
                await asyncio.sleep(0.01)
        raise AssertionError("the slot was never released")


class PollOnlyLedger(MemoryLedger):
    """A ledger without commit notifications: streams must still deliver, by polling."""

    subscribe_commits = None


async def test_streams_poll_a_ledger_without_commit_notifications() -> None:
    async with open_chain(PollOnlyLedger(), stream_limits=StreamLimits(poll_interval_s=0.05)) as chain:
        async with chain.client.ws_connect(STREAM_PATH) as ws:
            await subscribe(ws, 1, "subscribe_to_transactions", {"starting_version": 1})
            chain.ledger.commit_block()
            assert (await receive(ws))["result"]["version"] == 1


class Sink:
    """A client connection: either reads everything at once, or never reads (its send never completes)."""

    def __init__(self, is_slow: bool) -> None:
        self.is_slow = is_slow
        self.sent: list[str] = []
        self.closed_with: tuple[int, str] | None = None

    async def send(self, text: str) -> None:
        if self.is_slow:
            await asyncio.Event().wait()
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)


async def test_a_slow_client_is_dropped_while_others_and_the_ledger_go_on() -> None:
    ledger = MemoryLedger()
    hub = StreamHub(ledger, StreamLimits(queue_messages_max=2, send_timeout_s=0.05, poll_interval_s=0.05))
    hub.start()
    slow, fast = Sink(is_slow=True), Sink(is_slow=False)
    connections = [StreamConnection(hub, sink.send, sink.close, name) for sink, name in ((slow, "slow"), (fast, "fast"))]
    writers = [asyncio.create_task(connection.run_writer()) for connection in connections]
    for connection in connections:
        await connection.on_message('{"jsonrpc": "2.0", "id": 1, "method": "subscribe_to_transactions", '
                                    '"params": {"starting_version": 0}}')
    for _ in range(6):
        ledger.commit_block()  # commits never wait for stream clients
        await asyncio.sleep(0.02)
    for _ in range(200):
        if slow.closed_with is not None and len(fast.sent) == 1 + 7:
            break
        await asyncio.sleep(0.01)
    assert slow.closed_with == (WSCloseCode.TRY_AGAIN_LATER, "slow client: send queue full")
    assert connections[0].is_closed and not connections[0].subscriptions
    assert len(fast.sent) == 1 + 7, "the ack, then versions 0..6"
    assert hub.subscription_count == 1
    await hub.stop()
    tasks = [task for connection in connections for task in connection.subscriptions.values()] + writers
    for connection in connections:
        connection.shutdown()
    for writer in writers:
        writer.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert not ledger.commit_callbacks and hub.subscription_count == 0
