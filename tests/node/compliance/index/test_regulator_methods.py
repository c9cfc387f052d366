"""The five history methods over HTTP, through the regulator's authentication, scopes and audit log."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from contracts.transaction_builder import compose_peer_to_peer
from node.compliance.regulator.server import create_regulator_app
from primitives.metadata import Metadata, TravelRuleMetadataV0
from tests.node.compliance.admission.chain import ComplianceChain
from tests.node.compliance.index.chain import IndexedChain
from tests.node.compliance.regulator.harness import build_api, compose_request, regulator_key
from wallet.treasury import compose_freeze, compose_wipe

XUS = 1_000_000
NONCES = (n.to_bytes(16, "big") for n in itertools.count(1))
HISTORY_METHODS = ("compliance_get_account_history", "compliance_search_transactions",
                   "compliance_get_large_transfers", "compliance_get_travel_rule_records",
                   "compliance_get_compliance_actions")


class Client:
    def __init__(self, client: TestClient, clock: Any, chain: Any) -> None:
        self.client, self.clock, self.chain = client, clock, chain

    async def post(self, method: str, params: list[Any], key_name: str = "full") -> tuple[int, dict[str, Any]]:
        body, headers = compose_request(method, params, regulator_key(key_name), self.clock.now_ms, next(NONCES))
        response = await self.client.post("/v1", json=body, headers=headers)
        return response.status, await response.json()

    async def result(self, method: str, *params: Any, key_name: str = "full") -> Any:
        status, body = await self.post(method, list(params), key_name)
        assert status == 200 and "error" not in body, body
        return body["result"]


@pytest.fixture(scope="module")
def story() -> IndexedChain:
    """alice (KYC) and bob; alice pays bob 3, then 900 XUS with travel-rule metadata; bob is frozen, wiped."""
    chain = IndexedChain()
    chain.alice = chain.create_vasp("alice", 5_000 * XUS, kyc_tier=2)
    chain.bob = chain.create_vasp("bob", 0)
    chain.run(chain.alice, compose_peer_to_peer(chain.bob.address, 3 * XUS))
    chain.small = chain.ledger.version
    metadata = Metadata(TravelRuleMetadataV0("ref-7")).to_bcs()
    chain.run(chain.alice, compose_peer_to_peer(chain.bob.address, 900 * XUS, "XUS", metadata))
    chain.large = chain.ledger.version
    chain.run(chain.keys["treasury"], compose_freeze(chain.bob.address))
    chain.freeze = chain.ledger.version
    chain.run(chain.keys["treasury"], compose_wipe("XUS", chain.bob.address))
    chain.wipe = chain.ledger.version
    return chain


@pytest.fixture
async def regulator(story: IndexedChain, tmp_path: Path):  # noqa: ANN201
    api, clock = build_api(story, tmp_path / "audit.jsonl")
    async with TestClient(TestServer(create_regulator_app(api), host="127.0.0.1")) as client:
        yield Client(client, clock, story)


async def test_account_history_pages_through_every_transaction_touching_alice(regulator: Client) -> None:
    chain = regulator.chain
    pages, cursor = [], None
    while True:
        page = await regulator.result("compliance_get_account_history", chain.alice.address.hex(), cursor, 2)
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    first = pages[0]
    versions = [item["version"] for page in pages for item in page["items"]]
    # created, funded by the dealer, KYC set, then the two payments to bob: 5 items on 3 pages.
    assert [len(page["items"]) for page in pages] == [2, 2, 1] and first["version"] == chain.ledger.version
    assert versions[-2:] == [chain.small, chain.large] and versions == sorted(versions) and len(set(versions)) == 5
    assert first["items"][0]["roles"] == ["account"] and first["items"][0]["events"][0]["type"] == "create_account"
    newest = await regulator.result("compliance_get_account_history", chain.alice.address.hex(), None, 1,
                                    {"descending": True})
    assert [item["version"] for item in newest["items"]] == [chain.large]


async def test_search_finds_payments_by_counterparty_and_amount(regulator: Client) -> None:
    chain = regulator.chain
    found = await regulator.result("compliance_search_transactions", {
        "address": chain.alice.address.hex(), "counterparty": chain.bob.address.hex(), "min_amount": 10 * XUS,
        "currency": "XUS", "event_type": "payment", "status": "executed"})
    assert [item["version"] for item in found["items"]] == [chain.large]
    assert found["items"][0]["matched_events"] == [0]
    window = await regulator.result("compliance_search_transactions", {
        "counterparty": chain.bob.address.hex(), "start_version": chain.small, "end_version": chain.small})
    assert [item["version"] for item in window["items"]] == [chain.small]


async def test_large_transfers_travel_rule_and_actions(regulator: Client) -> None:
    chain = regulator.chain
    large = await regulator.result("compliance_get_large_transfers", "XUS", 500 * XUS, None, None,
                                   {"start_version": chain.small})
    assert [(item["version"], item["amount"], item["counterparty"]) for item in large["items"]] == [
        (chain.large, 900 * XUS, chain.bob.address.hex())]
    records = await regulator.result("compliance_get_travel_rule_records")
    assert [(r["version"], r["details"]["off_chain_reference_id"]) for r in records["items"]] == [(chain.large, "ref-7")]
    actions = await regulator.result("compliance_get_compliance_actions",
                                     {"types": ["freeze", "wipe"], "subject": chain.bob.address.hex()})
    tc = chain.keys["treasury"].address.hex()
    assert [(a["type"], a["version"], a["initiator"]) for a in actions["items"]] == [
        ("freeze", chain.freeze, tc), ("wipe", chain.wipe, tc)]
    assert actions["items"][1]["amount"] == 903 * XUS and actions["items"][1]["timestamp_us"] > 0


async def test_scopes_bad_params_and_page_limits_are_refused(regulator: Client) -> None:
    chain = regulator.chain
    for method in HISTORY_METHODS:
        status, body = await regulator.post(method, [], "supply-only")
        assert status == 403 and "result" not in body
    history = await regulator.result("compliance_get_account_history", chain.alice.address.hex(), key_name="xdx-only")
    assert all(event["currency"] in (None, "XDX") for item in history["items"] for event in item["events"])
    assert chain.small not in [item["version"] for item in history["items"]]
    status, body = await regulator.post("compliance_get_large_transfers", ["XUS", 1], "xdx-only")
    assert status == 200 and body["error"]["code"] == -32600 and "scope" in body["error"]["message"]
    for method, params in (("compliance_search_transactions", [{"event_type": "teleport"}]),
                           ("compliance_search_transactions", [{"unknown_field": 1}]),
                           ("compliance_get_large_transfers", ["XUS", -1]),
                           ("compliance_get_compliance_actions", [{"types": ["payment", "nope"]}]),
                           ("compliance_get_account_history", ["zz"])):
        status, body = await regulator.post(method, params)
        assert body["error"]["code"] == -32602, (method, params, body)
    status, body = await regulator.post("compliance_get_travel_rule_records", [None, None, 1001])
    assert body["error"]["code"] == -32600


async def test_a_node_without_a_store_says_so(tmp_path: Path) -> None:
    api, clock = build_api(ComplianceChain(), tmp_path / "audit.jsonl")
    async with TestClient(TestServer(create_regulator_app(api), host="127.0.0.1")) as client:
        status, body = await Client(client, clock, None).post("compliance_get_travel_rule_records", [])
    assert status == 200 and body["error"]["code"] == -32000 and "not available" in body["error"]["message"]
