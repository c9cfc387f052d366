"""The custodial ledger: users' accounts, subaddresses, balances, and the payment rows that move them.

A user's balance is computed from payment rows, never stored: deposits and completed incoming
payments add, every outgoing payment that is not canceled subtracts (from the moment it is
accepted, so the money cannot be spent twice). Canceling an outgoing payment is what returns it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import nacl.utils

from primitives.account_identifier import SUBADDRESS_LENGTH
from wallet_service.errors import HTTP_CONFLICT, ClientError, not_found
from wallet_service.store import Store, get_now_ms, new_id

DIRECTION_OUT = "out"
DIRECTION_IN = "in"
DIRECTION_DEPOSIT = "deposit"
STATUS_PENDING = "pending"          # accepted, not yet on chain (maybe in the off-chain exchange)
STATUS_SUBMITTED = "submitted"      # signed and persisted; on its way to the chain
STATUS_COMPLETED = "completed"
STATUS_CANCELED = "canceled"
STATUS_HELD = "held"                # incoming, kept for review: neither attributed nor refunded


@dataclass(frozen=True)
class PaymentRequest:
    """A checked outgoing payment request from an app."""

    account_id: str
    payee: str
    currency: str
    amount_micro: int
    idempotency_key: str | None = None

    def compute_hash(self) -> str:
        """Return a digest of what was asked, to tell a retry from a conflicting reuse of its key."""
        text = json.dumps([self.payee, self.currency, self.amount_micro])
        return hashlib.sha256(text.encode()).hexdigest()


def create_account(store: Store, kyc_data: dict[str, Any] | None, handle: str | None,
                   reject_additional_kyc: bool, deposits: dict[str, int]) -> str:
    """Create a user account with optional KYC data, handle and initial deposits; return its id."""
    account_id = new_id()
    with store.transaction():
        if handle is not None and get_account_by_handle(store, handle) is not None:
            raise ClientError(f"handle {handle!r} is taken", "handle_taken", HTTP_CONFLICT)
        store.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?)",
                      (account_id, handle, None if kyc_data is None else json.dumps(kyc_data),
                       int(reject_additional_kyc), get_now_ms()))
        store.add_event(account_id, "created_account", {"id": account_id, "handle": handle})
        for currency, amount_micro in deposits.items():
            insert_payment(store, account_id=account_id, direction=DIRECTION_DEPOSIT, status=STATUS_COMPLETED,
                           currency=currency, amount_micro=amount_micro)
    return account_id


def get_account(store: Store, account_id: str) -> sqlite3.Row:
    """Return an account row, or refuse with not_found."""
    row = store.query_one("SELECT * FROM accounts WHERE id = ?", (account_id.lower(),))
    if row is None:
        raise not_found(f"account {account_id!r}")
    return row


def get_account_by_handle(store: Store, handle: str) -> sqlite3.Row | None:
    """Return the account whose handle (or id) is the user part of a Diem ID, or None."""
    return store.query_one("SELECT * FROM accounts WHERE handle = ? OR id = ?", (handle.lower(), handle.lower()))


def get_kyc_data(account: sqlite3.Row) -> dict[str, Any]:
    """Return the account's KYC data (a minimal individual record if the app gave none)."""
    if account["kyc_data"]:
        return json.loads(account["kyc_data"])
    return {"payload_version": 1, "type": "individual"}


def create_subaddress(store: Store, account_id: str) -> bytes:
    """Allocate a fresh random single-use subaddress for the account (DIP-5: never from personal data)."""
    while True:
        subaddress = nacl.utils.random(SUBADDRESS_LENGTH)
        if subaddress == bytes(SUBADDRESS_LENGTH):
            continue
        with store.transaction():
            cursor = store.execute("INSERT OR IGNORE INTO subaddresses VALUES (?, ?)", (subaddress.hex(), account_id))
            if cursor.rowcount == 1:
                store.add_event(account_id, "created_subaddress", {"subaddress": subaddress.hex()})
                return subaddress


def get_subaddress_owner(store: Store, subaddress: bytes | None) -> str | None:
    """Return the account that owns a subaddress, or None."""
    if subaddress is None:
        return None
    row = store.query_one("SELECT account_id FROM subaddresses WHERE subaddress = ?", (subaddress.hex(),))
    return None if row is None else row["account_id"]


