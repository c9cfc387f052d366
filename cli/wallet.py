"""`stablechain wallet ...`: keys, balances, payments, history and the faucet, from the command line.

Mounted by cli/main.py as `app.add_typer(wallet_app, name="wallet")`. Every failure the wallet
expects (bad passphrase, node errors, aborted transactions, failed verification) is one clear line on
stderr (or a JSON object with --json) and exit code 1, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Optional

import nacl.utils
import typer

from primitives.account_identifier import TESTNET_HRP, AccountIdentifier, encode_account_identifier
from primitives.errors import DecodeError
from primitives.keys import PrivateKey, PublicKey
from primitives.metadata import GeneralMetadataV0, Metadata
from primitives.types.names import AccountAddress
from wallet.amounts import format_amount, parse_amount
from wallet.builder import Account, compose_peer_to_peer
from wallet.client import DEFAULT_URL, Client
from wallet.errors import JsonRpcError, KeystoreError, TransactionExecutionFailed, WalletError
from wallet.keystore import Keystore, KeystoreEntry, parse_address
from wallet.models import Transaction
from wallet.verifying_client import VerifyingClient

app = typer.Typer(help="Wallet: encrypted keys, balances, payments, history, faucet.", no_args_is_help=True,
                  pretty_exceptions_enable=False)

SEED_LENGTH = 32
DEFAULT_CURRENCY = "XUS"
HISTORY_LIMIT = 25
P2P_FUNCTION = "peer_to_peer_with_metadata"
U64_BYTES = 8
WAIT_TIMEOUT_S = 30.0
EXPIRATION_UNKNOWN_S = 2**63 // 1_000_000  # without the signed transaction its expiration is unknown

UrlOption = typer.Option(DEFAULT_URL, "--url", help="The node's JSON-RPC URL.")
KeystoreOption = typer.Option(None, "--keystore", help="Keystore directory (default ~/.stablechain/wallet).")
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")
PassphraseEnvOption = typer.Option(None, "--passphrase-env", help="Read the passphrase from this environment variable.")
AccountOption = typer.Option(None, "--account", "-a", help="Keystore label or address (default: the only account).")
CurrencyOption = typer.Option(DEFAULT_CURRENCY, "--currency", help="Currency code.")
WaypointOption = typer.Option(None, "--waypoint", envvar="STABLECHAIN_WAYPOINT",
                              help="Verify against this genesis hash (hex): signatures and Merkle proofs.")


class CliError(Exception):
    """A usage problem detected by the CLI itself."""


def _run(as_json: bool, action: Callable[[], Awaitable[Any]] | Callable[[], Any]) -> None:
    """Run action; print its (human, data) result, or a one-line error and exit 1."""
    try:
        result = action()
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except TransactionExecutionFailed as error:
        _fail(as_json, str(error), {"vm_status": error.transaction.vm_status.type, "hash": error.transaction.hash,
                                    "version": error.transaction.version, "abort_code": error.transaction.vm_status.abort_code})
    except JsonRpcError as error:
        _fail(as_json, f"the node refused: {error.message} (JSON-RPC code {error.code})", {"code": error.code,
                                                                                          "data": error.data})
    except (WalletError, CliError, DecodeError) as error:
        _fail(as_json, str(error), {})
    human, data = result
    typer.echo(json.dumps(data, indent=2, sort_keys=True) if as_json else human)


def _fail(as_json: bool, message: str, details: dict[str, Any]) -> None:
    if as_json:
        typer.echo(json.dumps({"error": message, **details}, indent=2, sort_keys=True))
    else:
        typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _get_passphrase(env: str | None, confirm: bool = False) -> str:
    if env:
        value = os.environ.get(env)
        if value is None:
            raise CliError(f"environment variable {env} is not set")
        return value
    return typer.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)


def _describe(entry: KeystoreEntry) -> tuple[str, dict[str, Any]]:
    key = PublicKey(entry.public_key)
    data = {"address": entry.address.hex(), "label": entry.label, "public_key": key.hex(),
            "auth_key": key.auth_key().hex(),
            "account_identifier": encode_account_identifier(TESTNET_HRP, AccountAddress(entry.address))}
    human = f"{entry.address.hex()}  {entry.label or '-'}  {data['account_identifier']}"
    return human, data


def _select(keystore: Keystore, account: str | None) -> KeystoreEntry:
    return keystore.find(account) if account else keystore.get_default()


def _unlock(keystore: Keystore, account: str | None, passphrase_env: str | None) -> Account:
    entry = _select(keystore, account)
    # The entry's address, not the key's: after a key rotation the two differ.
    return Account(keystore.load(entry, _get_passphrase(passphrase_env)), entry.address)


def _parse_payee(text: str) -> tuple[bytes, bytes]:
    """Return (address, metadata) for a hex address or a bech32 account identifier (subaddress → metadata)."""
    if text.lower().startswith(("tdm1", "dm1")):
        identifier = AccountIdentifier.decode(text)
        if identifier.subaddress is None:
            return identifier.address.value, b""
        return identifier.address.value, Metadata(GeneralMetadataV0(to_subaddress=identifier.subaddress)).to_bcs()
    return parse_address(text), b""


def _resolve_address(keystore: Keystore, name: str | None) -> bytes:
    if name and len(name.lower().removeprefix("0x")) == 32:
        try:
            return parse_address(name)
        except KeystoreError:
            pass
    if name and name.lower().startswith(("tdm1", "dm1")):
        return AccountIdentifier.decode(name).address.value
    return _select(keystore, name).address


def _render_transaction(txn: Transaction) -> dict[str, Any]:
    script = txn.transaction.script
    data: dict[str, Any] = {"version": txn.version, "hash": txn.hash, "type": txn.transaction.type,
                            "sender": txn.transaction.sender, "sequence_number": txn.transaction.sequence_number,
                            "vm_status": txn.vm_status.describe(), "gas_used": txn.gas_used,
                            "function": script.get("function_name") or script.get("type")}
    arguments = script.get("arguments_bcs") or []
    amount_micro = _decode_u64_hex(arguments[1]) if len(arguments) >= 2 else None
    if script.get("function_name") == P2P_FUNCTION and amount_micro is not None:
        # An aborted payment emits no event: show what it tried to pay, from its signed arguments.
        data.update(receiver=arguments[0], amount=format_amount(amount_micro), amount_micro=amount_micro,
                    currency=(script.get("type_arguments") or [DEFAULT_CURRENCY])[0])
    for event in txn.events:
        if event.data.type == "sentpayment" and event.data.amount is not None:
            data.update(receiver=event.data.receiver, amount=format_amount(event.data.amount.amount),
                        amount_micro=event.data.amount.amount, currency=event.data.amount.currency)
    return data


def _decode_u64_hex(text: object) -> int | None:
    """Return the u64 of an 8-byte little-endian hex argument, or None if it is not one."""
    try:
        raw = bytes.fromhex(text) if isinstance(text, str) else b""
    except ValueError:
        return None
    return int.from_bytes(raw, "little") if len(raw) == U64_BYTES else None


@app.command("new")
def new(label: Optional[str] = typer.Option(None, "--label", help="A name for the account."),
        keystore_dir: Optional[Path] = KeystoreOption, passphrase_env: Optional[str] = PassphraseEnvOption,
        as_json: bool = JsonOption) -> None:
    """Create a new account key and store it encrypted."""
    def action() -> tuple[str, dict[str, Any]]:
        passphrase = _get_passphrase(passphrase_env, confirm=True)
        entry = Keystore(keystore_dir).save(PrivateKey(nacl.utils.random(SEED_LENGTH)), passphrase, label)
        human, data = _describe(entry)
        return f"created {human}\nfund it with: stablechain wallet faucet --account {entry.address.hex()} 100", data
    _run(as_json, action)


@app.command("import")
def import_key(label: Optional[str] = typer.Option(None, "--label", help="A name for the account."),
               key_env: Optional[str] = typer.Option(None, "--key-env", help="Read the private key hex from this variable."),
               keystore_dir: Optional[Path] = KeystoreOption, passphrase_env: Optional[str] = PassphraseEnvOption,
               as_json: bool = JsonOption) -> None:
    """Import an Ed25519 private key (64 hex characters) into the keystore."""
    def action() -> tuple[str, dict[str, Any]]:
        text = os.environ.get(key_env) if key_env else typer.prompt("Private key (hex)", hide_input=True)
        if text is None:
            raise CliError(f"environment variable {key_env} is not set")
        try:
            key = PrivateKey.from_hex(text.strip().removeprefix("0x"))
        except (ValueError, DecodeError):
            raise CliError("a private key is 64 hex characters") from None
        entry = Keystore(keystore_dir).save(key, _get_passphrase(passphrase_env, confirm=True), label)
        human, data = _describe(entry)
        return f"imported {human}", data
    _run(as_json, action)


@app.command("address")
def address(account: Optional[str] = typer.Argument(None, help="Label or address (default: list all)."),
            keystore_dir: Optional[Path] = KeystoreOption, as_json: bool = JsonOption) -> None:
    """Show the keystore's accounts (address, label, account identifier)."""
    def action() -> tuple[str, Any]:
        keystore = Keystore(keystore_dir)
        entries = [keystore.find(account)] if account else keystore.list()
        described = [_describe(entry) for entry in entries]
        human = "\n".join(line for line, _ in described) or f"no accounts in {keystore.directory}"
        return human, [data for _, data in described] if not account else described[0][1]
    _run(as_json, action)


