"""Transaction validation: size and gas checks, then Diem's prologue_common, in Diem's order."""

from __future__ import annotations

from contracts.framework import account, currency, system, transaction_fee
from contracts.scripts import get_legacy_script
from contracts.vm import hooks
from contracts.vm.context import Context
from contracts.vm.gas import GasSchedule
from contracts.vm.status import StatusCode
from primitives.hashing import sha3_256
from primitives.limits import MAX_GAS_UNIT_PRICE, MIN_GAS_UNIT_PRICE, U64_MAX
from primitives.types.scripts import Module, Script, ScriptFunction
from primitives.types.transactions import Ed25519Authenticator, SignedTransaction

MIN_SCRIPT_FUNCTION_VERSION = 2
AUTH_KEY_CACHE_ENTRIES = 100_000
_AUTH_KEYS: dict[bytes, bytes] = {}


def _get_authentication_key(txn: SignedTransaction) -> bytes:
    """Return sha3(public key ‖ scheme) of the sender, cached by public key (single-signer Ed25519 only)."""
    auth = txn.authenticator.value
    if type(auth) is not Ed25519Authenticator:
        return txn.authentication_key()
    public_key = auth.public_key
    found = _AUTH_KEYS.get(public_key)
    if found is None:
        if len(_AUTH_KEYS) >= AUTH_KEY_CACHE_ENTRIES:
            _AUTH_KEYS.clear()
        found = _AUTH_KEYS[public_key] = txn.authentication_key()
    return found


def check_gas_and_size(txn: SignedTransaction, size_bytes: int, schedule: GasSchedule) -> StatusCode:
    """Diem's check_gas: size, max gas bounds, intrinsic gas, price bounds (no state needed)."""
    raw = txn.raw_txn
    if size_bytes > schedule.max_transaction_size_bytes:
        return StatusCode.EXCEEDED_MAX_TRANSACTION_SIZE
    if raw.max_gas_amount > schedule.maximum_number_of_gas_units:
        return StatusCode.MAX_GAS_UNITS_EXCEEDS_MAX_GAS_UNITS_BOUND
    if raw.max_gas_amount < schedule.get_intrinsic_gas_units(size_bytes):
        return StatusCode.MAX_GAS_UNITS_BELOW_MIN_TRANSACTION_GAS_UNITS
    if raw.gas_unit_price < MIN_GAS_UNIT_PRICE:
        return StatusCode.GAS_UNIT_PRICE_BELOW_MIN_BOUND
    if raw.gas_unit_price > MAX_GAS_UNIT_PRICE:
        return StatusCode.GAS_UNIT_PRICE_ABOVE_MAX_BOUND
    return StatusCode.ACCEPTED


def _memo(ctx: Context, key: object, compute) -> object:  # noqa: ANN001 - compute: Context -> value
    """Per-block memo of configuration reads (cleared when a watched config resource changes)."""
    memo = ctx.block.memo
    found = memo.get(key, memo)
    if found is memo:
        found = memo[key] = compute(ctx)
    return found


def _gas_currency_status(ctx: Context, code: str) -> StatusCode:
    if not code or not code.isascii() or not code.isalnum() or code.upper() != code:
        return StatusCode.INVALID_GAS_SPECIFIER
    if not currency.is_currency(ctx, currency.tag_of_code(code.encode("ascii"))):
        return StatusCode.CURRENCY_INFO_DOES_NOT_EXIST
    return StatusCode.ACCEPTED


def check_payload_and_currency(ctx: Context, txn: SignedTransaction) -> StatusCode:
    """Gas currency is well formed and registered; payload kind allowed; legacy script known."""
    code = txn.raw_txn.gas_currency_code
    status = _memo(ctx, ("gas", code), lambda c: _gas_currency_status(c, code))
    if status is not StatusCode.ACCEPTED:
        return status
    payload = txn.raw_txn.payload.value
    if isinstance(payload, ScriptFunction):
        if _memo(ctx, "version", system.get_diem_version) < MIN_SCRIPT_FUNCTION_VERSION:
            return StatusCode.FEATURE_UNDER_GATING
        return StatusCode.ACCEPTED
    if isinstance(payload, Script):
        known = get_legacy_script(payload.code)
        if known is None or not system.is_script_allowed(ctx, sha3_256(payload.code)):
            return StatusCode.UNKNOWN_SCRIPT
        return StatusCode.ACCEPTED
    if isinstance(payload, Module):
        return StatusCode.INVALID_MODULE_PUBLISHER  # module publishing is off: only framework code runs
    return StatusCode.REJECTED_WRITE_SET  # write-set (admin) transactions are not accepted on this chain


def check_prologue(ctx: Context, txn: SignedTransaction, *, exact_sequence: bool) -> StatusCode:
    """prologue_common PCA1..PCA12; exact_sequence=False (mempool) accepts sequence numbers from the future."""
    raw = txn.raw_txn
    sender = raw.sender.value
    if raw.chain_id.value != _memo(ctx, "chain_id", system.get_chain_id):
        return StatusCode.BAD_CHAIN_ID
    sender_account = ctx.get(account.ACCOUNT, sender)
    if sender_account is None:
        return StatusCode.SENDING_ACCOUNT_DOES_NOT_EXIST
    if hooks.is_frozen(ctx, sender):
        return StatusCode.SENDING_ACCOUNT_FROZEN
    if _get_authentication_key(txn) != sender_account.authentication_key:
        return StatusCode.INVALID_AUTH_KEY
    status = _check_fee(ctx, txn)
    if status is not StatusCode.ACCEPTED:
        return status
    if ctx.now_seconds() >= raw.expiration_timestamp_secs:
        return StatusCode.TRANSACTION_EXPIRED
    if raw.sequence_number >= U64_MAX:
        return StatusCode.SEQUENCE_NUMBER_TOO_BIG
    if raw.sequence_number < sender_account.sequence_number:
        return StatusCode.SEQUENCE_NUMBER_TOO_OLD
    if exact_sequence and raw.sequence_number != sender_account.sequence_number:
        return StatusCode.SEQUENCE_NUMBER_TOO_NEW
    return StatusCode.ACCEPTED


def _check_fee(ctx: Context, txn: SignedTransaction) -> StatusCode:
    raw = txn.raw_txn
    max_fee = raw.gas_unit_price * raw.max_gas_amount
    if max_fee > U64_MAX:
        return StatusCode.INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE
    if max_fee == 0:
        return StatusCode.ACCEPTED
    ccy = currency.tag_of_code(raw.gas_currency_code.encode("ascii"))
    if not transaction_fee.is_coin_initialized(ctx, ccy):
        return StatusCode.BAD_TRANSACTION_FEE_CURRENCY
    balance = account.get_balance(ctx, raw.sender.value, ccy)
    if balance is None or balance < max_fee:
        return StatusCode.INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE
    return StatusCode.ACCEPTED
