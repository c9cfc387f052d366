"""The service's durable state: one SQLite database in --data, WAL journal, every commit fsynced.

Every state change the service makes is one SQLite transaction: a payment row together with its
ledger effect, its events and its outbox entries (webhooks, off-chain commands). A crash therefore
leaves either all of a change or none of it, and the workers resume from what is on disk.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from primitives.errors import invariant

SCHEMA_VERSION = 1
DATABASE_FILE = "wallet.sqlite3"
BUSY_TIMEOUT_MS = 5_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, handle TEXT UNIQUE, kyc_data TEXT, reject_additional_kyc INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS subaddresses (subaddress TEXT PRIMARY KEY, account_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY, account_id TEXT, direction TEXT NOT NULL, status TEXT NOT NULL,
    currency TEXT NOT NULL, amount_micro INTEGER NOT NULL, payee TEXT, payee_address TEXT,
    from_subaddress TEXT, reference_id TEXT, metadata TEXT, metadata_signature TEXT,
    signed_transaction TEXT, sequence_number INTEGER, expiration_s INTEGER, version INTEGER,
    event_key TEXT, event_sequence INTEGER, counterparty TEXT, refund_of_version INTEGER, refund_reason INTEGER,
    cancel_reason TEXT, idempotency_key TEXT, request_hash TEXT, created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (account_id, idempotency_key), UNIQUE (event_key, event_sequence));
CREATE INDEX IF NOT EXISTS payments_by_status ON payments (direction, status);
CREATE INDEX IF NOT EXISTS payments_by_account ON payments (account_id);
CREATE INDEX IF NOT EXISTS payments_by_version ON payments (version);
CREATE TABLE IF NOT EXISTS free_sequences (sequence_number INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS reference_ids (
    reference_id TEXT PRIMARY KEY, account_id TEXT, payment_id TEXT, counterparty TEXT);
CREATE TABLE IF NOT EXISTS payment_commands (
    reference_id TEXT PRIMARY KEY, account_id TEXT, payment_id TEXT, my_actor TEXT NOT NULL,
    my_address TEXT NOT NULL, counterparty_address TEXT NOT NULL, payment TEXT NOT NULL, state TEXT NOT NULL,
    needs_action INTEGER NOT NULL DEFAULT 0, failed TEXT, updated_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS offchain_responses (cid TEXT PRIMARY KEY, request_hash TEXT NOT NULL, response TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, kind, next_attempt_ms);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, account_id TEXT NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_account ON events (account_id, id);
"""


def get_now_ms() -> int:
    """Return the wall-clock time in milliseconds."""
    return int(time.time() * 1000)


def new_id() -> str:
    """Return a fresh identifier: 32 lowercase hex characters (also a valid Diem ID user part)."""
    return uuid.uuid4().hex


class Store:
    """The SQLite database; use `with store.transaction() as db:` for every write."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / DATABASE_FILE
        self.connection = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                          check_same_thread=False)
        self.connection.row_factory = sqlite3.Row
        # WAL with synchronous=FULL fsyncs the log on every commit: a committed change survives power loss.
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=FULL")
        self.connection.execute("PRAGMA foreign_keys=ON")
        self.connection.executescript(SCHEMA)
        self._check_schema_version()
        self._depth = 0
        self.webhooks_enabled = False

    def _check_schema_version(self) -> None:
        row = self.connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self.connection.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row["value"]) != SCHEMA_VERSION:
            raise RuntimeError(f"{self.path} has schema {row['value']}, this service reads {SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the database."""
        self.connection.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one atomic, durable transaction (nested blocks join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield self.connection
            finally:
                self._depth -= 1
            return
        self.connection.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        else:
            self.connection.execute("COMMIT")
        finally:
            self._depth = 0

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Return all rows of a read query."""
        return self.connection.execute(sql, parameters).fetchall()

    def query_one(self, sql: str, parameters: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        """Return the first row of a read query, or None."""
        return self.connection.execute(sql, parameters).fetchone()

    def execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Run one write statement (inside a transaction)."""
        invariant(self._depth > 0, "writes happen inside store.transaction()")
        return self.connection.execute(sql, parameters)

    # ---- meta ------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """Return a stored setting, or None."""
        row = self.query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row["value"]

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        self.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     (key, value))

    # ---- events and outbox -------------------------------------------------------------------

    def add_event(self, account_id: str, event_type: str, data: dict[str, Any] | str) -> None:
        """Append an account event (the MiniWallet events API shows them)."""
        text = data if isinstance(data, str) else json.dumps(data, sort_keys=True)
        self.execute("INSERT INTO events (account_id, type, data, timestamp_ms) VALUES (?, ?, ?, ?)",
                     (account_id, event_type, text, get_now_ms()))

    def get_events(self, account_id: str, limit: int) -> list[dict[str, Any]]:
        """Return an account's events, oldest first."""
        rows = self.query("SELECT * FROM events WHERE account_id = ? ORDER BY id LIMIT ?", (account_id, limit))
        return [{"id": str(row["id"]), "account_id": row["account_id"], "type": row["type"], "data": row["data"],
                 "timestamp": row["timestamp_ms"]} for row in rows]

    def add_outbox(self, kind: str, idempotency_key: str, target: str, body: dict[str, Any]) -> bool:
        """Queue a delivery once per idempotency key; return False if it was already queued."""
        cursor = self.execute(
            "INSERT OR IGNORE INTO outbox (kind, idempotency_key, target, body, next_attempt_ms) VALUES (?, ?, ?, ?, ?)",
            (kind, idempotency_key, target, json.dumps(body, sort_keys=True), get_now_ms()))
        return cursor.rowcount == 1

    def get_due_outbox(self, kind: str, now_ms: int, limit: int) -> list[sqlite3.Row]:
        """Return pending deliveries of a kind whose next attempt is due."""
        return self.query("SELECT * FROM outbox WHERE state = 'pending' AND kind = ? AND next_attempt_ms <= ? "
                          "ORDER BY id LIMIT ?", (kind, now_ms, limit))

    def finish_outbox(self, outbox_id: int, state: str, error: str | None = None) -> None:
        """Mark a delivery done ('delivered') or given up ('parked')."""
        self.execute("UPDATE outbox SET state = ?, last_error = ? WHERE id = ?", (state, error, outbox_id))

    def retry_outbox(self, outbox_id: int, next_attempt_ms: int, error: str) -> None:
        """Count a failed attempt and schedule the next one."""
        self.execute("UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?, last_error = ? WHERE id = ?",
                     (next_attempt_ms, error[:500], outbox_id))
