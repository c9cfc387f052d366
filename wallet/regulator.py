"""`stablechain regulator`: signed, audited queries to a node's regulator API; tables, CSV / JSON-lines export."""

# The signing bytes and the audit-chain rule are specified in docs/compliance.md; this client re-implements
# them from that text (the wallet may not import the node), and tests check both sides agree byte for byte.

from __future__ import annotations

import asyncio
import csv
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import typer
from rich.console import Console
from rich.table import Table

from primitives.bcs import encode_uleb128
from primitives.hashing import sha3_256
from primitives.keys import PrivateKey
from wallet.errors import WalletError
from wallet.treasury import load_signing_key

SIGNING_SALT = sha3_256(b"STABLECHAIN::RegulatorRequest::v1")
AUDIT_SALT = sha3_256(b"STABLECHAIN::RegulatorAudit::v1")
GENESIS_PREV_HASH = "00" * 32
AUDIT_FIELDS = ("seq", "time_ms", "regulator", "public_key", "method", "params_hash", "nonce", "outcome", "status",
                "reason", "result_bytes", "prev_hash")
NONCE_BYTES = 16
DEFAULT_URL = "http://127.0.0.1:8090/v1"
DEFAULT_CHAIN_ID = 2
HTTP_TIMEOUT_S = 30.0
PAGE_SIZE = 1_000
EXPORT_FORMATS = ("csv", "jsonl")
KEY_FILE_MODE = 0o600

app = typer.Typer(help="Query a node's regulator API (signed requests, every call audit-logged).", no_args_is_help=True)
console = Console(soft_wrap=True)
error_console = Console(stderr=True, soft_wrap=True)


class RegulatorRefused(WalletError):
    """The regulator API refused the request (401 / 403 / 400 / 503) with a reason word."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"the node refused the request: HTTP {status} {reason}")
        self.status, self.reason = status, reason


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, ASCII-escaped: the canonical JSON of params and audit entries."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")


def compute_signing_message(chain_id: int, public_key: bytes, method: str, params: list[Any], timestamp_ms: int,
                            nonce: bytes) -> bytes:
    """Return the v1 signing bytes of a regulator request (docs/compliance.md, "Signing a request")."""
    method_bytes = method.encode("utf-8")
    return b"".join((
        SIGNING_SALT, bytes([chain_id]), public_key, encode_uleb128(len(method_bytes)), method_bytes,
        sha3_256(canonical_json(params)), timestamp_ms.to_bytes(8, "little"), encode_uleb128(len(nonce)), nonce,
    ))


def compose_signed_headers(key: PrivateKey, chain_id: int, method: str, params: list[Any], timestamp_ms: int,
                           nonce: bytes) -> dict[str, str]:
    """Return the four authentication headers of a request."""
    public_key = key.public_key().data
    signature = key.sign(compute_signing_message(chain_id, public_key, method, params, timestamp_ms, nonce))
    return {"X-Regulator-Key": public_key.hex(), "X-Regulator-Timestamp": str(timestamp_ms),
            "X-Regulator-Nonce": nonce.hex(), "X-Regulator-Signature": signature.hex()}


def compute_audit_hash(entry: dict[str, Any]) -> str:
    """Return the hex hash of an audit entry (without its "hash" field)."""
    return sha3_256(AUDIT_SALT, canonical_json({k: v for k, v in entry.items() if k != "hash"})).hex()


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """Outcome of verifying an audit chain: ok, entries checked, last hash, first problem."""

    ok: bool
    count: int
    head_hash: str
    error: str = ""


def verify_audit_chain(entries: list[dict[str, Any]], prev_hash: str = GENESIS_PREV_HASH) -> ChainCheck:
    """Verify every entry's fields, seq, link to the previous entry, and hash, from seq 0."""
    for index, entry in enumerate(entries):
        problem = None
        if not isinstance(entry, dict) or set(entry) != {*AUDIT_FIELDS, "hash"}:
            problem = "fields differ from the audit format"
        elif entry["seq"] != index:
            problem = f"seq {entry['seq']} where {index} was due"
        elif entry["prev_hash"] != prev_hash:
            problem = "prev_hash does not match the previous entry"
        elif compute_audit_hash(entry) != entry["hash"]:
            problem = "hash does not match the entry's content"
        if problem is not None:
            return ChainCheck(False, index, prev_hash, f"entry {index}: {problem}")
        prev_hash = entry["hash"]
    return ChainCheck(True, len(entries), prev_hash)


