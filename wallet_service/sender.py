"""Outgoing payments, from accepted to settled: internal transfers, Diem ID resolution, the KYC exchange, p2p.

Each pass looks at every payment that is not finished and moves it as far as it can go now. Every
step is a durable write, so a pass interrupted by a crash is simply repeated after the restart.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid

from contracts.transaction_builder import compose_peer_to_peer
from primitives.metadata import GeneralMetadataV0, Metadata, PaymentMetadataV0, RefundMetadataV0, RefundReason
from wallet.errors import WalletError
from wallet.offchain.payment_state import State
from wallet.offchain.types import OffchainError, get_response_error
from wallet_service.context import Context
from wallet_service.ledger import (
    DIRECTION_IN,
    STATUS_CANCELED,
    STATUS_COMPLETED,
    STATUS_HELD,
    STATUS_PENDING,
    STATUS_SUBMITTED,
    create_subaddress,
    get_account,
    get_account_by_handle,
    get_kyc_data,
    get_subaddress_owner,
    insert_payment,
    update_payment,
)
from wallet_service.limits import TRANSACTIONS_IN_FLIGHT_MAX
from wallet_service.offchain_outbound import send_request
from wallet_service.offchain_payment import compute_signed_message, create_initial_command

log = logging.getLogger("wallet_service.sender")


async def process_payments(ctx: Context) -> None:
    """Advance every unfinished outgoing payment by one step."""
    for row in ctx.store.query("SELECT id FROM payments WHERE direction = 'out' AND status = ? ORDER BY created_ms",
                               (STATUS_SUBMITTED,)):
        await ctx.submitter.advance(row["id"])
    for row in ctx.store.query("SELECT * FROM payments WHERE direction = 'out' AND status = ? ORDER BY created_ms",
                               (STATUS_PENDING,)):
        try:
            await advance_pending(ctx, row)
        except (WalletError, OffchainError) as error:
            log.info("payment %s waits: %s", row["id"], error)


async def advance_pending(ctx: Context, payment: sqlite3.Row) -> None:
    """Move one accepted payment towards the chain."""
    if payment["refund_of_version"] is not None:
        settle_refund(ctx, payment)
        return
    if "@" in payment["payee"] and payment["payee_address"] is None:
        await resolve_diem_id(ctx, payment)
        return
    address = get_payee_address(ctx, payment)
    if address == ctx.chain.address:
        transfer_internally(ctx, payment)
    elif ctx.chain.is_travel_rule_amount(payment["currency"], payment["amount_micro"]):
        advance_travel_rule(ctx, payment)
    else:
        sign_general(ctx, payment)


def get_payee_address(ctx: Context, payment: sqlite3.Row) -> bytes:
    """Return the on-chain address a payment goes to."""
    if payment["payee_address"]:
        return bytes.fromhex(payment["payee_address"])
    return ctx.chain.decode_identifier(payment["payee"]).address.value


def is_in_flight_full(ctx: Context) -> bool:
    """Return True iff as many payments are signed and unconfirmed as the service allows."""
    row = ctx.store.query_one("SELECT COUNT(*) AS n FROM payments WHERE status = ?", (STATUS_SUBMITTED,))
    return row is not None and row["n"] >= TRANSACTIONS_IN_FLIGHT_MAX


def sign_p2p(ctx: Context, payment: sqlite3.Row, payee: bytes, metadata: bytes, signature: bytes = b"") -> None:
    """Sign the payment's peer_to_peer_with_metadata transaction and persist it (the submitter sends it)."""
    if is_in_flight_full(ctx):
        return
    payload = compose_peer_to_peer(payee, payment["amount_micro"], payment["currency"], metadata, signature)
    ctx.submitter.sign_payment(payment["id"], payload, metadata, signature)


def sign_general(ctx: Context, payment: sqlite3.Row) -> None:
    """Below the travel-rule limit: pay with GeneralMetadata (subaddresses) or PaymentMetadata (Diem ID)."""
    payee = get_payee_address(ctx, payment)
    if payment["reference_id"]:
        body = PaymentMetadataV0(uuid.UUID(payment["reference_id"]).bytes)
        sign_p2p(ctx, payment, payee, Metadata(body).to_bcs())
        return
    from_subaddress = payment["from_subaddress"]
    if from_subaddress is None:
        from_subaddress = create_subaddress(ctx.store, payment["account_id"]).hex()
        with ctx.store.transaction():
            update_payment(ctx.store, payment["id"], from_subaddress=from_subaddress)
    to_subaddress = ctx.chain.decode_identifier(payment["payee"]).subaddress
    body = GeneralMetadataV0(to_subaddress=to_subaddress, from_subaddress=bytes.fromhex(from_subaddress))
    sign_p2p(ctx, payment, payee, Metadata(body).to_bcs())


def settle_refund(ctx: Context, payment: sqlite3.Row) -> None:
    """Return an unattributable payment with RefundMetadata; at travel-rule amounts hold it for review."""
    if ctx.chain.is_travel_rule_amount(payment["currency"], payment["amount_micro"]):
        with ctx.store.transaction():
            update_payment(ctx.store, payment["id"], status=STATUS_HELD,
                           cancel_reason="a refund at the travel-rule limit needs the sender's VASP to attest it")
        return
    body = RefundMetadataV0(payment["refund_of_version"], RefundReason(payment["refund_reason"]))
    sign_p2p(ctx, payment, get_payee_address(ctx, payment), Metadata(body).to_bcs())


