"""Pause (beyond Diem): a global stop of payments, preburns and mints, set and lifted by treasury compliance."""

# While paused, `withdraw_from` (payments, child funding, preburn) and `tiered_mint` abort with
# `Pause::ETRANSFERS_PAUSED` (257). Compliance actions keep working: freeze, unfreeze, wipe, burn,
# cancel-burn, limits, KYC and attestations. Fees are not payments and are never blocked.

from __future__ import annotations

from functools import lru_cache

from contracts.framework import DIEM_ROOT
from contracts.framework import roles
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import DROP, KEY, STORE, Module, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BOOL, StructField
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("Pause")
_W = MODULE.claim()

ERRORS = ErrorTable(MODULE, {
    "EPAUSE_STATE": (0, " A property expected of the `PauseState` resource didn't hold"),
    "ETRANSFERS_PAUSED": (1, " Payments, preburns and mints are paused by treasury compliance"),
    "EALREADY_PAUSED": (2, " A pause was requested while transfers are already paused"),
    "ENOT_PAUSED": (3, " An unpause was requested while transfers are not paused"),
})


@struct(MODULE, KEY)
class PauseState(Struct):
    """At Diem root: whether transfers are paused, with the pause and unpause event streams."""

    __slots__ = ()
    FIELDS = (
        ("is_paused", BOOL), ("pause_event_handle", StructField(EventHandle)),
        ("unpause_event_handle", StructField(EventHandle)),
    )


@struct(MODULE, DROP | STORE)
class PauseEvent(Struct):
    """Transfers were paused by `initiator_address`."""

    __slots__ = ()
    FIELDS = (("initiator_address", ADDRESS),)


@struct(MODULE, DROP | STORE)
class UnpauseEvent(Struct):
    """Transfers were resumed by `initiator_address`."""

    __slots__ = ()
    FIELDS = (("initiator_address", ADDRESS),)


PAUSE_STATE = PauseState.rtype()


@lru_cache(maxsize=None)
def event_tag(name: str) -> StructTag:
    """Return the StructTag of one of this module's event types."""
    return StructTag(AccountAddress.CORE_CODE, MODULE.name, name, ())


def initialize(ctx: Context, dr: Signer) -> None:
    """Publish the (unpaused) PauseState at Diem root (genesis)."""
    roles.assert_diem_root(ctx, dr)
    if ctx.exists(PAUSE_STATE, dr.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EPAUSE_STATE")
    ctx.move_to(_W, dr, PauseState(_W, False, ctx.new_event_handle(dr), ctx.new_event_handle(dr)))


def is_paused(ctx: Context) -> bool:
    """Return True iff transfers are paused (False before the module is initialized)."""
    state = ctx.get(PAUSE_STATE, DIEM_ROOT)
    return state is not None and state.is_paused


def assert_not_paused(ctx: Context) -> None:
    """Abort 257 (ETRANSFERS_PAUSED) while transfers are paused (hook called by withdraw_from)."""
    if is_paused(ctx):
        raise ERRORS.abort(Category.INVALID_STATE, "ETRANSFERS_PAUSED")


def pause(ctx: Context, tc: Signer) -> None:
    """Pause transfers (TC only) and emit PauseEvent."""
    state = _borrow_state_for_change(ctx, tc)
    if state.is_paused:
        raise ERRORS.abort(Category.INVALID_STATE, "EALREADY_PAUSED")
    state.is_paused = True
    ctx.emit(state.pause_event_handle, event_tag("PauseEvent"), PauseEvent(_W, tc.address).to_bytes())


def unpause(ctx: Context, tc: Signer) -> None:
    """Resume transfers (TC only) and emit UnpauseEvent."""
    state = _borrow_state_for_change(ctx, tc)
    if not state.is_paused:
        raise ERRORS.abort(Category.INVALID_STATE, "ENOT_PAUSED")
    state.is_paused = False
    ctx.emit(state.unpause_event_handle, event_tag("UnpauseEvent"), UnpauseEvent(_W, tc.address).to_bytes())


def _borrow_state_for_change(ctx: Context, tc: Signer) -> PauseState:
    roles.assert_treasury_compliance(ctx, tc)
    if not ctx.exists(PAUSE_STATE, DIEM_ROOT):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EPAUSE_STATE")
    return ctx.borrow_mut(_W, PAUSE_STATE, DIEM_ROOT)
