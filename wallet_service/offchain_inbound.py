"""The receiving end of the off-chain API v2: `POST /v2/command`, checked in DIP-1's order.

Headers, then the sender's on-chain credential, then the JWS and the request envelope are protocol
errors; the command's content and its place in the payment state machine are command errors. A
command that was answered with success or a command error is answered identically when replayed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from primitives.errors import DecodeError
from wallet.offchain import jws
from wallet.offchain.types import (
    PAYMENT_COMMAND,
    PING_COMMAND,
    REFERENCE_ID_COMMAND,
    REQUEST,
    UUID_PATTERN,
    ErrorCode,
    ErrorType,
    FieldProblem,
    OffchainError,
    command_error,
    parse_object,
    protocol_error,
)
from wallet_service.chain import Credential
from wallet_service.context import Context
from wallet_service.ledger import get_account_by_handle
from wallet_service.offchain_payment import process_payment_command

HEADER_REQUEST_ID = "X-REQUEST-ID"
HEADER_SENDER_ADDRESS = "X-REQUEST-SENDER-ADDRESS"


def compose_response(cid: str | None, error: OffchainError | None = None,
                     result: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a CommandResponseObject."""
    response: dict[str, Any] = {"_ObjectType": "CommandResponseObject", "status": "failure" if error else "success"}
    if cid is not None:
        response["cid"] = cid
    if error is not None:
        response["error"] = error.to_json()
    if result is not None:
        response["result"] = result
    return response


async def process_request(ctx: Context, request_id: str | None, sender_header: str | None,
                          body: bytes) -> dict[str, Any]:
    """Answer one inbound off-chain request with a CommandResponseObject (never raises for bad input)."""
    try:
        check_request_id(request_id)
        credential = await get_sender_credential(ctx, sender_header)
        request = decode_request(body, credential)
    except OffchainError as error:
        return compose_response(None, error)
    request_hash = hashlib.sha256(body).hexdigest()
    cached = ctx.store.query_one("SELECT * FROM offchain_responses WHERE cid = ?", (request["cid"],))
    if cached is not None:
        if cached["request_hash"] == request_hash:
            return json.loads(cached["response"])
        return compose_response(request["cid"], command_error(ErrorCode.CONFLICT, "cid reused for another command"))
    try:
        result = await dispatch(ctx, request, str(sender_header), credential)
        response = compose_response(request["cid"], result=result)
    except OffchainError as error:
        response = compose_response(request["cid"], error)
        if error.type is ErrorType.PROTOCOL:
            return response  # a protocol error may clear up: the same command is processed afresh
    with ctx.store.transaction():
        ctx.store.execute("INSERT OR IGNORE INTO offchain_responses VALUES (?, ?, ?)",
                          (request["cid"], request_hash, json.dumps(response)))
    return response


def check_request_id(request_id: str | None) -> None:
    """X-REQUEST-ID must be present and a UUID."""
    if not request_id:
        raise protocol_error(ErrorCode.MISSING_HTTP_HEADER, f"missing {HEADER_REQUEST_ID}")
    if not UUID_PATTERN.match(request_id):
        raise protocol_error(ErrorCode.INVALID_HTTP_HEADER, f"{HEADER_REQUEST_ID} must be a UUID")


async def get_sender_credential(ctx: Context, sender_header: str | None) -> Credential:
    """Return the credential of the VASP named by X-REQUEST-SENDER-ADDRESS."""
    if not sender_header:
        raise protocol_error(ErrorCode.MISSING_HTTP_HEADER, f"missing {HEADER_SENDER_ADDRESS}")
    try:
        identifier = ctx.chain.decode_identifier(sender_header)
    except DecodeError as error:
        raise protocol_error(ErrorCode.INVALID_HTTP_HEADER, f"{HEADER_SENDER_ADDRESS}: {error}") from None
    credential = await ctx.chain.get_credential(identifier.address.value)
    if credential is None:
        raise protocol_error(ErrorCode.INVALID_HTTP_HEADER,
                             f"{HEADER_SENDER_ADDRESS}: no VASP with a base URL and compliance key at that address")
    return credential


def decode_request(body: bytes, credential: Credential) -> dict[str, Any]:
    """Verify the JWS with the sender's compliance key and check the request envelope."""
    try:
        payload = jws.decode(body, credential.compliance_key)
    except jws.JwsSignatureError as error:
        raise protocol_error(ErrorCode.INVALID_JWS_SIGNATURE, str(error)) from None
    except jws.JwsError as error:
        raise protocol_error(ErrorCode.INVALID_JWS, str(error)) from None
    try:
        value = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise protocol_error(ErrorCode.INVALID_JSON, f"the JWS payload is not JSON: {error}") from None
    try:
        return parse_object(value, REQUEST, "", invalid_object=True)
    except FieldProblem as problem:
        raise problem.as_error(ErrorType.PROTOCOL) from None


async def dispatch(ctx: Context, request: dict[str, Any], sender_header: str,
                   credential: Credential) -> dict[str, Any] | None:
    """Run the command of a checked request; return its result object, if it has one."""
    command_type = request["command_type"]
    if command_type == "PingCommand":
        parse_command(request["command"], PING_COMMAND)
        return None
    if command_type == "ReferenceIDCommand":
        return process_reference_id_command(ctx, parse_command(request["command"], REFERENCE_ID_COMMAND))
    if command_type == "PaymentCommand":
        command = parse_command(request["command"], PAYMENT_COMMAND)
        await process_payment_command(ctx, request["cid"], command["payment"], sender_header, credential)
        return None
    raise protocol_error(ErrorCode.UNKNOWN_COMMAND_TYPE, f"unknown command_type {command_type!r}", "command_type")


def parse_command(value: Any, schema: dict) -> dict[str, Any]:
    """Check a command object; its problems are command errors under `command.`."""
    try:
        return parse_object(value, schema, "command")
    except FieldProblem as problem:
        raise problem.as_error(ErrorType.COMMAND) from None


def process_reference_id_command(ctx: Context, command: dict[str, Any]) -> dict[str, Any]:
    """DIP-10: map a fresh reference id to the receiving user and answer with our zero-subaddress identifier."""
    user, _, domain = command["receiver"].lower().partition("@")
    account = get_account_by_handle(ctx.store, user) if domain in ctx.domains else None
    if account is None:
        raise command_error(ErrorCode.INVALID_RECEIVER, f"no user {command['receiver']!r} here", "command.receiver")
    with ctx.store.transaction():
        cursor = ctx.store.execute("INSERT OR IGNORE INTO reference_ids VALUES (?, ?, NULL, ?)",
                                   (command["reference_id"].lower(), account["id"], command["sender"]))
        if cursor.rowcount != 1:
            raise command_error(ErrorCode.DUPLICATE_REFERENCE_ID, "reference_id already used",
                                "command.reference_id")
    return {"_ObjectType": "ReferenceIDCommandResponse", "receiver_address": ctx.chain.get_identifier()}
