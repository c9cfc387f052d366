"""`stablechain treasury`: the issuer's operations (reserves, mint, burn, freeze, wipe, pause, KYC, limits)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from contracts.framework import TESTNET_DD, TREASURY_COMPLIANCE
from contracts.transaction_builder import Account, compose_script_function, encode_bool, encode_bytes, encode_u64
from primitives.errors import DecodeError
from primitives.hashing import sha3_256
from primitives.keyfile import WrongPassphrase, decrypt_secret, is_encrypted_keyfile
from primitives.keys import PrivateKey
from primitives.types.transactions import TransactionPayload
from primitives.types.type_tags import currency_type_tag
from wallet.amounts import parse_amount
from wallet.client import Client
from wallet.errors import JsonRpcError, TransactionExecutionFailed, WalletError
from wallet.keystore import parse_address

TC_SCRIPTS = "TreasuryComplianceScripts"
COMPLIANCE_SCRIPTS = "ComplianceScripts"
DEFAULT_URL = "http://127.0.0.1:8080/v1"
DEFAULT_WAIT_S = 30.0
REPORT_HASH_LENGTH = 32
USECS_PER_DAY = 86_400_000_000
USECS_PER_SEC = 1_000_000

app = typer.Typer(help="Issuer operations: sign with the role's key, submit, wait for commit.", no_args_is_help=True)
console = Console(soft_wrap=True)
error_console = Console(stderr=True, soft_wrap=True)


# ------------------------------------------------------------------ keys
def load_signing_key(path: Path, passphrase_env: str | None = None) -> PrivateKey:
    """Read a key file: 64 hex characters, an encrypted node key file, or a wallet keystore file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise WalletError(f"{path}: cannot read key file: {error.strerror}") from None
    if not is_encrypted_keyfile(data):
        try:
            return PrivateKey(bytes.fromhex(data.decode("ascii").strip()))
        except (ValueError, UnicodeDecodeError, DecodeError):
            raise WalletError(f"{path}: not a hex ed25519 private key (64 hex characters)") from None
    passphrase = os.environ.get(passphrase_env) if passphrase_env else None
    if passphrase is None:
        raise WalletError(f"{path} is encrypted: name the environment variable holding its passphrase (--passphrase-env)")
    try:
        document = json.loads(data)
        crypto = json.dumps(document["crypto"]).encode() if "crypto" in document else data
        return PrivateKey(decrypt_secret(crypto, passphrase))
    except WrongPassphrase:
        raise WalletError(f"{path}: wrong passphrase") from None
    except (ValueError, KeyError, TypeError, DecodeError) as error:
        raise WalletError(f"{path}: unreadable key file: {error}") from None


# -------------------------------------------------------------- payloads
def compose_attest_reserves(currency: str, amount_micro: int, report_hash: bytes, attested_at_us: int) -> TransactionPayload:
    """ComplianceScripts::record_reserve_attestation<C>(amount, report_hash, attested_at_us) (a reserve auditor signs)."""
    args = (encode_u64(amount_micro), encode_bytes(report_hash), encode_u64(attested_at_us))
    return compose_script_function(COMPLIANCE_SCRIPTS, "record_reserve_attestation", (currency_type_tag(currency),), args)


def compose_mint(currency: str, dealer: bytes, amount_micro: int, tier_index: int = 0, sliding_nonce: int = 0) -> TransactionPayload:
    """TreasuryComplianceScripts::tiered_mint<C>(nonce, dealer, amount, tier) (treasury compliance signs)."""
    args = (encode_u64(sliding_nonce), dealer, encode_u64(amount_micro), encode_u64(tier_index))
    return compose_script_function(TC_SCRIPTS, "tiered_mint", (currency_type_tag(currency),), args)


def compose_preburn(currency: str, amount_micro: int) -> TransactionPayload:
    """TreasuryComplianceScripts::preburn<C>(amount) (the designated dealer signs)."""
    return compose_script_function(TC_SCRIPTS, "preburn", (currency_type_tag(currency),), (encode_u64(amount_micro),))


def compose_burn(currency: str, preburn_address: bytes, amount_micro: int, sliding_nonce: int = 0) -> TransactionPayload:
    """TreasuryComplianceScripts::burn_with_amount<C>(nonce, dealer, amount) (treasury compliance signs)."""
    args = (encode_u64(sliding_nonce), preburn_address, encode_u64(amount_micro))
    return compose_script_function(TC_SCRIPTS, "burn_with_amount", (currency_type_tag(currency),), args)


def compose_freeze(address: bytes, is_freeze: bool = True, sliding_nonce: int = 0) -> TransactionPayload:
    """TreasuryComplianceScripts::freeze_account / unfreeze_account(nonce, address)."""
    function = "freeze_account" if is_freeze else "unfreeze_account"
    return compose_script_function(TC_SCRIPTS, function, (), (encode_u64(sliding_nonce), address))