class RegulatorClient:
    """Signs and sends compliance_* calls; raises RegulatorRefused or the JSON-RPC error."""

    def __init__(self, url: str, key: PrivateKey, chain_id: int = DEFAULT_CHAIN_ID) -> None:
        self.url, self.key, self.chain_id = url, key, chain_id

    async def call(self, method: str, params: list[Any]) -> Any:
        headers = compose_signed_headers(self.key, self.chain_id, method, params, time.time_ns() // 1_000_000,
                                         secrets.token_bytes(NONCE_BYTES))
        request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(self.url, data=canonical_json(request), headers=headers) as response:
                    body = await response.json(content_type=None)
                    if response.status != 200:
                        raise RegulatorRefused(response.status, str(body.get("reason", "")))
        except aiohttp.ClientError as error:
            raise WalletError(f"cannot reach {self.url}: {error}") from None
        if "error" in body:
            error = body["error"]
            raise WalletError(f"{method}: {error.get('message')} (code {error.get('code')})")
        return body["result"]

    async def fetch_audit_log(self) -> tuple[list[dict[str, Any]], str, int]:
        """Return every audit entry up to the head seen at the first call, with that head's hash and seq."""
        first = await self.call("compliance_get_audit_log", [0, PAGE_SIZE])
        entries, head_hash, next_seq = list(first["entries"]), first["head_hash"], first["next_seq"]
        while len(entries) < next_seq:
            page = await self.call("compliance_get_audit_log", [len(entries), PAGE_SIZE])
            if not page["entries"]:
                break
            entries.extend(page["entries"])
        return entries[:next_seq], head_hash, next_seq


# ------------------------------------------------------------------ output
def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return a flat dict (nested keys joined with '.', lists as JSON) for tables and CSV."""
    flat: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = json.dumps(value) if isinstance(value, list) else value
    return flat


def export_rows(rows: list[dict[str, Any]], export_format: str, path: Path) -> None:
    """Write rows as CSV (flattened, header from the union of keys) or JSON lines."""
    if export_format not in EXPORT_FORMATS:
        raise WalletError(f"--export takes one of {', '.join(EXPORT_FORMATS)}, not {export_format!r}")
    if export_format == "jsonl":
        path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
        return
    flat = [flatten(row) for row in rows]
    columns = list(dict.fromkeys(name for row in flat for name in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(flat)


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


def run(coroutine: Any) -> Any:
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
EXPORT = typer.Option(None, "--export", metavar="FORMAT FILE", help="Also write the rows as csv or jsonl to FILE.")


def make_client(url: str, key_file: Path, passphrase_env: str | None, chain_id: int) -> RegulatorClient:
    try:
        return RegulatorClient(url, load_signing_key(key_file, passphrase_env), chain_id)
    except WalletError as error:
        error_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None


@app.command("account")
def account_report(address: str, url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
                   chain_id: int = CHAIN_ID, export: tuple[str, Path] = EXPORT) -> None:
    """Roles, KYC record, balances, limits used and frozen state of an account."""
    client = make_client(url, key_file, passphrase_env, chain_id)
    report = run(client.call("compliance_get_account_report", [address.lower().removeprefix("0x")]))
    if report is None:
        error_console.print(f"no account {address}")
        raise typer.Exit(1)
    emit(f"account {report['address']} at version {report['version']}", [report], export)


@app.command("supply")
def supply(currency: str = typer.Option(None, "--currency", help="One currency (default: all in scope)."),
           url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, chain_id: int = CHAIN_ID,
           export: tuple[str, Path] = EXPORT) -> None:
    """Total supply, preburn, attested reserves, margin and staleness per currency."""
    client = make_client(url, key_file, passphrase_env, chain_id)
    result = run(client.call("compliance_get_supply_and_reserves", [] if currency is None else [currency]))
    rows = [{k: v for k, v in item.items() if k != "attestations"} for item in result["currencies"]]
    emit(f"supply and reserves at version {result['version']}", rows, export)


@app.command("rejections")
def rejections(start: int = typer.Option(0, "--start"), limit: int = typer.Option(100, "--limit"), url: str = URL,
               key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, chain_id: int = CHAIN_ID,
               export: tuple[str, Path] = EXPORT) -> None:
    """Transactions the node's admission hooks refused (who, what, code, reason, when)."""
    client = make_client(url, key_file, passphrase_env, chain_id)
    result = run(client.call("compliance_get_rejected_admissions", [start, limit]))
    emit(f"rejected admissions (ids {result['first_id']}..{result['next_id'] - 1} held)", result["rejections"], export)