@app.command("balance")
def balance(account: Optional[str] = typer.Argument(None, help="Label, address or tdm… identifier."),
            currency: str = CurrencyOption, waypoint: Optional[str] = WaypointOption,
            url: str = UrlOption, keystore_dir: Optional[Path] = KeystoreOption, as_json: bool = JsonOption) -> None:
    """Show an account's balance (verified with --waypoint)."""
    async def action() -> tuple[str, dict[str, Any]]:
        target = _resolve_address(Keystore(keystore_dir), account)
        async with Client(url) as client:
            if waypoint:
                chain_id = (await client.get_metadata()).chain_id
                verifying = VerifyingClient.from_waypoint(client, waypoint, chain_id)
                state = await verifying.get_account_state(target, (currency,))
                exists, amount, version = state.exists, state.get_balance(currency), state.version
            else:
                view = await client.get_account(target)
                exists, amount = view is not None, 0 if view is None else view.get_balance(currency)
                version = client.last_known_state.version if client.last_known_state else 0
        if not exists:
            raise CliError(f"account {target.hex()} does not exist on chain (fund it with the faucet)")
        data = {"address": target.hex(), "currency": currency, "amount": format_amount(amount),
                "amount_micro": amount, "version": version, "verified": bool(waypoint)}
        return f"{format_amount(amount)} {currency}{' (verified)' if waypoint else ''}", data
    _run(as_json, action)


