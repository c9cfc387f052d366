"""Hypothesis against the real aiohttp apps: JSON-RPC, faucet, streams and the regulator listener never answer a
5xx, always answer with their proper error shape, and store nothing for what they refuse."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.compliance.regulator.server import create_regulator_app
from node.compliance.regulator.throttle import RefusalThrottle
from node.rpc.faucet import Faucet
from node.rpc.methods import create_dispatcher
from node.rpc.server import create_app
from node.rpc.streams import STREAM_PATH
from tests.node.compliance.admission.chain import ComplianceChain
from tests.node.compliance.regulator.harness import build_api
from tests.node.rpc.memory_ledger import MemoryLedger

ENVELOPE_KEYS = {"diem_chain_id", "diem_ledger_version", "diem_ledger_timestampusec", "jsonrpc", "id"}
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=20)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)
METHODS = st.sampled_from(["get_metadata", "get_account", "get_transactions", "get_events", "submit",
                           "get_account_transactions", "get_currencies", "subscribe_to_events", "no_such_method"])
REQUESTS = st.fixed_dictionaries({"jsonrpc": st.just("2.0") | JSON_SCALARS, "id": JSON_SCALARS, "method": METHODS,
                                  "params": st.lists(JSON_VALUES, max_size=4) | JSON_VALUES})
BODIES = (st.binary(max_size=300) | JSON_VALUES.map(lambda v: json.dumps(v).encode())
          | REQUESTS.map(lambda v: json.dumps(v).encode())
          | st.lists(REQUESTS, max_size=5).map(lambda v: json.dumps(v).encode())
          | st.integers(1, 3_000).map(lambda depth: b"[" * depth + b"]" * depth))

LEDGER = MemoryLedger()
FAUCET = Faucet(LEDGER, LEDGER.submit, LEDGER.keys["treasury"], LEDGER.keys["dealer"], 2)
APP_DISPATCHER = create_dispatcher(LEDGER, LEDGER.submit, 20, 32 * 1024)


def new_rpc_client() -> TestClient:
    return TestClient(TestServer(create_app(APP_DISPATCHER, FAUCET, ledger=LEDGER), host="127.0.0.1"))


def check_envelope(answer: Any) -> None:
    for item in answer if isinstance(answer, list) else [answer]:
        assert isinstance(item, dict) and ENVELOPE_KEYS <= item.keys(), item
        assert ("result" in item) != ("error" in item), item
        if "error" in item:
            assert isinstance(item["error"].get("code"), int) and isinstance(item["error"].get("message"), str)


@FUZZ
@given(body=BODIES)
async def test_json_rpc_answers_every_body_with_the_envelope_and_stores_nothing_refused(body: bytes) -> None:
    version, waiting = LEDGER.version, len(LEDGER.mempool)
    async with new_rpc_client() as client:
        response = await client.post("/v1", data=body, headers={"Content-Type": "application/json"})
        assert response.status == 200
        answer = await response.json()
    check_envelope(answer)
    assert LEDGER.version == version
    if "error" in (answer if isinstance(answer, dict) else {}):
        assert len(LEDGER.mempool) == waiting, "a refused body stores nothing"


FAUCET_VALUES = st.text(max_size=70) | st.integers(-(2**70), 2**70).map(str) | st.sampled_from(
    ["XUS", "true", "é", "ﬀ.com", "a" * 64, "00" * 32, "1e3"])


@FUZZ
@given(query=st.dictionaries(st.sampled_from(["amount", "auth_key", "currency_code", "return_txns",
                                              "is_designated_dealer", "diem_id_domain", "is_remove_domain"]),
                             FAUCET_VALUES, max_size=7))
async def test_the_faucet_answers_every_query_without_a_5xx_and_refusals_send_nothing(query: dict[str, str]) -> None:
    waiting = len(LEDGER.mempool)
    async with new_rpc_client() as client:
        response = await client.post("/mint", params=query)
        text = await response.text()
    assert response.status in (200, 400, 429), (query, response.status, text)
    if response.status != 200:
        assert text and len(LEDGER.mempool) == waiting, "a refusal says why and submits nothing"
    else:
        LEDGER.mempool.clear()  # keep the shared ledger small: what was accepted is not the subject


@FUZZ
@given(messages=st.lists(BODIES.map(lambda b: b.decode("utf-8", "replace")), min_size=1, max_size=4))
async def test_a_stream_answers_every_message_with_the_envelope_and_stays_open(messages: list[str]) -> None:
    async with new_rpc_client() as client:
        ws = await client.ws_connect(STREAM_PATH)
        for message in messages:
            await ws.send_str(message)
        await ws.send_str(json.dumps({"jsonrpc": "2.0", "id": "probe", "method": "no_such_method"}))
        while True:
            answer = json.loads((await ws.receive(timeout=5)).data)
            check_envelope(answer)
            if answer["id"] == "probe":
                break
        await ws.close()


AUDIT_DIRECTORY = Path(tempfile.mkdtemp(prefix="fuzz-audit-"))
REGULATOR, _ = build_api(ComplianceChain(), AUDIT_DIRECTORY / "audit.jsonl")
HEADER_NAMES = st.sampled_from(["X-Regulator-Key", "X-Regulator-Timestamp", "X-Regulator-Nonce",
                                "X-Regulator-Signature", "X-Regulator-Node", "Signature-Input",
                                "Signature", "Content-Digest"])
HEADER_VALUES = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e), max_size=130)


@FUZZ
@given(body=BODIES, headers=st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=8))
async def test_the_regulator_listener_refuses_every_forgery_with_a_4xx_and_no_data(body: bytes,
                                                                                 headers: dict[str, str]) -> None:
    REGULATOR.throttle = RefusalThrottle(rate_per_s=1e6, burst=10**6)  # throttling is another test's subject
    async with TestClient(TestServer(create_regulator_app(REGULATOR), host="127.0.0.1")) as client:
        response = await client.post("/v1", data=body, headers=headers)
        answer = await response.json()
    assert 400 <= response.status < 500, (response.status, answer)
    assert set(answer) == {"error", "reason"}, "a refusal carries a reason word and never any ledger data"
