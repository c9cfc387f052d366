"""Diem: linear coins, CurrencyInfo, capabilities, mint / preburn / burn primitives (Diem.move)."""

from __future__ import annotations

from functools import lru_cache

from contracts.framework import DIEM_ROOT
from contracts.framework import roles
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable, LinearityError
from contracts.vm.storage import MEMO_WATCHED_TYPES
from contracts.vm.structs import KEY, STORE, Module, ResourceType, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BOOL, BYTES, U64, U128, StructField, Vector, encode_values
from primitives.limits import U64_MAX, U128_MAX
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag, TypeTag

MODULE = Module("Diem")
_W = MODULE.claim()
FIXED_POINT32_ONE = 1 << 32
KNOWN_COIN_MODULES = frozenset({"XUS", "XDX"})
MAX_SCALING_FACTOR = 10_000_000_000

ERRORS = ErrorTable(MODULE, {
    "EBURN_CAPABILITY": (0, " A property expected of a `BurnCapability` didn't hold"),
    "ECURRENCY_INFO": (1, " A property expected of a `CurrencyInfo` resource didn't hold"),
    "EPREBURN": (2, " A property expected of a `Preburn` resource didn't hold"),
    "EPREBURN_OCCUPIED": (3, " The preburn slot is already occupied with coins to be burned."),
    "EPREBURN_EMPTY": (4, " A burn was attempted on `Preburn` resource that cannot be burned"),
    "EMINTING_NOT_ALLOWED": (5, " Minting is not allowed for the specified currency"),
    "EIS_SYNTHETIC_CURRENCY": (6, " The currency specified is a synthetic (non-fiat) currency"),
    "ECOIN": (7, " A property expected of the coin provided didn't hold"),
    "EDESTRUCTION_OF_NONZERO_COIN": (8, " The destruction of a non-zero coin was attempted. Non-zero coins must be burned."),
    "EMINT_CAPABILITY": (9, " A property expected of `MintCapability` didn't hold"),
    "EAMOUNT_EXCEEDS_COIN_VALUE": (10, " A withdrawal greater than the value of the coin was attempted."),
    "EPREBURN_QUEUE": (11, " A property expected of the `PreburnQueue` resource didn't hold."),
    "EPREBURN_NOT_FOUND": (12, " A preburn with a matching amount in the preburn queue was not found."),
})


@struct(MODULE, STORE, type_params=1)
class Coin(Struct):
    """`Diem<C>{value}`: linear (no copy, no drop); live coins are tracked by the transaction context."""

    __slots__ = ()
    FIELDS = (("value", U64),)


@struct(MODULE, KEY | STORE, type_params=1)
class MintCapability(Struct):
    """Proof of the right to mint C (published under treasury compliance)."""

    __slots__ = ()
    FIELDS = (("dummy_field", BOOL),)


@struct(MODULE, KEY | STORE, type_params=1)
class BurnCapability(Struct):
    """Proof of the right to burn C (published under treasury compliance)."""

    __slots__ = ()
    FIELDS = (("dummy_field", BOOL),)


@struct(MODULE, KEY, type_params=1)
class CurrencyInfo(Struct):
    """Per-currency metadata and supply, published at Diem root."""

    __slots__ = ()
    FIELDS = (
        ("total_value", U128), ("preburn_value", U64), ("to_xdx_exchange_rate", U64), ("is_synthetic", BOOL),
        ("scaling_factor", U64), ("fractional_part", U64), ("currency_code", BYTES), ("can_mint", BOOL),
        ("mint_events", StructField(EventHandle)), ("burn_events", StructField(EventHandle)),
        ("preburn_events", StructField(EventHandle)), ("cancel_burn_events", StructField(EventHandle)),
        ("exchange_rate_update_events", StructField(EventHandle)),
    )


@struct(MODULE, KEY)
class RegisteredCurrencies(Struct):
    """Currency codes in registration order (what get_currencies lists)."""

    __slots__ = ()
    FIELDS = (("currency_codes", Vector(BYTES)),)


REGISTERED = RegisteredCurrencies.rtype()
MEMO_WATCHED_TYPES.update({CurrencyInfo, RegisteredCurrencies})


