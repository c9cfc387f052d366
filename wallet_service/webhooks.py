"""Webhooks: tell the app about incoming payments and payment state changes, at least once, signed.

Each notification is queued in the outbox in the same transaction as the change it reports, then
POSTed to the app's URL until it answers 2xx, with exponential backoff. Headers:

    X-Stablechain-Idempotency-Key: <payment id>.<status>     the same on every retry of one notification
    X-Stablechain-Signature: t=<unix ms>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

The app recomputes the HMAC over the exact body bytes with its secret, compares in constant time,
and refuses timestamps too far from its clock; it drops a notification whose key it has seen.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from pathlib import Path

import aiohttp

from wallet_service.chain import load_or_create_secret
from wallet_service.context import Context
from wallet_service.limits import (
    WEBHOOK_ATTEMPTS_MAX,
    WEBHOOK_RETRY_BASE_S,
    WEBHOOK_RETRY_CAP_S,
    WEBHOOK_TIMEOUT_S,
)
from wallet_service.offchain_outbound import compute_backoff_s
from wallet_service.store import get_now_ms

SIGNATURE_HEADER = "X-Stablechain-Signature"
IDEMPOTENCY_HEADER = "X-Stablechain-Idempotency-Key"
EVENT_HEADER = "X-Stablechain-Event"
SECRET_FILE = "webhook.secret"
WEBHOOK_BATCH = 20

log = logging.getLogger("wallet_service.webhooks")


def load_webhook_secret(data_dir: Path) -> bytes:
    """Return the app's webhook secret from --data, creating a random one on first start."""
    return load_or_create_secret(data_dir / SECRET_FILE)


def compute_signature(secret: bytes, timestamp_ms: int, body: bytes) -> str:
    """Return the signature header value of a body sent at timestamp_ms."""
    digest = hmac.new(secret, f"{timestamp_ms}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp_ms},v1={digest}"


def is_valid_signature(secret: bytes, header: str, body: bytes) -> bool:
    """Check a signature header against a body (what an app does; the tests use it too)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    expected = compute_signature(secret, int(parts["t"]), body)
    return hmac.compare_digest(expected, header)


async def deliver_webhooks(ctx: Context) -> None:
    """POST every due notification once; record delivery or schedule the next attempt."""
    if ctx.webhook_url is None:
        return
    for entry in ctx.store.get_due_outbox("webhook", get_now_ms(), WEBHOOK_BATCH):
        body = json.dumps(json.loads(entry["body"]), sort_keys=True).encode()
        error = await post(ctx, entry["target"], entry["idempotency_key"], body)
        with ctx.store.transaction():
            if error is None:
                ctx.store.finish_outbox(entry["id"], "delivered")
            elif entry["attempts"] + 1 >= WEBHOOK_ATTEMPTS_MAX:
                log.error("webhook %s parked after %d attempts: %s", entry["idempotency_key"], entry["attempts"] + 1,
                          error)
                ctx.store.finish_outbox(entry["id"], "parked", error)
            else:
                delay_s = compute_backoff_s(entry["attempts"], WEBHOOK_RETRY_BASE_S, WEBHOOK_RETRY_CAP_S)
                ctx.store.retry_outbox(entry["id"], get_now_ms() + int(delay_s * 1000), error)


async def post(ctx: Context, event_type: str, key: str, body: bytes) -> str | None:
    """Send one notification; return None on a 2xx answer, else what went wrong."""
    headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: key, EVENT_HEADER: event_type,
               SIGNATURE_HEADER: compute_signature(ctx.webhook_secret, get_now_ms(), body)}
    try:
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)
        async with ctx.get_session().post(str(ctx.webhook_url), data=body, headers=headers,
                                          timeout=timeout) as response:
            return None if response.status // 100 == 2 else f"HTTP {response.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return f"{type(error).__name__}: {error}"
