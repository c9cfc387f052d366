"""`stablechain treasury`: the issuer's operations (reserves, mint, burn, freeze, wipe, pause, KYC, limits)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from contracts.framework import TESTNET_DD, TREASURY_COMPLIANCE
from contracts.transaction_builder import Account
from primitives.hashing import sha3_256
from primitives.types.transactions import TransactionPayload
from wallet.amounts import parse_amount
from wallet.errors import WalletError
from wallet.keystore import parse_address
from wallet.models import Transaction
from wallet.treasury import (
    DEFAULT_URL,
    DEFAULT_WAIT_S,
    compose_attest_reserves,
    compose_burn,
    compose_freeze,
    compose_mint,
    compose_pause,
    compose_preburn,
    compose_remove_tier_limits,
    compose_revoke_kyc,
    compose_set_kyc,
    compose_set_tier_limits,
    compose_wipe,
    describe_refusal,
    get_ledger_time_us,
    load_signing_key,
    submit_and_wait,
)

REPORT_HASH_LENGTH = 32
USECS_PER_DAY = 86_400_000_000
USECS_PER_SEC = 1_000_000

app = typer.Typer(help="Issuer operations: sign with the role's key, submit, wait for commit.", no_args_is_help=True)
console = Console(soft_wrap=True)
error_console = Console(stderr=True, soft_wrap=True)


def execute(what: str, url: str, account: Account, payload: TransactionPayload, timeout_s: float) -> Transaction:
    """Run one operation end to end and print its outcome; exit 1 with the reason when refused."""
    try:
        committed = asyncio.run(submit_and_wait(url, account, payload, timeout_s))
    except WalletError as error:
        error_console.print(f"[bold red]{what} failed:[/] {describe_refusal(error)}")
        raise typer.Exit(1) from None
    events = ", ".join(event.data.type for event in committed.events) or "none"
    console.print(f"{what}: committed at version {committed.version} (hash {committed.hash}); events: {events}")
    return committed


def make_account(key_file: Path, passphrase_env: str | None, sender: str | None, default: bytes | None) -> Account:
    """Return the signing account: the key, at --sender, the role's fixed address, or the key's own address."""
    try:
        key = load_signing_key(key_file, passphrase_env)
        address = parse_address(sender) if sender else default
    except WalletError as error:
        error_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None
    return Account(key, address)


def parse_micro(text: str) -> int:
    """Return micro-units of a human amount, exiting with a clear message when invalid."""
    try:
        return parse_amount(text)
    except WalletError as error:
        error_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None


def parse_target(text: str) -> bytes:
    """Return an address argument, exiting with a clear message when invalid."""
    try:
        return parse_address(text)
    except WalletError as error:
        error_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(1) from None


# -------------------------------------------------------------- commands
URL = typer.Option(DEFAULT_URL, "--url", help="A node's JSON-RPC URL.")
KEY_FILE = typer.Option(..., "--key-file", help="The signing role's key file (hex, encrypted, or keystore).")
PASSPHRASE_ENV = typer.Option(None, "--passphrase-env", help="Environment variable holding the key file's passphrase.")
SENDER = typer.Option(None, "--sender", help="Signing account address (default: the role's address).")
NONCE = typer.Option(0, "--sliding-nonce", help="Treasury compliance sliding nonce (0 = not recorded).")
CURRENCY = typer.Option("XUS", "--currency")
WAIT = typer.Option(DEFAULT_WAIT_S, "--wait-s", help="How long to wait for the commit.")


@app.command("attest-reserves")
def attest_reserves(amount: str = typer.Option(..., "--amount", help="Attested reserves, e.g. 1000000.00"),
                    report: Path = typer.Option(None, "--report", help="The attestation report (its sha3-256 is recorded)."),
                    report_hash: str = typer.Option(None, "--report-hash", help="Or the report's 32-byte hash in hex."),
                    attested_at_us: int = typer.Option(None, "--attested-at-us", help="Default: the ledger's time."),
                    currency: str = CURRENCY, url: str = URL, key_file: Path = KEY_FILE,
                    passphrase_env: str = PASSPHRASE_ENV, sender: str = SENDER, wait_s: float = WAIT) -> None:
    """A reserve auditor records the attested reserves of a currency."""
    if (report is None) == (report_hash is None):
        error_console.print("[bold red]error:[/] give exactly one of --report FILE and --report-hash HEX")
        raise typer.Exit(1)
    try:
        digest = sha3_256(report.read_bytes()) if report is not None else bytes.fromhex(report_hash)
    except (OSError, ValueError) as error:
        error_console.print(f"[bold red]error:[/] cannot read the report: {error}")
        raise typer.Exit(1) from None
    if len(digest) != REPORT_HASH_LENGTH:
        error_console.print(f"[bold red]error:[/] the report hash must be {REPORT_HASH_LENGTH} bytes")
        raise typer.Exit(1)
    account = make_account(key_file, passphrase_env, sender, None)
    when = attested_at_us if attested_at_us is not None else asyncio.run(get_ledger_time_us(url))
    payload = compose_attest_reserves(currency, parse_micro(amount), digest, when)
    execute(f"attest {amount} {currency} reserves", url, account, payload, wait_s)


@app.command("mint")
def mint(amount: str = typer.Option(..., "--amount"), dealer: str = typer.Option(TESTNET_DD.hex(), "--dealer"),
         tier: int = typer.Option(0, "--tier", help="The dealer's mint tier index."), currency: str = CURRENCY,
         url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, sender: str = SENDER,
         sliding_nonce: int = NONCE, wait_s: float = WAIT) -> None:
    """Treasury compliance mints to a designated dealer (aborts above the attested reserves)."""
    account = make_account(key_file, passphrase_env, sender, TREASURY_COMPLIANCE)
    payload = compose_mint(currency, parse_target(dealer), parse_micro(amount), tier, sliding_nonce)
    execute(f"mint {amount} {currency}", url, account, payload, wait_s)


@app.command("burn")
def burn(amount: str = typer.Option(..., "--amount"), dealer: str = typer.Option(TESTNET_DD.hex(), "--dealer"),
         dealer_key_file: Path = typer.Option(None, "--dealer-key-file", help="Preburn first, signed by the dealer."),
         currency: str = CURRENCY, url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
         sender: str = SENDER, sliding_nonce: int = NONCE, wait_s: float = WAIT) -> None:
    """Burn a dealer's queued preburn of exactly --amount (optionally queueing it first)."""
    dealer_address, micro = parse_target(dealer), parse_micro(amount)
    if dealer_key_file is not None:
        dealer_account = make_account(dealer_key_file, passphrase_env, dealer, dealer_address)
        execute(f"preburn {amount} {currency}", url, dealer_account, compose_preburn(currency, micro), wait_s)
    account = make_account(key_file, passphrase_env, sender, TREASURY_COMPLIANCE)
    execute(f"burn {amount} {currency}", url, account, compose_burn(currency, dealer_address, micro, sliding_nonce), wait_s)


