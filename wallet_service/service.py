"""Start the wallet service: set up the on-chain account, then serve the API and run the workers.

The workers (outgoing payments, received events, our turns in KYC exchanges, off-chain deliveries,
webhooks) run in one TaskGroup next to the HTTP server: a crash in any stops the service loudly,
and everything it was doing is resumed from --data on the next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from wallet.client import Client
from wallet.errors import WalletError
from wallet.offchain.types import OffchainError
from wallet_service.api import create_app
from wallet_service.chain import SetupError, compose_credential_update, ensure_parent_account, open_chain
from wallet_service.context import Context
from wallet_service.kyc import compute_samples
from wallet_service.limits import (
    OFFCHAIN_BODY_BYTES_MAX,
    OUTBOX_INTERVAL_S,
    SENDER_INTERVAL_S,
    WATCHER_INTERVAL_S,
)
from wallet_service.offchain_outbound import deliver_commands, process_follow_ups
from wallet_service.sender import process_payments
from wallet_service.store import Store
from wallet_service.submitter import Submitter, submit_and_wait
from wallet_service.watcher import process_received_events
from wallet_service.webhooks import deliver_webhooks, load_webhook_secret

SETUP_TIMEOUT_S = 60.0
log = logging.getLogger("wallet_service")


@dataclass(frozen=True)
class Settings:
    """How one wallet service instance runs."""

    host: str
    port: int
    rpc_url: str
    data_dir: Path
    faucet_url: str | None = None
    base_url: str | None = None
    name: str = "stablechain-wallet"
    diem_id_domain: str | None = None
    webhook_url: str | None = None

    def get_base_url(self) -> str:
        """Return the URL other VASPs reach this service at (published on chain)."""
        return self.base_url or f"http://{self.host}:{self.port}"


async def open_context(settings: Settings) -> Context:
    """Open the store and the chain, and make sure the parent VASP account is ready."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.data_dir)
    client = Client(settings.rpc_url, faucet_url=settings.faucet_url)
    chain = await open_chain(client, settings.data_dir, settings.faucet_url is not None)
    domain = (settings.diem_id_domain or f"w{chain.address.hex()[:16]}").lower()
    view = await ensure_parent_account(chain, domain if chain.faucet_enabled or settings.diem_id_domain else None)
    update = compose_credential_update(chain, view, settings.get_base_url())
    if update is not None:
        await submit_and_wait(chain, update, SETUP_TIMEOUT_S)
    submitter = Submitter(store, chain)
    await submitter.start()
    store.webhooks_enabled = settings.webhook_url is not None
    return Context(store, chain, submitter, settings.name, settings.get_base_url(),
                   deposits_enabled=chain.faucet_enabled, samples=compute_samples(settings.name),
                   domains=await chain.get_own_domains(), webhook_url=settings.webhook_url,
                   webhook_secret=load_webhook_secret(settings.data_dir))


async def run_every(interval_s: float, step: Callable[[], Awaitable[object]], name: str) -> None:
    """Run a worker step forever; a failure to reach the node or a counterparty is logged and retried."""
    while True:
        try:
            await step()
        except (WalletError, OffchainError, OSError) as error:
            log.info("%s: %s (retrying)", name, error)
        await asyncio.sleep(interval_s)


async def run_process_follow_ups(ctx: Context) -> None:
    """Async wrapper of the synchronous follow-up step."""
    process_follow_ups(ctx)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the service until stop is set."""
    ctx = await open_context(settings)
    runner = web.AppRunner(create_app(ctx, OFFCHAIN_BODY_BYTES_MAX), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    log.info("wallet service %s at %s, parent VASP %s", settings.name, settings.get_base_url(), ctx.chain.address.hex())
    try:
        async with asyncio.TaskGroup() as group:
            workers = [group.create_task(run_every(interval, step, name)) for interval, step, name in (
                (SENDER_INTERVAL_S, lambda: process_payments(ctx), "payments"),
                (WATCHER_INTERVAL_S, lambda: process_received_events(ctx), "watcher"),
                (OUTBOX_INTERVAL_S, lambda: run_process_follow_ups(ctx), "kyc exchange"),
                (OUTBOX_INTERVAL_S, lambda: deliver_commands(ctx), "off-chain delivery"),
                (OUTBOX_INTERVAL_S, lambda: deliver_webhooks(ctx), "webhooks"),
            )]
            await stop.wait()
            for worker in workers:
                worker.cancel()
    finally:
        await runner.cleanup()
        await ctx.chain.client.close()
        if ctx.session is not None:
            await ctx.session.close()
        ctx.store.close()


def describe_setup_error(error: Exception) -> str:
    """Return the one-line message of a start-up failure."""
    return str(error) if isinstance(error, (SetupError, WalletError)) else f"{type(error).__name__}: {error}"
