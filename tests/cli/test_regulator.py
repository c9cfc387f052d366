"""`stablechain regulator` over real HTTP: signed calls, tables, exports, end-to-end audit verification."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.regulator import app
from node.compliance.regulator.identity import NodeIdentity
from node.compliance.regulator.server import build_regulator_api, create_regulator_app, start_regulator_server
from node.config import RegulatorConfig
from tests.cli.server import ServerThread
from tests.node.compliance.admission.chain import ComplianceChain
from tests.node.compliance.regulator.harness import NODE_KEY, regulator_key
from wallet.regulator import RegulatorClient, RegulatorRefused

runner = CliRunner()
XUS = 1_000_000


@pytest.fixture(scope="module")
def node(tmp_path_factory):  # noqa: ANN001, ANN201
    folder = tmp_path_factory.mktemp("regulator")
    chain = ComplianceChain()
    chain.alice = chain.create_vasp("alice", 300 * XUS, kyc_tier=1)
    config = RegulatorConfig.model_validate({
        "listen_port": 0, "audit_log_file": "audit/regulator.jsonl",
        "regulators": [
            {"name": "finma", "public_key": regulator_key("finma").public_key().hex(), "methods": ["*"],
             "audit_scope": "all"},
            {"name": "auditor", "public_key": regulator_key("auditor").public_key().hex(),
             "methods": ["compliance_get_supply_and_reserves"], "currencies": ["XUS"]},
        ],
    })
    api = build_regulator_api(config, chain.ledger, None, folder, NODE_KEY)
    for name in ("finma", "auditor", "stranger"):
        (folder / f"{name}.key").write_text(regulator_key(name).seed.hex())
    with ServerThread(create_regulator_app(api)) as url:
        yield chain, url, folder, api


def invoke(node, *args: str, key: str = "finma"):  # noqa: ANN001, ANN201
    _, url, folder, _ = node
    return runner.invoke(app, [*args, "--url", url, "--key-file", str(folder / f"{key}.key")])


def test_the_audit_file_lives_under_the_data_dir(node) -> None:  # noqa: ANN001
    _, _, folder, api = node
    assert api.audit.path == folder / "audit" / "regulator.jsonl"


def test_account_report_prints_a_table_and_exports_csv_and_jsonl(node, tmp_path: Path) -> None:  # noqa: ANN001
    chain = node[0]
    result = invoke(node, "account", chain.alice.address.hex(), "--export", "csv", str(tmp_path / "a.csv"))
    assert result.exit_code == 0, result.output
    assert "parent_vasp" in result.output and "exported 1 rows" in result.output
    (row,) = list(csv.DictReader(open(tmp_path / "a.csv")))
    assert row["role.type"] == "parent_vasp" and row["kyc.tier"] == "1" and row["is_frozen"] == "False"
    assert json.loads(row["balances"]) == [{"amount": 300 * XUS, "currency": "XUS"}]
    invoke(node, "account", chain.alice.address.hex(), "--export", "jsonl", str(tmp_path / "a.jsonl"))
    assert json.loads((tmp_path / "a.jsonl").read_text())["kyc"]["tier"] == 1


def test_supply_and_an_out_of_scope_call(node) -> None:  # noqa: ANN001
    supply = invoke(node, "supply", key="auditor")
    assert supply.exit_code == 0 and "XUS" in supply.output and "is_fully_backed" in supply.output
    refused = invoke(node, "rejections", key="auditor")
    assert refused.exit_code == 1 and "HTTP 403 out_of_scope" in refused.output
    stranger = invoke(node, "supply", key="stranger")
    assert stranger.exit_code == 1 and "HTTP 401 bad_signature" in stranger.output


def test_rejections_without_admission_say_so(node) -> None:  # noqa: ANN001
    assert invoke(node, "rejections").exit_code == 0


def test_the_audit_log_verifies_end_to_end_and_offline(node, tmp_path: Path) -> None:  # noqa: ANN001
    _, _, folder, api = node
    result = invoke(node, "audit-log", "--export", "jsonl", str(tmp_path / "audit.jsonl"))
    assert result.exit_code == 0, result.output
    assert "audit chain verifies" in result.output
    exported = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert {e["outcome"] for e in exported} == {"allowed", "refused"}
    assert runner.invoke(app, ["verify-audit", str(api.audit.path)]).exit_code == 0
    exported[0]["method"] = "compliance_get_nothing"
    (tmp_path / "edited.jsonl").write_text("".join(json.dumps(e) + "\n" for e in exported))
    broken = runner.invoke(app, ["verify-audit", str(tmp_path / "edited.jsonl")])
    assert broken.exit_code == 2 and "does NOT verify" in broken.output and "entry 0" in broken.output


def test_a_pinned_node_id_that_is_not_the_node_stops_every_command(node) -> None:  # noqa: ANN001
    _, url, folder, api = node
    before = api.audit.next_seq
    wrong = runner.invoke(app, ["supply", "--url", url, "--key-file", str(folder / "finma.key"), "--node-id", "ab" * 32])
    assert wrong.exit_code == 1 and "not the pinned" in wrong.output
    assert api.audit.next_seq == before, "nothing was sent to a node that is not the pinned one"
    bad = runner.invoke(app, ["supply", "--url", url, "--key-file", str(folder / "finma.key"), "--node-id", "xyz"])
    assert bad.exit_code == 1 and "64 hex characters" in bad.output
    right = runner.invoke(app, ["supply", "--url", url, "--key-file", str(folder / "finma.key"), "--node-id",
                                NODE_KEY.public_key().hex()])
    assert right.exit_code == 0, right.output


def test_audit_log_keeps_the_signed_heads_and_fails_against_one_the_log_contradicts(node, tmp_path: Path) -> None:  # noqa: ANN001
    heads = tmp_path / "heads.jsonl"
    first = invoke(node, "audit-log", "--heads", str(heads))
    assert first.exit_code == 0 and "signed by node " + NODE_KEY.public_key().hex() in first.output, first.output
    kept = [json.loads(line) for line in heads.read_text().splitlines()]
    assert len(kept) == 1 and kept[0]["count"] > 0
    # A head the node signed for a history in which entry 0 was another one: the log on the node contradicts it.
    other = NodeIdentity(NODE_KEY, 2).sign_head(1, "ee" * 32, kept[0]["time_ms"] - 1)
    with open(heads, "a") as handle:
        handle.write(json.dumps(other) + "\n")
    second = invoke(node, "audit-log", "--heads", str(heads))
    assert second.exit_code == 2 and "entry 0 is not the one the node signed" in second.output, second.output
    heads.write_text("not json\n")
    assert invoke(node, "audit-log", "--heads", str(heads)).exit_code == 1, "a broken heads file is an error"
    heads.write_text(json.dumps({**other, "head_hash": "dd" * 32}) + "\n")
    forged = invoke(node, "audit-log", "--heads", str(heads))
    assert forged.exit_code == 1 and "not signed by its node" in forged.output, "so is a head nobody signed"


def test_every_command_signs_in_the_rfc_9421_envelope_on_request(node, monkeypatch) -> None:  # noqa: ANN001
    _, _, _, api = node
    from wallet import regulator as sdk

    signed = []
    compose = sdk.compose_rfc9421_headers
    monkeypatch.setattr(sdk, "compose_rfc9421_headers", lambda *args: signed.append(args) or compose(*args))
    result = invoke(node, "supply", "--envelope", "rfc9421")
    assert len(signed) == 1, "the request went out in the RFC 9421 envelope"
    assert result.exit_code == 0 and "supply and reserves at version" in result.output, result.output
    assert api.audit.read(api.audit.next_seq - 1, 1)[0]["outcome"] == "allowed"
    wrong = invoke(node, "supply", "--envelope", "jws")
    assert wrong.exit_code == 1 and "envelope is one of v2, rfc9421" in wrong.output


async def test_the_listener_starts_on_its_own_port(tmp_path: Path) -> None:
    chain = ComplianceChain()
    config = RegulatorConfig.model_validate({"listen_port": 0, "regulators": [
        {"name": "finma", "public_key": regulator_key("finma").public_key().hex(), "methods": ["*"]}]})
    api = build_regulator_api(config, chain.ledger, None, tmp_path, NODE_KEY)
    server, port = await start_regulator_server(api, "127.0.0.1", 0)
    try:
        client = RegulatorClient(f"http://127.0.0.1:{port}/v1", regulator_key("finma"))
        supply = await client.call("compliance_get_supply_and_reserves", [])
        assert supply["currencies"][0]["currency"] == "XUS"
        with pytest.raises(RegulatorRefused, match="401 bad_signature"):
            await RegulatorClient(f"http://127.0.0.1:{port}/v1", regulator_key("other")).call(
                "compliance_get_audit_log", [])
    finally:
        await server.cleanup()
    assert (tmp_path / "regulator-audit.jsonl").read_text().count("\n") == 2


def test_keygen_writes_a_private_key_file_and_prints_the_config_entry(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keygen", "--out", str(tmp_path / "me.key"), "--name", "finma"])
    assert result.exit_code == 0, result.output
    from wallet.treasury import load_signing_key

    key = load_signing_key(tmp_path / "me.key")
    assert "[[regulator.regulators]]" in result.output and key.public_key().hex() in result.output
    assert (tmp_path / "me.key").stat().st_mode & 0o777 == 0o600
    assert runner.invoke(app, ["keygen", "--out", str(tmp_path / "me.key")]).exit_code == 1
