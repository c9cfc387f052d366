"""`stablechain regulator`: signed, audited queries to a node's regulator API; tables, CSV / JSON-lines export."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from primitives.keys import PrivateKey
from wallet.errors import WalletError
from wallet.regulator import (
    DEFAULT_CHAIN_ID,
    DEFAULT_URL,
    ENVELOPE_V2,
    KEY_FILE_MODE,
    RegulatorClient,
    compose_range,
    export_rows,
    flatten,
    parse_node_id,
)
from wallet.regulator_audit import ChainCheck, HeadStore, check_reaches_head, verify_audit_chain
from wallet.treasury import load_signing_key

Result = TypeVar("Result")

app = typer.Typer(help="Query a node's regulator API (signed requests, every call audit-logged).", no_args_is_help=True)
console = Console(soft_wrap=True)
error_console = Console(stderr=True, soft_wrap=True)


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    """Print rows as a rich table (flattened)."""
    flat = [flatten(row) for row in rows]
    table = Table(title=title)
    if len(flat) == 1:  # one record reads best as field / value lines
        table.add_column("field")
        table.add_column("value", overflow="fold")
        for name, value in flat[0].items():
            table.add_row(name, "" if value is None else str(value))
        console.print(table)
        return
    columns = list(dict.fromkeys(name for row in flat for name in row))
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in flat:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)


def emit(title: str, rows: list[dict[str, Any]], export: tuple[str, Path] | None) -> None:
    """Print the rows, and export them when asked."""
    print_rows(title, rows)
    if export is not None:
        export_rows(rows, export[0], Path(export[1]))
        console.print(f"exported {len(rows)} rows to {export[1]} ({export[0]})")


def run(coroutine: Coroutine[Any, Any, Result]) -> Result:
    """Run a command's coroutine; print wallet errors without a traceback and exit 1."""
    try:
        return asyncio.run(coroutine)
    except WalletError as error:
        error_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None


# ----------------------------------------------------------------- commands
URL = typer.Option(DEFAULT_URL, "--url", help="The node's regulator API.")
KEY_FILE = typer.Option(..., "--key-file", help="Your regulator ed25519 key file (hex, or encrypted).")
PASSPHRASE_ENV = typer.Option(None, "--passphrase-env", help="Environment variable holding the key file's passphrase.")
CHAIN_ID = typer.Option(DEFAULT_CHAIN_ID, "--chain-id", help="The chain id the request is signed for.")
ENVELOPE = typer.Option(ENVELOPE_V2, "--envelope", help="How requests are signed: v2 (this project's headers) "
                        "or rfc9421 (HTTP Message Signatures); the answers are checked in the same envelope.")
NODE_ID = typer.Option(None, "--node-id", help="The node's network public key (from its operator): requests are signed "
                       "for it and its answers must be signed by it (default: the id the node announces).")
EXPORT = typer.Option(None, "--export", metavar="FORMAT FILE", help="Also write the rows as csv or jsonl to FILE.")


def make_client(url: str, key_file: Path, passphrase_env: str | None, chain_id: int, node_id: str | None,
                heads: Path | None = None, envelope: str = ENVELOPE_V2) -> RegulatorClient:
    """Return a client for one node; errors in the key, the node id, the heads file or the envelope exit 1."""
    try:
        pinned = None if node_id is None else parse_node_id(node_id)
        return RegulatorClient(url, load_signing_key(key_file, passphrase_env), chain_id, pinned, HeadStore(heads),
                               envelope)
    except WalletError as error:
        error_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None


@app.command("account")
def account_report(address: str, url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
                   chain_id: int = CHAIN_ID,
                   node_id: str = NODE_ID, envelope: str = ENVELOPE, export: tuple[str, Path] = EXPORT) -> None:
    """Roles, KYC record, balances, limits used and frozen state of an account."""
    client = make_client(url, key_file, passphrase_env, chain_id, node_id, envelope=envelope)
    report = run(client.call("compliance_get_account_report", [address.lower().removeprefix("0x")]))
    if report is None:
        error_console.print(f"no account {address}")
        raise typer.Exit(1)
    emit(f"account {report['address']} at version {report['version']}", [report], export)


