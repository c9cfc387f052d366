"""AccountLimits: per-VASP inflow / outflow / holding limits over a time window (Diem semantics, with events)."""

# Diem facts kept: `LimitsDefinition<C>{max_inflow, max_outflow, time_period, max_holding}` (unrestricted =
# u64::MAX everywhere and a one-day period, published at Diem root), `Window<C>{window_start,
# window_inflow, window_outflow, tracked_balance, limit_address}`; limits apply only to VASPs, only
# between different VASPs, and are aggregated on the parent's window; a window resets once
# `now > window_start + time_period`; a deposit needs `inflow + amt <= max_inflow` and
# `tracked + amt <= max_holding`; a withdrawal needs `outflow + amt <= max_outflow` (tracked balance
# saturates at 0); unrestricted definitions skip all work. Differences: treasury compliance (not Diem
# root) publishes windows and definitions through scripts, every change emits an event, and a VASP is
# tracked when its *parent* holds the window (Diem also required a window on the account itself).

from __future__ import annotations

from functools import lru_cache

from contracts.framework import DIEM_ROOT, account, currency, roles, vasp
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import DROP, KEY, STORE, Module, ResourceType, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BYTES, U64, StructField, encode_values
from primitives.limits import U64_MAX
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("AccountLimits")
_W = MODULE.claim()
ONE_DAY_US = 86_400_000_000

ERRORS = ErrorTable(MODULE, {
    "ELIMITS_DEFINITION": (0, " The `LimitsDefinition` resource is in an invalid state"),
    "EWINDOW": (1, " The `Window` resource is in an invalid state"),
    "ELIMITS_EVENTS": (2, " The `LimitsEventsHolder` resource is in an invalid state"),
    "EINVALID_LIMITS_DEFINITION": (3, " A limits definition needs every limit and the time period above zero"),
    "EACCOUNT_NOT_FOUND": (4, " Limits can only be attached to an existing account"),
})


@struct(MODULE, KEY, type_params=1)
class LimitsDefinition(Struct):
    """Inflow, outflow and holding limits in C over `time_period` microseconds."""

    __slots__ = ()
    FIELDS = (("max_inflow", U64), ("max_outflow", U64), ("time_period", U64), ("max_holding", U64))


@struct(MODULE, KEY, type_params=1)
class Window(Struct):
    """A VASP's flows in C during the current period, governed by the definition at `limit_address`."""

    __slots__ = ()
    FIELDS = (
        ("window_start", U64), ("window_inflow", U64), ("window_outflow", U64), ("tracked_balance", U64),
        ("limit_address", ADDRESS),
    )


@struct(MODULE, KEY)
class LimitsEventsHolder(Struct):
    """At Diem root (beyond Diem): streams of definition and window changes."""

    __slots__ = ()
    FIELDS = (("definition_events", StructField(EventHandle)), ("window_events", StructField(EventHandle)))


@struct(MODULE, DROP | STORE)
class LimitsDefinitionUpdateEvent(Struct):
    """The definition at `limit_address` now holds these values."""

    __slots__ = ()
    FIELDS = (
        ("currency_code", BYTES), ("limit_address", ADDRESS), ("max_inflow", U64), ("max_outflow", U64),
        ("max_holding", U64), ("time_period", U64),
    )


@struct(MODULE, DROP | STORE)
class WindowUpdateEvent(Struct):
    """The window at `window_address` was published or re-pointed / re-balanced by treasury compliance."""

    __slots__ = ()
    FIELDS = (
        ("currency_code", BYTES), ("window_address", ADDRESS), ("limit_address", ADDRESS), ("tracked_balance", U64),
    )


EVENTS = LimitsEventsHolder.rtype()


@lru_cache(maxsize=None)
def event_tag(name: str) -> StructTag:
    """Return the StructTag of one of this module's event types."""
    return StructTag(AccountAddress.CORE_CODE, MODULE.name, name, ())


def definition_type(ccy: StructTag) -> ResourceType:
    """Return LimitsDefinition<ccy>."""
    return LimitsDefinition.of(ccy)


def window_type(ccy: StructTag) -> ResourceType:
    """Return Window<ccy>."""
    return Window.of(ccy)


# ---------------------------------------------------------------- genesis
def initialize(ctx: Context, dr: Signer) -> None:
    """Publish the event holder and unrestricted definitions for every registered currency at Diem root."""
    roles.assert_diem_root(ctx, dr)
    if ctx.exists(EVENTS, dr.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "ELIMITS_EVENTS")
    ctx.move_to(_W, dr, LimitsEventsHolder(_W, ctx.new_event_handle(dr), ctx.new_event_handle(dr)))
    for code in currency.get_registered_codes(ctx):
        rtype = definition_type(currency.tag_of_code(code))
        if not ctx.exists(rtype, dr.address):
            ctx.move_to(_W, dr, rtype.pack(
                _W, max_inflow=U64_MAX, max_outflow=U64_MAX, time_period=ONE_DAY_US, max_holding=U64_MAX,
            ))


