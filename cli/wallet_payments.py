"""`stablechain wallet request | pay | rotate-key`: payment links and QR codes, paying one, replacing a key.

Mounted on the wallet CLI by cli/main.py (this module builds on cli/wallet.py's helpers).
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any, Optional

import nacl.utils
import segno
import typer

from cli.wallet import (
    DEFAULT_CURRENCY,
    WAIT_TIMEOUT_S,
    AccountOption,
    CliError,
    JsonOption,
    KeystoreOption,
    PassphraseEnvOption,
    UrlOption,
    _get_passphrase,
    _run,
    _select,
    _unlock,
)
from primitives.account_identifier import TESTNET_HRP, encode_account_identifier
from primitives.errors import DecodeError
from primitives.keys import PrivateKey
from primitives.metadata import GeneralMetadataV0, Metadata
from primitives.types.names import AccountAddress
from wallet.amounts import format_amount, parse_amount
from wallet.builder import (
    compose_peer_to_peer,
    compose_rotate_authentication_key,
    compose_rotate_authentication_key_with_recovery_address,
)
from wallet.client import Client
from wallet.intent import IntentError, decode_intent, encode_intent
from wallet.keystore import Keystore, parse_address

SEED_LENGTH = 32
SERVICE_TIMEOUT_S = 10.0
QR_ERROR_LEVEL = "M"
QR_SCALE = 8


def get_service_identifier(service_url: str, service_account: str) -> str:
    """Ask a wallet service for a fresh account identifier of one of its users."""
    url = f"{service_url.rstrip('/')}/accounts/{service_account}/account_identifiers"
    request = urllib.request.Request(url, data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=SERVICE_TIMEOUT_S) as response:  # noqa: S310 - operator URL
            return json.loads(response.read())["account_identifier"]
    except (OSError, ValueError, KeyError) as error:
        raise CliError(f"the wallet service at {service_url} gave no account identifier: {error}") from None


def write_qr(uri: str, path: Path) -> None:
    """Write the intent as a QR code image (PNG, SVG, … by the file's extension)."""
    segno.make(uri, error=QR_ERROR_LEVEL).save(str(path), scale=QR_SCALE)


def request_command(
    amount: Optional[str] = typer.Option(None, "--amount", help="Amount in whole units, e.g. 12.5 (omit: payer chooses)."),
    currency: str = typer.Option(DEFAULT_CURRENCY, "--currency", help="Currency code."),
    to: Optional[str] = typer.Option(None, "--to", help="Be paid at this account identifier (tdm1…)."),
    service_url: Optional[str] = typer.Option(None, "--service", help="A wallet service URL: a fresh identifier "
                                              "of --service-account."),
    service_account: Optional[str] = typer.Option(None, "--service-account", help="The user's id at --service."),
    qr: Optional[Path] = typer.Option(None, "--qr", help="Also write the QR code to this file (.png or .svg)."),
    account: Optional[str] = AccountOption, keystore_dir: Optional[Path] = KeystoreOption,
    as_json: bool = JsonOption,
) -> None:
    """Make a payment link (DIP-5 intent URI) and show it as a QR code."""
    def action() -> tuple[str, dict[str, Any]]:
        if to:
            identifier = to
        elif service_url and service_account:
            identifier = get_service_identifier(service_url, service_account)
        else:
            entry = _select(Keystore(keystore_dir), account)
            identifier = encode_account_identifier(TESTNET_HRP, AccountAddress(entry.address))
        try:
            uri = encode_intent(identifier, currency, None if amount is None else parse_amount(amount))
        except IntentError as error:
            raise CliError(str(error)) from None
        if qr is not None:
            write_qr(uri, qr)
        code = segno.make(uri, error=QR_ERROR_LEVEL)
        human = f"{uri}\n{terminal_qr(code)}" + (f"\nQR code written to {qr}" if qr else "")
        return human, {"intent": uri, "qr_file": str(qr) if qr else None}
    _run(as_json, action)


def terminal_qr(code: segno.QRCode) -> str:
    """Render a QR code for a terminal, two module rows per text line with Unicode half blocks."""
    rows = [[bool(module) for module in row] for row in code.matrix_iter(scale=1, border=2)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    glyphs = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}
    return "\n".join("".join(glyphs[pair] for pair in zip(top, bottom)) for top, bottom in zip(rows[::2], rows[1::2]))


def pay_command(
    intent: str = typer.Argument(..., help="A payment link: diem://tdm1…?c=XUS&am=…"),
    amount: Optional[str] = typer.Option(None, "--amount", help="Amount, when the link names none."),
    account: Optional[str] = AccountOption, url: str = UrlOption, keystore_dir: Optional[Path] = KeystoreOption,
    passphrase_env: Optional[str] = PassphraseEnvOption, as_json: bool = JsonOption,
) -> None:
    """Pay a payment link in one command: decode it, sign, submit and wait."""
    async def action() -> tuple[str, dict[str, Any]]:
        try:
            parsed = decode_intent(intent)
        except IntentError as error:
            raise CliError(f"not a payment link: {error}") from None
        amount_micro = choose_amount(parsed.amount_micro, amount)
        currency = parsed.currency or DEFAULT_CURRENCY
        target = parsed.identifier
        metadata = b"" if target.subaddress is None else Metadata(GeneralMetadataV0(to_subaddress=target.subaddress)).to_bcs()
        sender = _unlock(Keystore(keystore_dir), account, passphrase_env)
        async with Client(url) as client:
            payload = compose_peer_to_peer(target.address.value, amount_micro, currency, metadata)
            signed = await client.create_transaction(sender, payload, gas_currency=currency)
            await client.submit(signed)
            committed = await client.wait_for_transaction(signed, WAIT_TIMEOUT_S)
        data = {"hash": committed.hash, "version": committed.version, "receiver": target.address.value.hex(),
                "amount_micro": amount_micro, "currency": currency}
        return f"paid {format_amount(amount_micro)} {currency} to {target.encode()}: version {committed.version}", data
    _run(as_json, action)


def choose_amount(intent_amount_micro: int | None, option: str | None) -> int:
    """Return the amount to pay: the link's, or --amount; refuse a contradiction or neither."""
    asked = None if option is None else parse_amount(option)
    if intent_amount_micro is not None and asked is not None and asked != intent_amount_micro:
        raise CliError(f"the link asks for {format_amount(intent_amount_micro)}, not {format_amount(asked)}")
    chosen = intent_amount_micro if intent_amount_micro is not None else asked
    if not chosen:
        raise CliError("the link names no amount: give --amount")
    return chosen


def rotate_key_command(
    new_key_env: Optional[str] = typer.Option(None, "--new-key-env", help="Read the new private key (hex) from "
                                              "this variable (default: a fresh random key)."),
    lost: Optional[str] = typer.Option(None, "--for", help="Recover this account's lost key instead: --account is "
                                       "the recovery address it delegated its key rotation to."),
    account: Optional[str] = AccountOption, url: str = UrlOption, keystore_dir: Optional[Path] = KeystoreOption,
    passphrase_env: Optional[str] = PassphraseEnvOption, as_json: bool = JsonOption,
) -> None:
    """Replace an account's key on chain (same address, same funds) and keep the new key in the keystore."""
    async def action() -> tuple[str, dict[str, Any]]:
        keystore = Keystore(keystore_dir)
        signer = _unlock(keystore, account, passphrase_env)
        target = parse_address(lost) if lost else signer.address
        new_key = read_new_key(new_key_env)
        auth_key = new_key.public_key().auth_key()
        payload = (compose_rotate_authentication_key_with_recovery_address(signer.address, target, auth_key) if lost
                   else compose_rotate_authentication_key(auth_key))
        async with Client(url) as client:
            signed = await client.create_transaction(signer, payload)
            await client.submit(signed)
            committed = await client.wait_for_transaction(signed, WAIT_TIMEOUT_S)
        label = next((entry.label for entry in keystore.list() if entry.address == target), None)
        keystore.save(new_key, _get_passphrase(passphrase_env), label, overwrite=True, address=target)
        data = {"address": target.hex(), "public_key": new_key.public_key().hex(), "auth_key": auth_key.hex(),
                "version": committed.version}
        return f"rotated the key of {target.hex()} at version {committed.version}", data
    _run(as_json, action)


def read_new_key(env: str | None) -> PrivateKey:
    """Return the replacement key: from an environment variable, or fresh."""
    if env is None:
        return PrivateKey(nacl.utils.random(SEED_LENGTH))
    text = os.environ.get(env)
    if text is None:
        raise CliError(f"environment variable {env} is not set")
    try:
        return PrivateKey.from_hex(text.strip())
    except (ValueError, DecodeError):
        raise CliError("a private key is 64 hex characters") from None