def transfer_internally(ctx: Context, payment: sqlite3.Row) -> None:
    """Pay another user of this service: two ledger rows, no chain transaction."""
    receiver = get_internal_receiver(ctx, payment)
    with ctx.store.transaction():
        if receiver is None:
            update_payment(ctx.store, payment["id"], status=STATUS_CANCELED, cancel_reason="no such user here")
            return
        insert_payment(ctx.store, account_id=receiver, direction=DIRECTION_IN, status=STATUS_COMPLETED,
                       currency=payment["currency"], amount_micro=payment["amount_micro"],
                       counterparty=payment["account_id"])
        update_payment(ctx.store, payment["id"], status=STATUS_COMPLETED)


def get_internal_receiver(ctx: Context, payment: sqlite3.Row) -> str | None:
    """Return the user an internal payment is for (by Diem ID handle or by subaddress)."""
    if "@" in payment["payee"]:
        account = get_account_by_handle(ctx.store, payment["payee"].split("@")[0])
        return None if account is None else account["id"]
    return get_subaddress_owner(ctx.store, ctx.chain.decode_identifier(payment["payee"]).subaddress)


async def resolve_diem_id(ctx: Context, payment: sqlite3.Row) -> None:
    """Pay `user@domain`: our own domain stays internal; another VASP's answers a ReferenceIDCommand."""
    domain = payment["payee"].split("@")[1].lower()
    if domain in ctx.domains:
        with ctx.store.transaction():
            update_payment(ctx.store, payment["id"], payee_address=ctx.chain.address.hex())
        return
    owner = await ctx.chain.get_domain_owner(domain)
    if owner is None:
        cancel(ctx, payment, f"no VASP holds the Diem ID domain {domain!r}")
        return
    reference_id = payment["reference_id"] or str(uuid.uuid4())
    with ctx.store.transaction():  # the id is fixed before it is sent, so a retry reuses it
        update_payment(ctx.store, payment["id"], reference_id=reference_id)
        ctx.store.execute("INSERT OR IGNORE INTO reference_ids VALUES (?, ?, ?, ?)",
                          (reference_id, payment["account_id"], payment["id"], payment["payee"]))
    await exchange_reference_id(ctx, payment, reference_id, ctx.chain.get_identifier(None), owner)


async def exchange_reference_id(ctx: Context, payment: sqlite3.Row, reference_id: str, sender_address: str,
                                owner: bytes) -> None:
    """Send the ReferenceIDCommand and record the receiver's address (or cancel on a command error)."""
    account = get_account(ctx.store, payment["account_id"])
    sender = f"{account['handle'] or account['id']}@{ctx.domains[0]}" if ctx.domains else account["id"]
    command = {"_ObjectType": "ReferenceIDCommand", "sender": sender, "sender_address": sender_address,
               "receiver": payment["payee"], "reference_id": reference_id}
    request = {"_ObjectType": "CommandRequestObject", "command_type": "ReferenceIDCommand",
               "cid": str(uuid.uuid4()), "command": command}
    response = await send_request(ctx, sender_address, ctx.chain.get_identifier_of(owner), request)
    error = get_response_error(response)
    if error is not None:
        cancel(ctx, payment, f"the payee's VASP refused: {error.message}")
        return
    receiver = ctx.chain.decode_identifier(str((response.get("result") or {}).get("receiver_address")))
    with ctx.store.transaction():
        update_payment(ctx.store, payment["id"], payee_address=receiver.address.value.hex(),
                       counterparty=receiver.encode())


def advance_travel_rule(ctx: Context, payment: sqlite3.Row) -> None:
    """At or above the limit: exchange KYC data first, then pay with the receiver's attestation."""
    reference_id = payment["reference_id"] or str(uuid.uuid4())
    command = ctx.store.query_one("SELECT * FROM payment_commands WHERE reference_id = ?", (reference_id,))
    if command is None:
        start_kyc_exchange(ctx, payment, reference_id)
    elif command["failed"]:
        cancel(ctx, payment, f"the KYC exchange failed: {command['failed']}")
    elif command["state"] in (State.S_ABORT.value, State.R_ABORT.value):
        cancel(ctx, payment, "the KYC exchange was aborted")
    elif command["state"] == State.READY.value:
        settled = json.loads(command["payment"])
        metadata, _ = compute_signed_message(settled, ctx.chain.address)
        sign_p2p(ctx, payment, get_payee_address(ctx, payment), metadata,
                 bytes.fromhex(settled["recipient_signature"]))


def start_kyc_exchange(ctx: Context, payment: sqlite3.Row, reference_id: str) -> None:
    """Create the S_INIT PaymentCommand of an outgoing payment."""
    from_subaddress = None
    if "@" not in payment["payee"]:  # DIP-10: a Diem ID payment's actors have zero subaddresses
        from_subaddress = create_subaddress(ctx.store, payment["account_id"]).hex()
    sender_address = ctx.chain.get_identifier(None if from_subaddress is None else bytes.fromhex(from_subaddress))
    receiver_address = payment["counterparty"] or payment["payee"]
    action = {"amount": payment["amount_micro"], "currency": payment["currency"], "action": "charge",
              "timestamp": int(time.time())}
    with ctx.store.transaction():
        update_payment(ctx.store, payment["id"], reference_id=reference_id, from_subaddress=from_subaddress)
        create_initial_command(ctx, payment["id"], payment["account_id"], reference_id, sender_address,
                               receiver_address, get_kyc_data(get_account(ctx.store, payment["account_id"])), action)


def cancel(ctx: Context, payment: sqlite3.Row, reason: str) -> None:
    """Cancel an outgoing payment: the user's balance gets the amount back."""
    with ctx.store.transaction():
        update_payment(ctx.store, payment["id"], status=STATUS_CANCELED, cancel_reason=reason)