@app.command("supply")
def supply(currency: str = typer.Option(None, "--currency", help="One currency (default: all in scope)."),
           url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, chain_id: int = CHAIN_ID,
           node_id: str = NODE_ID, envelope: str = ENVELOPE,
           export: tuple[str, Path] = EXPORT) -> None:
    """Total supply, preburn, attested reserves, margin and staleness per currency."""
    client = make_client(url, key_file, passphrase_env, chain_id, node_id, envelope=envelope)
    result = run(client.call("compliance_get_supply_and_reserves", [] if currency is None else [currency]))
    rows = [{k: v for k, v in item.items() if k != "attestations"} for item in result["currencies"]]
    emit(f"supply and reserves at version {result['version']}", rows, export)


@app.command("rejections")
def rejections(start: int = typer.Option(0, "--start"), limit: int = typer.Option(100, "--limit"), url: str = URL,
               key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, chain_id: int = CHAIN_ID,
               node_id: str = NODE_ID, envelope: str = ENVELOPE,
               export: tuple[str, Path] = EXPORT) -> None:
    """Transactions the node's admission hooks refused (who, what, code, reason, when)."""
    client = make_client(url, key_file, passphrase_env, chain_id, node_id, envelope=envelope)
    result = run(client.call("compliance_get_rejected_admissions", [start, limit]))
    emit(f"rejected admissions (ids {result['first_id']}..{result['next_id'] - 1} held)", result["rejections"], export)


HEADS = typer.Option(None, "--heads", help="A file of the node's signed audit heads kept from earlier runs: the log "
                     "must agree with each (a rewritten log does not), and this run's head is added.")


@app.command("audit-log")
def audit_log(url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
              chain_id: int = CHAIN_ID, node_id: str = NODE_ID, envelope: str = ENVELOPE, heads: Path = HEADS,
              export: tuple[str, Path] = EXPORT) -> None:
    """Fetch the audit log (yours; all of it with scope "all"), verify it against the signed heads (exit 2 if not)."""
    client = make_client(url, key_file, passphrase_env, chain_id, node_id, heads, envelope)
    fetched = run(client.fetch_audit_log())
    emit(f"audit log ({len(fetched.entries)} entries)", fetched.entries, export)
    report_check(client.check_audit(fetched), None, None)
    console.print(f"signed by node {fetched.head.node_id}: {fetched.head.count} entries at {fetched.head.time_ms}")


@app.command("verify-audit")
def verify_audit(path: Path = typer.Argument(..., help="An audit log in JSON lines (the node's file or an export).")) -> None:
    """Verify an audit log file offline, from its first entry (exit 2 if it does not verify)."""
    try:
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError) as error:
        error_console.print(f"[bold red]error:[/] {path}: {error}")
        raise typer.Exit(1) from None
    report_check(verify_audit_chain(entries), None, None)


def report_check(check: ChainCheck, head_hash: str | None, next_seq: int | None) -> None:
    """Print the verification result; exit 2 when the chain is broken or does not reach the node's head."""
    check = check_reaches_head(check, head_hash, next_seq)
    if not check.ok:
        error_console.print(f"[bold red]audit chain does NOT verify:[/] {check.error}")
        raise typer.Exit(2)
    others = f" ({check.stubs} of other regulators, hash only)" if check.stubs else ""
    console.print(f"audit chain verifies: {check.count} entries{others}, head {check.head_hash}")


@app.command("keygen")
def keygen(out: Path = typer.Option(..., "--out", help="Where to write the new private key (hex, mode 0600)."),
           name: str = typer.Option("regulator", "--name", help="The name the node operator will configure.")) -> None:
    """Create a regulator key; print the [[regulator.regulators]] entry to hand to the node operator."""
    if out.exists():
        error_console.print(f"[bold red]error:[/] {out} exists; refusing to overwrite a key")
        raise typer.Exit(1)
    key = PrivateKey(secrets.token_bytes(32))
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key.seed.hex() + "\n")
    console.print(f"wrote {out}\n\n[[regulator.regulators]]\nname = \"{name}\"\n"
                  f"public_key = \"{key.public_key().hex()}\"\nmethods = [\"*\"]\ncurrencies = [\"*\"]", markup=False)


