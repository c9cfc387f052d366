"""The issuer's operations for the SDK: signing keys, payloads (reserves, mint, burn, freeze, wipe, pause, KYC,
limits), submitting one and waiting for its commit, and explaining a refusal."""

from __future__ import annotations

import json
import os
from pathlib import Path

from contracts.transaction_builder import Account, compose_script_function, encode_bytes, encode_u64
from primitives.errors import DecodeError
from primitives.keyfile import WrongPassphrase, decrypt_secret, is_encrypted_keyfile
from primitives.keys import PrivateKey
from primitives.types.transactions import TransactionPayload
from primitives.types.type_tags import currency_type_tag
from wallet.client import Client
from wallet.errors import JsonRpcError, TransactionExecutionFailed, WalletError
from wallet.models import Transaction

TC_SCRIPTS = "TreasuryComplianceScripts"
COMPLIANCE_SCRIPTS = "ComplianceScripts"
DEFAULT_URL = "http://127.0.0.1:8080/v1"
DEFAULT_WAIT_S = 30.0


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


async def submit_and_wait(url: str, account: Account, payload: TransactionPayload, timeout_s: float) -> Transaction:
    """Sign payload for account at its next sequence number, submit it, and wait until it commits."""
    async with Client(url) as client:
        signed = await client.create_transaction(account, payload)
        await client.submit(signed)
        return await client.wait_for_transaction(signed, timeout_s)


async def get_ledger_time_us(url: str) -> int:
    """Return the ledger clock of the latest committed version."""
    async with Client(url) as client:
        return (await client.get_metadata()).timestamp
