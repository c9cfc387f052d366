"""Items 7, 14 and 17 on the regulator listener: deep JSON, a torn or unwritable audit log, the node's own checks of
its log at start, and floods of unauthenticated requests (throttled per client, counted, the log bounded)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from node.compliance.regulator import audit as audit_module
from node.compliance.regulator.audit import AuditLog, AuditLogError, compute_entry_hash
from node.compliance.regulator.server import RegulatorApi, create_regulator_app
from node.compliance.regulator.throttle import REFUSED_BURST, RefusalThrottle
from node.rpc.jsondepth import JSON_DEPTH_MAX
from tests.node.compliance.admission.chain import ComplianceChain
from tests.node.compliance.regulator.harness import build_api, compose_request, regulator_key


class FrozenClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
async def listener(tmp_path: Path) -> AsyncIterator[tuple[TestClient, RegulatorApi, FrozenClock]]:
    api, _ = build_api(ComplianceChain(), tmp_path / "audit.jsonl")
    clock = FrozenClock()
    api.throttle = RefusalThrottle(clock=clock)
    async with TestClient(TestServer(create_regulator_app(api), host="127.0.0.1")) as client:
        yield client, api, clock


def fill(log: AuditLog, count: int) -> None:
    for index in range(count):
        log.append(1_000 + index, "full", "ab" * 32, "compliance_get_supply_and_reserves", "00" * 32, "01" * 16, True,
                   200, "", 10)


def rewrite(path: Path, entries: list[dict]) -> None:
    path.write_bytes(b"".join(json.dumps(e, sort_keys=True, separators=(",", ":")).encode() + b"\n" for e in entries))


async def test_json_nested_past_the_limit_is_refused_as_malformed_and_still_audited(listener) -> None:  # noqa: ANN001
    client, api, _ = listener
    deep = b'{"jsonrpc":"2.0","id":1,"method":"m","params":' + b"[" * 1_200 + b"]" * 1_200 + b"}"
    response = await client.post("/v1", data=deep, headers={"Content-Type": "application/json"})
    assert response.status == 400 and (await response.json())["reason"] == "malformed_request"
    assert api.audit.next_seq == 1, "the refusal is in the audit log"
    at_limit = b"[" * (JSON_DEPTH_MAX - 1) + b"]" * (JSON_DEPTH_MAX - 1)
    body = b'{"jsonrpc":"2.0","id":1,"method":"m","params":' + at_limit + b"}"
    assert (await client.post("/v1", data=body)).status == 401, "nesting within the limit is parsed"


async def test_a_flood_of_unauthenticated_requests_is_throttled_and_logged_as_counts(listener) -> None:  # noqa: ANN001
    client, api, clock = listener
    flood = 200
    statuses = [(await client.post("/v1", data=b"{}")).status for _ in range(flood)]
    assert statuses[:REFUSED_BURST] == [400] * REFUSED_BURST
    assert set(statuses[REFUSED_BURST:]) == {429}
    assert api.audit.next_seq == REFUSED_BURST, "throttled requests append nothing one by one"
    clock.now_s += 3_600
    body, headers = compose_request("compliance_get_supply_and_reserves", [], regulator_key("full"),
                                    timestamp_ms=api.authenticator.wall_clock_ms())
    assert (await client.post("/v1", json=body, headers=headers)).status == 200, "regulators are never throttled"
    entries = api.audit.read(0, 1_000)
    aggregates = [e for e in entries if e["status"] == 429]
    assert len(aggregates) == 1 and aggregates[0]["result_bytes"] == flood - REFUSED_BURST
    assert aggregates[0]["reason"] == "throttled:malformed_request from 127.0.0.1"
    assert entries[-1]["outcome"] == "allowed", "every authenticated request is still audited one by one"


async def test_a_failed_audit_write_is_withheld_and_leaves_no_torn_tail(listener, monkeypatch) -> None:  # noqa: ANN001
    client, api, _ = listener
    real_fsync = audit_module.os.fsync
    calls = {"count": 0}

    def failing_fsync(fd: int) -> None:
        calls["count"] += 1
        if calls["count"] == 1:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(audit_module.os, "fsync", failing_fsync)
    key = regulator_key("full")
    for nonce in (b"\x01" * 16, b"\x02" * 16):
        body, headers = compose_request("compliance_get_supply_and_reserves", [], key,
                                        timestamp_ms=api.authenticator.wall_clock_ms(), nonce=nonce)
        response = await client.post("/v1", json=body, headers=headers)
        statuses = calls["count"]
        assert response.status == (503 if nonce == b"\x01" * 16 else 200), statuses
    reopened = AuditLog(api.audit.path)
    assert reopened.next_seq == 1 and reopened.recovered_bytes == 0, "the failed entry was cut, the next one kept"


def test_a_torn_tail_is_cut_on_open_keeping_every_whole_entry(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    fill(AuditLog(path), 3)
    with open(path, "ab") as handle:
        handle.write(b'{"seq":3,"time_ms"\n')  # a torn line that did get its newline
    reopened = AuditLog(path)
    assert reopened.next_seq == 3 and reopened.recovered_bytes == len(b'{"seq":3,"time_ms"\n')
    lines = path.read_bytes().splitlines()
    lines.insert(1, b"garbage")
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(AuditLogError):
        AuditLog(path)  # a bad line before whole entries is tampering, not a crash


@pytest.mark.parametrize("check", ["seq", "prev_hash", "hash"])
def test_the_node_refuses_to_open_a_log_that_fails_any_one_of_its_checks(tmp_path: Path, check: str) -> None:
    path = tmp_path / "audit.jsonl"
    fill(AuditLog(path), 3)
    entries = [json.loads(line) for line in path.read_bytes().splitlines()]
    # Each edit is consistent with every check but the one under test, so deleting that check lets it pass.
    if check == "seq":
        entries[2]["seq"] = 7
        entries[2]["hash"] = compute_entry_hash(entries[2])
    elif check == "prev_hash":
        entries[2]["prev_hash"] = "11" * 32
        entries[2]["hash"] = compute_entry_hash(entries[2])
    else:
        entries[2]["result_bytes"] = 11
    rewrite(path, entries)
    with pytest.raises(AuditLogError, match="seq 2"):
        AuditLog(path)


async def test_a_request_captured_before_a_restart_does_not_replay_after_it(tmp_path: Path) -> None:
    from node.compliance.regulator.server import build_regulator_api
    from node.config import RegulatorConfig, RegulatorKeyConfig
    from tests.node.compliance.regulator.harness import NODE_KEY, NOW_MS

    key = regulator_key("full")
    config = RegulatorConfig(regulators=[RegulatorKeyConfig(name="full", public_key=key.public_key().data.hex(),
                                                            methods=["*"])])
    ledger = ComplianceChain().ledger
    body, headers = compose_request("compliance_get_supply_and_reserves", [], key, timestamp_ms=NOW_MS)
    statuses = []
    for _ in range(2):  # the node, then the same node after a restart (a new API over the same data_dir)
        api = build_regulator_api(config, ledger, None, tmp_path, NODE_KEY, clock_ms=lambda: NOW_MS + 1_000)
        async with TestClient(TestServer(create_regulator_app(api), host="127.0.0.1")) as client:
            response = await client.post("/v1", json=body, headers=headers)
            statuses.append((response.status, (await response.json()).get("reason")))
    assert statuses == [(200, None), (401, "replayed_nonce")]