# ---- history and search (commit-time compliance indexes) ------------------------------------------------------

HISTORY_PAGES_MAX = 1_000
CURSOR = typer.Option(None, "--cursor", help="Start at this version (the previous page's next_cursor).")
LIMIT = typer.Option(100, "--limit", help="Items per page (at most 1000).")
ALL_PAGES = typer.Option(False, "--all", help="Follow next_cursor to the end of the range.")
NEWEST_FIRST = typer.Option(False, "--newest-first", help="Newest version first.")
START_VERSION = typer.Option(None, "--start-version")
END_VERSION = typer.Option(None, "--end-version")
START_TIME_US = typer.Option(None, "--start-time-us", help="Block time, Unix microseconds (inclusive).")
END_TIME_US = typer.Option(None, "--end-time-us")


def fetch_pages(client: RegulatorClient, method: str, make_params: Callable[[int | None], list[Any]],
                cursor: int | None, all_pages: bool) -> list[dict[str, Any]]:
    """Return the items of one page, or of every page with --all; print where the next page starts."""
    rows: list[dict[str, Any]] = []
    for _ in range(HISTORY_PAGES_MAX):
        result = run(client.call(method, make_params(cursor)))
        rows += result["items"]
        cursor = result["next_cursor"]
        if cursor is None or not all_pages:
            break
    if cursor is not None:
        error_console.print(f"more results: --cursor {cursor}")
    return rows


@app.command("history")
def history(address: str, cursor: int = CURSOR, limit: int = LIMIT, all_pages: bool = ALL_PAGES,
            newest_first: bool = NEWEST_FIRST, start_version: int = START_VERSION, end_version: int = END_VERSION,
            start_time_us: int = START_TIME_US, end_time_us: int = END_TIME_US, url: str = URL,
            key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, chain_id: int = CHAIN_ID,
            node_id: str = NODE_ID, envelope: str = ENVELOPE,
            export: tuple[str, Path] = EXPORT) -> None:
    """Every transaction that touched an account (sender, payer, payee, created, frozen, wiped...)."""
    client = make_client(url, key_file, passphrase_env, chain_id, node_id, envelope=envelope)
    options = compose_range(start_version, end_version, start_time_us, end_time_us, newest_first)
    address = address.lower().removeprefix("0x")
    rows = fetch_pages(client, "compliance_get_account_history", lambda c: [address, c, limit, options], cursor,
                       all_pages)
    emit(f"history of {address}", rows, export)


@app.command("search")
def search(address: str = typer.Option(None, "--address"), counterparty: str = typer.Option(None, "--counterparty"),
           currency: str = typer.Option(None, "--currency"), min_amount: int = typer.Option(None, "--min-amount"),
           max_amount: int = typer.Option(None, "--max-amount"), event_type: str = typer.Option(None, "--event-type"),
           status: str = typer.Option(None, "--status"), cursor: int = CURSOR, limit: int = LIMIT,
           all_pages: bool = ALL_PAGES, newest_first: bool = NEWEST_FIRST, start_version: int = START_VERSION,
           end_version: int = END_VERSION, start_time_us: int = START_TIME_US, end_time_us: int = END_TIME_US,
           url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, chain_id: int = CHAIN_ID,
           node_id: str = NODE_ID, envelope: str = ENVELOPE,
           export: tuple[str, Path] = EXPORT) -> None:
    """Transactions by address, counterparty, currency, amount (micro-units), event type, status, range."""
    client = make_client(url, key_file, passphrase_env, chain_id, node_id, envelope=envelope)
    criteria = compose_range(start_version, end_version, start_time_us, end_time_us, newest_first)
    criteria.update({name: value for name, value in (
        ("address", address), ("counterparty", counterparty), ("currency", currency), ("min_amount", min_amount),
        ("max_amount", max_amount), ("event_type", event_type), ("status", status)) if value is not None})
    rows = fetch_pages(client, "compliance_search_transactions", lambda c: [criteria, c, limit], cursor, all_pages)
    emit("matching transactions", rows, export)


