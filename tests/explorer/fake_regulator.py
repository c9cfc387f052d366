"""A stand-in for the signed regulator client: answers shaped as the node's regulator API's (docs/compliance.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wallet.regulator import AuditFetch
from wallet.regulator_audit import (
    GENESIS_PREV_HASH,
    ChainCheck,
    SignedHead,
    check_reaches_head,
    compute_audit_hash,
    verify_audit_chain,
)

XUS = 1_000_000
DAY_US = 86_400_000_000
JAN_1_2026_US = 1_767_225_600_000_000
DEALER = "000000000000000000000000000000dd"
ALICE = "a1" * 16
BOB = "b0" * 16
CAROL = "c0" * 16
TREASURY = "0000000000000000000000000b1e55ed"


def event(kind: str, version: int, time_us: int, account: str | None, counterparty: str | None = None,
          amount: int | None = None, currency: str | None = "XUS", **details: Any) -> dict[str, Any]:
    """Return one indexed event item as the history methods render it."""
    return {"index": 0, "type": kind, "account": account, "counterparty": counterparty, "currency": currency,
            "amount": amount, "initiator": details.pop("initiator", None), "details": details, "version": version,
            "timestamp_us": time_us, "sender": account, "status": "executed", "script": None}


def make_audit_entries(count: int) -> list[dict[str, Any]]:
    """Return a valid hash-chained audit log of count allowed calls."""
    entries, prev = [], GENESIS_PREV_HASH
    for seq in range(count):
        entry = {"seq": seq, "time_ms": 1_767_225_600_000 + seq, "regulator": "finma", "public_key": "ab" * 32,
                 "method": "compliance_get_supply_and_reserves", "params_hash": "00" * 32, "nonce": "01" * 16,
                 "outcome": "allowed", "status": 200, "reason": "", "result_bytes": 10, "prev_hash": prev}
        entry["hash"] = compute_audit_hash(entry)
        entries.append(entry)
        prev = entry["hash"]
    return entries


def page(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one (last) page of a history method."""
    return {"items": items, "next_cursor": None, "version": 100}


