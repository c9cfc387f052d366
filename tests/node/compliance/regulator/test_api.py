"""The regulator API end to end over HTTP: what an authorised regulator sees, and every refusal."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from contracts.transaction_builder import compose_peer_to_peer
from node.compliance.admission.codes import Reject
from node.compliance.admission.hooks import KycGateHook
from node.compliance.admission.pipeline import AdmissionPipeline, RejectionLog, make_admitting_submit
from node.compliance.regulator.audit import AuditLog, AuditLogError, verify_audit_entries
from node.compliance.regulator.server import create_regulator_app
from tests.node.compliance.admission.chain import ComplianceChain, new_account
from tests.node.compliance.regulator.harness import NOW_MS, build_api, compose_request, regulator_key
from tests.node.rpc.memory_ledger import DEALER_BALANCE_MICRO
from wallet.regulator_audit import verify_audit_chain

XUS = 1_000_000
NONCES = (bytes([n]) * 16 for n in itertools.count(1))


class Regulator:
    def __init__(self, client: TestClient, api: Any, clock: Any, chain: ComplianceChain) -> None:
        self.client, self.api, self.clock, self.chain = client, api, clock, chain

    async def post(self, method: str, params: list[Any], key_name: str | None = "full", **options: Any):  # noqa: ANN201
        key = None if key_name is None else regulator_key(key_name)
        options.setdefault("nonce", next(NONCES))
        options.setdefault("timestamp_ms", self.clock.now_ms)
        body, headers = compose_request(method, params, key, **options)
        response = await self.client.post("/v1", json=body, headers=headers)
        return response.status, await response.json(), response.headers

    async def result(self, method: str, *params: Any, key_name: str = "full") -> Any:
        status, body, _ = await self.post(method, list(params), key_name)
        assert status == 200 and "error" not in body, body
        return body["result"]


@pytest.fixture
async def regulator(tmp_path: Path):  # noqa: ANN201
    chain = ComplianceChain()
    chain.alice = chain.create_vasp("alice", 2_000 * XUS, kyc_tier=2)
    chain.bob = chain.create_vasp("bob", 2_000 * XUS)
    rejections = RejectionLog()
    chain.pipeline = AdmissionPipeline([KycGateHook(2, 1_000 * XUS)], hook_budget_ms=10_000, rejections=rejections,
                                       isolation="inline")
    api, clock = build_api(chain, tmp_path / "audit.jsonl", rejections)
    async with TestClient(TestServer(create_regulator_app(api), host="127.0.0.1")) as client:
        yield Regulator(client, api, clock, chain)


async def test_account_report_shows_role_kyc_balances_and_frozen_state(regulator: Regulator) -> None:
    alice = regulator.chain.alice
    report = await regulator.result("compliance_get_account_report", alice.address.hex())
    assert report["role"]["type"] == "parent_vasp" and report["is_frozen"] is False
    assert report["balances"] == [{"amount": 2_000 * XUS, "currency": "XUS"}]
    assert report["kyc"]["tier"] == 2 and report["kyc"]["effective_tier"] == 2 and report["kyc"]["is_expired"] is False
    assert report["kyc"]["provider"] == "provider"
    bob = await regulator.result("compliance_get_account_report", regulator.chain.bob.address.hex())
    assert bob["kyc"] is None
    assert await regulator.result("compliance_get_account_report", "ab" * 16) is None


async def test_a_currency_scope_hides_other_currencies_balances(regulator: Regulator) -> None:
    report = await regulator.result("compliance_get_account_report", regulator.chain.alice.address.hex(),
                                    key_name="xdx-only")
    assert report["balances"] == []
    status, body, _ = await regulator.post("compliance_get_supply_and_reserves", ["XUS"], "xdx-only")
    assert status == 200 and body["error"]["code"] == -32600 and "scope" in body["error"]["message"]


async def test_supply_report_matches_balances_and_attested_reserves(regulator: Regulator) -> None:
    chain = regulator.chain
    report = await regulator.result("compliance_get_supply_and_reserves", "XUS")
    (xus,) = report["currencies"]
    view = chain.view()
    from node.rpc.accounts import compute_balances

    holders = [chain.keys["dealer"].address, chain.alice.address, chain.bob.address]
    balances = sum(b["amount"] for a in holders for b in compute_balances(view.state, a, (b"XUS",)))
    assert xus["total_supply"] == balances == DEALER_BALANCE_MICRO
    assert xus["latest_attestation"]["amount"] == 2**63 and xus["attestation_count"] == 1
    assert xus["margin"] == 2**63 - DEALER_BALANCE_MICRO and xus["is_fully_backed"] is True
    assert xus["preburn"] == 0 and xus["attestations"] == [xus["latest_attestation"]]


async def test_rejected_admissions_are_listed_with_code_and_reason(regulator: Regulator) -> None:
    chain = regulator.chain
    submit = make_admitting_submit(chain.pipeline, chain.get_view, chain.ledger.submit, chain.tracker)
    signed = chain.sign(chain.alice, compose_peer_to_peer(chain.bob.address, 1_500 * XUS))
    assert isinstance(submit(signed), Reject)
    result = await regulator.result("compliance_get_rejected_admissions", 0, 10)
    (record,) = result["rejections"]
    assert record["code"] == 1111 and record["code_name"] == "KYC_PAYEE_MISSING" and record["hook"] == "kyc"
    assert record["sender"] == chain.alice.address.hex() and record["payee"] == chain.bob.address.hex()
    assert record["amount_micro"] == 1_500 * XUS and record["txn_hash"] == signed.hash().hex()
    assert (await regulator.result("compliance_get_rejected_admissions", 0, 10, key_name="xdx-only"))["rejections"] == []


REFUSALS = {
    "missing signature": (dict(key_name=None), 401, "missing_signature"),
    "unknown key": (dict(key_name="stranger"), 401, "bad_signature"),
    "old timestamp": (dict(timestamp_ms=NOW_MS - 60_001), 401, "stale_timestamp"),
    "future timestamp": (dict(timestamp_ms=NOW_MS + 60_001), 401, "stale_timestamp"),
    "other chain": (dict(chain_id=1), 401, "bad_signature"),
    "wrong scope": (dict(key_name="supply-only"), 403, "out_of_scope"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
async def test_each_refusal_is_logged_and_reveals_no_data(regulator: Regulator, case: str) -> None:
    options, expected_status, reason = REFUSALS[case]
    address = regulator.chain.alice.address.hex()
    status, body, headers = await regulator.post("compliance_get_account_report", [address], **options)
    assert (status, body) == (expected_status, {"error": "forbidden" if status == 403 else "unauthorized",
                                                 "reason": reason})
    assert not any(name.lower().startswith("x-diem") for name in headers)
    entry = regulator.api.audit.read(0, 10)[-1]
    assert entry["outcome"] == "refused" and entry["status"] == expected_status and entry["reason"] == reason
    assert entry["method"] == "compliance_get_account_report" and entry["result_bytes"] == 0


async def test_tampered_params_are_refused(regulator: Regulator) -> None:
    params = [regulator.chain.alice.address.hex()]
    body, headers = compose_request("compliance_get_account_report", params, regulator_key("full"),
                                    timestamp_ms=NOW_MS, nonce=b"\x09" * 16)
    body["params"] = [regulator.chain.bob.address.hex()]
    response = await regulator.client.post("/v1", json=body, headers=headers)
    assert response.status == 401 and await response.json() == {"error": "unauthorized", "reason": "bad_signature"}
    assert regulator.api.audit.read(0, 1)[0]["reason"] == "bad_signature"


async def test_a_replayed_nonce_is_refused(regulator: Regulator) -> None:
    first = await regulator.post("compliance_get_supply_and_reserves", [], nonce=b"\x42" * 16)
    again = await regulator.post("compliance_get_supply_and_reserves", [], nonce=b"\x42" * 16)
    assert first[0] == 200 and again[:2] == (401, {"error": "unauthorized", "reason": "replayed_nonce"})
    regulator.clock.now_ms += 120_001  # the nonce's timestamp is stale now, so the cache may forget it
    stale = await regulator.post("compliance_get_supply_and_reserves", [], nonce=b"\x42" * 16, timestamp_ms=NOW_MS)
    assert stale[1]["reason"] == "stale_timestamp"


async def test_malformed_bodies_are_refused_and_logged(regulator: Regulator) -> None:
    for body in (b"not json", b"[]", json.dumps({"jsonrpc": "2.0", "method": "x", "params": [1.5]}).encode()):
        response = await regulator.client.post("/v1", data=body)
        assert response.status == 400 and (await response.json())["reason"] == "malformed_request"
    assert [e["reason"] for e in regulator.api.audit.read(0, 10)] == ["malformed_request"] * 3


async def test_the_audit_log_lists_every_call_and_verifies_end_to_end(regulator: Regulator) -> None:
    await regulator.result("compliance_get_supply_and_reserves")
    await regulator.post("compliance_get_supply_and_reserves", [], key_name=None)
    await regulator.result("compliance_get_account_report", regulator.chain.bob.address.hex())
    log = await regulator.result("compliance_get_audit_log", 0, 100)
    assert log["next_seq"] == 3 and [e["outcome"] for e in log["entries"]] == ["allowed", "refused", "allowed"]
    assert [e["regulator"] for e in log["entries"]] == ["full", None, "full"]
    assert log["entries"][0]["result_bytes"] > 0
    check = verify_audit_chain(log["entries"])
    assert check.ok and check.head_hash == log["head_hash"]
    assert verify_audit_entries(log["entries"]).ok
    # The fetch itself is logged too, after its answer was computed.
    assert regulator.api.audit.next_seq == 4


async def test_an_edited_audit_file_breaks_verification_and_the_node_refuses_to_reopen_it(
        regulator: Regulator, tmp_path: Path) -> None:
    for _ in range(3):
        await regulator.result("compliance_get_supply_and_reserves")
    path = tmp_path / "audit.jsonl"
    lines = path.read_text().splitlines()
    edited = json.loads(lines[1])
    edited["result_bytes"] += 1
    lines[1] = json.dumps(edited, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    assert not verify_audit_chain([json.loads(line) for line in lines]).ok
    with pytest.raises(AuditLogError, match="seq 1"):
        AuditLog(path)


async def test_an_answer_whose_audit_entry_cannot_be_written_is_withheld(regulator: Regulator, monkeypatch) -> None:  # noqa: ANN001
    def refuse(*_args: Any) -> None:
        raise AuditLogError("disk full")

    monkeypatch.setattr(regulator.api.audit, "append", refuse)
    status, body, _ = await regulator.post("compliance_get_supply_and_reserves", [])
    assert (status, body) == (503, {"error": "unavailable", "reason": "audit_unavailable"})


async def test_account_report_shows_the_kyc_limits_used_in_the_current_window(regulator: Regulator) -> None:
    from wallet.treasury import compose_set_tier_limits

    chain = regulator.chain
    chain.run(chain.keys["treasury"], compose_set_tier_limits("XUS", 0, 500 * XUS, 10**6 * XUS, 10**6 * XUS,
                                                              10**6 * XUS, 3_600 * 10**6))
    chain.run(chain.alice, compose_peer_to_peer(chain.bob.address, 70 * XUS))
    report = await regulator.result("compliance_get_account_report", chain.alice.address.hex())
    (used,) = report["limits_used"]
    assert used["currency"] == "XUS" and used["kyc_window"]["outflow"] == 70 * XUS and used["kyc_window"]["inflow"] == 0
    assert used["account_limits_window"] is None
