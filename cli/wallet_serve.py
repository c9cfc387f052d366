"""`stablechain wallet serve`: run the wallet service for apps (mounted on the wallet CLI by cli/main.py)."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Optional

import typer

from wallet_service.service import Settings, describe_setup_error, serve

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8888, "--port", help="Port to listen on."),
    rpc: str = typer.Option(..., "--rpc", help="A node's JSON-RPC URL."),
    data: Path = typer.Option(..., "--data", help="Directory for the database and keys (created if missing)."),
    faucet: Optional[str] = typer.Option(None, "--faucet", help="Devnet faucet URL: creates and funds the VASP."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="URL other VASPs reach this service at "
                                           "(default http://HOST:PORT)."),
    name: str = typer.Option("stablechain-wallet", "--name", help="Service name (KYC samples, logs)."),
    domain: Optional[str] = typer.Option(None, "--diem-id-domain", help="Diem ID domain (devnet default: derived "
                                         "from the VASP address)."),
    webhook_url: Optional[str] = typer.Option(None, "--webhook-url", help="Where to POST payment notifications "
                                              "(secret in DATA/webhook.secret)."),
) -> None:
    """Run the wallet service: the MiniWallet API for apps and the off-chain API v2 for other VASPs."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    settings = Settings(host, port, rpc, data, faucet, base_url, name, domain, webhook_url)
    try:
        asyncio.run(run_until_signal(settings))
    except Exception as error:  # noqa: BLE001 - failures become one line and exit 1, with the trace in the log
        logging.getLogger("wallet_service").exception("the wallet service stopped")
        typer.echo(f"error: {describe_setup_error(error)}", err=True)
        raise typer.Exit(1) from None


async def run_until_signal(settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(settings, stop)
