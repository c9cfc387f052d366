"""PaymentCommand: checking a counterparty's update against the stored payment, and writing our own.

Each stored payment command row holds the latest payment object both sides agreed on, its state,
and whether it is our turn (`needs_action`). Our own updates are written together with an outbox
entry that carries them to the counterparty, so an update is never lost between the two.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from primitives.errors import DecodeError
from primitives.metadata import Metadata, TravelRuleMetadataV0, compute_dual_attestation_message
from primitives.keys import is_valid_signature
from primitives.types.names import AccountAddress
from wallet.offchain.payment_state import (
    Actor,
    MissingStateField,
    State,
    compute_state,
    get_follow_up,
    get_writer,
    is_valid_transition,
)
from wallet.offchain.types import ACTOR, PAYMENT, ErrorCode, command_error, find_overwrite
from wallet_service.chain import Credential
from wallet_service.context import SUPPORTED_CURRENCIES, Context
from wallet_service.ledger import get_subaddress_owner
from wallet_service.store import get_now_ms


async def process_payment_command(ctx: Context, cid: str, payment: dict[str, Any], sender_header: str,
                                  credential: Credential) -> None:
    """Check an inbound PaymentCommand and store it as the payment's new version."""
    check_actor_addresses(ctx, payment, sender_header)
    my_actor = await get_my_actor(ctx, payment)
    state = get_state(payment)
    prior = ctx.store.query_one("SELECT * FROM payment_commands WHERE reference_id = ?",
                                (payment["reference_id"].lower(),))
    if get_writer(state) is my_actor:
        raise command_error(ErrorCode.INVALID_COMMAND_PRODUCER, f"{state.value} is written by the {my_actor.value}, "
                            "not by you")
    if prior is None:
        account_id = check_initial(ctx, payment, state)
        save_inbound(ctx, payment, state, my_actor, account_id, None)
        return
    check_update(payment, json.loads(prior["payment"]), State(prior["state"]), my_actor)
    if state is State.R_SEND:
        check_recipient_signature(ctx, payment, credential)
    save_inbound(ctx, payment, state, my_actor, prior["account_id"], prior)


def check_actor_addresses(ctx: Context, payment: dict[str, Any], sender_header: str) -> None:
    """Both actor addresses must decode, and the request's sender must be one of them."""
    for actor in ("sender", "receiver"):
        try:
            ctx.chain.decode_identifier(payment[actor]["address"])
        except DecodeError as error:
            raise command_error(ErrorCode.INVALID_FIELD_VALUE, f"{actor} address: {error}",
                                f"command.payment.{actor}.address") from None
    if sender_header not in (payment["sender"]["address"], payment["receiver"]["address"]):
        raise command_error(ErrorCode.INVALID_HTTP_HEADER, "X-REQUEST-SENDER-ADDRESS is neither actor's address")


async def get_my_actor(ctx: Context, payment: dict[str, Any]) -> Actor:
    """Return which side of the payment this service is (unknown_address if neither)."""
    for actor in (Actor.SENDER, Actor.RECEIVER):
        address = ctx.chain.decode_identifier(payment[actor.value]["address"]).address.value
        if await ctx.chain.is_own_address(address):
            return actor
    raise command_error(ErrorCode.UNKNOWN_ADDRESS, "neither actor address belongs to this VASP")


def get_state(payment: dict[str, Any]) -> State:
    """Return the payment's state (missing_field or invalid_transition if it has none)."""
    try:
        state = compute_state(payment)
    except MissingStateField as error:
        fields = ", ".join(f"command.payment.{name}" for name in error.fields)
        raise command_error(ErrorCode.MISSING_FIELD, str(error), fields) from None
    if state is None:
        raise command_error(ErrorCode.INVALID_TRANSITION, "the actors' statuses form no DIP-1 state")
    return state


def check_initial(ctx: Context, payment: dict[str, Any], state: State) -> str:
    """A payment we have not seen must start at S_INIT, in a supported currency, at a travel-rule amount."""
    if state is not State.S_INIT:
        raise command_error(ErrorCode.INVALID_INITIAL_OR_PRIOR_NOT_FOUND,
                            f"no payment {payment['reference_id']} is known and {state.value} is not initial")
    action = payment["action"]
    if action["currency"] not in ctx.chain.exchange_rates:
        raise command_error(ErrorCode.INVALID_FIELD_VALUE, f"unknown currency {action['currency']!r}",
                            "command.payment.action.currency")
    if action["currency"] not in SUPPORTED_CURRENCIES:
        raise command_error(ErrorCode.UNSUPPORTED_CURRENCY, f"{action['currency']} is not accepted here",
                            "command.payment.action.currency")
    if not ctx.chain.is_travel_rule_amount(action["currency"], action["amount"]):
        raise command_error(ErrorCode.NO_KYC_NEEDED, "the amount is below the travel-rule limit",
                            "command.payment.action.amount")
    return get_receiving_account(ctx, payment)


def get_receiving_account(ctx: Context, payment: dict[str, Any]) -> str:
    """Return the user a payment is for: by the receiver's subaddress, or by a DIP-10 reference id."""
    subaddress = ctx.chain.decode_identifier(payment["receiver"]["address"]).subaddress
    account_id = get_subaddress_owner(ctx.store, subaddress)
    if account_id is None and subaddress is None:
        row = ctx.store.query_one("SELECT account_id FROM reference_ids WHERE reference_id = ?",
                                  (payment["reference_id"].lower(),))
        account_id = None if row is None else row["account_id"]
    if account_id is None:
        raise command_error(ErrorCode.UNKNOWN_ADDRESS, "the receiver address names no user here",
                            "command.payment.receiver.address")
    return account_id


