"""Issue E acceptance on a real 4-validator devnet: issuer CLI, admission hooks, on-chain rules, the regulator's view."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet.check import CheckReport, run_checks
from node.compliance.admission.codes import AdmissionCode
from primitives.types.names import AccountAddress
from tests.e2e_compliance.harness import (
    CHAIN_ID,
    KYC_THRESHOLD_MICRO,
    XUS,
    ComplianceNet,
    canonical_request,
    create_users,
    get_node_id,
    post_raw,
    read_audit_file,
    start_compliance_net,
)
from wallet.regulator import compose_signed_headers
from wallet.treasury import load_signing_key

pytestmark = pytest.mark.timeout(300)
ADMISSION_ERROR = -32050
LIMIT_EXCEEDED = 8  # the Diem error category of the reserve and KYC limit aborts
MINTED_MICRO = 500 * XUS
WIPED_MICRO = 777 * XUS
ABOVE_THRESHOLD_MICRO = KYC_THRESHOLD_MICRO + 50 * XUS
BELOW_THRESHOLD_MICRO = KYC_THRESHOLD_MICRO // 2
USERS = {"alice": 2_000 * XUS, "bob": 2_000 * XUS, "carol": 10 * XUS, "dave": 2_000 * XUS,
         "mallory": 2_000 * XUS, "eve": 10 * XUS, "zed": WIPED_MICRO}
# Abort codes as Diem forms them (reason << 8 | category): Reserves reason 3, KYC reasons 4 and 5.
ESUPPLY_EXCEEDS_RESERVES = 3 << 8 | LIMIT_EXCEEDED
EPAYER_TRANSFER_CAP = 4 << 8 | LIMIT_EXCEEDED
EPAYEE_TRANSFER_CAP = 5 << 8 | LIMIT_EXCEEDED


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComplianceNet]:
    net = start_compliance_net(Path(tmp_path_factory.mktemp("compliance")))
    with net.devnet:
        net.devnet.wait_healthy()
        yield net


def check_black_box(net: ComplianceNet) -> CheckReport:
    """The independent checker: every validator agrees, and minted - burned covers what accounts hold."""
    return run_checks(net.urls)


def assert_admission_refused(answer: dict, code: AdmissionCode) -> None:
    """The node answered -32050 with the hook's stable code."""
    assert "error" in answer, f"admitted, expected {code.name}: {answer}"
    error = answer["error"]
    assert error["code"] == ADMISSION_ERROR, error
    assert error["data"]["AdmissionCode"] == code.value and error["data"]["AdmissionCodeName"] == code.name, error


def assert_aborted(transaction: dict, code: int, module: str) -> None:
    """The transaction committed with a move_abort of the given code in the given module."""
    status = transaction["vm_status"]
    assert status["type"] == "move_abort", status
    assert status["abort_code"] == code and status["location"].endswith(module), status