@app.command("send")
def send(to: str = typer.Argument(..., help="Payee: hex address or tdm… account identifier."),
         amount: str = typer.Argument(..., help="Amount in whole units with up to 6 decimals, e.g. 1.5."),
         account: Optional[str] = AccountOption, currency: str = CurrencyOption,
         metadata: Optional[str] = typer.Option(None, "--metadata", help="Payment metadata (hex)."),
         metadata_signature: Optional[str] = typer.Option(
             None, "--metadata-signature", help="The payee's dual-attestation signature (hex), for travel-rule amounts."),
         wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait until the payment is committed."),
         timeout: float = typer.Option(WAIT_TIMEOUT_S, "--timeout", help="Seconds to wait."),
         url: str = UrlOption, keystore_dir: Optional[Path] = KeystoreOption,
         passphrase_env: Optional[str] = PassphraseEnvOption, as_json: bool = JsonOption) -> None:
    """Pay someone: sign peer_to_peer_with_metadata, submit, and wait for the result."""
    async def action() -> tuple[str, dict[str, Any]]:
        amount_micro = parse_amount(amount)
        payee, identifier_metadata = _parse_payee(to)
        try:
            extra = bytes.fromhex(metadata) if metadata else identifier_metadata
            signature = bytes.fromhex(metadata_signature) if metadata_signature else b""
        except ValueError:
            raise CliError("--metadata and --metadata-signature must be hex") from None
        sender = _unlock(Keystore(keystore_dir), account, passphrase_env)
        async with Client(url) as client:
            payload = compose_peer_to_peer(payee, amount_micro, currency, metadata=extra, metadata_signature=signature)
            signed = await client.create_transaction(sender, payload, gas_currency=currency)
            await client.submit(signed)
            data = {"hash": signed.hash().hex(), "sender": sender.address.hex(),
                    "sequence_number": signed.sequence_number, "receiver": payee.hex(),
                    "amount": format_amount(amount_micro), "amount_micro": amount_micro, "currency": currency}
            if not wait:
                return f"submitted {data['hash']} (sequence {signed.sequence_number})", {**data, "status": "submitted"}
            committed = await client.wait_for_transaction(signed, timeout)
        data.update(status="executed", version=committed.version)
        return f"sent {data['amount']} {currency} to {payee.hex()}: executed at version {committed.version}", data
    _run(as_json, action)