@app.command("freeze")
def freeze(address: str, url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
           sender: str = SENDER, sliding_nonce: int = NONCE, wait_s: float = WAIT) -> None:
    """Freeze an account: it can neither send nor receive."""
    account = make_account(key_file, passphrase_env, sender, TREASURY_COMPLIANCE)
    execute(f"freeze {address}", url, account, compose_freeze(parse_target(address), True, sliding_nonce), wait_s)


@app.command("unfreeze")
def unfreeze(address: str, url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV,
             sender: str = SENDER, sliding_nonce: int = NONCE, wait_s: float = WAIT) -> None:
    """Unfreeze an account."""
    account = make_account(key_file, passphrase_env, sender, TREASURY_COMPLIANCE)
    execute(f"unfreeze {address}", url, account, compose_freeze(parse_target(address), False, sliding_nonce), wait_s)


@app.command("wipe")
def wipe(address: str, currency: str = CURRENCY, url: str = URL, key_file: Path = KEY_FILE,
         passphrase_env: str = PASSPHRASE_ENV, sender: str = SENDER, sliding_nonce: int = NONCE,
         wait_s: float = WAIT) -> None:
    """Burn the whole balance of a frozen account (under order); supply drops by that amount."""
    account = make_account(key_file, passphrase_env, sender, TREASURY_COMPLIANCE)
    execute(f"wipe {address}", url, account, compose_wipe(currency, parse_target(address), sliding_nonce), wait_s)