def compose_wipe(currency: str, address: bytes, sliding_nonce: int = 0) -> TransactionPayload:
    """TreasuryComplianceScripts::wipe_frozen_account<C>(nonce, address): burns a frozen account's balance."""
    return compose_script_function(TC_SCRIPTS, "wipe_frozen_account", (currency_type_tag(currency),),
                                   (encode_u64(sliding_nonce), address))


def compose_pause(is_pause: bool = True, sliding_nonce: int = 0) -> TransactionPayload:
    """TreasuryComplianceScripts::pause_transfers / unpause_transfers(nonce)."""
    function = "pause_transfers" if is_pause else "unpause_transfers"
    return compose_script_function(TC_SCRIPTS, function, (), (encode_u64(sliding_nonce),))


def compose_set_kyc(address: bytes, tier: int, expiration_us: int, provider: bytes, sliding_nonce: int = 0) -> TransactionPayload:
    """TreasuryComplianceScripts::set_kyc_record(nonce, address, tier, expiration_us, provider)."""
    args = (encode_u64(sliding_nonce), address, encode_u64(tier), encode_u64(expiration_us), encode_bytes(provider))
    return compose_script_function(TC_SCRIPTS, "set_kyc_record", (), args)


def compose_revoke_kyc(address: bytes, sliding_nonce: int = 0) -> TransactionPayload:
    """TreasuryComplianceScripts::revoke_kyc_record(nonce, address)."""
    return compose_script_function(TC_SCRIPTS, "revoke_kyc_record", (), (encode_u64(sliding_nonce), address))


def compose_set_tier_limits(currency: str, tier: int, max_per_transfer: int, max_inflow: int, max_outflow: int,
                            max_holding: int, window_us: int, sliding_nonce: int = 0) -> TransactionPayload:
    """TreasuryComplianceScripts::set_kyc_tier_limits<C>(nonce, tier, per-transfer, inflow, outflow, holding, window)."""
    args = tuple(encode_u64(v) for v in (sliding_nonce, tier, max_per_transfer, max_inflow, max_outflow, max_holding,
                                          window_us))
    return compose_script_function(TC_SCRIPTS, "set_kyc_tier_limits", (currency_type_tag(currency),), args)


def compose_remove_tier_limits(currency: str, tier: int, sliding_nonce: int = 0) -> TransactionPayload:
    """TreasuryComplianceScripts::remove_kyc_tier_limits<C>(nonce, tier)."""
    return compose_script_function(TC_SCRIPTS, "remove_kyc_tier_limits", (currency_type_tag(currency),),
                                   (encode_u64(sliding_nonce), encode_u64(tier)))


# ------------------------------------------------------------ submission
def describe_refusal(error: WalletError) -> str:
    """Return a one-paragraph explanation of why the node or the chain refused a transaction."""
    if isinstance(error, TransactionExecutionFailed):
        status = error.transaction.vm_status
        text = f"the chain refused it: {status.describe()}"
        if status.explanation is not None and status.explanation.reason_description:
            text += f" —{status.explanation.reason_description}"
        return text
    if isinstance(error, JsonRpcError):
        text = f"the node refused it: {error.message} (JSON-RPC {error.code})"
        if isinstance(error.data, dict) and "AdmissionCode" in error.data:
            text += f"; admission code {error.data['AdmissionCode']} from hook {error.data.get('hook')}"
        return text
    return str(error)


async def submit_and_wait(url: str, account: Account, payload: TransactionPayload, timeout_s: float) -> Any:
    """Sign payload for account at its next sequence number, submit it, and wait until it commits."""
    async with Client(url) as client:
        signed = await client.create_transaction(account, payload)
        await client.submit(signed)
        return await client.wait_for_transaction(signed, timeout_s)


def execute(what: str, url: str, account: Account, payload: TransactionPayload, timeout_s: float) -> Any:
    """Run one operation end to end and print its outcome; exit 1 with the reason when refused."""
    try:
        committed = asyncio.run(submit_and_wait(url, account, payload, timeout_s))
    except WalletError as error:
        error_console.print(f"[bold red]{what} failed:[/] {describe_refusal(error)}")
        raise typer.Exit(1) from None
    events = ", ".join(event.data.type for event in committed.events) or "none"
    console.print(f"{what}: committed at version {committed.version} (hash {committed.hash}); events: {events}")
    return committed


async def get_ledger_time_us(url: str) -> int:
    """Return the ledger clock of the latest committed version."""
    async with Client(url) as client:
        return (await client.get_metadata()).timestamp


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