# -------------------------------------------------------------- predicates
def is_unrestricted(definition: LimitsDefinition) -> bool:
    """Return True iff the definition is Diem's "unrestricted" one (no tracking needed)."""
    return (
        definition.max_inflow == U64_MAX and definition.max_outflow == U64_MAX
        and definition.max_holding == U64_MAX and definition.time_period == ONE_DAY_US
    )


def compute_window_after_reset(window: Window, time_period: int, now_us: int) -> tuple[int, int, int]:
    """Return (start, inflow, outflow) after the Diem reset rule: restart once now > start + period."""
    if window.window_start > U64_MAX - time_period:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EWINDOW")
    if now_us > window.window_start + time_period:
        return now_us, 0, 0
    return window.window_start, window.window_inflow, window.window_outflow


def _tracked_window(ctx: Context, address: bytes, other: bytes | None, ccy: StructTag) -> tuple[bytes, Window] | None:
    # Only VASPs are limited, on the parent's (aggregate) window, and never within one VASP.
    if not roles.is_vasp(ctx, address):
        return None
    parent = vasp.parent_address(ctx, address)
    window = ctx.get(window_type(ccy), parent)
    if window is None or (other is not None and vasp.is_same_vasp(ctx, address, other)):
        return None
    return parent, window


def _definition_of(ctx: Context, window: Window, ccy: StructTag) -> LimitsDefinition:
    definition = ctx.get(definition_type(ccy), window.limit_address)
    if definition is None:
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ELIMITS_DEFINITION")
    return definition


# ------------------------------------------------------------------ hooks
def _get_restricted_window(ctx: Context, address: bytes, counterparty: bytes | None, ccy: StructTag) -> tuple | None:
    """Return (parent, window, definition, window counters after a reset) when a limit applies, else None."""
    tracked = _tracked_window(ctx, address, counterparty, ccy)
    if tracked is None:
        return None
    parent, window = tracked
    definition = _definition_of(ctx, window, ccy)
    if is_unrestricted(definition):
        return None
    return parent, window, definition, compute_window_after_reset(window, definition.time_period, ctx.now_microseconds())


def process_withdraw(
    ctx: Context, address: bytes, currency_code: bytes, amount: int, payee: bytes | None = None
) -> bool:
    """Check and record an outflow from address; False (nothing written) when over the limit."""
    ccy = currency.tag_of_code(currency_code)
    restricted = _get_restricted_window(ctx, address, payee, ccy)
    if restricted is None:
        return True
    parent, window, definition, (start, inflow, outflow) = restricted
    if outflow > U64_MAX - amount:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EWINDOW")
    if outflow + amount > definition.max_outflow:
        return False
    updated = ctx.borrow_mut(_W, window_type(ccy), parent)
    updated.window_start, updated.window_inflow, updated.window_outflow = start, inflow, outflow + amount
    updated.tracked_balance = max(0, updated.tracked_balance - amount)
    return True


def process_deposit(ctx: Context, payer: bytes, payee: bytes, currency_code: bytes, amount: int) -> bool:
    """Check and record an inflow to payee; False (nothing written) when over the inflow or holding limit."""
    ccy = currency.tag_of_code(currency_code)
    restricted = _get_restricted_window(ctx, payee, payer, ccy)
    if restricted is None:
        return True
    parent, window, definition, (start, inflow, outflow) = restricted
    if inflow > U64_MAX - amount or window.tracked_balance > U64_MAX - amount:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EWINDOW")
    if inflow + amount > definition.max_inflow or window.tracked_balance + amount > definition.max_holding:
        return False
    updated = ctx.borrow_mut(_W, window_type(ccy), parent)
    updated.window_start, updated.window_inflow, updated.window_outflow = start, inflow + amount, outflow
    updated.tracked_balance += amount
    return True