def check_update(payment: dict[str, Any], prior: dict[str, Any], prior_state: State, my_actor: Actor) -> None:
    """An update may not touch our actor object or write-once fields, and must be a DIP-1 transition."""
    if payment[my_actor.value] != prior[my_actor.value]:
        raise command_error(ErrorCode.INVALID_OVERWRITE, f"only the {my_actor.value} writes its actor object",
                            f"payment.{my_actor.value}")
    changed = find_overwrite(payment, prior, PAYMENT, "payment")
    if changed:
        raise command_error(ErrorCode.INVALID_OVERWRITE, f"{changed} may only be written once", changed)
    state = get_state(payment)
    if not is_valid_transition(prior_state, state):
        raise command_error(ErrorCode.INVALID_TRANSITION, f"{prior_state.value} → {state.value} is not allowed")


def compute_signed_message(payment: dict[str, Any], sender_address: bytes) -> tuple[bytes, bytes]:
    """Return (travel-rule metadata, the message the receiver signs) of a payment."""
    metadata = Metadata(TravelRuleMetadataV0(payment["reference_id"])).to_bcs()
    return metadata, compute_dual_attestation_message(metadata, AccountAddress(sender_address),
                                                      payment["action"]["amount"])


def check_recipient_signature(ctx: Context, payment: dict[str, Any], credential: Credential) -> None:
    """R_SEND carries the receiver's attestation: it must verify with the receiver's compliance key."""
    sender_address = ctx.chain.decode_identifier(payment["sender"]["address"]).address.value
    _, message = compute_signed_message(payment, sender_address)
    try:
        signature = bytes.fromhex(payment["recipient_signature"])
    except ValueError:
        signature = b""
    if not is_valid_signature(credential.compliance_key, message, signature):
        raise command_error(ErrorCode.INVALID_RECIPIENT_SIGNATURE, "recipient_signature does not verify",
                            "command.payment.recipient_signature")


def save_inbound(ctx: Context, payment: dict[str, Any], state: State, my_actor: Actor, account_id: str | None,
                 prior: sqlite3.Row | None) -> None:
    """Store the counterparty's version of the payment and note whether it is now our turn."""
    needs_action = int(get_follow_up(my_actor, state) is not None)
    with ctx.store.transaction():
        if prior is None:
            counterparty = Actor.SENDER if my_actor is Actor.RECEIVER else Actor.RECEIVER
            ctx.store.execute("INSERT INTO payment_commands VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, NULL, ?)",
                              (payment["reference_id"].lower(), account_id, my_actor.value,
                               payment[my_actor.value]["address"], payment[counterparty.value]["address"],
                               json.dumps(payment), state.value, needs_action, get_now_ms()))
            event = "created_payment_command"
        else:
            ctx.store.execute("UPDATE payment_commands SET payment = ?, state = ?, needs_action = ?, updated_ms = ? "
                              "WHERE reference_id = ?", (json.dumps(payment), state.value, needs_action,
                                                         get_now_ms(), prior["reference_id"]))
            event = "updated_payment_command"
        if account_id:
            ctx.store.add_event(account_id, event, {"reference_id": payment["reference_id"], "state": state.value})


def write_own_version(ctx: Context, row: sqlite3.Row, payment: dict[str, Any]) -> None:
    """Store our new version of a payment and queue it for the counterparty (one transaction)."""
    state = get_state(payment)
    cid = str(uuid.uuid4())
    request = {"_ObjectType": "CommandRequestObject", "command_type": "PaymentCommand", "cid": cid,
               "command": {"_ObjectType": "PaymentCommand", "payment": payment}}
    with ctx.store.transaction():
        ctx.store.execute("UPDATE payment_commands SET payment = ?, state = ?, needs_action = 0, updated_ms = ? "
                          "WHERE reference_id = ?", (json.dumps(payment), state.value, get_now_ms(),
                                                     row["reference_id"]))
        ctx.store.add_outbox("offchain", cid, row["counterparty_address"],
                             {"request": request, "sender_address": row["my_address"],
                              "reference_id": row["reference_id"]})
        if row["account_id"]:
            ctx.store.add_event(row["account_id"], "updated_payment_command",
                                {"reference_id": row["reference_id"], "state": state.value})


def create_initial_command(ctx: Context, payment_id: str, account_id: str, reference_id: str, sender_address: str,
                           receiver_address: str, kyc_data: dict[str, Any], action: dict[str, Any]) -> None:
    """Start the KYC exchange of an outgoing travel-rule payment (S_INIT), stored and queued together."""
    payment = {"reference_id": reference_id, "action": action,
               "sender": {"address": sender_address, "status": {"status": "needs_kyc_data"}, "kyc_data": kyc_data},
               "receiver": {"address": receiver_address, "status": {"status": "none"}}}
    with ctx.store.transaction():
        ctx.store.execute("INSERT INTO payment_commands VALUES (?, ?, ?, 'sender', ?, ?, ?, 'S_INIT', 0, NULL, ?)",
                          (reference_id, account_id, payment_id, sender_address, receiver_address, "{}",
                           get_now_ms()))
        row = ctx.store.query_one("SELECT * FROM payment_commands WHERE reference_id = ?", (reference_id,))
        ctx.store.add_event(account_id, "created_payment_command", {"reference_id": reference_id, "state": "S_INIT"})
        write_own_version(ctx, row, payment)


def update_actor(payment: dict[str, Any], actor: Actor, **changes: Any) -> dict[str, Any]:
    """Return a copy of the payment with fields of our actor object (or of the payment itself) replaced."""
    updated = json.loads(json.dumps(payment))
    for name, value in changes.items():
        (updated[actor.value] if name in ACTOR else updated)[name] = value
    return updated