@app.command("history")
def history(account: Optional[str] = typer.Argument(None, help="Label, address or tdm… identifier."),
            start: int = typer.Option(0, "--start", help="First sequence number."),
            limit: int = typer.Option(HISTORY_LIMIT, "--limit", help="Transactions to show."),
            waypoint: Optional[str] = WaypointOption,
            url: str = UrlOption, keystore_dir: Optional[Path] = KeystoreOption, as_json: bool = JsonOption) -> None:
    """List the account's sent transactions and received payments (verified with --waypoint)."""
    async def action() -> tuple[str, dict[str, Any]]:
        target = _resolve_address(Keystore(keystore_dir), account)
        async with Client(url) as client:
            view = await client.must_get_account(target)
            if waypoint:
                verifying = VerifyingClient.from_waypoint(client, waypoint, (await client.get_metadata()).chain_id)
                sent = [await verifying.get_account_transaction(target, sequence, include_events=True)
                        for sequence in range(start, min(start + limit, view.sequence_number))]
                received = await verifying.get_events(view.received_events_key, 0, limit)
            else:
                sent = await client.get_account_transactions(target, start, limit, include_events=True)
                received = await client.get_events(view.received_events_key, 0, limit)
        sent_rows = [_render_transaction(txn) for txn in sent if txn is not None]
        received_rows = [{"version": event.transaction_version, "sender": event.data.sender,
                          "amount": format_amount(event.data.amount.amount) if event.data.amount else None,
                          "currency": event.data.amount.currency if event.data.amount else None,
                          "metadata": event.data.metadata} for event in received]
        lines = [f"sent ({len(sent_rows)}){' (verified)' if waypoint else ''}:"]
        lines += [f"  #{row['sequence_number']} v{row['version']} {row['function']} "
                  f"{row.get('amount', '')} {row.get('currency', '')} -> {row.get('receiver', '-')} [{row['vm_status']}]"
                  for row in sent_rows]
        lines.append(f"received ({len(received_rows)}):")
        lines += [f"  v{row['version']} {row['amount']} {row['currency']} from {row['sender']}" for row in received_rows]
        data = {"address": target.hex(), "sent": sent_rows, "received": received_rows, "verified": bool(waypoint)}
        return "\n".join(lines), data
    _run(as_json, action)


@app.command("wait")
def wait_command(sender: str = typer.Argument(..., help="Sender label, address or tdm… identifier."),
                 sequence_number: int = typer.Argument(..., help="The transaction's sequence number."),
                 expected_hash: Optional[str] = typer.Option(None, "--hash", help="Fail if the committed hash differs."),
                 timeout: float = typer.Option(WAIT_TIMEOUT_S, "--timeout", help="Seconds to wait."),
                 url: str = UrlOption, keystore_dir: Optional[Path] = KeystoreOption,
                 as_json: bool = JsonOption) -> None:
    """Wait for a sender's transaction to be committed and report how it ended."""
    async def action() -> tuple[str, dict[str, Any]]:
        address_bytes = _resolve_address(Keystore(keystore_dir), sender)
        async with Client(url) as client:
            committed = await client.wait_for_transaction2(
                address_bytes, sequence_number, EXPIRATION_UNKNOWN_S, expected_hash or "", timeout,
                check_hash=expected_hash is not None)
        data = _render_transaction(committed)
        return f"{committed.hash} executed at version {committed.version}", data
    _run(as_json, action)


@app.command("faucet")
def faucet(amount: str = typer.Argument(..., help="Amount in whole units, e.g. 100."),
           account: Optional[str] = AccountOption, currency: str = CurrencyOption,
           auth_key: Optional[str] = typer.Option(None, "--auth-key", help="Fund this auth key (hex) instead."),
           designated_dealer: bool = typer.Option(False, "--designated-dealer", help="Create a designated dealer."),
           faucet_url: Optional[str] = typer.Option(None, "--faucet-url", help="Default: <url host>/mint."),
           url: str = UrlOption, keystore_dir: Optional[Path] = KeystoreOption, as_json: bool = JsonOption) -> None:
    """Create (if needed) and fund an account from the devnet faucet, and wait for it."""
    async def action() -> tuple[str, dict[str, Any]]:
        amount_micro = parse_amount(amount)
        if auth_key:
            try:
                key = bytes.fromhex(auth_key)
            except ValueError:
                raise CliError("--auth-key must be 64 hex characters") from None
        else:
            key = PublicKey(_select(Keystore(keystore_dir), account).public_key).auth_key()
        async with Client(url, faucet_url=faucet_url) as client:
            minted = await client.mint(key, amount_micro, currency, is_designated_dealer=designated_dealer)
            view = await client.must_get_account(key[16:])
        data = {"address": key[16:].hex(), "transactions": [txn.hash().hex() for txn in minted],
                "balance": format_amount(view.get_balance(currency)), "balance_micro": view.get_balance(currency),
                "currency": currency}
        return f"funded {key[16:].hex()}: balance {data['balance']} {currency}", data
    _run(as_json, action)
