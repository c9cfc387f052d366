"""DiemAccount: accounts, balances, payments (withdraw / deposit with their checks), creation, epilogue."""

from __future__ import annotations

import struct as _struct
from functools import lru_cache

from contracts.framework import CORE_CODE, DIEM_ROOT, TREASURY_COMPLIANCE, VM_RESERVED, currency, dual_attestation
from contracts.framework import diem_id, roles, transaction_fee, vasp
from contracts.vm import hooks
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable, MoveAbort
from contracts.vm.structs import KEY, STORE, Module, Signer, Struct, create_signer, struct
from contracts.vm.values import ADDRESS, BOOL, BYTES, U64, Option, StructField, encode_values
from primitives.bcs import encode_uleb128
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("DiemAccount")
_W = MODULE.claim()
AUTH_KEY_PREFIX_LENGTH = 16
AUTH_KEY_LENGTH = 32
FREEZING_LOCATION = f"{AccountAddress.CORE_CODE.hex()}::AccountFreezing"
ACCOUNT_FROZEN_CODE = 1 + (5 << 8)
_U64_PACK = _struct.Struct("<Q").pack

ERRORS = ErrorTable(MODULE, {
    "EACCOUNT": (0, " The `DiemAccount` resource is not in the required state"),
    "ESEQUENCE_NUMBER": (1, " The account's sequence number is not in the required state"),
    "ECOIN_DEPOSIT_IS_ZERO": (2, " Tried to deposit a coin whose value was zero"),
    "EDEPOSIT_EXCEEDS_LIMITS": (3, " Tried to deposit funds that would have surpassed the account's limits"),
    "EROLE_CANT_STORE_BALANCE": (4, " Tried to create a balance for an account whose role does not allow holding balances"),
    "EINSUFFICIENT_BALANCE": (5, " The account does not hold a large enough balance in the specified currency"),
    "EWITHDRAWAL_EXCEEDS_LIMITS": (6, " The withdrawal of funds would have exceeded the the account's limits"),
    "EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED": (7, " The `WithdrawCapability` for this account has already been extracted"),
    "EMALFORMED_AUTHENTICATION_KEY": (8, " The provided authentication had an invalid length"),
    "EKEY_ROTATION_CAPABILITY_ALREADY_EXTRACTED": (9, " The `KeyRotationCapability` for this account has already been extracted"),
    "ECANNOT_CREATE_AT_VM_RESERVED": (10, " An account cannot be created at the reserved VM address of 0x0"),
    "EWITHDRAW_CAPABILITY_NOT_EXTRACTED": (11, " The `WithdrawCapability` for this account is not extracted"),
    "EADD_EXISTING_CURRENCY": (15, " Tried to add a balance in a currency that this account already has"),
    "EPAYEE_DOES_NOT_EXIST": (17, " Attempted to send funds to an account that does not exist"),
    "EPAYEE_CANT_ACCEPT_CURRENCY_TYPE": (18, " Attempted to send funds in a currency that the receiving account does not hold."),
    "EPAYER_DOESNT_HOLD_CURRENCY": (19, " Tried to withdraw funds in a currency that the account does hold"),
    "EGAS": (20, " An invalid amount of gas units was provided for execution of the transaction"),
    "EACCOUNT_OPERATIONS_CAPABILITY": (22, " The `AccountOperationsCapability` was not in the required state"),
    "EWRITESET_MANAGER": (23, " The `DiemWriteSetManager` was not in the required state"),
    "ECANNOT_CREATE_AT_CORE_CODE": (24, " An account cannot be created at the reserved core code address of 0x1"),
})


@struct(MODULE, STORE)
class WithdrawCapability(Struct):
    """The right to withdraw from account_address (extractable in Diem; here never extracted)."""

    __slots__ = ()
    IMMUTABLE = True  # never mutated after packing: clones of DiemAccount share it
    FIELDS = (("account_address", ADDRESS),)


