"""Our side of the KYC exchange: taking our turn in a payment, and delivering commands to counterparties.

Commands go out through the outbox with retries and backoff (DIP-1: retry until answered, same cid).
A command error means the counterparty will never accept that version: the exchange fails and the
outgoing payment is canceled. A protocol error or a network failure is retried.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import uuid
from typing import Any

import aiohttp

from wallet.offchain import jws
from wallet.offchain.payment_state import Actor, FollowUp, State, get_follow_up
from wallet.offchain.types import ErrorCode, ErrorType, OffchainError, get_response_error
from wallet_service.context import Context
from wallet_service.kyc import Verdict, evaluate, review
from wallet_service.ledger import get_account, get_kyc_data
from wallet_service.limits import (
    OFFCHAIN_ATTEMPTS_MAX,
    OFFCHAIN_HTTP_TIMEOUT_S,
    OFFCHAIN_RETRY_BASE_S,
    OFFCHAIN_RETRY_CAP_S,
)
from wallet_service.offchain_payment import compute_signed_message, update_actor, write_own_version
from wallet_service.store import get_now_ms

OUTBOX_BATCH = 20
BACKOFF_DOUBLINGS_MAX = 30  # far past any cap; keeps 2**n small
ABORT_CODE_REJECTED = "rejected"
HTTP_OK = 200
HTTP_BAD_REQUEST = 400

log = logging.getLogger("wallet_service.offchain")


def compute_backoff_s(attempts: int, base_s: float, cap_s: float) -> float:
    """Return the exponential backoff after a number of failed attempts."""
    return min(cap_s, base_s * 2 ** min(attempts, BACKOFF_DOUBLINGS_MAX))


def process_follow_ups(ctx: Context) -> None:
    """Take our turn in every payment where the counterparty is waiting for us."""
    for row in ctx.store.query("SELECT * FROM payment_commands WHERE needs_action = 1 AND failed IS NULL"):
        payment = json.loads(row["payment"])
        my_actor = Actor(row["my_actor"])
        action = get_follow_up(my_actor, State(row["state"]))
        if action is None or action is FollowUp.SUBMIT_TRANSACTION:
            continue
        write_own_version(ctx, row, take_turn(ctx, row, payment, my_actor, action))


def take_turn(ctx: Context, row: sqlite3.Row, payment: dict[str, Any], my_actor: Actor,
              action: FollowUp) -> dict[str, Any]:
    """Return our next version of the payment for a follow-up action."""
    counterparty = Actor.RECEIVER if my_actor is Actor.SENDER else Actor.SENDER
    their_kyc = payment[counterparty.value].get("kyc_data")
    if action is FollowUp.EVALUATE_KYC_DATA:
        verdict = evaluate(ctx.samples, their_kyc)
    elif action is FollowUp.REVIEW_KYC_DATA:
        verdict = review(ctx.samples, their_kyc)
    else:
        return clear_soft_match(ctx, row, payment, my_actor)
    if verdict is Verdict.REJECT:
        return abort(payment, my_actor, "the KYC data was rejected")
    if verdict is Verdict.SOFT_MATCH:
        return update_actor(payment, my_actor, status={"status": "soft_match"})
    return become_ready(ctx, row, payment, my_actor)


def abort(payment: dict[str, Any], my_actor: Actor, message: str) -> dict[str, Any]:
    """Return the payment aborted by our side."""
    return update_actor(payment, my_actor, status={"status": "abort", "abort_code": ABORT_CODE_REJECTED,
                                                   "abort_message": message})


def clear_soft_match(ctx: Context, row: sqlite3.Row, payment: dict[str, Any], my_actor: Actor) -> dict[str, Any]:
    """Answer a soft match with additional KYC data, unless the user declines to give more."""
    account = get_account(ctx.store, row["account_id"])
    if account["reject_additional_kyc"]:
        return abort(payment, my_actor, "no additional KYC data will be provided")
    return update_actor(payment, my_actor, additional_kyc_data=json.dumps({"account_id": account["id"]}))


def become_ready(ctx: Context, row: sqlite3.Row, payment: dict[str, Any], my_actor: Actor) -> dict[str, Any]:
    """Accept: the sender is ready to settle; the receiver also adds its KYC data and its signature."""
    ready = {"status": "ready_for_settlement"}
    if my_actor is Actor.SENDER:
        return update_actor(payment, my_actor, status=ready)
    sender_address = ctx.chain.decode_identifier(payment["sender"]["address"]).address.value
    _, message = compute_signed_message(payment, sender_address)
    kyc_data = get_kyc_data(get_account(ctx.store, row["account_id"]))
    return update_actor(payment, my_actor, status=ready, kyc_data=kyc_data,
                        recipient_signature=ctx.sign_compliance(message).hex())


async def send_request(ctx: Context, sender_address: str, counterparty_identifier: str,
                       request: dict[str, Any]) -> dict[str, Any]:
    """POST a signed request to the counterparty's /v2/command and return its verified response."""
    address = ctx.chain.decode_identifier(counterparty_identifier).address.value
    credential = await ctx.chain.get_credential(address)
    if credential is None:
        raise OffchainError(ErrorType.COMMAND, ErrorCode.INVALID_HTTP_HEADER,
                            f"{counterparty_identifier} publishes no base URL and compliance key")
    body = jws.encode(json.dumps(request).encode(), ctx.sign_compliance)
    headers = {"X-REQUEST-ID": str(uuid.uuid4()), "X-REQUEST-SENDER-ADDRESS": sender_address}
    timeout = aiohttp.ClientTimeout(total=OFFCHAIN_HTTP_TIMEOUT_S)
    url = f"{credential.base_url.rstrip('/')}/v2/command"
    async with ctx.get_session().post(url, data=body, headers=headers, timeout=timeout) as response:
        if response.status not in (HTTP_OK, HTTP_BAD_REQUEST):
            raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
        payload = jws.decode(await response.read(), credential.compliance_key)
    return json.loads(payload)


