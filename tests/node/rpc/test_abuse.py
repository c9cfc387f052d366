"""Abuse at the front door: rate limits, malformed input and fuzzing never break the envelope or the chain."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.transaction_builder import compose_peer_to_peer
from node.config import RpcConfig
from node.mempool import MempoolStatus
from node.rpc.jsonrpc import (
    INVALID_FORMAT,
    INVALID_PARAMS,
    INVALID_REQUEST,
    MEMPOOL_IS_FULL,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RATE_LIMITED,
    SERVER_ERROR,
    Dispatcher,
    LedgerSnapshot,
    Method,
)
from node.rpc.methods import Methods, create_dispatcher
from node.rpc.ratelimit import RateLimiter
from node.rpc.server import create_app_from_config
from node.rpc.streams import STREAM_PATH
from node.runtime.submit import SubmitResult, SubmitStatus
from tests.node.rpc.harness import new_account, open_chain
from tests.node.rpc.memory_ledger import MemoryLedger

ENVELOPE_KEYS = {"diem_chain_id", "diem_ledger_version", "diem_ledger_timestampusec", "jsonrpc", "id"}
ADDRESS = "0000000000000000000000000b1e55ed"


class FrozenClock:
    """A clock tests move by hand (no wall-clock dependence)."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def request(method: str, *params: Any, request_id: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}


def test_a_bucket_allows_its_burst_then_refills_at_its_rate_per_client() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=clock, clients_max=2)
    assert [limiter.charge("a") for _ in range(3)] == [None, None, None]
    assert limiter.charge("a") == 500
    assert limiter.charge("b") is None, "clients have their own buckets"
    clock.now_s += 0.5
    assert limiter.charge("a") is None and limiter.charge("a") == 500
    assert limiter.charge("a", 10) == 1500, "a cost above the burst waits for a full bucket"
    limiter.charge("c")
    assert limiter.get_tracked_count() == 2, "memory is bounded"
    assert RateLimiter(rate_per_s=0, clock=clock).charge("a", 10**6) is None, "rate 0 disables the limit"
    exempting = RateLimiter(rate_per_s=1.0, burst=1, clock=clock, exempt=frozenset({"127.0.0.1"}))
    assert [exempting.charge("127.0.0.1") for _ in range(5)] == [None] * 5
    assert exempting.charge("10.0.0.1") is None and exempting.charge("10.0.0.1") == 1000


async def test_a_client_over_its_rate_gets_a_clear_error_with_the_envelope_and_others_are_served() -> None:
    clock = FrozenClock()
    async with open_chain(rate_limiter=RateLimiter(rate_per_s=1.0, burst=3, clock=clock)) as chain:
        for _ in range(3):
            assert "result" in await chain.call("get_metadata")
        response = await chain.client.post("/v1", json=request("get_metadata"))
        answer = await response.json()
        assert response.status == 200 and ENVELOPE_KEYS <= answer.keys()
        assert answer["error"]["code"] == RATE_LIMITED and answer["error"]["data"] == {"retry_after_ms": 1000}
        assert response.headers["Retry-After"] == "1"
        mint = await chain.client.post("/mint", params={"amount": "1", "auth_key": "00" * 32, "currency_code": "XUS"})
        assert mint.status == 429
        async with chain.client.ws_connect(STREAM_PATH) as ws:
            await ws.send_json({"jsonrpc": "2.0", "id": 1, "method": "unsubscribe"})
            assert (await ws.receive_json(timeout=5))["error"]["code"] == RATE_LIMITED
        clock.now_s += 2
        batch = await chain.client.post("/v1", json=[request("get_metadata", request_id=i) for i in range(3)])
        assert (await batch.json())["error"]["code"] == RATE_LIMITED, "a batch pays for each request"
        clock.now_s += 10
        chain.ledger.commit_block()
        assert (await chain.result("get_metadata"))["version"] == 1, "the node keeps committing and serving"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", PARSE_ERROR),
        (b'"text"', INVALID_FORMAT),
        (json.dumps(request("get_account", 5)).encode(), INVALID_PARAMS),
        (json.dumps(request("get_account", ADDRESS, "latest")).encode(), INVALID_PARAMS),
        (json.dumps(request("get_transactions", 0, 10, "yes")).encode(), INVALID_PARAMS),
        (json.dumps(request("get_events", "00" * 24, 0)).encode(), INVALID_PARAMS),
        (json.dumps(request("get_balance", ADDRESS)).encode(), METHOD_NOT_FOUND),
        (json.dumps([request("get_metadata", request_id=i) for i in range(21)]).encode(), INVALID_REQUEST),
        (json.dumps(request("submit", "00" * 20_000)).encode(), INVALID_REQUEST),
    ],
)
async def test_bad_requests_to_the_node_get_the_right_error_and_it_keeps_committing(body: bytes, code: int) -> None:
    async with open_chain() as chain:
        response = await chain.client.post("/v1", data=body, headers={"Content-Type": "application/json"})
        answer = await response.json()
        assert response.status == 200 and ENVELOPE_KEYS <= answer.keys()
        assert answer["error"]["code"] == code, answer
        chain.ledger.commit_block()
        assert (await chain.result("get_metadata"))["version"] == 1


