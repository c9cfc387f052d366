"""The dashboard's first page: supply against reserves per currency, now and over time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from explorer.dashboard.source import EXPORT_LIMIT, SUPPLY_ACTIONS, SUPPLY_SIGNS, Caller, fetch_page, fetch_supply
from explorer.series import Point, SupplyChange, compute_chart_data, compute_supply_points



@dataclass(frozen=True, slots=True)
class Overview:
    """The supply report's rows (without the attestation history), the charts' data and the report's version."""

    rows: tuple[dict[str, Any], ...]
    charts: dict[str, list[list[float | None]]]
    version: int
    timestamp_us: int


async def fetch_supply_changes(caller: Caller) -> tuple[list[dict[str, Any]], int]:
    """Return the newest mints and burns (one page, newest first) and the first version they cover completely."""
    page = await fetch_page(caller, "compliance_get_compliance_actions",
                            lambda cursor, limit: [{"types": list(SUPPLY_ACTIONS), "descending": True}, cursor, limit],
                            None, EXPORT_LIMIT)
    rows = list(page.rows)
    window_start = 0 if page.next_cursor is None or not rows else rows[-1]["version"]
    return rows, window_start


def compute_changes(actions: list[dict[str, Any]], currency: str) -> list[SupplyChange]:
    """Return one currency's supply changes from mint and burn actions."""
    return [SupplyChange(item["version"], item["timestamp_us"], SUPPLY_SIGNS[item["type"]] * (item["amount"] or 0))
            for item in actions if item["currency"] == currency and item["type"] in SUPPLY_SIGNS]


def compute_reserve_points(item: dict[str, Any]) -> tuple[Point, ...]:
    """Return the attested reserves over time from the attestation history kept on chain."""
    return tuple(Point(entry["attested_at_us"], entry["amount"]) for entry in item["attestations"])


async def get_overview(caller: Caller) -> Overview:
    """Return supply and reserves per reserve-backed currency, with their history for the charts."""
    answer = await fetch_supply(caller)
    actions, window_start = await fetch_supply_changes(caller)
    charts = {}
    for item in answer["currencies"]:
        if item["is_synthetic"]:
            continue
        supply = compute_supply_points(item["total_supply"], answer["timestamp_us"],
                                       compute_changes(actions, item["currency"]), window_start)
        charts[item["currency"]] = compute_chart_data(supply, compute_reserve_points(item)).to_json()
    rows = tuple({name: value for name, value in item.items() if name != "attestations"}
                 for item in answer["currencies"])
    return Overview(rows, charts, answer["version"], answer["timestamp_us"])
