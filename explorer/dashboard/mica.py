"""The periodic report MiCA Art. 22(1) asks of an issuer (applied to e-money tokens by Art. 58(3))."""

# (a) holders, (b) value issued and size of the reserve, (c) average number and average aggregate value of
# transactions per day over the period. A "transaction" is a change of the person entitled to the token by a
# transfer between ledger addresses (Art. 22(1), last subparagraph), so it counts payments between accounts,
# not the mint deposits that issue coins. Everything comes from the signed regulator API:
# * transactions: the transfer index over the period (compliance_get_large_transfers, threshold 0);
# * value issued at the period's end: today's supply minus mints plus burns after the end (compliance actions);
# * reserve: the latest attestation at or before the end (the attestation history kept on chain);
# * holders: accounts with a non-zero balance at the end: every account that ever took part in a transfer up
#   to the end, its balance today (account report) minus its payments in and out after the end.

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from explorer.dashboard.source import SUPPLY_ACTIONS, Caller, fetch_all, fetch_supply
from explorer.inputs import NotFound, get_day_start_us

MICROS_PER_DAY = 86_400_000_000
HOLDER_CANDIDATES_MAX = 10_000  # accounts whose balances one report reads (two signed calls each)
PAYMENT = "payment"


@dataclass(frozen=True, slots=True)
class DayActivity:
    """Payments on one UTC day: how many and their total value in micro-units."""

    day: date
    transactions: int
    value_micro: int


@dataclass(frozen=True, slots=True)
class MicaReport:
    """The Art. 22(1)(a)-(c) figures of one currency over one period (all amounts in micro-units)."""

    currency: str
    first_day: date
    last_day: date
    holders: int
    accounts_examined: int
    value_issued_micro: int
    issued_in_period_micro: int
    redeemed_in_period_micro: int
    reserve_micro: int | None
    reserve_attested_at_us: int | None
    reserve_report_hash: str | None
    transactions: int
    transactions_value_micro: int
    daily: tuple[DayActivity, ...]
    as_of_version: int

    @property
    def days(self) -> int:
        """Return the number of days in the period (both ends included)."""
        return (self.last_day - self.first_day).days + 1

    def get_average_transactions_hundredths(self) -> int:
        """Return the average number of transactions per day, in hundredths (rounded down)."""
        return self.transactions * 100 // self.days

    def get_average_value_micro(self) -> int:
        """Return the average aggregate value of transactions per day (rounded down)."""
        return self.transactions_value_micro // self.days


def get_period_bounds_us(first_day: date, last_day: date) -> tuple[int, int]:
    """Return the first and last microsecond of a period of whole UTC days."""
    return get_day_start_us(first_day), get_day_start_us(last_day + timedelta(days=1)) - 1