@lru_cache(maxsize=None)
def tag_of_code(code: bytes) -> StructTag:
    """Return the currency StructTag 0x1::<code>::<code>."""
    name = code.decode("ascii")
    return StructTag(AccountAddress.CORE_CODE, name, name, ())


def code_of(ccy: StructTag) -> bytes:
    """Return the currency code bytes of a currency tag (b"XUS")."""
    return ccy.module.encode("ascii")


@lru_cache(maxsize=None)
def _event_tag(name: str) -> StructTag:
    return StructTag(AccountAddress.CORE_CODE, "Diem", name, ())


def info_type(ccy: StructTag) -> ResourceType:
    """Return CurrencyInfo<ccy>."""
    return CurrencyInfo.of(ccy)


def is_known_coin_type(ccy: object) -> bool:
    """Return True iff ccy names a coin module that exists (0x1::X::X with X a known coin module)."""
    return (
        isinstance(ccy, StructTag) and ccy.address == AccountAddress.CORE_CODE and ccy.module == ccy.name
        and ccy.module in KNOWN_COIN_MODULES and not ccy.type_params
    )


def is_currency(ctx: Context, ccy: StructTag) -> bool:
    """Return True iff ccy is a registered currency."""
    return ctx.exists(CurrencyInfo.of(ccy), DIEM_ROOT)


def assert_is_currency(ctx: Context, ccy: StructTag) -> None:
    """Abort 261 (Diem ECURRENCY_INFO) unless ccy is registered."""
    if not is_currency(ctx, ccy):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ECURRENCY_INFO")


def get_currency_info(ctx: Context, ccy: StructTag) -> CurrencyInfo:
    """Return the read-only CurrencyInfo of a registered currency (aborts 261 otherwise)."""
    info = ctx.get(CurrencyInfo.of(ccy), DIEM_ROOT)
    if info is None:
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ECURRENCY_INFO")
    return info


def get_registered_codes(ctx: Context) -> tuple[bytes, ...]:
    """Return registered currency codes in registration order."""
    found = ctx.get(REGISTERED, DIEM_ROOT)
    return () if found is None else found.currency_codes


def approx_xdx_for_value(ctx: Context, ccy: StructTag, value: int) -> int:
    """Return value converted to micro-XDX with the FixedPoint32 rate (rounded down)."""
    rate = get_currency_info(ctx, ccy).to_xdx_exchange_rate
    return (value * rate) >> 32


# ----------------------------------------------------------------- coins
def zero(ctx: Context, ccy: StructTag) -> Coin:
    """Return a live zero coin."""
    coin = Coin.of(ccy).pack(_W, value=0)
    ctx.track(coin)
    return coin


def new_stored_zero(ccy: StructTag) -> Coin:
    """Return a zero coin meant to be packed inside a resource (a Balance); it is not live."""
    return Coin.of(ccy).pack(_W, value=0)


def value(coin: Coin) -> int:
    """Return the coin's value."""
    return coin.value


def withdraw(ctx: Context, coin: Coin, amount: int) -> Coin:
    """Split amount off a (stored or live, mutable) coin into a new live coin."""
    if amount > coin.value:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EAMOUNT_EXCEEDS_COIN_VALUE")
    coin.value -= amount
    part = Coin(_W, amount, rtype=coin._type)
    ctx.track(part)
    return part


def deposit(ctx: Context, coin: Coin, other: Coin) -> None:
    """Join a live coin into coin (consuming it); aborts on u64 overflow."""
    if coin._type is not other._type:
        raise LinearityError("deposit of a coin of another currency")
    ctx.consume(other)
    total = coin.value + other.value
    if total > U64_MAX:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "ECOIN")
    coin.value = total


def destroy_zero(ctx: Context, coin: Coin) -> None:
    """Consume a zero coin; a non-zero coin aborts (it must be burned)."""
    if coin.value != 0:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EDESTRUCTION_OF_NONZERO_COIN")
    ctx.consume(coin)


def currency_of(coin: Coin) -> StructTag:
    """Return the currency tag of a coin."""
    return coin._type.type_args[0].struct


