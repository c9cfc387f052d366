"""AccountFreezing: per-account freezing bit, TC freeze/unfreeze, and (beyond Diem) wiping a frozen balance."""

# Diem facts kept: `FreezingBit{is_frozen}` at every account, `FreezeEventsHolder` at Diem root, the
# reasons 1..5 and their categories. Added: `wipe_frozen_account` (Paxos-style seizure under order),
# which burns the frozen account's whole balance of one currency and emits `WipeEvent` on
# `WipeEventsHolder` (Diem root), after the usual `PreburnEvent`/`BurnEvent` so supply trackers follow.

from __future__ import annotations

from functools import lru_cache

from contracts.framework import DIEM_ROOT, TREASURY_COMPLIANCE
from contracts.framework import currency, roles
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import DROP, KEY, STORE, Module, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BOOL, BYTES, U64, StructField
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("AccountFreezing")
_W = MODULE.claim()

ERRORS = ErrorTable(MODULE, {
    "EFREEZE_EVENTS_HOLDER": (1, " A property expected of the `FreezeEventsHolder` resource didn't hold"),
    "EFREEZING_BIT": (2, " The `FreezingBit` resource is in an invalid state"),
    "ECANNOT_FREEZE_DIEM_ROOT": (3, " An attempt to freeze the Diem Root account was attempted"),
    "ECANNOT_FREEZE_TC": (4, " An attempt to freeze the Treasury & Compliance account was attempted"),
    "EACCOUNT_FROZEN": (5, " The account is frozen"),
    "EACCOUNT_NOT_FROZEN": (6, " A wipe was ordered on an account that is not frozen"),
    "EWIPE_EVENTS_HOLDER": (7, " A property expected of the `WipeEventsHolder` resource didn't hold"),
})


@struct(MODULE, KEY)
class FreezingBit(Struct):
    """If `is_frozen` is set the account cannot send transactions, be debited or receive funds."""

    __slots__ = ()
    FIELDS = (("is_frozen", BOOL),)


@struct(MODULE, KEY)
class FreezeEventsHolder(Struct):
    """Diem root's freeze and unfreeze event streams."""

    __slots__ = ()
    FIELDS = (("freeze_event_handle", StructField(EventHandle)), ("unfreeze_event_handle", StructField(EventHandle)))


@struct(MODULE, KEY)
class WipeEventsHolder(Struct):
    """Diem root's stream of wipes of frozen balances (beyond Diem)."""

    __slots__ = ()
    FIELDS = (("wipe_event_handle", StructField(EventHandle)),)


@struct(MODULE, DROP | STORE)
class FreezeAccountEvent(Struct):
    """An account was frozen by `initiator_address`."""

    __slots__ = ()
    FIELDS = (("initiator_address", ADDRESS), ("frozen_address", ADDRESS))


@struct(MODULE, DROP | STORE)
class UnfreezeAccountEvent(Struct):
    """An account was unfrozen by `initiator_address`."""

    __slots__ = ()
    FIELDS = (("initiator_address", ADDRESS), ("unfrozen_address", ADDRESS))


@struct(MODULE, DROP | STORE)
class WipeEvent(Struct):
    """A frozen account's whole balance of `currency_code` was burned by `initiator_address`."""

    __slots__ = ()
    FIELDS = (("initiator_address", ADDRESS), ("wiped_address", ADDRESS), ("currency_code", BYTES), ("amount", U64))


FREEZING_BIT = FreezingBit.rtype()
FREEZE_EVENTS = FreezeEventsHolder.rtype()
WIPE_EVENTS = WipeEventsHolder.rtype()


@lru_cache(maxsize=None)
def event_tag(name: str) -> StructTag:
    """Return the StructTag of one of this module's event types."""
    return StructTag(AccountAddress.CORE_CODE, MODULE.name, name, ())