@app.command("large-transfers")
def large_transfers(currency: str = typer.Option(..., "--currency"),
                    threshold: int = typer.Option(..., "--threshold", help="Micro-units; amount >= threshold."),
                    cursor: int = CURSOR, limit: int = LIMIT, all_pages: bool = ALL_PAGES,
                    newest_first: bool = NEWEST_FIRST, start_version: int = START_VERSION,
                    end_version: int = END_VERSION, start_time_us: int = START_TIME_US, end_time_us: int = END_TIME_US,
                    url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
                    chain_id: int = CHAIN_ID,
                    node_id: str = NODE_ID, envelope: str = ENVELOPE, export: tuple[str, Path] = EXPORT) -> None:
    """Transfers at or above a threshold, in version order."""
    client = make_client(url, key_file, passphrase_env, chain_id, node_id, envelope=envelope)
    options = compose_range(start_version, end_version, start_time_us, end_time_us, newest_first)
    rows = fetch_pages(client, "compliance_get_large_transfers", lambda c: [currency, threshold, c, limit, options],
                       cursor, all_pages)
    emit(f"{currency} transfers >= {threshold}", rows, export)


@app.command("travel-rule")
def travel_rule(address: str = typer.Option(None, "--address"), cursor: int = CURSOR, limit: int = LIMIT,
                all_pages: bool = ALL_PAGES, newest_first: bool = NEWEST_FIRST, start_version: int = START_VERSION,
                end_version: int = END_VERSION, start_time_us: int = START_TIME_US, end_time_us: int = END_TIME_US,
                url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
                chain_id: int = CHAIN_ID,
                node_id: str = NODE_ID, envelope: str = ENVELOPE, export: tuple[str, Path] = EXPORT) -> None:
    """Payments that carried dual attestation or travel-rule metadata."""
    client = make_client(url, key_file, passphrase_env, chain_id, node_id, envelope=envelope)
    options = compose_range(start_version, end_version, start_time_us, end_time_us, newest_first)
    if address is not None:
        options["address"] = address.lower().removeprefix("0x")
    rows = fetch_pages(client, "compliance_get_travel_rule_records", lambda c: [options, c, limit], cursor, all_pages)
    emit("travel-rule records", rows, export)


@app.command("actions")
def actions(types: list[str] = typer.Option(None, "--type", help="freeze, unfreeze, wipe, pause, kyc_record... (repeat)"),
            subject: str = typer.Option(None, "--subject"), initiator: str = typer.Option(None, "--initiator"),
            cursor: int = CURSOR, limit: int = LIMIT, all_pages: bool = ALL_PAGES, newest_first: bool = NEWEST_FIRST,
            start_version: int = START_VERSION, end_version: int = END_VERSION, start_time_us: int = START_TIME_US,
            end_time_us: int = END_TIME_US, url: str = URL, key_file: Path = KEY_FILE,
            passphrase_env: str = PASSPHRASE_ENV, chain_id: int = CHAIN_ID,
            node_id: str = NODE_ID, envelope: str = ENVELOPE, export: tuple[str, Path] = EXPORT) -> None:
    """The compliance-action log: freezes, unfreezes, wipes, pauses, KYC and limit changes, attestations."""
    client = make_client(url, key_file, passphrase_env, chain_id, node_id, envelope=envelope)
    options = compose_range(start_version, end_version, start_time_us, end_time_us, newest_first)
    options.update({name: value for name, value in (("types", types or None), ("subject", subject),
                                                    ("initiator", initiator)) if value is not None})
    rows = fetch_pages(client, "compliance_get_compliance_actions", lambda c: [options, c, limit], cursor, all_pages)
    emit("compliance actions", rows, export)
