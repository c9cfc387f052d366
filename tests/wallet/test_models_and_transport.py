"""Typed views parse Diem's JSON strictly; malformed transport answers become typed errors."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

from tests.wallet.node import start_app
from wallet.client import Client, decode_signed_transactions
from wallet.errors import FaucetError, InvalidServerResponse, JsonRpcError, NetworkError
from wallet.models import Account, Transaction

ENVELOPE = {"diem_chain_id": 2, "diem_ledger_version": 7, "diem_ledger_timestampusec": 99, "jsonrpc": "2.0", "id": 1}
WORKED_TRANSACTION = {  # diem-compat §1.6, abridged
    "version": 1234, "hash": "268d017c6102d2026a09ec08dcbc9e30db67c760d9d9d9e53c7df0b2c4bf4ba3", "bytes": "00",
    "transaction": {"type": "user", "sender": "e52999d653b418b73c002e3e43bc7ca9", "sequence_number": 7,
                    "chain_id": 2, "expiration_timestamp_secs": 1900000000, "gas_currency": "XUS",
                    "script": {"type": "script_function", "function_name": "peer_to_peer_with_metadata"}},
    "events": [{"key": "0100000000000000e52999d653b418b73c002e3e43bc7ca9", "sequence_number": 0,
                "transaction_version": 1234,
                "data": {"type": "sentpayment", "amount": {"amount": 1234567, "currency": "XUS"},
                         "receiver": "47e71f8d3c713fd25766b7eff1385500", "sender": "e52999d653b418b73c002e3e43bc7ca9",
                         "metadata": "0100010801020304050607080000"}}],
    "vm_status": {"type": "move_abort", "location": "00000000000000000000000000000001::DiemAccount",
                  "abort_code": 1288, "explanation": {"category": "LIMIT_EXCEEDED", "category_description": "",
                                                      "reason": "EINSUFFICIENT_BALANCE", "reason_description": ""}},
    "gas_used": 477,
}


def test_the_worked_transaction_parses_into_typed_fields() -> None:
    transaction = Transaction.from_json(WORKED_TRANSACTION)
    assert transaction.transaction.sender == "e52999d653b418b73c002e3e43bc7ca9"
    assert transaction.events[0].data.amount.amount == 1234567
    assert transaction.vm_status.describe() == (
        "move_abort 1288 EINSUFFICIENT_BALANCE at 00000000000000000000000000000001::DiemAccount")
    assert not transaction.vm_status.is_executed()


@pytest.mark.parametrize("field, value", [("sequence_number", "abc"), ("sequence_number", -1),
                                          ("sequence_number", True), ("balances", "many"), ("address", 5)])
def test_a_wrongly_typed_field_is_an_invalid_response(field: str, value: object) -> None:
    view = {"address": "aa" * 16, "balances": [], "sequence_number": 0, "authentication_key": "00" * 32,
            "sent_events_key": "", "received_events_key": "", "role": {"type": "unknown"}, "version": 1}
    assert Account.from_json(view).sequence_number == 0
    with pytest.raises(InvalidServerResponse):
        Account.from_json({**view, field: value})


@pytest.fixture
async def fake():
    """A fake node whose next answer each test sets: (status, content type, body)."""
    state = {"answer": (200, "application/json", "{}")}

    async def handle(_request: web.Request) -> web.Response:
        status, content_type, body = state["answer"]
        return web.Response(status=status, text=body, content_type=content_type)

    app = web.Application()
    app.router.add_post("/v1", handle)
    app.router.add_post("/mint", handle)
    runner, url = await start_app(app)
    yield state, url
    await runner.cleanup()


@pytest.mark.parametrize("answer, error, message", [
    ((500, "text/plain", "boom"), NetworkError, "HTTP 500"),
    ((200, "text/plain", "not json"), InvalidServerResponse, "did not answer JSON"),
    ((200, "application/json", '{"jsonrpc": "2.0", "id": 1, "result": null}'), InvalidServerResponse, "lacks diem_chain_id"),
    ((200, "application/json", '{"diem_chain_id": 2, "diem_ledger_version": 1, "diem_ledger_timestampusec": 1}'),
     InvalidServerResponse, "neither result nor error"),
])
async def test_malformed_answers_are_typed_errors(fake, answer, error, message) -> None:
    state, url = fake
    state["answer"] = answer
    async with Client(url + "/v1") as client:
        with pytest.raises(error, match=message):
            await client.get_metadata()


async def test_a_json_rpc_error_keeps_its_code_and_data(fake) -> None:
    state, url = fake
    body = {**ENVELOPE, "error": {"code": -32001, "message": "Server error: VM Validation error: SEQUENCE_NUMBER_TOO_OLD",
                                  "data": {"StatusCode": 3}}}
    state["answer"] = (200, "application/json", json.dumps(body))
    async with Client(url + "/v1") as client:
        with pytest.raises(JsonRpcError) as raised:
            await client.get_metadata()
    assert (raised.value.code, raised.value.data) == (-32001, {"StatusCode": 3})


async def test_a_faucet_refusal_or_garbage_is_a_faucet_error(fake) -> None:
    state, url = fake
    state["answer"] = (400, "text/plain", "unknown currency_code 'USD'")
    async with Client(url + "/v1") as client:
        with pytest.raises(FaucetError, match="USD"):
            await client.mint(b"\x00" * 32, 1, "USD")
    with pytest.raises(FaucetError, match="unreadable"):
        decode_signed_transactions("01ff")