@struct(MODULE, STORE)
class KeyRotationCapability(Struct):
    """The right to rotate account_address's authentication key."""

    __slots__ = ()
    IMMUTABLE = True
    FIELDS = (("account_address", ADDRESS),)


@struct(MODULE, KEY)
class DiemAccount(Struct):
    """Authentication key, capabilities, payment event streams and the sequence number."""

    __slots__ = ()
    FIELDS = (
        ("authentication_key", BYTES),
        ("withdraw_capability", Option(StructField(WithdrawCapability))),
        ("key_rotation_capability", Option(StructField(KeyRotationCapability))),
        ("received_events", StructField(EventHandle)), ("sent_events", StructField(EventHandle)),
        ("sequence_number", U64),
    )


@struct(MODULE, KEY, type_params=1)
class Balance(Struct):
    """The account's coins of one currency."""

    __slots__ = ()
    FIELDS = (("coin", StructField(currency.Coin, inherit_type_args=True)),)


@struct(MODULE, KEY)
class AccountOperationsCapability(Struct):
    """At Diem root: the stream of CreateAccountEvents."""

    __slots__ = ()
    FIELDS = (("limits_cap", BOOL), ("creation_events", StructField(EventHandle)))


@struct(MODULE, KEY)
class DiemWriteSetManager(Struct):
    """At Diem root: the stream of AdminTransactionEvents."""

    __slots__ = ()
    FIELDS = (("upgrade_events", StructField(EventHandle)),)


ACCOUNT = DiemAccount.rtype()
OPERATIONS = AccountOperationsCapability.rtype()


@lru_cache(maxsize=None)
def _event_tag(name: str) -> StructTag:
    return StructTag(AccountAddress.CORE_CODE, "DiemAccount", name, ())


def balance_type(ccy: StructTag):  # noqa: ANN201 - ResourceType
    """Return Balance<ccy>."""
    return Balance.of(ccy)


# ------------------------------------------------------------- queries
def exists_at(ctx: Context, address: bytes) -> bool:
    """Return True iff an account exists at address."""
    return ctx.exists(ACCOUNT, address)


def get_balance(ctx: Context, address: bytes, ccy: StructTag) -> int | None:
    """Return the balance in ccy, or None when the account does not hold ccy."""
    found = ctx.get(Balance.of(ccy), address)
    return None if found is None else found.coin.value


def get_sequence_number(ctx: Context, address: bytes) -> int:
    """Return the account's sequence number."""
    return ctx.borrow(ACCOUNT, address).sequence_number


def _raise_frozen() -> MoveAbort:
    freezing = hooks.get_module("freezing")
    errors = getattr(freezing, "ERRORS", None) if freezing is not None else None
    if errors is not None:
        return errors.abort(Category.INVALID_STATE, "EACCOUNT_FROZEN")
    return MoveAbort(FREEZING_LOCATION, ACCOUNT_FROZEN_CODE)


# ------------------------------------------------------------ creation
def _make_account(ctx: Context, new_account: Signer, auth_key_prefix: bytes, auth_key: bytes | None = None) -> None:
    """Publish DiemAccount (received, then sent handle) and emit CreateAccountEvent at Diem root."""
    address = new_account.address
    if address == VM_RESERVED:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ECANNOT_CREATE_AT_VM_RESERVED")
    if address == CORE_CODE:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ECANNOT_CREATE_AT_CORE_CODE")
    if auth_key is None and len(auth_key_prefix) != AUTH_KEY_PREFIX_LENGTH:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EMALFORMED_AUTHENTICATION_KEY")
    received = ctx.new_event_handle(new_account)
    sent = ctx.new_event_handle(new_account)
    account = DiemAccount(
        _W, auth_key or auth_key_prefix + address, WithdrawCapability(_W, address), KeyRotationCapability(_W, address),
        received, sent, 0,
    )
    ctx.move_to(_W, new_account, account)
    if not ctx.exists(OPERATIONS, DIEM_ROOT):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EACCOUNT_OPERATIONS_CAPABILITY")
    role_id = roles.get_role_id(ctx, address)
    operations = ctx.borrow_mut(_W, OPERATIONS, DIEM_ROOT)
    payload = encode_values((ADDRESS, address), (U64, role_id))
    ctx.emit(operations.creation_events, _event_tag("CreateAccountEvent"), payload)