# ---------------------------------------------------------------- genesis
def initialize(ctx: Context, dr: Signer) -> None:
    """Publish the freeze/unfreeze and wipe event holders at Diem root (genesis)."""
    roles.assert_diem_root(ctx, dr)
    if ctx.exists(FREEZE_EVENTS, dr.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EFREEZE_EVENTS_HOLDER")
    freeze_handle = ctx.new_event_handle(dr)
    unfreeze_handle = ctx.new_event_handle(dr)
    ctx.move_to(_W, dr, FreezeEventsHolder(_W, freeze_handle, unfreeze_handle))
    if ctx.exists(WIPE_EVENTS, dr.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EWIPE_EVENTS_HOLDER")
    ctx.move_to(_W, dr, WipeEventsHolder(_W, ctx.new_event_handle(dr)))


def publish_freezing_bit(ctx: Context, account: Signer) -> None:
    """Publish `FreezingBit{false}` on a new account (hook called by account creation)."""
    if ctx.exists(FREEZING_BIT, account.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EFREEZING_BIT")
    ctx.move_to(_W, account, FreezingBit(_W, False))


# ---------------------------------------------------------------- queries
def is_frozen(ctx: Context, address: bytes) -> bool:
    """Return True iff the account at address has a set freezing bit."""
    bit = ctx.get(FREEZING_BIT, address)
    return bit is not None and bit.is_frozen


def assert_not_frozen(ctx: Context, address: bytes) -> None:
    """Abort 1281 (EACCOUNT_FROZEN) if the account is frozen."""
    if is_frozen(ctx, address):
        raise ERRORS.abort(Category.INVALID_STATE, "EACCOUNT_FROZEN")


# ------------------------------------------------------------ TC actions
def freeze_account(ctx: Context, tc: Signer, frozen_address: bytes) -> None:
    """Freeze an account (TC only; never Diem root or TC) and emit FreezeAccountEvent."""
    roles.assert_treasury_compliance(ctx, tc)
    # Diem root and TC must stay able to act, so they are never freezable.
    if frozen_address == DIEM_ROOT:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ECANNOT_FREEZE_DIEM_ROOT")
    if frozen_address == TREASURY_COMPLIANCE:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ECANNOT_FREEZE_TC")
    _set_bit(ctx, frozen_address, True)
    holder = ctx.borrow_mut(_W, FREEZE_EVENTS, DIEM_ROOT)
    event = FreezeAccountEvent(_W, tc.address, frozen_address)
    ctx.emit(holder.freeze_event_handle, event_tag("FreezeAccountEvent"), event.to_bytes())


def unfreeze_account(ctx: Context, tc: Signer, unfrozen_address: bytes) -> None:
    """Unfreeze an account (TC only) and emit UnfreezeAccountEvent."""
    roles.assert_treasury_compliance(ctx, tc)
    _set_bit(ctx, unfrozen_address, False)
    holder = ctx.borrow_mut(_W, FREEZE_EVENTS, DIEM_ROOT)
    event = UnfreezeAccountEvent(_W, tc.address, unfrozen_address)
    ctx.emit(holder.unfreeze_event_handle, event_tag("UnfreezeAccountEvent"), event.to_bytes())


def _set_bit(ctx: Context, address: bytes, frozen: bool) -> None:
    if not ctx.exists(FREEZING_BIT, address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EFREEZING_BIT")
    ctx.borrow_mut(_W, FREEZING_BIT, address).is_frozen = frozen


def wipe_frozen_account(ctx: Context, tc: Signer, ccy: StructTag, wiped_address: bytes) -> int:
    """Burn a frozen account's whole balance of ccy (TC only); emits PreburnEvent, BurnEvent, WipeEvent."""
    from contracts.framework import account  # account imports this module's hooks lazily

    roles.assert_treasury_compliance(ctx, tc)
    currency.assert_is_currency(ctx, ccy)
    if not ctx.exists(FREEZING_BIT, wiped_address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EFREEZING_BIT")
    # Seizure is only lawful for an account already frozen under order.
    if not is_frozen(ctx, wiped_address):
        raise ERRORS.abort(Category.INVALID_STATE, "EACCOUNT_NOT_FROZEN")
    burn_cap = currency.borrow_burn_capability(ctx, tc, ccy)
    coin = account.extract_balance_for_wipe(ctx, tc, wiped_address, ccy)
    amount = currency.value(coin)
    if amount > 0:
        currency.burn_now(ctx, burn_cap, coin, wiped_address)
    else:
        currency.destroy_zero(ctx, coin)
    holder = ctx.borrow_mut(_W, WIPE_EVENTS, DIEM_ROOT)
    event = WipeEvent(_W, tc.address, wiped_address, currency.code_of(ccy), amount)
    ctx.emit(holder.wipe_event_handle, event_tag("WipeEvent"), event.to_bytes())
    return amount