# --------------------------------------------------------- registration
def register_currency(
    ctx: Context, dr: Signer, tc: Signer, ccy: StructTag, rate_raw: int, is_synthetic: bool,
    scaling_factor: int, fractional_part: int,
) -> None:
    """Publish CurrencyInfo<ccy> at Diem root (5 handles) and the mint/burn capabilities at TC (genesis)."""
    roles.assert_diem_root(ctx, dr)
    if ctx.exists(CurrencyInfo.of(ccy), DIEM_ROOT):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "ECURRENCY_INFO")
    if not 0 < scaling_factor <= MAX_SCALING_FACTOR:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ECURRENCY_INFO")
    handles = [ctx.new_event_handle(dr) for _ in range(5)]
    info = CurrencyInfo.of(ccy).pack(
        _W, total_value=0, preburn_value=0, to_xdx_exchange_rate=rate_raw, is_synthetic=is_synthetic,
        scaling_factor=scaling_factor, fractional_part=fractional_part, currency_code=code_of(ccy), can_mint=True,
        mint_events=handles[0], burn_events=handles[1], preburn_events=handles[2],
        cancel_burn_events=handles[3], exchange_rate_update_events=handles[4],
    )
    ctx.move_to(_W, dr, info)
    ctx.move_to(_W, tc, MintCapability.of(ccy).pack(_W, dummy_field=False))
    ctx.move_to(_W, tc, BurnCapability.of(ccy).pack(_W, dummy_field=False))
    if not ctx.exists(REGISTERED, DIEM_ROOT):
        ctx.move_to(_W, dr, RegisteredCurrencies(_W, ()))
    registry = ctx.borrow_mut(_W, REGISTERED, DIEM_ROOT)
    registry.currency_codes = registry.currency_codes + (code_of(ccy),)


def borrow_mint_capability(ctx: Context, tc: Signer, ccy: StructTag) -> MintCapability:
    """Return the TC's MintCapability<ccy> (TC role required; aborts EMINT_CAPABILITY if absent)."""
    roles.assert_treasury_compliance(ctx, tc)
    cap = ctx.get(MintCapability.of(ccy), tc.address)
    if cap is None:
        raise ERRORS.abort(Category.REQUIRES_CAPABILITY, "EMINT_CAPABILITY")
    return cap


def borrow_burn_capability(ctx: Context, tc: Signer, ccy: StructTag) -> BurnCapability:
    """Return the TC's BurnCapability<ccy> (TC role required; aborts EBURN_CAPABILITY if absent)."""
    roles.assert_treasury_compliance(ctx, tc)
    cap = ctx.get(BurnCapability.of(ccy), tc.address)
    if cap is None:
        raise ERRORS.abort(Category.REQUIRES_CAPABILITY, "EBURN_CAPABILITY")
    return cap


def _check_cap(cap: Struct, cls: type, ccy: StructTag) -> None:
    if type(cap) is not cls or cap._type is not cls.of(ccy):
        raise LinearityError(f"{cls.__name__}<{ccy}> required")


def _emit(ctx: Context, handle: EventHandle, name: str, data: bytes) -> None:
    ctx.emit(handle, _event_tag(name), data)


# ------------------------------------------------------ supply changes
def mint_with_capability(ctx: Context, cap: MintCapability, ccy: StructTag, amount: int) -> Coin:
    """Create amount of ccy (total_value += amount), emit MintEvent, return the live coin."""
    _check_cap(cap, MintCapability, ccy)
    assert_is_currency(ctx, ccy)
    info = ctx.borrow_mut(_W, CurrencyInfo.of(ccy), DIEM_ROOT)
    if not info.can_mint:
        raise ERRORS.abort(Category.INVALID_STATE, "EMINTING_NOT_ALLOWED")
    if info.total_value + amount > U128_MAX:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "ECURRENCY_INFO")
    info.total_value += amount
    if not info.is_synthetic:
        _emit(ctx, info.mint_events, "MintEvent", encode_values((U64, amount), (BYTES, info.currency_code)))
    coin = Coin.of(ccy).pack(_W, value=amount)
    ctx.track(coin)
    return coin