async def test_a_failing_handler_still_answers_with_the_envelope() -> None:
    async def broken(_snapshot: LedgerSnapshot, _params: list[Any]) -> Any:
        raise KeyError("storage is gone")

    dispatcher = Dispatcher([Method("broken", broken, 0, 0)], lambda: LedgerSnapshot(2, 7, 9))
    answer = await dispatcher.dispatch(json.dumps(request("broken")).encode())
    assert answer["error"] == {"code": SERVER_ERROR, "message": "Server error: internal error", "data": None}
    assert ENVELOPE_KEYS <= answer.keys() and answer["diem_ledger_version"] == 7


async def test_a_full_mempool_pushes_back_with_diem_s_error_and_the_envelope() -> None:
    ledger = MemoryLedger()
    alice = new_account("alice")
    signed = alice.sign(compose_peer_to_peer(alice.address, 1), 0, 2**40)
    full = SubmitResult(SubmitStatus.MEMPOOL_REJECTED, signed.hash(), 0, MempoolStatus.MEMPOOL_FULL)
    dispatcher = create_dispatcher(ledger, lambda _signed: full, 20, 32 * 1024)
    answer = await dispatcher.dispatch(json.dumps(request("submit", signed.to_bcs().hex())).encode())
    assert answer["error"]["code"] == MEMPOOL_IS_FULL and ENVELOPE_KEYS <= answer.keys()
    assert answer["error"]["message"] == 'Server error: Mempool submission error: "Mempool is full"'


def test_the_config_builds_the_limited_app() -> None:
    ledger = MemoryLedger()
    rpc = RpcConfig(client_rate_per_s=5, client_burst=10, stream_subscriptions_max=7, client_rate_exempt_hosts=["::1"])
    app = create_app_from_config(rpc, create_dispatcher(ledger, ledger.submit, 20, 32 * 1024), None, ledger)
    assert any(route.resource.canonical == STREAM_PATH for route in app.router.routes())


JSON_SCALARS = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(max_size=70)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
                           max_leaves=20)
_LEDGER = MemoryLedger()
_DISPATCHER = create_dispatcher(_LEDGER, _LEDGER.submit, 20, 32 * 1024)
METHOD_NAMES = sorted(m.name for m in Methods(_LEDGER, _LEDGER.submit).get_methods())
HEX_ARGS = st.sampled_from([ADDRESS, "00" * 24, "01000000000000000000000000000000000000000b1e55ed", "", "zz", "00"])
FUZZ_PARAMS = st.lists(HEX_ARGS | st.integers(min_value=-1, max_value=2**64) | JSON_VALUES, max_size=6)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_answer(answer: Any, is_batch: bool) -> None:
    answers = answer if is_batch and isinstance(answer, list) else [answer]
    for item in answers:
        assert isinstance(item, dict) and ENVELOPE_KEYS <= item.keys(), item
        assert ("result" in item) != ("error" in item), item
        if "error" in item:
            assert item["error"]["message"] != "Server error: internal error", item
    json.dumps(answer, allow_nan=False)


@FUZZ
@given(body=JSON_VALUES)
async def test_fuzzed_json_bodies_always_get_the_envelope(body: Any) -> None:
    check_answer(await _DISPATCHER.dispatch(json.dumps(body).encode()), isinstance(body, list) and body != [])


@FUZZ
@given(method=st.sampled_from(METHOD_NAMES), params=FUZZ_PARAMS, request_id=JSON_SCALARS)
async def test_fuzzed_calls_of_every_method_get_the_envelope_and_no_internal_error(method: str, params: list[Any],
                                                                                     request_id: Any) -> None:
    body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    check_answer(await _DISPATCHER.dispatch(json.dumps(body).encode()), False)


@FUZZ
@given(data=st.binary(max_size=200))
async def test_fuzzed_bytes_always_get_the_envelope(data: bytes) -> None:
    check_answer(await _DISPATCHER.dispatch(data), False)


async def test_a_payment_flow_still_works_through_the_limited_app() -> None:
    async with open_chain(rate_limiter=RateLimiter(rate_per_s=1000.0, burst=1000)) as chain:
        alice = new_account("alice")
        await chain.mint(alice, 10)
        assert (await chain.result("get_account", alice.address.hex()))["balances"][0]["amount"] == 10