@app.command("pause")
def pause(url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, sender: str = SENDER,
          sliding_nonce: int = NONCE, wait_s: float = WAIT) -> None:
    """Stop every payment, preburn and mint."""
    account = make_account(key_file, passphrase_env, sender, TREASURY_COMPLIANCE)
    execute("pause", url, account, compose_pause(True, sliding_nonce), wait_s)


@app.command("unpause")
def unpause(url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, sender: str = SENDER,
            sliding_nonce: int = NONCE, wait_s: float = WAIT) -> None:
    """Resume payments, preburns and mints."""
    account = make_account(key_file, passphrase_env, sender, TREASURY_COMPLIANCE)
    execute("unpause", url, account, compose_pause(False, sliding_nonce), wait_s)


@app.command("set-kyc")
def set_kyc(address: str, tier: int = typer.Option(None, "--tier"),
            valid_days: int = typer.Option(365, "--valid-days", help="Expiry, counted from the ledger's time."),
            provider: str = typer.Option("", "--provider", help="Who verified the identity."),
            revoke: bool = typer.Option(False, "--revoke", help="Remove the record instead (tier 0)."),
            url: str = URL, key_file: Path = KEY_FILE, passphrase_env: str = PASSPHRASE_ENV, sender: str = SENDER,
            sliding_nonce: int = NONCE, wait_s: float = WAIT) -> None:
    """Set (or --revoke) the on-chain KYC record of a VASP account."""
    target = parse_target(address)
    account = make_account(key_file, passphrase_env, sender, TREASURY_COMPLIANCE)
    if revoke:
        execute(f"revoke KYC of {address}", url, account, compose_revoke_kyc(target, sliding_nonce), wait_s)
        return
    if tier is None:
        error_console.print("[bold red]error:[/] --tier is required (or --revoke)")
        raise typer.Exit(1)
    expiration_us = asyncio.run(get_ledger_time_us(url)) + valid_days * USECS_PER_DAY
    payload = compose_set_kyc(target, tier, expiration_us, provider.encode(), sliding_nonce)
    execute(f"set KYC tier {tier} on {address}", url, account, payload, wait_s)


@app.command("set-limits")
def set_limits(tier: int = typer.Option(..., "--tier"),
               max_per_transfer: str = typer.Option(None, "--max-per-transfer"),
               max_inflow: str = typer.Option(None, "--max-inflow"), max_outflow: str = typer.Option(None, "--max-outflow"),
               max_holding: str = typer.Option(None, "--max-holding"),
               window_s: int = typer.Option(86_400, "--window-s", help="Inflow / outflow window."),
               remove: bool = typer.Option(False, "--remove", help="Remove this tier's limits."),
               currency: str = CURRENCY, url: str = URL, key_file: Path = KEY_FILE,
               passphrase_env: str = PASSPHRASE_ENV, sender: str = SENDER, sliding_nonce: int = NONCE,
               wait_s: float = WAIT) -> None:
    """Set (or --remove) the on-chain KYC limits of one tier; tier 0's limits turn enforcement on."""
    account = make_account(key_file, passphrase_env, sender, TREASURY_COMPLIANCE)
    if remove:
        execute(f"remove tier {tier} limits", url, account, compose_remove_tier_limits(currency, tier, sliding_nonce),
                wait_s)
        return
    values = (max_per_transfer, max_inflow, max_outflow, max_holding)
    if any(value is None for value in values):
        error_console.print("[bold red]error:[/] give --max-per-transfer, --max-inflow, --max-outflow and --max-holding")
        raise typer.Exit(1)
    micro = [parse_micro(value) for value in values]  # type: ignore[arg-type]
    payload = compose_set_tier_limits(currency, tier, *micro, window_s * USECS_PER_SEC, sliding_nonce)
    execute(f"set tier {tier} limits", url, account, payload, wait_s)