def compute_daily(payments: list[dict[str, Any]], first_day: date, last_day: date) -> tuple[DayActivity, ...]:
    """Return one row per day of the period with its payment count and value (days without payments too)."""
    counts: Counter[date] = Counter()
    values: Counter[date] = Counter()
    for payment in payments:
        day = first_day + timedelta(days=(payment["timestamp_us"] - get_day_start_us(first_day)) // MICROS_PER_DAY)
        counts[day] += 1
        values[day] += payment["amount"]
    days = [first_day + timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
    return tuple(DayActivity(day, counts[day], values[day]) for day in days)


def sum_amounts(actions: list[dict[str, Any]], kind: str, currency: str) -> int:
    """Return the total amount of one kind of action in one currency."""
    return sum(item["amount"] or 0 for item in actions if item["type"] == kind and item["currency"] == currency)


def get_reserve_at(supply: dict[str, Any], end_us: int) -> dict[str, Any] | None:
    """Return the latest attestation made at or before end_us (from the history kept on chain)."""
    made = [item for item in supply["attestations"] if item["attested_at_us"] <= end_us]
    return made[-1] if made else None


def compute_flow_after(history: list[dict[str, Any]], address: str, currency: str) -> int:
    """Return how much an account's balance changed through the transactions of its history (in minus out)."""
    change = 0
    for transaction in history:
        for event in transaction["events"]:
            if event["currency"] != currency or event["amount"] is None:
                continue
            if event["type"] in (PAYMENT, "received_payment") and event["counterparty"] == address:
                change += event["amount"]
            if event["type"] in (PAYMENT, "preburn") and event["account"] == address:
                change -= event["amount"]
    return change


def get_participants(transfers: list[dict[str, Any]]) -> list[str]:
    """Return every account that paid or was paid in a list of transfers, in first-seen order."""
    seen = dict.fromkeys(address for item in transfers for address in (item["account"], item["counterparty"])
                         if address)
    return list(seen)


async def count_holders(caller: Caller, currency: str, end_us: int) -> tuple[int, int]:
    """Return (holders at end_us, accounts examined): participants of every transfer up to end_us."""
    transfers = await fetch_all(caller, "compliance_get_large_transfers",
                                lambda cursor, limit: [currency, 0, cursor, limit, {"end_time_us": end_us}])
    candidates = get_participants(transfers)
    if len(candidates) > HOLDER_CANDIDATES_MAX:
        raise NotFound(f"{len(candidates)} accounts took part in transfers, more than the {HOLDER_CANDIDATES_MAX} "
                       "one report examines")
    holders = 0
    for address in candidates:
        report = await caller.call("compliance_get_account_report", [address])
        if report is None:
            continue
        balance = sum(item["amount"] for item in report["balances"] if item["currency"] == currency)
        history = await fetch_all(caller, "compliance_get_account_history",
                                  lambda cursor, limit, a=address: [a, cursor, limit, {"start_time_us": end_us + 1}])
        if balance - compute_flow_after(history, address, currency) > 0:
            holders += 1
    return holders, len(candidates)


async def fetch_mica_report(caller: Caller, currency: str, first_day: date, last_day: date) -> MicaReport:
    """Return the Art. 22 figures of currency for the days first_day..last_day (UTC)."""
    start_us, end_us = get_period_bounds_us(first_day, last_day)
    answer = await fetch_supply(caller, currency)
    supply = next((item for item in answer["currencies"] if item["currency"] == currency), None)
    if supply is None:
        raise NotFound(f"the regulator API reports no currency {currency}")
    period = {"start_time_us": start_us, "end_time_us": end_us}
    transfers = await fetch_all(caller, "compliance_get_large_transfers",
                                lambda cursor, limit: [currency, 0, cursor, limit, period])
    payments = [item for item in transfers if item["type"] == PAYMENT]
    during = await fetch_all(caller, "compliance_get_compliance_actions",
                             lambda cursor, limit: [{"types": list(SUPPLY_ACTIONS), **period}, cursor, limit])
    after = await fetch_all(caller, "compliance_get_compliance_actions",
                            lambda cursor, limit: [{"types": list(SUPPLY_ACTIONS), "start_time_us": end_us + 1},
                                                   cursor, limit])
    reserve = get_reserve_at(supply, end_us)
    holders, examined = await count_holders(caller, currency, end_us)
    return MicaReport(
        currency=currency, first_day=first_day, last_day=last_day, holders=holders, accounts_examined=examined,
        value_issued_micro=supply["total_supply"] - sum_amounts(after, "received_mint", currency)
        + sum_amounts(after, "burn", currency),
        issued_in_period_micro=sum_amounts(during, "received_mint", currency),
        redeemed_in_period_micro=sum_amounts(during, "burn", currency),
        reserve_micro=None if reserve is None else reserve["amount"],
        reserve_attested_at_us=None if reserve is None else reserve["attested_at_us"],
        reserve_report_hash=None if reserve is None else reserve["report_hash"],
        transactions=len(payments), transactions_value_micro=sum(item["amount"] for item in payments),
        daily=compute_daily(payments, first_day, last_day), as_of_version=answer["version"],
    )


def format_hundredths(value: int) -> str:
    """Return a count in hundredths as a decimal with two places (1234 -> "12.34")."""
    return f"{value // 100}.{value % 100:02d}"


def compute_report_rows(report: MicaReport) -> list[dict[str, Any]]:
    """Return the report as one row of named fields (what the CSV export and the CLI table show)."""
    return [{
        "currency": report.currency, "period_start": report.first_day.isoformat(),
        "period_end": report.last_day.isoformat(), "days": report.days, "holders": report.holders,
        "value_issued_micro": report.value_issued_micro, "issued_in_period_micro": report.issued_in_period_micro,
        "redeemed_in_period_micro": report.redeemed_in_period_micro, "reserve_micro": report.reserve_micro,
        "reserve_attested_at_us": report.reserve_attested_at_us, "reserve_report_hash": report.reserve_report_hash,
        "transactions": report.transactions, "transactions_value_micro": report.transactions_value_micro,
        "average_transactions_per_day": format_hundredths(report.get_average_transactions_hundredths()),
        "average_value_per_day_micro": report.get_average_value_micro(), "as_of_version": report.as_of_version,
    }]


def compute_daily_rows(report: MicaReport) -> list[dict[str, Any]]:
    """Return the daily breakdown as rows."""
    return [{"day": item.day.isoformat(), "transactions": item.transactions, "value_micro": item.value_micro}
            for item in report.daily]