@app.command("audit-log")
def audit_log(url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
              chain_id: int = CHAIN_ID, export: tuple[str, Path] = EXPORT) -> None:
    """Fetch the whole audit log and verify its hash chain end to end (exit 2 if it does not verify)."""
    client = make_client(url, key_file, passphrase_env, chain_id)
    entries, head_hash, next_seq = run(client.fetch_audit_log())
    emit(f"audit log ({len(entries)} entries)", entries, export)
    report_check(verify_audit_chain(entries), head_hash, next_seq)


@app.command("verify-audit")
def verify_audit(path: Path = typer.Argument(..., help="An audit log in JSON lines (the node's file or an export).")) -> None:
    """Verify an audit log file offline, from its first entry (exit 2 if it does not verify)."""
    try:
        entries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError) as error:
        error_console.print(f"[bold red]error:[/] {path}: {error}")
        raise typer.Exit(1) from None
    report_check(verify_audit_chain(entries), None, None)


def check_reaches_head(check: ChainCheck, head_hash: str | None, next_seq: int | None) -> ChainCheck:
    """Return check, failed when a verified chain does not end at the head the node reported (if it reported one)."""
    if check.ok and head_hash is not None and (check.head_hash != head_hash or check.count != next_seq):
        return ChainCheck(False, check.count, check.head_hash, "the chain does not end at the head the node reported")
    return check


def report_check(check: ChainCheck, head_hash: str | None, next_seq: int | None) -> None:
    """Print the verification result; exit 2 when the chain is broken or does not reach the node's head."""
    check = check_reaches_head(check, head_hash, next_seq)
    if not check.ok:
        error_console.print(f"[bold red]audit chain does NOT verify:[/] {check.error}")
        raise typer.Exit(2)
    console.print(f"audit chain verifies: {check.count} entries, head {check.head_hash}")


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


def compose_range(start_version: int | None, end_version: int | None, start_time_us: int | None,
                  end_time_us: int | None, newest_first: bool) -> dict[str, Any]:
    """Return the range object of the history methods (only the given fields)."""
    fields = {"start_version": start_version, "end_version": end_version, "start_time_us": start_time_us,
              "end_time_us": end_time_us, "descending": newest_first or None}
    return {name: value for name, value in fields.items() if value is not None}


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
            export: tuple[str, Path] = EXPORT) -> None:
    """Every transaction that touched an account (sender, payer, payee, created, frozen, wiped...)."""
    client = make_client(url, key_file, passphrase_env, chain_id)
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
           export: tuple[str, Path] = EXPORT) -> None:
    """Transactions by address, counterparty, currency, amount (micro-units), event type, status, range."""
    client = make_client(url, key_file, passphrase_env, chain_id)
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
                    chain_id: int = CHAIN_ID, export: tuple[str, Path] = EXPORT) -> None:
    """Transfers at or above a threshold, in version order."""
    client = make_client(url, key_file, passphrase_env, chain_id)
    options = compose_range(start_version, end_version, start_time_us, end_time_us, newest_first)
    rows = fetch_pages(client, "compliance_get_large_transfers", lambda c: [currency, threshold, c, limit, options],
                       cursor, all_pages)
    emit(f"{currency} transfers >= {threshold}", rows, export)


@app.command("travel-rule")
def travel_rule(address: str = typer.Option(None, "--address"), cursor: int = CURSOR, limit: int = LIMIT,
                all_pages: bool = ALL_PAGES, newest_first: bool = NEWEST_FIRST, start_version: int = START_VERSION,
                end_version: int = END_VERSION, start_time_us: int = START_TIME_US, end_time_us: int = END_TIME_US,
                url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
                chain_id: int = CHAIN_ID, export: tuple[str, Path] = EXPORT) -> None:
    """Payments that carried dual attestation or travel-rule metadata."""
    client = make_client(url, key_file, passphrase_env, chain_id)
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
            passphrase_env: str = PASSPHRASE_ENV, chain_id: int = CHAIN_ID, export: tuple[str, Path] = EXPORT) -> None:
    """The compliance-action log: freezes, unfreezes, wipes, pauses, KYC and limit changes, attestations."""
    client = make_client(url, key_file, passphrase_env, chain_id)
    options = compose_range(start_version, end_version, start_time_us, end_time_us, newest_first)
    options.update({name: value for name, value in (("types", types or None), ("subject", subject),
                                                    ("initiator", initiator)) if value is not None})
    rows = fetch_pages(client, "compliance_get_compliance_actions", lambda c: [options, c, limit], cursor, all_pages)
    emit("compliance actions", rows, export)
