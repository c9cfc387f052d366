"""The SDK's stream client follows an event stream live, and after a dropped connection resumes exactly where
it stopped.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from devnet.launcher import call_rpc
from tests.wallet_service.conftest import Net
from tests.wallet_service.harness import XUS, WalletService, find_free_port
from wallet.stream import stream_events

ITEMS_PER_CONNECTION = 2
EVENT_KEY = "0200000000000000" + "ab" * 16


def compose_event(sequence: int) -> dict:
    return {"key": EVENT_KEY, "sequence_number": sequence, "transaction_version": 100 + sequence,
            "data": {"type": "receivedpayment", "amount": {"amount": sequence + 1, "currency": "XUS"},
                     "sender": "cd" * 16, "receiver": "ab" * 16, "metadata": ""}}


async def follow_through_two_disconnects() -> tuple[list[int], list[int]]:
    requested_from: list[int] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        subscribe = json.loads((await ws.receive()).data)
        start = subscribe["params"]["event_seq_num"]
        requested_from.append(start)
        envelope = {"jsonrpc": "2.0", "id": subscribe["id"], "diem_chain_id": 2, "diem_ledger_version": 1,
                    "diem_ledger_timestampusec": 1}
        await ws.send_str(json.dumps({**envelope, "result": {"status": "OK", "transaction_version": 1}}))
        for sequence in range(start, start + ITEMS_PER_CONNECTION):
            await ws.send_str(json.dumps({**envelope, "result": compose_event(sequence)}))
        await ws.close()  # the node goes away mid-stream
        return ws

    app = web.Application()
    app.router.add_get("/v1/stream/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = find_free_port(29_700)
    await web.TCPSite(runner, "127.0.0.1", port).start()
    seen: list[int] = []
    try:
        async for event in stream_events(f"http://127.0.0.1:{port}/v1", EVENT_KEY, 3):
            seen.append(event.sequence_number)
            if len(seen) == 3 * ITEMS_PER_CONNECTION:
                break
    finally:
        await runner.cleanup()
    return seen, requested_from


def test_a_dropped_stream_resumes_from_the_next_event_without_gaps_or_repeats() -> None:
    seen, requested_from = asyncio.run(follow_through_two_disconnects())
    assert seen == list(range(3, 3 + 3 * ITEMS_PER_CONNECTION))
    assert requested_from == [3, 5, 7]


def test_follow_a_vasps_received_payments_live(net: Net, alpha: WalletService, beta: WalletService) -> None:
    address = alpha.vasp_address()
    key = call_rpc(net.rpc_urls[0], "get_account", [address])["result"]["received_events_key"]
    start = len(call_rpc(net.rpc_urls[0], "get_events", [key, 0, 1000])["result"])

    async def next_payment_from_beta() -> int:
        payer = beta.create_account(balances={"XUS": XUS})
        beta.pay(payer, alpha.new_identifier(alpha.create_account()), XUS)
        async for event in stream_events(net.rpc_urls[1], key, start):
            if event.data.sender == beta.vasp_address():
                return event.data.amount.amount
        return 0

    assert asyncio.run(asyncio.wait_for(next_payment_from_beta(), 60)) == XUS