# ------------------------------------------------------------ TC actions
def _require_account(ctx: Context, address: bytes) -> None:
    if not account.exists_at(ctx, address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EACCOUNT_NOT_FOUND")


def publish_limits_definition(
    ctx: Context, tc: Signer, ccy: StructTag, limit_address: bytes, max_inflow: int, max_outflow: int,
    max_holding: int, time_period: int,
) -> None:
    """Publish a definition at an existing account (TC only) and emit LimitsDefinitionUpdateEvent."""
    roles.assert_treasury_compliance(ctx, tc)
    currency.assert_is_currency(ctx, ccy)
    _require_account(ctx, limit_address)
    if min(max_inflow, max_outflow, max_holding, time_period) == 0:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_LIMITS_DEFINITION")
    rtype = definition_type(ccy)
    if ctx.exists(rtype, limit_address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "ELIMITS_DEFINITION")
    definition = rtype.pack(
        _W, max_inflow=max_inflow, max_outflow=max_outflow, time_period=time_period, max_holding=max_holding,
    )
    ctx.move_to_address(_W, limit_address, definition)
    _emit_definition(ctx, ccy, limit_address, definition)


def update_limits_definition(
    ctx: Context, tc: Signer, ccy: StructTag, limit_address: bytes, new_max_inflow: int, new_max_outflow: int,
    new_max_holding: int, new_time_period: int,
) -> None:
    """Update a definition (TC only; a 0 argument leaves that field unchanged) and emit the new values."""
    roles.assert_treasury_compliance(ctx, tc)
    rtype = definition_type(ccy)
    if not ctx.exists(rtype, limit_address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ELIMITS_DEFINITION")
    definition = ctx.borrow_mut(_W, rtype, limit_address)
    if new_max_inflow > 0:
        definition.max_inflow = new_max_inflow
    if new_max_outflow > 0:
        definition.max_outflow = new_max_outflow
    if new_max_holding > 0:
        definition.max_holding = new_max_holding
    if new_time_period > 0:
        definition.time_period = new_time_period
    _emit_definition(ctx, ccy, limit_address, definition)


def publish_window(ctx: Context, tc: Signer, ccy: StructTag, parent_address: bytes, limit_address: bytes) -> None:
    """Start tracking a parent VASP (and its children) against the definition at limit_address (TC only)."""
    roles.assert_treasury_compliance(ctx, tc)
    if not roles.has_role(ctx, parent_address, roles.ROLE_PARENT_VASP):
        raise roles.ERRORS.abort(Category.REQUIRES_ROLE, "EPARENT_VASP")
    if not ctx.exists(definition_type(ccy), limit_address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ELIMITS_DEFINITION")
    rtype = window_type(ccy)
    if ctx.exists(rtype, parent_address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EWINDOW")
    window = rtype.pack(
        _W, window_start=ctx.now_microseconds(), window_inflow=0, window_outflow=0, tracked_balance=0,
        limit_address=limit_address,
    )
    ctx.move_to_address(_W, parent_address, window)
    _emit_window(ctx, ccy, parent_address, window)


def update_window_info(
    ctx: Context, tc: Signer, ccy: StructTag, window_address: bytes, aggregate_balance: int, new_limit_address: bytes
) -> None:
    """Set the tracked balance (0 = unchanged) and re-point the window (TC only); emits WindowUpdateEvent."""
    roles.assert_treasury_compliance(ctx, tc)
    rtype = window_type(ccy)
    if not ctx.exists(rtype, window_address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EWINDOW")
    if not ctx.exists(definition_type(ccy), new_limit_address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ELIMITS_DEFINITION")
    window = ctx.borrow_mut(_W, rtype, window_address)
    if aggregate_balance != 0:
        window.tracked_balance = aggregate_balance
    window.limit_address = new_limit_address
    _emit_window(ctx, ccy, window_address, window)


def _events(ctx: Context) -> LimitsEventsHolder:
    if not ctx.exists(EVENTS, DIEM_ROOT):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ELIMITS_EVENTS")
    return ctx.borrow_mut(_W, EVENTS, DIEM_ROOT)


def _emit_definition(ctx: Context, ccy: StructTag, limit_address: bytes, d: LimitsDefinition) -> None:
    payload = encode_values(
        (BYTES, currency.code_of(ccy)), (ADDRESS, limit_address), (U64, d.max_inflow), (U64, d.max_outflow),
        (U64, d.max_holding), (U64, d.time_period),
    )
    ctx.emit(_events(ctx).definition_events, event_tag("LimitsDefinitionUpdateEvent"), payload)


def _emit_window(ctx: Context, ccy: StructTag, window_address: bytes, window: Window) -> None:
    payload = encode_values(
        (BYTES, currency.code_of(ccy)), (ADDRESS, window_address), (ADDRESS, window.limit_address),
        (U64, window.tracked_balance),
    )
    ctx.emit(_events(ctx).window_events, event_tag("WindowUpdateEvent"), payload)


# --------------------------------------------------------------- queries
def get_window(ctx: Context, address: bytes, ccy: StructTag) -> Window | None:
    """Return the (read-only) window at address, or None."""
    return ctx.get(window_type(ccy), address)


def get_definition(ctx: Context, address: bytes, ccy: StructTag) -> LimitsDefinition | None:
    """Return the (read-only) definition at address, or None."""
    return ctx.get(definition_type(ccy), address)
