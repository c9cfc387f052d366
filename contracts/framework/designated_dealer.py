"""DesignatedDealer: the Dealer resource, tiered_mint, and the preburn queue (preburn / burn / cancel_burn)."""

# Diem facts kept (DesignatedDealer.move, Diem.move): a DD holds `Dealer{mint_event_handle}` (its first
# event handle, counter 0) and one FIFO `PreburnQueue<C>` per currency of at most 256 non-zero requests;
# `tiered_mint` ignores the tier and emits ReceivedMintEvent -> MintEvent -> ReceivedPaymentEvent(payer
# 0x0); burn and cancel take the *oldest* request of exactly `amount`. Preburn-queue aborts are located at
# `Diem`, as in Diem. Beyond Diem: a mint also requires fresh, sufficient attested reserves
# (`Reserves`) and no global pause (`Pause`).

from __future__ import annotations

from functools import lru_cache

from contracts.framework import VM_RESERVED, currency, pause, reserves, roles
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import DROP, KEY, STORE, Module, ResourceType, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BYTES, U64, StructField, Vector
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("DesignatedDealer")
_W = MODULE.claim()
MAX_OUTSTANDING_PREBURNS = 256
EMPTY_METADATA = b""

ERRORS = ErrorTable(MODULE, {
    "EDEALER": (0, " The `DesignatedDealer` resource is in an invalid state"),
    "EINVALID_MINT_AMOUNT": (4, " A zero mint amount was provided"),
})


@struct(MODULE, KEY)
class Dealer(Struct):
    """Every DD holds this; all ReceivedMintEvents (every currency) go to `mint_event_handle`."""

    __slots__ = ()
    FIELDS = (("mint_event_handle", StructField(EventHandle)),)


@struct(MODULE, STORE)
class PreburnWithMetadata(Struct):
    """One queued burn request (BCS layout of Diem's `PreburnWithMetadata{Preburn{Diem{value}}, metadata}`)."""

    __slots__ = ()
    FIELDS = (("to_burn_value", U64), ("metadata", BYTES))


@struct(MODULE, KEY, type_params=1)
class PreburnQueue(Struct):
    """FIFO of a DD's outstanding burn requests in one currency; the coins sit in CurrencyInfo.preburn_value."""

    __slots__ = ()
    FIELDS = (("preburns", Vector(StructField(PreburnWithMetadata))),)


@struct(MODULE, DROP | STORE)
class ReceivedMintEvent(Struct):
    """`amount` of `currency_code` was minted to `destination_address`."""

    __slots__ = ()
    FIELDS = (("currency_code", BYTES), ("destination_address", ADDRESS), ("amount", U64))


DEALER = Dealer.rtype()


@lru_cache(maxsize=None)
def event_tag(name: str) -> StructTag:
    """Return the StructTag of one of this module's event types."""
    return StructTag(AccountAddress.CORE_CODE, MODULE.name, name, ())


def queue_type(ccy: StructTag) -> ResourceType:
    """Return PreburnQueue<ccy>."""
    return PreburnQueue.of(ccy)


