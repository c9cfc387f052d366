"""The regulator's data, fetched through the signed regulator API (every call is audit-logged by the node)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from explorer.inputs import BadInput, NotFound
from wallet.regulator import AuditFetch
from wallet.regulator_audit import ChainCheck, SignedHead

PAGE_LIMIT = 100  # rows a page of the dashboard shows
EXPORT_LIMIT = 1_000  # rows per call when exporting a whole table
EXPORT_PAGES_MAX = 200  # at most 200,000 rows in one export
AUDIT_ROWS_SHOWN = 200
# The compliance actions that change supply: a mint reaches a dealer (received_mint), a burn destroys a preburn.
SUPPLY_SIGNS = {"received_mint": 1, "burn": -1}
SUPPLY_ACTIONS = tuple(SUPPLY_SIGNS)

ParamsFor = Callable[[int | None, int], list[Any]]


class Caller(Protocol):
    """What the reports need from the regulator client: one signed call."""

    async def call(self, method: str, params: list[Any]) -> Any: ...


class Regulator(Caller, Protocol):
    """What the dashboard needs from the regulator client (wallet.regulator.RegulatorClient)."""

    async def fetch_audit_log(self) -> AuditFetch: ...

    def check_audit(self, fetched: AuditFetch) -> ChainCheck: ...


@dataclass(frozen=True, slots=True)
class TablePage:
    """One page of a history table and where the next one starts (None: the range is exhausted)."""

    rows: tuple[dict[str, Any], ...]
    next_cursor: int | None


@dataclass(frozen=True, slots=True)
class AuditView:
    """The audit log as fetched, and whether its hash chain verifies up to the head the node signed."""

    entries: tuple[dict[str, Any], ...]
    check: ChainCheck
    head: SignedHead

    @property
    def head_hash(self) -> str:
        """The hash the node signed as its log's last."""
        return self.head.head_hash

    def is_intact(self) -> bool:
        """Return True iff every entry verifies, the chain ends at the signed head and agrees with earlier heads."""
        return self.check.ok


async def fetch_page(caller: Caller, method: str, params_for: ParamsFor, cursor: int | None,
                     limit: int = PAGE_LIMIT) -> TablePage:
    """Return one page of a cursor-paged history method."""
    result = await caller.call(method, params_for(cursor, limit))
    return TablePage(tuple(result["items"]), result["next_cursor"])


async def fetch_all(caller: Caller, method: str, params_for: ParamsFor) -> list[dict[str, Any]]:
    """Return every row of a cursor-paged history method (at most EXPORT_PAGES_MAX pages)."""
    rows: list[dict[str, Any]] = []
    cursor: int | None = None
    for _ in range(EXPORT_PAGES_MAX):
        page = await fetch_page(caller, method, params_for, cursor, EXPORT_LIMIT)
        rows += page.rows
        cursor = page.next_cursor
        if cursor is None:
            return rows
    raise BadInput(f"{method} has more than {EXPORT_PAGES_MAX * EXPORT_LIMIT} rows in this range: narrow the "
                   "period to export it")


async def fetch_rejections(caller: Caller, start_id: int | None, limit: int = PAGE_LIMIT) -> TablePage:
    """Return admission rejections from start_id (the log's oldest kept entry by default)."""
    result = await caller.call("compliance_get_rejected_admissions", [start_id or 0, limit])
    rows = tuple(result["rejections"])
    following = rows[-1]["id"] + 1 if rows else None
    return TablePage(rows, following if following is not None and following < result["next_id"] else None)


async def fetch_all_rejections(caller: Caller) -> list[dict[str, Any]]:
    """Return every admission rejection the node still holds."""
    rows: list[dict[str, Any]] = []
    cursor: int | None = 0
    for _ in range(EXPORT_PAGES_MAX):
        page = await fetch_rejections(caller, cursor, EXPORT_LIMIT)
        rows += page.rows
        cursor = page.next_cursor
        if cursor is None:
            break
    return rows


async def fetch_supply(caller: Caller, currency: str | None = None) -> dict[str, Any]:
    """Return the supply and reserves report (every in-scope currency, or one)."""
    return await caller.call("compliance_get_supply_and_reserves", [] if currency is None else [currency])


async def fetch_account(caller: Caller, address: bytes) -> dict[str, Any]:
    """Return an account's compliance report; NotFound when the chain has no such account."""
    report = await caller.call("compliance_get_account_report", [address.hex()])
    if report is None:
        raise NotFound(f"there is no account {address.hex()} on the chain")
    return report


async def fetch_audit(client: Regulator) -> AuditView:
    """Return the audit log this key may read and its verification (the wallet's own check, as `regulator audit-log`)."""
    fetched = await client.fetch_audit_log()
    return AuditView(tuple(fetched.entries), client.check_audit(fetched), fetched.head)
