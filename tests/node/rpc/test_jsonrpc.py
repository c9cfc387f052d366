"""The JSON-RPC front door: Diem's envelope on every response, and bad requests answered cleanly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from node.config import MAX_BATCH_SIZE
from node.rpc.jsonrpc import (
    INVALID_FORMAT,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    Dispatcher,
    LedgerSnapshot,
    Method,
)
from node.rpc.params import parse_address, parse_bool, parse_u64
from node.rpc.server import create_app

SNAPSHOT = LedgerSnapshot(chain_id=2, version=41, timestamp_usecs=1_700_000_000_000_000)
ENVELOPE_KEYS = {"diem_chain_id", "diem_ledger_version", "diem_ledger_timestampusec", "jsonrpc", "id"}


async def echo_handler(_snapshot: LedgerSnapshot, params: list[Any]) -> Any:
    return {"address": parse_address("echo", params[0]).hex(), "n": parse_u64("echo", params[1]),
            "flag": parse_bool("echo", params[2] if len(params) > 2 else None)}


async def null_handler(_snapshot: LedgerSnapshot, _params: list[Any]) -> Any:
    return None


def make_dispatcher() -> Dispatcher:
    methods = [Method("echo", echo_handler, 2, 3), Method("submit", null_handler, 1, 1)]
    return Dispatcher(methods, lambda: SNAPSHOT)


async def dispatch(body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await make_dispatcher().dispatch(raw)


def request(method: str, params: list[Any], request_id: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


async def test_a_valid_call_returns_its_result_inside_the_envelope() -> None:
    answer = await dispatch(request("echo", ["E52999D653B418B73C002E3E43BC7CA9", 7, True]))
    assert ENVELOPE_KEYS <= answer.keys()
    assert answer["diem_chain_id"] == 2 and answer["diem_ledger_version"] == 41
    assert answer["result"] == {"address": "e52999d653b418b73c002e3e43bc7ca9", "n": 7, "flag": True}
    assert "error" not in answer


async def test_a_null_result_is_present_explicitly() -> None:
    answer = await dispatch(request("submit", ["00"]))
    assert "result" in answer and answer["result"] is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", PARSE_ERROR),
        (b"\xff\xfe", PARSE_ERROR),
        ({"jsonrpc": "2.0", "method": "echo", "params": []}, INVALID_FORMAT),
        ("just a string", INVALID_FORMAT),
        (request("nope", []), METHOD_NOT_FOUND),
        (request("echo", ["zz", 1]), INVALID_PARAMS),
        (request("echo", ["e52999d653b418b73c002e3e43bc7ca9", -1]), INVALID_PARAMS),
        (request("echo", ["e52999d653b418b73c002e3e43bc7ca9", 1.5]), INVALID_PARAMS),
        (request("echo", ["e52999d653b418b73c002e3e43bc7ca9", 2**64]), INVALID_PARAMS),
        (request("echo", ["e52999d653b418b73c002e3e43bc7ca9", True]), INVALID_PARAMS),
        (request("echo", ["e52999d653b418b73c002e3e43bc7ca9"]), INVALID_PARAMS),
        ({"jsonrpc": "1.0", "id": 1, "method": "echo", "params": []}, INVALID_REQUEST),
        ({"jsonrpc": "2.0", "id": 1, "method": 5, "params": []}, INVALID_REQUEST),
        ({"jsonrpc": "2.0", "id": 1, "method": "echo", "params": {"a": 1}}, INVALID_REQUEST),
        ([], INVALID_REQUEST),
    ],
)
async def test_bad_requests_get_the_right_error_with_the_envelope(body: Any, code: int) -> None:
    answer = await dispatch(body)
    assert answer["error"]["code"] == code
    assert ENVELOPE_KEYS <= answer.keys()
    assert "result" not in answer


async def test_a_batch_is_answered_per_request_from_one_snapshot() -> None:
    answers = await dispatch([request("submit", ["00"], 1), request("nope", [], 2)])
    assert [answer["id"] for answer in answers] == [1, 2]
    assert answers[0]["result"] is None and answers[1]["error"]["code"] == METHOD_NOT_FOUND
    assert {answer["diem_ledger_version"] for answer in answers} == {41}


async def test_a_batch_over_the_limit_is_one_error_object() -> None:
    answer = await dispatch([request("submit", ["00"], i) for i in range(MAX_BATCH_SIZE + 1)])
    assert isinstance(answer, dict)
    assert answer["error"]["code"] == INVALID_REQUEST
    assert answer["error"]["message"] == f"Invalid Request: batch size = {MAX_BATCH_SIZE + 1}, exceed limit 20"


async def test_an_oversized_body_is_rejected_without_parsing() -> None:
    dispatcher = make_dispatcher()
    answer = await dispatcher.dispatch(b"[" + b" " * dispatcher.body_bytes_max + b"]")
    assert answer["error"]["code"] == INVALID_REQUEST


async def test_http_front_door_serves_both_paths_with_json_and_headers() -> None:
    async with TestClient(TestServer(create_app(make_dispatcher()), host="127.0.0.1")) as client:
        for path in ("/", "/v1"):
            response = await client.post(path, json=request("nope", []))
            assert response.status == 200
            assert response.content_type == "application/json"
            assert response.headers["X-Diem-Ledger-Version"] == "41"
            assert (await response.json())["error"]["code"] == METHOD_NOT_FOUND
        healthy = await client.get("/-/healthy")
        assert healthy.status == 200 and await healthy.text() == "diem-node:ok"
        oversized = await client.post("/v1", data=b"x" * (64 * 1024), headers={"Content-Type": "application/json"})
        assert oversized.status == 200
        assert (await oversized.json())["error"]["code"] == INVALID_REQUEST