def get_balances(store: Store, account_id: str, currencies: tuple[str, ...]) -> dict[str, int]:
    """Return the account's balance in each currency (micro-units)."""
    balances = {currency: 0 for currency in currencies}
    rows = store.query("SELECT direction, status, currency, SUM(amount_micro) AS total FROM payments "
                       "WHERE account_id = ? GROUP BY direction, status, currency", (account_id,))
    for row in rows:
        balances[row["currency"]] = balances.get(row["currency"], 0) + compute_effect(row)
    return balances


def compute_effect(row: sqlite3.Row) -> int:
    """Return what a group of payment rows adds to a balance."""
    if row["direction"] == DIRECTION_OUT:
        return 0 if row["status"] == STATUS_CANCELED else -row["total"]
    return row["total"] if row["status"] == STATUS_COMPLETED else 0


def insert_payment(store: Store, **columns: Any) -> str:
    """Insert a payment row (inside a transaction) and record its creation event; return its id."""
    payment_id = columns.pop("id", None) or new_id()
    now_ms = get_now_ms()
    row = {"id": payment_id, "created_ms": now_ms, "updated_ms": now_ms, **columns}
    names = ", ".join(row)
    store.execute(f"INSERT INTO payments ({names}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
    if row.get("account_id"):
        view = describe_payment(store, payment_id)
        store.add_event(row["account_id"], "created_transaction", view)
        notify_app(store, "payment.received" if row["direction"] == DIRECTION_IN else "payment.created", view)
    return payment_id


def update_payment(store: Store, payment_id: str, **columns: Any) -> None:
    """Change a payment row (inside a transaction) and record the update event."""
    columns["updated_ms"] = get_now_ms()
    assignments = ", ".join(f"{name} = ?" for name in columns)
    store.execute(f"UPDATE payments SET {assignments} WHERE id = ?", (*columns.values(), payment_id))
    payment = get_payment(store, payment_id)
    if payment["account_id"]:
        view = describe_payment(store, payment_id)
        store.add_event(payment["account_id"], "updated_transaction", view)
        if "status" in columns:
            notify_app(store, "payment.updated", view)


def notify_app(store: Store, event_type: str, payment: dict[str, Any]) -> None:
    """Queue a webhook for the app (inside the transaction that made the change)."""
    if store.webhooks_enabled:
        key = f"{payment['id']}.{payment['status']}"
        store.add_outbox("webhook", key, event_type, {"type": event_type, "idempotency_key": key, "payment": payment})


def get_payment(store: Store, payment_id: str) -> sqlite3.Row:
    """Return a payment row (it must exist)."""
    row = store.query_one("SELECT * FROM payments WHERE id = ?", (payment_id,))
    if row is None:
        raise not_found(f"payment {payment_id!r}")
    return row


def describe_payment(store: Store, payment_id: str) -> dict[str, Any]:
    """Return the app-facing view of a payment (events, webhooks, GET /payments/{id})."""
    row = get_payment(store, payment_id)
    view = {name: row[name] for name in ("id", "account_id", "direction", "status", "currency", "amount_micro",
                                          "payee", "reference_id", "version", "cancel_reason", "refund_of_version",
                                          "refund_reason", "counterparty")}
    view["amount"] = view.pop("amount_micro")
    return {key: value for key, value in view.items() if value is not None}


def create_outgoing_payment(store: Store, request: PaymentRequest) -> tuple[str, bool]:
    """Record an accepted outgoing payment once per idempotency key; return (id, created)."""
    with store.transaction():
        if request.idempotency_key is not None:
            existing = store.query_one("SELECT id, request_hash FROM payments WHERE account_id = ? AND "
                                       "idempotency_key = ?", (request.account_id, request.idempotency_key))
            if existing is not None:
                if existing["request_hash"] != request.compute_hash():
                    raise ClientError("this Idempotency-Key was used for a different payment", "idempotency_conflict",
                                      HTTP_CONFLICT)
                return existing["id"], False
        balance_micro = get_balances(store, request.account_id, (request.currency,))[request.currency]
        if request.amount_micro > balance_micro:
            raise ClientError(f"insufficient balance: {balance_micro} {request.currency} available, "
                              f"{request.amount_micro} asked", "insufficient_balance")
        payment_id = insert_payment(store, account_id=request.account_id, direction=DIRECTION_OUT,
                                    status=STATUS_PENDING, currency=request.currency,
                                    amount_micro=request.amount_micro, payee=request.payee,
                                    idempotency_key=request.idempotency_key, request_hash=request.compute_hash())
    return payment_id, True
