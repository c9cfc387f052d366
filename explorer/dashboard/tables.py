"""How the dashboard shows the regulator API's rows: columns, cell formatting and filter forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from explorer.web import format_amount, format_time, shorten_hex

MICROS_PER_MILLISECOND = 1_000


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: its heading, the (dotted) key of its value, and how to show it."""

    label: str
    key: str
    kind: str = "text"  # text, number, amount, time_us, time_ms, address, events


@dataclass(frozen=True, slots=True)
class Cell:
    """A shown value, with a link target when the value names an account."""

    text: str
    href: str | None = None
    css: str = ""  # "num" right-aligns a figure, "nowrap" keeps a time on one line


@dataclass(frozen=True, slots=True)
class Field:
    """A filter field of a table's form."""

    name: str
    label: str
    value: str
    kind: str = "text"  # text, date, select
    options: tuple[str, ...] = ()
    placeholder: str = ""


VERSION = Column("Version", "version", "number")
TIME = Column("Time", "timestamp_us", "time_us")
TRANSFER_COLUMNS = (VERSION, TIME, Column("Type", "type"), Column("Payer", "account", "address"),
                    Column("Payee", "counterparty", "address"), Column("Amount", "amount", "amount"),
                    Column("Currency", "currency"), Column("Status", "status"))
TRAVEL_RULE_COLUMNS = (VERSION, TIME, Column("Payer", "account", "address"), Column("Payee", "counterparty", "address"),
                       Column("Amount", "amount", "amount"), Column("Currency", "currency"),
                       Column("Reference", "details.off_chain_reference_id"), Column("Metadata", "details.metadata"))
ACTION_COLUMNS = (VERSION, TIME, Column("Action", "type"), Column("Subject", "account", "address"),
                  Column("By", "initiator", "address"), Column("Amount", "amount", "amount"),
                  Column("Currency", "currency"), Column("Script", "script"))
REJECTION_COLUMNS = (Column("Id", "id", "number"), Column("Time", "time_ms", "time_ms"), Column("Hook", "hook"),
                     Column("Code", "code_name"), Column("Reason", "reason"), Column("Sender", "sender", "address"),
                     Column("Payee", "payee", "address"), Column("Amount", "amount_micro", "amount"),
                     Column("Currency", "currency"))
HISTORY_COLUMNS = (VERSION, TIME, Column("Roles", "roles"), Column("Script", "script"),
                   Column("Events", "events", "events"), Column("Status", "status"))
AUDIT_COLUMNS = (Column("Seq", "seq", "number"), Column("Time", "time_ms", "time_ms"),
                 Column("Regulator", "regulator"), Column("Method", "method"), Column("Outcome", "outcome"),
                 Column("Status", "status", "number"), Column("Reason", "reason"), Column("Hash", "hash", "hash"),
                 Column("Chain", "chain"))
ACTION_TYPES = ("freeze", "unfreeze", "wipe", "pause", "unpause", "kyc_record", "kyc_tier_limits",
                "limits_definition", "limits_window", "reserve_attestation", "reserve_auditor_change",
                "reserve_config", "minting_ability", "dual_attestation_limit", "exchange_rate_update",
                "received_mint", "burn", "cancel_burn")


def get_value(row: dict[str, Any], key: str) -> Any:
    """Return the value at a dotted key of a nested row (None when any part is missing)."""
    value: Any = row
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def summarize_event(event: dict[str, Any]) -> str:
    """Return one indexed event in a few words: its type, amount and parties."""
    parts = [event.get("type") or "event"]
    if event.get("amount") is not None:
        parts.append(format_amount(event["amount"], event.get("currency") or ""))
    if event.get("account"):
        parts.append(shorten_hex(event["account"]))
    if event.get("counterparty"):
        parts.append("→ " + shorten_hex(event["counterparty"]))
    return " ".join(parts)


def format_cell(row: dict[str, Any], column: Column) -> Cell:
    """Return one cell of a row as the dashboard shows it."""
    value = get_value(row, column.key)
    if value is None or value == "":
        return Cell("—")
    if column.kind == "address":
        return Cell(shorten_hex(value), f"/account/{value}")
    if column.kind == "amount":
        return Cell(format_amount(value), css="num")
    if column.kind == "time_us":
        return Cell(format_time(value), css="nowrap")
    if column.kind == "time_ms":
        return Cell(format_time(value * MICROS_PER_MILLISECOND), css="nowrap")
    if column.kind == "number":
        return Cell(str(value), css="num")
    if column.kind == "hash":
        return Cell(shorten_hex(value))
    if column.kind == "events":
        return Cell("; ".join(summarize_event(event) for event in value) or "—")
    if isinstance(value, list):
        return Cell(", ".join(str(item) for item in value))
    return Cell(str(value))


def compute_cells(rows: list[dict[str, Any]] | tuple[dict[str, Any], ...],
                  columns: tuple[Column, ...]) -> list[list[Cell]]:
    """Return the shown cells of every row."""
    return [[format_cell(row, column) for column in columns] for row in rows]