def in_range(items: list[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the items whose time lies within a range object's start/end times."""
    start, end = options.get("start_time_us", 0), options.get("end_time_us", 2**64)
    return [item for item in items if start <= item["timestamp_us"] <= end]


class FakeRegulator:
    """Answers compliance_* calls from lists of rows, and records every call it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Any]]] = []
        self.transfers = [
            event("received_payment", 0, 0, "00" * 16, DEALER, 1_000_000 * XUS),
            event("payment", 10, JAN_1_2026_US + 3_600_000_000, DEALER, ALICE, 500 * XUS),
            event("payment", 11, JAN_1_2026_US + 7_200_000_000, DEALER, BOB, 300 * XUS),
            event("payment", 20, JAN_1_2026_US + DAY_US + 60_000_000, ALICE, CAROL, 100 * XUS),
            event("payment", 30, JAN_1_2026_US + 5 * DAY_US, BOB, ALICE, 300 * XUS),  # after the period
            event("received_payment", 31, JAN_1_2026_US + 6 * DAY_US, "00" * 16, DEALER, 50 * XUS),  # a mint
        ]
        self.actions = [
            event("freeze", 25, JAN_1_2026_US + 2 * DAY_US, CAROL, initiator=TREASURY, frozen_address=CAROL,
                  currency=None),
            event("received_mint", 31, JAN_1_2026_US + 6 * DAY_US, DEALER, amount=50 * XUS),
        ]
        self.balances = {DEALER: 999_250 * XUS, ALICE: 700 * XUS, BOB: 0, CAROL: 100 * XUS, "00" * 16: 0}
        self.audit = make_audit_entries(5)
        self.answers: dict[str, Callable[[list[Any]], Any]] = {
            "compliance_get_supply_and_reserves": self.get_supply,
            "compliance_get_large_transfers": lambda p: page([t for t in in_range(self.transfers, p[4] or {})
                                                               if t["amount"] >= p[1]]),
            "compliance_get_compliance_actions": lambda p: page(self.filter_actions(p[0] or {})),
            "compliance_get_travel_rule_records": lambda p: page([]),
            "compliance_get_rejected_admissions": lambda p: {"admission_enabled": True, "first_id": 0, "next_id": 1,
                                                             "rejections": [self.rejection()]},
            "compliance_get_account_report": self.get_account_report,
            "compliance_get_account_history": lambda p: page(self.get_history(p[0], p[3] or {})),
        }

    async def call(self, method: str, params: list[Any]) -> Any:
        self.calls.append((method, params))
        return self.answers[method](params)

    async def fetch_audit_log(self) -> AuditFetch:
        return AuditFetch([dict(entry) for entry in self.audit], self.sign_head(len(self.audit)))

    def sign_head(self, count: int) -> SignedHead:
        """Return a head as the node would sign it (the signature is the real client's to check, not the dashboard's)."""
        return SignedHead("cd" * 32, 2, count, self.audit[count - 1]["hash"], 1_767_225_600_000, "")

    def check_audit(self, fetched: AuditFetch) -> ChainCheck:
        return check_reaches_head(verify_audit_chain(fetched.entries), fetched.head.head_hash, fetched.head.count)

    def get_supply(self, _params: list[Any]) -> dict[str, Any]:
        attestation = {"amount": 2_000_000 * XUS, "attested_at_us": JAN_1_2026_US - DAY_US, "auditor": "0a550c18",
                       "recorded_at_us": JAN_1_2026_US - DAY_US, "report_hash": "ee" * 32, "sequence": 0,
                       "supply_at_record": 1_000_000 * XUS}
        xus = {"currency": "XUS", "is_synthetic": False, "can_mint": True, "total_supply": 1_000_050 * XUS,
               "preburn": 0, "latest_attestation": attestation, "attestations": [attestation],
               "attestation_count": 1, "max_attestation_age_us": 35 * DAY_US, "attestation_age_us": DAY_US,
               "is_stale": False, "margin": 999_950 * XUS, "is_fully_backed": True}
        return {"version": 100, "timestamp_us": JAN_1_2026_US + 7 * DAY_US, "currencies": [xus]}

    def filter_actions(self, options: dict[str, Any]) -> list[dict[str, Any]]:
        kinds = options.get("types")
        return [item for item in in_range(self.actions, options) if kinds is None or item["type"] in kinds]

    def get_account_report(self, params: list[Any]) -> dict[str, Any] | None:
        address = params[0]
        if address not in self.balances:
            return None
        return {"address": address, "balances": [{"amount": self.balances[address], "currency": "XUS"}],
                "is_frozen": address == CAROL, "kyc": None, "limits_used": [], "sequence_number": 0,
                "role": {"type": "parent_vasp", "human_name": address[:4]}, "version": 100}

    def get_history(self, address: str, options: dict[str, Any]) -> list[dict[str, Any]]:
        touched = [item for item in in_range(self.transfers + self.actions, options)
                   if address in (item["account"], item["counterparty"])]
        return [{"version": item["version"], "timestamp_us": item["timestamp_us"], "status": "executed",
                 "sender": item["account"], "sequence_number": 0, "script": None, "events": [item],
                 "roles": ["account"]} for item in sorted(touched, key=lambda item: item["version"])]

    @staticmethod
    def rejection() -> dict[str, Any]:
        return {"id": 0, "time_ms": 1_767_225_600_000, "ledger_version": 12, "sender": ALICE, "sequence_number": 3,
                "txn_hash": "cd" * 32, "hook": "sanctions", "code": 1001, "code_name": "SANCTIONED_SENDER",
                "reason": "<b>listed</b>", "payee": BOB, "amount_micro": 5 * XUS, "currency": "XUS"}