def _new_signer(ctx: Context, address: bytes, role_id: int) -> Signer:
    """Create the new account's signer, grant its role (aborts 6 if taken) and its FreezingBit."""
    new_account = create_signer(_W, address)
    roles.grant_role(ctx, new_account, role_id)
    hooks.publish_freezing_bit(ctx, new_account)
    return new_account


def add_currency(ctx: Context, account: Signer, ccy: StructTag) -> None:
    """Publish a zero Balance<ccy> (261 unknown currency, 1031 role cannot hold, 3846 already held)."""
    currency.assert_is_currency(ctx, ccy)
    if not roles.can_hold_balance(ctx, account.address):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EROLE_CANT_STORE_BALANCE")
    rtype = Balance.of(ccy)
    if ctx.exists(rtype, account.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EADD_EXISTING_CURRENCY")
    ctx.move_to(_W, account, rtype.pack(_W, coin=currency.new_stored_zero(ccy)))


def _add_currencies(ctx: Context, account: Signer, ccy: StructTag, add_all: bool) -> None:
    """Balance<ccy>, then (add_all) every other registered currency in registration order (XUS, XDX)."""
    add_currency(ctx, account, ccy)
    if add_all:
        for code in currency.get_registered_codes(ctx):
            other = currency.tag_of_code(code)
            if not ctx.exists(Balance.of(other), account.address):
                add_currency(ctx, account, other)


def create_diem_root_account(ctx: Context, auth_key: bytes) -> Signer:
    """Genesis: Diem root with the creation (0) and admin (1) streams, then its account (2, 3)."""
    dr = _new_signer(ctx, DIEM_ROOT, roles.ROLE_DIEM_ROOT)
    ctx.move_to(_W, dr, AccountOperationsCapability(_W, False, ctx.new_event_handle(dr)))
    ctx.move_to(_W, dr, DiemWriteSetManager(_W, ctx.new_event_handle(dr)))
    _make_account(ctx, dr, b"", auth_key)
    return dr


def create_treasury_compliance_account(ctx: Context, dr: Signer, auth_key: bytes) -> Signer:
    """Genesis: TC with the Diem-ID domain stream (0), then its account (1, 2)."""
    roles.assert_diem_root(ctx, dr)
    tc = _new_signer(ctx, TREASURY_COMPLIANCE, roles.ROLE_TREASURY_COMPLIANCE)
    diem_id.publish_diem_id_domain_manager(ctx, tc)
    _make_account(ctx, tc, b"", auth_key)
    return tc


def create_parent_vasp_account(
    ctx: Context, tc: Signer, ccy: StructTag, address: bytes, auth_key_prefix: bytes, human_name: bytes,
    add_all: bool,
) -> None:
    """Parent VASP: role 5, ParentVASP, Credential (0, 1), domains, account (2, 3), balances."""
    roles.assert_treasury_compliance(ctx, tc)
    new_account = _new_signer(ctx, address, roles.ROLE_PARENT_VASP)
    vasp.publish_parent_vasp_credential(ctx, new_account, tc)
    dual_attestation.publish_credential(ctx, new_account, tc, human_name)
    diem_id.publish_diem_id_domains(ctx, new_account)
    _add_currencies(ctx, new_account, ccy, add_all)
    _make_account(ctx, new_account, auth_key_prefix)


def create_child_vasp_account(
    ctx: Context, parent: Signer, ccy: StructTag, address: bytes, auth_key_prefix: bytes, add_all: bool,
) -> None:
    """Child VASP: role 6 (771 if the sender is no parent VASP), ChildVASP, balances, account (0, 1)."""
    roles.assert_parent_vasp_role(ctx, parent)
    new_account = _new_signer(ctx, address, roles.ROLE_CHILD_VASP)
    vasp.publish_child_vasp_credential(ctx, parent, new_account)
    _add_currencies(ctx, new_account, ccy, add_all)
    _make_account(ctx, new_account, auth_key_prefix)


def create_designated_dealer(
    ctx: Context, tc: Signer, ccy: StructTag, address: bytes, auth_key_prefix: bytes, human_name: bytes,
    add_all: bool, auth_key: bytes | None = None,
) -> None:
    """DD: role 2, Dealer (received-mint handle 0), balances, Credential (1, 2), account (3, 4)."""
    roles.assert_treasury_compliance(ctx, tc)
    new_account = _new_signer(ctx, address, roles.ROLE_DESIGNATED_DEALER)
    currency.assert_is_currency(ctx, ccy)
    hooks.publish_dealer(ctx, new_account, ccy, add_all)
    _add_currencies(ctx, new_account, ccy, add_all)
    dual_attestation.publish_credential(ctx, new_account, tc, human_name)
    _make_account(ctx, new_account, auth_key_prefix, auth_key)


def create_system_account(ctx: Context, dr: Signer, address: bytes, role_id: int, auth_key: bytes) -> Signer:
    """Genesis: a validator (3), operator (4) or reserve-auditor (7) account without balances."""
    roles.assert_diem_root(ctx, dr)
    new_account = _new_signer(ctx, address, role_id)
    _make_account(ctx, new_account, b"", auth_key)
    return new_account


# ------------------------------------------------------------ payments
def _payment_payload(amount: int, code: bytes, counterparty: bytes, metadata: bytes) -> bytes:
    """BCS of {amount: u64, currency_code: vector<u8>, payee|payer: address, metadata: vector<u8>}."""
    return _U64_PACK(amount) + encode_uleb128(len(code)) + code + counterparty + encode_uleb128(len(metadata)) + metadata


def withdraw_from(ctx: Context, payer: Signer, payee: bytes, ccy: StructTag, amount: int, metadata: bytes):  # noqa: ANN201
    """Take amount out of the payer's balance as a live coin and emit SentPaymentEvent (checks of §4.3)."""
    address = payer.address
    account = ctx.borrow_mut(_W, ACCOUNT, address)  # mutated below (sent events); an abort discards it
    if account.withdraw_capability is None:
        raise ERRORS.abort(Category.INVALID_STATE, "EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED")
    rtype = Balance.of(ccy)
    if not ctx.exists(rtype, address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EPAYER_DOESNT_HOLD_CURRENCY")
    if hooks.is_frozen(ctx, address):
        raise _raise_frozen()
    hooks.assert_not_paused(ctx)
    code = currency.code_of(ccy)
    if not hooks.process_withdraw(ctx, address, code, amount, payee):
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EWITHDRAWAL_EXCEEDS_LIMITS")
    balance = ctx.borrow_mut(_W, rtype, address)
    if balance.coin.value < amount:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EINSUFFICIENT_BALANCE")
    coin = currency.withdraw(ctx, balance.coin, amount)
    payload = _payment_payload(amount, code, payee, metadata)
    ctx.emit(account.sent_events, _event_tag("SentPaymentEvent"), payload)
    return coin


def deposit(
    ctx: Context, payer: bytes, payee: bytes, coin: currency.Coin, metadata: bytes, metadata_signature: bytes
) -> None:
    """Put a live coin into the payee's balance and emit ReceivedPaymentEvent (checks of §4.3, §6.3)."""
    ccy = currency.currency_of(coin)
    amount = coin.value
    if hooks.is_frozen(ctx, payee):
        raise _raise_frozen()
    if amount == 0:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ECOIN_DEPOSIT_IS_ZERO")
    if not ctx.exists(ACCOUNT, payee):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EPAYEE_DOES_NOT_EXIST")
    rtype = Balance.of(ccy)
    if not ctx.exists(rtype, payee):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EPAYEE_CANT_ACCEPT_CURRENCY_TYPE")
    dual_attestation.assert_payment_ok(ctx, ccy, payer, payee, amount, metadata, metadata_signature)
    code = currency.code_of(ccy)
    if not hooks.process_deposit(ctx, payer, payee, code, amount):
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EDEPOSIT_EXCEEDS_LIMITS")
    hooks.check_transfer(ctx, payer, payee, code, amount)
    currency.deposit(ctx, ctx.borrow_mut(_W, rtype, payee).coin, coin)
    payee_account = ctx.borrow_mut(_W, ACCOUNT, payee)
    payload = _payment_payload(amount, code, payer, metadata)
    ctx.emit(payee_account.received_events, _event_tag("ReceivedPaymentEvent"), payload)


def pay_from(
    ctx: Context, payer: Signer, payee: bytes, ccy: StructTag, amount: int, metadata: bytes, metadata_signature: bytes
) -> None:
    """A payment: withdraw_from then deposit (Sent then Received events)."""
    coin = withdraw_from(ctx, payer, payee, ccy, amount, metadata)
    deposit(ctx, payer.address, payee, coin, metadata, metadata_signature)


def extract_balance_for_wipe(ctx: Context, tc: Signer, address: bytes, ccy: StructTag):  # noqa: ANN201
    """TC only: take the whole balance of an account as a live coin (no events; the caller burns it)."""
    roles.assert_treasury_compliance(ctx, tc)
    rtype = Balance.of(ccy)
    if not ctx.exists(rtype, address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EPAYER_DOESNT_HOLD_CURRENCY")
    balance = ctx.borrow_mut(_W, rtype, address)
    return currency.withdraw(ctx, balance.coin, balance.coin.value)


# ------------------------------------------------------- key rotation
def rotate_authentication_key(ctx: Context, account: Signer, new_key: bytes) -> None:
    """Replace the account's authentication key; its address, balances and sequence number stay (no event)."""
    capability = ctx.borrow(ACCOUNT, account.address).key_rotation_capability
    if capability is None:
        raise ERRORS.abort(Category.INVALID_STATE, "EKEY_ROTATION_CAPABILITY_ALREADY_EXTRACTED")
    rotate_with_capability(ctx, capability, new_key)


def rotate_with_capability(ctx: Context, capability: KeyRotationCapability, new_key: bytes) -> None:
    """Replace the authentication key of the capability's account (2055 unless new_key is 32 bytes)."""
    if len(new_key) != AUTH_KEY_LENGTH:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EMALFORMED_AUTHENTICATION_KEY")
    ctx.borrow_mut(_W, ACCOUNT, capability.account_address).authentication_key = bytes(new_key)


def extract_key_rotation_capability(ctx: Context, account: Signer) -> KeyRotationCapability:
    """Take the account's rotation capability out (to delegate it); 2305 if it is already out."""
    diem_account = ctx.borrow_mut(_W, ACCOUNT, account.address)
    capability = diem_account.key_rotation_capability
    if capability is None:
        raise ERRORS.abort(Category.INVALID_STATE, "EKEY_ROTATION_CAPABILITY_ALREADY_EXTRACTED")
    diem_account.key_rotation_capability = None
    return capability


# ------------------------------------------------- transaction epilogue
def run_epilogue(ctx: Context, sender: bytes, sequence_number: int, ccy: StructTag | None, fee: int) -> None:
    """Bump the sequence number and pay fee (bypasses limits, freezing and events) to TransactionFee."""
    account = ctx.borrow_mut(_W, ACCOUNT, sender)
    if account.sequence_number != sequence_number:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ESEQUENCE_NUMBER")
    account.sequence_number = sequence_number + 1
    if fee and ccy is not None:
        balance = ctx.borrow_mut(_W, Balance.of(ccy), sender)
        if balance.coin.value < fee:
            raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EINSUFFICIENT_BALANCE")
        transaction_fee.pay_fee(ctx, currency.withdraw(ctx, balance.coin, fee))
