"""Incoming payments: read the parent VASP's received-payment events and attribute each one (DIP-4).

An event is recorded, credited (or queued for refund, or held) and the cursor advanced in one
transaction, and events are unique by (stream, sequence): a restart neither loses nor doubles one.
"""

from __future__ import annotations

import uuid

from primitives.metadata import (
    GeneralMetadataV0,
    PaymentMetadataV0,
    RefundMetadataV0,
    RefundReason,
    TravelRuleMetadataV0,
    decode_metadata,
)
from primitives.types.names import AccountAddress
from wallet.models import Event
from wallet_service.context import Context
from wallet_service.ledger import (
    DIRECTION_IN,
    DIRECTION_OUT,
    STATUS_COMPLETED,
    STATUS_HELD,
    STATUS_PENDING,
    get_subaddress_owner,
    insert_payment,
)
from wallet_service.limits import WATCHER_PAGE_SIZE

CURSOR_KEY = "received_events_next"
SQLITE_INTEGER_MAX = 2**63 - 1
DESIGNATED_DEALER = AccountAddress.TESTNET_DD.value  # the faucet's payer: float for the service, not a user's


async def process_received_events(ctx: Context) -> int:
    """Attribute one page of new received-payment events; return how many were processed."""
    view = await ctx.chain.client.must_get_account(ctx.chain.address)
    start = int(ctx.store.get_meta(CURSOR_KEY) or 0)
    events = await ctx.chain.client.get_events(view.received_events_key, start, WATCHER_PAGE_SIZE)
    for event in events:
        on_received(ctx, event)
    return len(events)


def on_received(ctx: Context, event: Event) -> None:
    """Record one received payment and advance the cursor past it, atomically."""
    with ctx.store.transaction():
        if ctx.store.query_one("SELECT id FROM payments WHERE event_key = ? AND event_sequence = ?",
                               (event.key, event.sequence_number)) is None:
            attribute(ctx, event)
        ctx.store.set_meta(CURSOR_KEY, str(event.sequence_number + 1))


def attribute(ctx: Context, event: Event) -> None:
    """Credit the user the metadata names; refund what names nobody; hold what must not bounce."""
    sender = bytes.fromhex(event.data.sender or "00" * 16)
    if sender in (ctx.chain.address, DESIGNATED_DEALER):
        record(ctx, event, None, STATUS_COMPLETED)  # float top-ups and our own transfers belong to no user
        return
    body = decode_body(event)
    if isinstance(body, GeneralMetadataV0):
        credit_or_refund(ctx, event, get_subaddress_owner(ctx.store, body.to_subaddress), RefundReason.INVALID_SUBADDRESS)
    elif isinstance(body, TravelRuleMetadataV0):
        owner = get_command_owner(ctx, body.off_chain_reference_id)
        credit_or_refund(ctx, event, owner, RefundReason.OTHER_REASON)
    elif isinstance(body, PaymentMetadataV0):
        owner = get_reference_owner(ctx, str(uuid.UUID(bytes=body.reference_id)))
        credit_or_refund(ctx, event, owner, RefundReason.INVALID_REFERENCE_ID)
    elif isinstance(body, RefundMetadataV0):
        # A refund that matches none of our payments is held: bouncing refunds could loop forever.
        owner = get_refunded_owner(ctx, body.transaction_version)
        record(ctx, event, owner, STATUS_COMPLETED if owner else STATUS_HELD)
    else:
        credit_or_refund(ctx, event, None, RefundReason.OTHER_REASON)


def decode_body(event: Event) -> object | None:
    """Return the decoded metadata body of an event, or None."""
    try:
        decoded = decode_metadata(bytes.fromhex(event.data.metadata or ""))
    except ValueError:
        return None
    return None if decoded is None else decoded.value


def credit_or_refund(ctx: Context, event: Event, owner: str | None, reason: RefundReason) -> None:
    """Credit the owner, or record the payment unattributed and queue its full refund to the sender."""
    if owner is not None:
        record(ctx, event, owner, STATUS_COMPLETED)
        return
    record(ctx, event, None, STATUS_COMPLETED)
    insert_payment(ctx.store, account_id=None, direction=DIRECTION_OUT, status=STATUS_PENDING,
                   currency=event.data.amount.currency, amount_micro=event.data.amount.amount,
                   payee=ctx.chain.get_identifier_of(bytes.fromhex(event.data.sender)),
                   refund_of_version=event.transaction_version, refund_reason=int(reason))


def record(ctx: Context, event: Event, owner: str | None, status: str) -> None:
    """Insert the incoming payment row of an event."""
    insert_payment(ctx.store, account_id=owner, direction=DIRECTION_IN, status=status,
                   currency=event.data.amount.currency, amount_micro=event.data.amount.amount,
                   version=event.transaction_version, event_key=event.key, event_sequence=event.sequence_number,
                   counterparty=event.data.sender, metadata=event.data.metadata)


def get_command_owner(ctx: Context, reference_id: str | None) -> str | None:
    """Return the user of the KYC exchange we received with this reference id."""
    if not reference_id:
        return None
    row = ctx.store.query_one("SELECT account_id FROM payment_commands WHERE reference_id = ? AND my_actor = "
                              "'receiver' AND state = 'READY'", (reference_id.lower(),))
    return None if row is None else row["account_id"]


def get_reference_owner(ctx: Context, reference_id: str) -> str | None:
    """Return the user a DIP-10 reference id was issued for (as receiver)."""
    row = ctx.store.query_one("SELECT account_id FROM reference_ids WHERE reference_id = ? AND payment_id IS NULL",
                              (reference_id,))
    return None if row is None else row["account_id"]


def get_refunded_owner(ctx: Context, version: int) -> str | None:
    """Return the user whose outgoing payment at this version is being refunded."""
    if version > SQLITE_INTEGER_MAX:
        return None  # no transaction has such a version; SQLite could not even compare it
    row = ctx.store.query_one("SELECT account_id FROM payments WHERE direction = 'out' AND version = ? AND "
                              "account_id IS NOT NULL", (version,))
    return None if row is None else row["account_id"]