# ------------------------------------------------------------ publishing
def publish_dealer(ctx: Context, dd: Signer, ccy: StructTag, add_all_currencies: bool) -> None:
    """Publish Dealer (first handle of the DD) then the preburn queue of ccy, or of XUS if add_all (hook)."""
    roles.assert_designated_dealer(ctx, dd)
    if ctx.exists(DEALER, dd.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EDEALER")
    ctx.move_to(_W, dd, Dealer(_W, ctx.new_event_handle(dd)))
    queue_ccy = currency.tag_of_code(b"XUS") if add_all_currencies else ccy
    publish_preburn_queue(ctx, dd, queue_ccy)


def publish_preburn_queue(ctx: Context, dd: Signer, ccy: StructTag) -> None:
    """Publish an empty PreburnQueue<ccy> on a DD (synthetic currencies cannot be preburned)."""
    if not ctx.exists(DEALER, dd.address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EDEALER")
    if currency.get_currency_info(ctx, ccy).is_synthetic:
        raise currency.ERRORS.abort(Category.INVALID_ARGUMENT, "EIS_SYNTHETIC_CURRENCY")
    if ctx.exists(queue_type(ccy), dd.address):
        raise currency.ERRORS.abort(Category.ALREADY_PUBLISHED, "EPREBURN_QUEUE")
    ctx.move_to(_W, dd, queue_type(ccy).pack(_W, preburns=()))


# --------------------------------------------------------------- queries
def is_dealer(ctx: Context, address: bytes) -> bool:
    """Return True iff a Dealer resource is published at address."""
    return ctx.exists(DEALER, address)


def get_mint_event_key(ctx: Context, address: bytes) -> bytes | None:
    """Return the DD's received-mint event key, or None when address is no dealer."""
    dealer = ctx.get(DEALER, address)
    return None if dealer is None else dealer.mint_event_handle.guid


def get_preburns(ctx: Context, address: bytes, ccy: StructTag) -> tuple[tuple[int, bytes], ...] | None:
    """Return the queued (amount, metadata) requests oldest first, or None when there is no queue."""
    queue = ctx.get(queue_type(ccy), address)
    if queue is None:
        return None
    return tuple((item.to_burn_value, item.metadata) for item in queue.preburns)


def get_preburn_total(ctx: Context, address: bytes, ccy: StructTag) -> int:
    """Return the sum of the DD's queued preburns in ccy (0 without a queue)."""
    return sum(amount for amount, _ in get_preburns(ctx, address, ccy) or ())


# ------------------------------------------------------------------ mint
def tiered_mint(ctx: Context, tc: Signer, ccy: StructTag, dd_address: bytes, amount: int, tier_index: int) -> None:
    """Mint amount of ccy to a DD: ReceivedMintEvent, MintEvent, ReceivedPaymentEvent(payer 0x0)."""
    from contracts.framework import account

    del tier_index  # tiers are deprecated in Diem: accepted for compatibility, ignored
    roles.assert_treasury_compliance(ctx, tc)
    if amount == 0:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_MINT_AMOUNT")
    if not ctx.exists(DEALER, dd_address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EDEALER")
    pause.assert_not_paused(ctx)
    currency.assert_is_currency(ctx, ccy)
    code = currency.code_of(ccy)
    dealer = ctx.borrow_mut(_W, DEALER, dd_address)
    event = ReceivedMintEvent(_W, code, dd_address, amount)
    ctx.emit(dealer.mint_event_handle, event_tag("ReceivedMintEvent"), event.to_bytes())
    cap = currency.borrow_mint_capability(ctx, tc, ccy)
    coin = currency.mint_with_capability(ctx, cap, ccy, amount)
    # Checked after the supply grew, so "not mintable" (1281) wins over reserve codes, as for XDX.
    reserves.assert_supply_backed(ctx, ccy)
    account.deposit(ctx, VM_RESERVED, dd_address, coin, EMPTY_METADATA, EMPTY_METADATA)


# --------------------------------------------------------------- preburn
def preburn(ctx: Context, dd: Signer, ccy: StructTag, amount: int) -> None:
    """Move amount from a DD's balance to the end of its queue: SentPaymentEvent(payee=DD), PreburnEvent."""
    from contracts.framework import account

    coin = account.withdraw_from(ctx, dd, dd.address, ccy, amount, EMPTY_METADATA)
    roles.assert_designated_dealer(ctx, dd)
    # Every queued request is non-zero, so burns and cancels can match by amount.
    if amount == 0:
        raise currency.ERRORS.abort(Category.INVALID_ARGUMENT, "ECOIN")
    rtype = queue_type(ccy)
    if not ctx.exists(rtype, dd.address):
        raise currency.ERRORS.abort(Category.INVALID_STATE, "EPREBURN_QUEUE")
    queue = ctx.borrow_mut(_W, rtype, dd.address)
    if len(queue.preburns) >= MAX_OUTSTANDING_PREBURNS:
        raise currency.ERRORS.abort(Category.LIMIT_EXCEEDED, "EPREBURN_QUEUE")
    currency.preburn_coin(ctx, coin, dd.address)
    queue.preburns = queue.preburns + (PreburnWithMetadata(_W, amount, EMPTY_METADATA),)


def _remove_oldest(ctx: Context, ccy: StructTag, preburn_address: bytes, amount: int) -> None:
    rtype = queue_type(ccy)
    if not ctx.exists(rtype, preburn_address):
        raise currency.ERRORS.abort(Category.NOT_PUBLISHED, "EPREBURN_QUEUE")
    preburns = ctx.get(rtype, preburn_address).preburns
    for index, item in enumerate(preburns):
        if item.to_burn_value == amount:
            queue = ctx.borrow_mut(_W, rtype, preburn_address)
            queue.preburns = queue.preburns[:index] + queue.preburns[index + 1:]
            return
    raise currency.ERRORS.abort(Category.INVALID_STATE, "EPREBURN_NOT_FOUND")


def _get_burn_capability(ctx: Context, account: Signer, ccy: StructTag) -> currency.BurnCapability:
    # As Diem::burn / cancel_burn: holding the capability is the permission (abort 4 without it).
    cap = ctx.get(currency.BurnCapability.of(ccy), account.address)
    if cap is None:
        raise currency.ERRORS.abort(Category.REQUIRES_CAPABILITY, "EBURN_CAPABILITY")
    return cap


def burn_with_amount(ctx: Context, tc: Signer, ccy: StructTag, preburn_address: bytes, amount: int) -> None:
    """Burn the oldest queued request of exactly amount (TC): supply and preburn decrease, BurnEvent."""
    cap = _get_burn_capability(ctx, tc, ccy)
    _remove_oldest(ctx, ccy, preburn_address, amount)
    currency.burn_preburned(ctx, cap, ccy, amount, preburn_address)


def cancel_burn_with_amount(ctx: Context, tc: Signer, ccy: StructTag, preburn_address: bytes, amount: int) -> None:
    """Return the oldest queued request of amount to the DD (TC): CancelBurnEvent, ReceivedPaymentEvent."""
    from contracts.framework import account

    cap = _get_burn_capability(ctx, tc, ccy)
    _remove_oldest(ctx, ccy, preburn_address, amount)
    coin = currency.cancel_preburn(ctx, cap, ccy, amount, preburn_address)
    account.deposit(ctx, preburn_address, preburn_address, coin, EMPTY_METADATA, EMPTY_METADATA)