def preburn_coin(ctx: Context, coin: Coin, preburn_address: bytes) -> int:
    """Move a live coin into the preburn pool (preburn_value += v), emit PreburnEvent, return the amount."""
    ccy = currency_of(coin)
    amount = coin.value
    ctx.consume(coin)
    info = ctx.borrow_mut(_W, CurrencyInfo.of(ccy), DIEM_ROOT)
    info.preburn_value += amount
    if not info.is_synthetic:
        _emit(ctx, info.preburn_events, "PreburnEvent", _burn_payload(amount, info.currency_code, preburn_address))
    return amount


def _burn_payload(amount: int, code: bytes, preburn_address: bytes) -> bytes:
    return encode_values((U64, amount), (BYTES, code), (ADDRESS, preburn_address))


def burn_preburned(ctx: Context, cap: BurnCapability, ccy: StructTag, amount: int, preburn_address: bytes) -> None:
    """Destroy amount held in preburn: total_value and preburn_value decrease, BurnEvent."""
    _check_cap(cap, BurnCapability, ccy)
    info = ctx.borrow_mut(_W, CurrencyInfo.of(ccy), DIEM_ROOT)
    if amount > info.preburn_value:
        raise ERRORS.abort(Category.INVALID_STATE, "EPREBURN_EMPTY")
    info.total_value -= amount
    info.preburn_value -= amount
    if not info.is_synthetic:
        _emit(ctx, info.burn_events, "BurnEvent", _burn_payload(amount, info.currency_code, preburn_address))


def cancel_preburn(ctx: Context, cap: BurnCapability, ccy: StructTag, amount: int, preburn_address: bytes) -> Coin:
    """Take amount back out of preburn (preburn_value -= amount), emit CancelBurnEvent, return a live coin."""
    _check_cap(cap, BurnCapability, ccy)
    info = ctx.borrow_mut(_W, CurrencyInfo.of(ccy), DIEM_ROOT)
    if amount > info.preburn_value:
        raise ERRORS.abort(Category.INVALID_STATE, "EPREBURN_EMPTY")
    info.preburn_value -= amount
    if not info.is_synthetic:
        payload = _burn_payload(amount, info.currency_code, preburn_address)
        _emit(ctx, info.cancel_burn_events, "CancelBurnEvent", payload)
    coin = Coin.of(ccy).pack(_W, value=amount)
    ctx.track(coin)
    return coin


def burn_now(ctx: Context, cap: BurnCapability, coin: Coin, preburn_address: bytes) -> None:
    """Preburn then burn a live coin in one step (PreburnEvent, BurnEvent)."""
    ccy = currency_of(coin)
    _check_cap(cap, BurnCapability, ccy)
    amount = preburn_coin(ctx, coin, preburn_address)
    burn_preburned(ctx, cap, ccy, amount, preburn_address)


# ------------------------------------------------------- administration
def update_minting_ability(ctx: Context, tc: Signer, ccy: StructTag, can_mint: bool) -> None:
    """Enable or disable minting of ccy (TC only)."""
    roles.assert_treasury_compliance(ctx, tc)
    assert_is_currency(ctx, ccy)
    ctx.borrow_mut(_W, CurrencyInfo.of(ccy), DIEM_ROOT).can_mint = can_mint


def update_xdx_exchange_rate(ctx: Context, tc: Signer, ccy: StructTag, rate_raw: int) -> None:
    """Set the FixedPoint32 rate to XDX (TC only) and emit ToXDXExchangeRateUpdateEvent."""
    roles.assert_treasury_compliance(ctx, tc)
    assert_is_currency(ctx, ccy)
    info = ctx.borrow_mut(_W, CurrencyInfo.of(ccy), DIEM_ROOT)
    info.to_xdx_exchange_rate = rate_raw
    payload = encode_values((BYTES, info.currency_code), (U64, rate_raw))
    _emit(ctx, info.exchange_rate_update_events, "ToXDXExchangeRateUpdateEvent", payload)


def get_total_value(ctx: Context, ccy: StructTag) -> int:
    """Return the total supply of ccy."""
    return get_currency_info(ctx, ccy).total_value


def currency_type_tag(ccy: StructTag) -> TypeTag:
    """Return the TypeTag of a currency StructTag."""
    return TypeTag.struct_of(ccy)
