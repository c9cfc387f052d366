"""The HTTP API an app integrates with: the Diem MiniWallet API, plus `POST /v2/command` for other VASPs.

Every refusal is a 4xx JSON body `{"error": <reason>, "code": <stable code>}` and changes nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from primitives.errors import DecodeError
from wallet.errors import WalletError
from wallet.offchain import jws
from wallet.offchain.types import KYC_DATA, FieldProblem, parse_object
from wallet_service.context import SUPPORTED_CURRENCIES, Context
from wallet_service.errors import ClientError
from wallet_service.ledger import (
    PaymentRequest,
    create_account,
    create_outgoing_payment,
    create_subaddress,
    describe_payment,
    get_account,
    get_account_by_handle,
    get_balances,
    get_payment,
)
from wallet_service.limits import EVENTS_PAGE_MAX, HANDLE_LENGTH_MAX, IDEMPOTENCY_KEY_LENGTH_MAX, AMOUNT_MICRO_MAX
from wallet_service.offchain_inbound import HEADER_REQUEST_ID, HEADER_SENDER_ADDRESS, process_request

CONTEXT_KEY = web.AppKey("context", Context)
HTTP_SERVICE_UNAVAILABLE = 503
DIEM_ID_PART = re.compile(r"^[a-z0-9][a-z0-9.]*$")
ACCOUNT_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")  # account ids are Diem ID user parts too
CREATE_ACCOUNT_FIELDS = frozenset({"kyc_data", "balances", "handle", "reject_additional_kyc_data_request"})
PAYMENT_FIELDS = frozenset({"payee", "currency", "amount"})
IDEMPOTENCY_HEADER = "Idempotency-Key"


def get_context(request: web.Request) -> Context:
    """Return the service context of a request."""
    return request.app[CONTEXT_KEY]


async def read_json(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    """Return the request's JSON object body (empty if none) after refusing unknown fields."""
    text = await request.text()
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise ClientError(f"the body is not JSON: {error}", "invalid_json") from None
    if not isinstance(body, dict):
        raise ClientError("the body must be a JSON object", "invalid_json")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ClientError(f"unknown field {unknown[0]!r}", "unknown_field")
    return body


def check_amount(value: Any, name: str) -> int:
    """Return an integer amount of micro-units within u64."""
    if type(value) is not int:
        raise ClientError(f"{name} must be an integer number of micro-units", "invalid_amount")
    if not 0 < value <= AMOUNT_MICRO_MAX:
        raise ClientError(f"{name} must be between 1 and {AMOUNT_MICRO_MAX}", "invalid_amount")
    return value


def check_currency(value: Any) -> str:
    """Return a currency this service pays in."""
    if not isinstance(value, str) or value not in SUPPORTED_CURRENCIES:
        raise ClientError(f"currency must be one of {', '.join(SUPPORTED_CURRENCIES)}, got {value!r}",
                          "invalid_currency")
    return value