async def deliver_commands(ctx: Context) -> None:
    """Send every due outgoing command once; record success, failure or the next retry."""
    for entry in ctx.store.get_due_outbox("offchain", get_now_ms(), OUTBOX_BATCH):
        body = json.loads(entry["body"])
        try:
            response = await send_request(ctx, body["sender_address"], entry["target"], body["request"])
            error = get_response_error(response)
        except (aiohttp.ClientError, asyncio.TimeoutError, jws.JwsError, ValueError) as failure:
            error = OffchainError(ErrorType.PROTOCOL, ErrorCode.INVALID_OBJECT, f"delivery failed: {failure}")
        record_delivery(ctx, entry, body["reference_id"], error)


def record_delivery(ctx: Context, entry: sqlite3.Row, reference_id: str, error: OffchainError | None) -> None:
    """Mark a command delivered, failed for good, or due again after a backoff."""
    with ctx.store.transaction():
        if error is None:
            ctx.store.finish_outbox(entry["id"], "delivered")
        elif error.type is ErrorType.COMMAND or entry["attempts"] + 1 >= OFFCHAIN_ATTEMPTS_MAX:
            log.warning("payment %s: the counterparty refused our command: %s", reference_id, error.to_json())
            ctx.store.finish_outbox(entry["id"], "parked", json.dumps(error.to_json()))
            ctx.store.execute("UPDATE payment_commands SET failed = ? WHERE reference_id = ?",
                              (f"{error.code.value}: {error.message}", reference_id))
        else:
            delay_s = compute_backoff_s(entry["attempts"], OFFCHAIN_RETRY_BASE_S, OFFCHAIN_RETRY_CAP_S)
            ctx.store.retry_outbox(entry["id"], get_now_ms() + int(delay_s * 1000), error.message)