def phase_reserves(net: ComplianceNet) -> int:
    """The auditor attests supply + 500 XUS; the dealer gets exactly that minted; one micro-unit more aborts."""
    supply = check_black_box(net).supply_micro["XUS"]
    reserves_micro = supply + MINTED_MICRO
    report = net.root / "reserves-report.pdf"
    report.write_bytes(b"independent auditor's reserve report")
    attested = net.treasury("attest-reserves", "--amount", f"{reserves_micro // XUS}.{reserves_micro % XUS:06d}",
                            "--report", str(report), role="auditor")
    assert attested.exit_code == 0, attested.output
    minted = net.treasury("mint", "--amount", str(MINTED_MICRO // XUS))
    assert minted.exit_code == 0, minted.output
    above = net.treasury("mint", "--amount", "0.000001")
    assert above.exit_code == 1
    assert f"move_abort {ESUPPLY_EXCEEDS_RESERVES}" in above.output and "ESUPPLY_EXCEEDS_RESERVES" in above.output
    assert check_black_box(net).supply_micro["XUS"] == reserves_micro
    return reserves_micro


def phase_kyc(net: ComplianceNet) -> None:
    """Below-tier transfers stop at the hook on validator 0; through validator 3 (no hook) the chain stops them."""
    for name, tier in (("alice", "2"), ("carol", "2"), ("dave", "0")):
        result = net.treasury("set-kyc", net.users[name].address.hex(), "--tier", tier, "--provider", "acme-kyc")
        assert result.exit_code == 0, result.output
    refusals = (("alice", "bob", AdmissionCode.KYC_PAYEE_MISSING), ("bob", "alice", AdmissionCode.KYC_SENDER_MISSING),
                ("dave", "alice", AdmissionCode.KYC_SENDER_TIER_TOO_LOW),
                ("alice", "dave", AdmissionCode.KYC_PAYEE_TIER_TOO_LOW))
    for sender, payee, code in refusals:
        sequence = net.get_sequence(sender)
        assert_admission_refused(net.pay(0, sender, payee, ABOVE_THRESHOLD_MICRO), code)
        assert net.get_transaction(sender, sequence) is None and net.get_sequence(sender) == sequence
    # Verified on both sides, or below the threshold: admitted and executed.
    for sender, payee, amount in (("alice", "carol", ABOVE_THRESHOLD_MICRO), ("bob", "alice", BELOW_THRESHOLD_MICRO)):
        sequence = net.get_sequence(sender)
        assert "error" not in net.pay(0, sender, payee, amount)
        net.wait_committed(sender, sequence)
        assert net.get_transaction(sender, sequence)["vm_status"]["type"] == "executed"

    # On-chain tier limits: tier 0 may move 100 XUS per transfer, tier 2 1,000.
    for args in (("--tier", "0", "--max-per-transfer", "100", "--max-inflow", "10000", "--max-outflow", "10000",
                  "--max-holding", "100000"),
                 ("--tier", "2", "--max-per-transfer", "1000", "--max-inflow", "100000", "--max-outflow", "100000",
                  "--max-holding", "1000000")):
        result = net.treasury("set-limits", *args)
        assert result.exit_code == 0, result.output
    alice, bob = net.get_sequence("alice"), net.get_sequence("bob")
    for answer in (net.pay(3, "alice", "bob", ABOVE_THRESHOLD_MICRO, alice),
                   net.pay(3, "alice", "carol", ABOVE_THRESHOLD_MICRO, alice + 1),
                   net.pay(3, "bob", "alice", ABOVE_THRESHOLD_MICRO, bob)):
        assert "error" not in answer, f"validator 3 runs no hook, yet refused: {answer}"
    net.wait_committed("alice", alice + 1)
    net.wait_committed("bob", bob)
    assert_aborted(net.get_transaction("alice", alice), EPAYEE_TRANSFER_CAP, "KYC")
    assert net.get_transaction("alice", alice + 1)["vm_status"]["type"] == "executed"
    assert_aborted(net.get_transaction("bob", bob), EPAYER_TRANSFER_CAP, "KYC")
    removed = net.treasury("set-limits", "--tier", "0", "--remove")
    assert removed.exit_code == 0, removed.output


def phase_sanctions(net: ComplianceNet) -> None:
    """A listed sender is refused; a payee added to the file mid-run is refused without a restart."""
    net.sanctions_path.write_text(f"# e2e sanctions list\n{net.users['mallory'].address.hex()}\n")
    assert_admission_refused(net.pay(0, "mallory", "alice", XUS), AdmissionCode.SANCTIONED_SENDER)
    sequence = net.get_sequence("alice")
    assert "error" not in net.pay(0, "alice", "eve", XUS)
    net.wait_committed("alice", sequence)
    pid = net.devnet.processes[0].pid
    with net.sanctions_path.open("a") as handle:
        handle.write(f"0x{net.users['eve'].address.hex()}  # added during the run\n")
    assert_admission_refused(net.pay(0, "alice", "eve", XUS), AdmissionCode.SANCTIONED_PAYEE)
    assert net.devnet.processes[0].pid == pid and net.devnet.processes[0].poll() is None


def phase_freeze_and_wipe(net: ComplianceNet) -> int:
    """Treasury compliance freezes zed; zed's transfers fail; zed is wiped and the supply drops by its balance."""
    zed = net.users["zed"].address.hex()
    assert net.treasury("freeze", zed).exit_code == 0
    frozen_send = net.pay(0, "zed", "alice", XUS)
    assert "error" in frozen_send and frozen_send["error"]["code"] != ADMISSION_ERROR, frozen_send
    assert "FROZEN" in json.dumps(frozen_send["error"]).upper(), frozen_send
    sequence = net.get_sequence("alice")
    assert "error" not in net.pay(3, "alice", "zed", XUS)
    net.wait_committed("alice", sequence)
    assert net.get_transaction("alice", sequence)["vm_status"]["type"] == "move_abort"
    supply_before = check_black_box(net).supply_micro["XUS"]
    wiped = net.treasury("wipe", zed)
    assert wiped.exit_code == 0, wiped.output
    assert net.get_balance("zed") == 0
    supply_after = check_black_box(net).supply_micro["XUS"]
    assert supply_after == supply_before - WIPED_MICRO
    return supply_after


def export_rows(net: ComplianceNet, name: str, *args: str, method: str) -> list[dict]:
    """Run a regulator CLI query with --export jsonl and return the exported rows."""
    path = net.root / f"{name}.jsonl"
    result = net.regulator(*args, "--export", "jsonl", str(path), methods=(method,))
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in path.read_text().splitlines()]


def phase_regulator(net: ComplianceNet, reserves_micro: int) -> dict[str, dict]:
    """The regulator finds frozen and KYC state, supply vs reserves, the refusals, and an audit log that verifies."""
    report = "compliance_get_account_report"
    [zed] = export_rows(net, "zed", "account", net.users["zed"].address.hex(), method=report)
    assert zed["is_frozen"] is True and zed["balances"] == [{"amount": 0, "currency": "XUS"}]
    [alice] = export_rows(net, "alice", "account", net.users["alice"].address.hex(), method=report)
    assert alice["is_frozen"] is False and alice["kyc"]["tier"] == 2 and alice["kyc"]["effective_tier"] == 2
    [bob] = export_rows(net, "bob", "account", net.users["bob"].address.hex(), method=report)
    assert bob["kyc"] is None or bob["kyc"].get("effective_tier", 0) == 0

    [xus] = export_rows(net, "supply", "supply", "--currency", "XUS", method="compliance_get_supply_and_reserves")
    checked = check_black_box(net)
    assert xus["total_supply"] == checked.supply_micro["XUS"] == checked.held_micro["XUS"], (xus, checked)
    assert xus["latest_attestation"]["amount"] == reserves_micro
    assert xus["margin"] == reserves_micro - xus["total_supply"] == WIPED_MICRO and xus["is_fully_backed"] is True

    rejected = export_rows(net, "rejected", "rejections", method="compliance_get_rejected_admissions")
    assert [(r["code"], r["sender"]) for r in rejected] == [
        (AdmissionCode.KYC_PAYEE_MISSING, net.users["alice"].address.hex()),
        (AdmissionCode.KYC_SENDER_MISSING, net.users["bob"].address.hex()),
        (AdmissionCode.KYC_SENDER_TIER_TOO_LOW, net.users["dave"].address.hex()),
        (AdmissionCode.KYC_PAYEE_TIER_TOO_LOW, net.users["alice"].address.hex()),
        (AdmissionCode.SANCTIONED_SENDER, net.users["mallory"].address.hex()),
        (AdmissionCode.SANCTIONED_PAYEE, net.users["alice"].address.hex()),
    ]

    history = query_history(net)

    audit_export = net.root / "audit.jsonl"
    calls_before = list(net.regulator_calls)
    fetched = net.regulator("audit-log", "--export", "jsonl", str(audit_export), methods=("compliance_get_audit_log",))
    assert fetched.exit_code == 0 and f"audit chain verifies: {len(calls_before)} entries" in fetched.output, fetched.output
    entries = [json.loads(line) for line in audit_export.read_text().splitlines()]
    assert [e["method"] for e in entries] == calls_before
    assert all(e["outcome"] == "allowed" and e["regulator"] == "finma" for e in entries)
    verified = net.regulator_offline_verify()
    assert verified.exit_code == 0, verified.output
    assert f"audit chain verifies: {len(net.regulator_calls)} entries" in verified.output
    return history


def query_history(net: ComplianceNet) -> dict[str, dict]:
    """Ask the index-served methods about zed (account history, freeze / wipe actions) and large transfers."""
    zed = net.users["zed"].address.hex()
    actions_file, history_file = net.root / "actions.jsonl", net.root / "history.jsonl"
    actions_cli = net.regulator("actions", "--type", "freeze", "--type", "wipe", "--subject", zed,
                                "--export", "jsonl", str(actions_file), methods=("compliance_get_compliance_actions",))
    assert actions_cli.exit_code == 0, actions_cli.output
    assert [json.loads(line)["type"] for line in actions_file.read_text().splitlines()] == ["freeze", "wipe"]
    history_cli = net.regulator("history", zed, "--export", "jsonl", str(history_file),
                                methods=("compliance_get_account_history",))
    assert history_cli.exit_code == 0, history_cli.output
    assert any(json.loads(line)["events"] for line in history_file.read_text().splitlines())
    return {
        "zed": net.call_regulator("compliance_get_account_history", [zed, None, 100]),
        "actions": net.call_regulator("compliance_get_compliance_actions", [{"types": ["freeze", "wipe"], "subject": zed}]),
        "large": net.call_regulator("compliance_get_large_transfers", ["XUS", ABOVE_THRESHOLD_MICRO]),
    }


def check_history(net: ComplianceNet, history: dict[str, dict]) -> None:
    """The freeze and wipe of zed, and the large transfers, are found through the commit-time indexes."""
    assert all(page["items"] for page in history.values()), "the node must answer history from its commit-time indexes"
    zed, alice = net.users["zed"].address.hex(), net.users["alice"].address.hex()
    actions = [(a["type"], a["account"], a["initiator"]) for a in history["actions"]["items"]]
    treasury = AccountAddress.TREASURY_COMPLIANCE.value.hex()
    assert actions == [("freeze", zed, treasury), ("wipe", zed, treasury)], history["actions"]
    zed_types = {event["type"] for item in history["zed"]["items"] for event in item["events"]}
    assert {"payment", "freeze", "wipe"} <= zed_types, history["zed"]
    large = [(item["account"], item["counterparty"], item["amount"], item["status"])
             for item in history["large"]["items"] if item["type"] == "payment"]
    assert (alice, net.users["carol"].address.hex(), ABOVE_THRESHOLD_MICRO, "executed") in large, history["large"]
    assert all(amount >= ABOVE_THRESHOLD_MICRO for _, _, amount, _ in large)


def test_issuer_hooks_chain_and_regulator_end_to_end(net: ComplianceNet) -> None:
    create_users(net, USERS, node=3)
    check_black_box(net)
    reserves_micro = phase_reserves(net)
    phase_kyc(net)
    check_black_box(net)
    phase_sanctions(net)
    check_black_box(net)
    phase_freeze_and_wipe(net)
    history = phase_regulator(net, reserves_micro)
    check_black_box(net)
    check_history(net, history)  # last: it xfails while the node writes no compliance indexes


# ---- authentication, against the same node -------------------------------------------------------------------

# case: (HTTP status, reason word, who the audit entry names: None until the signature checks out)
AUTH_CASES = {
    "missing_signature": (401, "missing_signature", None),
    "unknown_key": (401, "bad_signature", None),
    "wrong_scope": (403, "out_of_scope", "narrow"),
    "replayed_nonce": (401, "replayed_nonce", "finma"),
    "old_timestamp": (401, "stale_timestamp", None),
    "tampered_params": (401, "bad_signature", None),
}


@pytest.mark.parametrize("case", list(AUTH_CASES))
def test_each_authentication_failure_is_refused_without_data_and_logged(net: ComplianceNet, case: str) -> None:
    status, reason, regulator = AUTH_CASES[case]
    method, params = "compliance_get_account_report", ["000000000000000000000000000000dd"]
    key = load_signing_key(net.get_key_file({"unknown_key": "stranger", "wrong_scope": "narrow"}.get(case, "finma")))
    now_ms = time.time_ns() // 1_000_000 - (10 * 60_000 if case == "old_timestamp" else 0)
    headers = compose_signed_headers(key, CHAIN_ID, get_node_id(net.regulator_url), method, params, now_ms,
                                     secrets.token_bytes(16))
    body = canonical_request(method, ["000000000000000000000000000000aa"] if case == "tampered_params" else params)
    if case == "missing_signature":
        headers.pop("X-Regulator-Signature")
    if case == "replayed_nonce":
        assert post_raw(net.regulator_url, body, headers)[0] == 200
    answer_status, answer = post_raw(net.regulator_url, body, headers)
    assert (answer_status, answer.get("reason")) == (status, reason), answer
    assert set(answer) <= {"error", "reason"}, f"a refusal carries data: {answer}"
    last = read_audit_file(net.audit_path)[-1]
    assert (last["outcome"], last["status"], last["reason"], last["result_bytes"]) == ("refused", status, reason, 0)
    assert last["regulator"] == regulator