def check_handle(value: Any) -> str | None:
    """Return a valid Diem ID user part (lower-cased), or None."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > HANDLE_LENGTH_MAX or not DIEM_ID_PART.match(value.lower()):
        raise ClientError(f"handle must be 1-{HANDLE_LENGTH_MAX} letters, digits or dots, starting with a letter "
                          "or digit", "invalid_handle")
    if ACCOUNT_ID_PATTERN.match(value.lower()):
        raise ClientError("a handle may not look like an account id (32 hex digits)", "invalid_handle")
    return value.lower()


def check_deposits(ctx: Context, value: Any) -> dict[str, int]:
    """Return initial deposits (devnet only: the faucet funds the service's float)."""
    if value is None or value == {}:
        return {}
    if not isinstance(value, dict):
        raise ClientError("balances must be an object of currency → amount", "invalid_balances")
    if not ctx.deposits_enabled:
        raise ClientError("initial balances are only accepted on a devnet (--faucet)", "deposits_disabled")
    return {check_currency(currency): check_amount(amount, f"balances.{currency}")
            for currency, amount in value.items() if amount != 0}


async def on_create_account(request: web.Request) -> web.Response:
    """POST /accounts: a user account with optional KYC data, handle and (devnet) deposits."""
    ctx = get_context(request)
    body = await read_json(request, CREATE_ACCOUNT_FIELDS)
    kyc_data = None
    if body.get("kyc_data") is not None:
        try:
            kyc_data = parse_object(body["kyc_data"], KYC_DATA, "kyc_data")
        except FieldProblem as problem:
            raise ClientError(f"kyc_data is not a valid KycDataObject: {problem}", "invalid_kyc_data") from None
    reject = body.get("reject_additional_kyc_data_request")
    if reject is not None and not isinstance(reject, bool):
        raise ClientError("reject_additional_kyc_data_request must be a boolean", "invalid_request")
    account_id = create_account(ctx.store, kyc_data, check_handle(body.get("handle")), bool(reject),
                                check_deposits(ctx, body.get("balances")))
    return web.json_response({"id": account_id}, status=201)


async def on_get_balances(request: web.Request) -> web.Response:
    """GET /accounts/{id}/balances."""
    ctx = get_context(request)
    account = get_account(ctx.store, request.match_info["account_id"])
    return web.json_response(get_balances(ctx.store, account["id"], SUPPORTED_CURRENCIES))


async def on_create_identifier(request: web.Request) -> web.Response:
    """POST /accounts/{id}/account_identifiers: a fresh single-use subaddress identifier."""
    ctx = get_context(request)
    account = get_account(ctx.store, request.match_info["account_id"])
    subaddress = create_subaddress(ctx.store, account["id"])
    return web.json_response({"account_identifier": ctx.chain.get_identifier(subaddress)}, status=201)


async def on_get_events(request: web.Request) -> web.Response:
    """GET /accounts/{id}/events."""
    ctx = get_context(request)
    account = get_account(ctx.store, request.match_info["account_id"])
    return web.json_response(ctx.store.get_events(account["id"], EVENTS_PAGE_MAX))


async def on_get_kyc_sample(request: web.Request) -> web.Response:
    """GET /kyc_sample."""
    return web.json_response(get_context(request).samples)


async def on_create_payment(request: web.Request) -> web.Response:
    """POST /accounts/{id}/payments: accept a payment (202), once per Idempotency-Key."""
    ctx = get_context(request)
    account = get_account(ctx.store, request.match_info["account_id"])
    body = await read_json(request, PAYMENT_FIELDS)
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not 0 < len(key) <= IDEMPOTENCY_KEY_LENGTH_MAX:
        raise ClientError(f"{IDEMPOTENCY_HEADER} must be 1-{IDEMPOTENCY_KEY_LENGTH_MAX} characters",
                          "invalid_idempotency_key")
    payee = body.get("payee")
    if not isinstance(payee, str):
        raise ClientError("payee must be an account identifier or a Diem ID", "invalid_payee")
    payment = PaymentRequest(account["id"], payee, check_currency(body.get("currency")),
                             check_amount(body.get("amount"), "amount"), key)
    await check_payee(ctx, payment.payee)
    payment_id, created = create_outgoing_payment(ctx.store, payment)
    return web.json_response({"id": payment_id}, status=202 if created else 200)


async def on_get_payment(request: web.Request) -> web.Response:
    """GET /accounts/{id}/payments/{payment_id}: the payment's status."""
    ctx = get_context(request)
    account = get_account(ctx.store, request.match_info["account_id"])
    payment = get_payment(ctx.store, request.match_info["payment_id"])
    if payment["account_id"] != account["id"]:
        raise ClientError("payment not found", "not_found")
    return web.json_response(describe_payment(ctx.store, payment["id"]))


async def check_payee(ctx: Context, payee: str) -> None:
    """Refuse a payee that cannot be paid: bad identifier, unknown account, unknown domain or user."""
    if "@" in payee:
        user, _, domain = payee.lower().partition("@")
        if not DIEM_ID_PART.match(user) or not DIEM_ID_PART.match(domain):
            raise ClientError(f"{payee!r} is not a Diem ID (user@domain)", "invalid_payee")
        if domain in ctx.domains and get_account_by_handle(ctx.store, user) is None:
            raise ClientError(f"no user {user!r} at {domain}", "unknown_payee")
        if domain not in ctx.domains and await ctx.chain.get_domain_owner(domain) is None:
            raise ClientError(f"no VASP holds the Diem ID domain {domain!r}", "unknown_payee")
        return
    try:
        identifier = ctx.chain.decode_identifier(payee)
    except DecodeError as error:
        raise ClientError(f"payee is not a valid {ctx.chain.hrp} account identifier: {error}", "invalid_payee") from None
    if await ctx.chain.client.get_account(identifier.address.value) is None:
        raise ClientError(f"no account {identifier.address.value.hex()} on chain", "unknown_payee")


async def on_offchain_command(request: web.Request) -> web.Response:
    """POST /v2/command: a JWS-signed answer, 200 for success and 400 for any failure."""
    ctx = get_context(request)
    request_id = request.headers.get(HEADER_REQUEST_ID)
    response = await process_request(ctx, request_id, request.headers.get(HEADER_SENDER_ADDRESS),
                                     await request.read())
    body = jws.encode(json.dumps(response).encode(), ctx.sign_compliance)
    headers = {HEADER_REQUEST_ID: request_id} if request_id else {}
    return web.Response(body=body, status=200 if response["status"] == "success" else 400, headers=headers,
                        content_type="application/jose")


@web.middleware
async def refusals(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn a ClientError into its 4xx JSON answer."""
    try:
        return await handler(request)
    except ClientError as error:
        return web.json_response({"error": error.reason, "code": error.code}, status=error.status)
    except WalletError as error:
        # The node could not answer a check (unreachable, rate-limited): nothing was changed; try again.
        return web.json_response({"error": f"the chain is unavailable: {error}", "code": "chain_unavailable"},
                                 status=HTTP_SERVICE_UNAVAILABLE)


def create_app(ctx: Context, body_bytes_max: int) -> web.Application:
    """Return the aiohttp application serving the API."""
    app = web.Application(middlewares=[refusals], client_max_size=body_bytes_max)
    app[CONTEXT_KEY] = ctx
    app.router.add_post("/accounts", on_create_account)
    app.router.add_get("/accounts/{account_id}/balances", on_get_balances)
    app.router.add_post("/accounts/{account_id}/payments", on_create_payment)
    app.router.add_get("/accounts/{account_id}/payments/{payment_id}", on_get_payment)
    app.router.add_post("/accounts/{account_id}/account_identifiers", on_create_identifier)
    app.router.add_get("/accounts/{account_id}/events", on_get_events)
    app.router.add_get("/kyc_sample", on_get_kyc_sample)
    app.router.add_post("/v2/command", on_offchain_command)
    return app
