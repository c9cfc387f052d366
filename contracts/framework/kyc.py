"""KYC (beyond Diem): per-account KYC records and per-tier transfer limits, enforced by every validator."""

# A `KycRecord{tier, expiration_us, provider, set_by, updated_at_us}` sits on a VASP account; treasury
# compliance sets it on any VASP, a parent VASP on its own children (never above its own tier).
# A missing or expired record means tier 0. `KycPolicy<C>` (Diem root) holds per-tier limits: a
# per-transfer cap, and inflow / outflow / holding over a window. A currency's policy is enforced once
# its tier-0 limits exist; a tier without limits of its own uses the highest defined tier below it.
# `check_transfer` (called from every deposit) applies the payer's outgoing and the payee's incoming
# limits to VASP accounts; designated dealers, mints (payer 0x0) and self-payments are exempt.
# Usage windows (`KycUsage<C>` per account) reset once `now > window_start + window_us` (as Diem's).

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from contracts.framework import DIEM_ROOT, TREASURY_COMPLIANCE, account, currency, roles, vasp
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import DROP, KEY, STORE, Module, ResourceType, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BOOL, BYTES, U64, StructField, Vector, encode_values
from primitives.limits import U64_MAX
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("KYC")
_W = MODULE.claim()
BASE_TIER = 0
MAX_KYC_TIER = 7
MAX_PROVIDER_LENGTH_BYTES = 64

ERRORS = ErrorTable(MODULE, {
    "EKYC_RECORD": (0, " The account has no KYC record"),
    "EINVALID_TIER": (1, " The KYC tier is above MAX_KYC_TIER"),
    "ENOT_CHILD_OF_SENDER": (2, " A parent VASP may only set KYC records on its own child accounts"),
    "ETIER_ABOVE_PARENT": (3, " A parent VASP may not grant a child a tier above its own effective tier"),
    "EPAYER_TRANSFER_CAP": (4, " The amount exceeds the per-transfer cap of the payer's KYC tier"),
    "EPAYEE_TRANSFER_CAP": (5, " The amount exceeds the per-transfer cap of the payee's KYC tier"),
    "EOUTFLOW_LIMIT": (6, " The payment would exceed the payer's KYC outflow limit for the current window"),
    "EINFLOW_LIMIT": (7, " The payment would exceed the payee's KYC inflow limit for the current window"),
    "EHOLDING_LIMIT": (8, " The payment would make the payee's balance exceed its KYC holding limit"),
    "EKYC_POLICY": (9, " The `KycPolicy` resource for the currency is in an invalid state"),
    "EINVALID_TIER_LIMITS": (10, " Tier limits need a window above zero"),
    "EKYC_EVENTS": (11, " The `KycEventsHolder` resource is in an invalid state"),
    "ENOT_KYC_SUBJECT": (12, " KYC records can only be set on parent or child VASP accounts"),
    "EEXPIRATION_IN_PAST": (13, " The KYC record's expiration is not after the current block time"),
    "EPROVIDER_TOO_LONG": (14, " The KYC provider identifier is longer than MAX_PROVIDER_LENGTH_BYTES"),
})


@struct(MODULE, KEY)
class KycRecord(Struct):
    """An account's verified tier, valid until `expiration_us` (block time), attested by `provider`."""

    __slots__ = ()
    FIELDS = (
        ("tier", U64), ("expiration_us", U64), ("provider", BYTES), ("set_by", ADDRESS), ("updated_at_us", U64),
    )


@struct(MODULE, KEY, type_params=1)
class KycUsage(Struct):
    """An account's KYC-counted flows in C during the current window."""

    __slots__ = ()
    FIELDS = (("window_start_us", U64), ("window_inflow", U64), ("window_outflow", U64))


@struct(MODULE, STORE)
class TierLimits(Struct):
    """Limits of one tier: per-transfer cap, and inflow / outflow / holding over `window_us`."""

    __slots__ = ()
    FIELDS = (
        ("tier", U64), ("max_per_transfer", U64), ("max_inflow", U64), ("max_outflow", U64), ("max_holding", U64),
        ("window_us", U64),
    )


@struct(MODULE, KEY, type_params=1)
class KycPolicy(Struct):
    """At Diem root, per currency: tier limits sorted by tier, and the stream of their changes."""

    __slots__ = ()
    FIELDS = (("tiers", Vector(StructField(TierLimits))), ("policy_events", StructField(EventHandle)))


@struct(MODULE, KEY)
class KycEventsHolder(Struct):
    """At Diem root: the stream of KYC record changes."""

    __slots__ = ()
    FIELDS = (("record_events", StructField(EventHandle)),)


@struct(MODULE, DROP | STORE)
class KycRecordUpdateEvent(Struct):
    """The record of `address` was set (or `removed`) by `set_by`."""

    __slots__ = ()
    FIELDS = (
        ("address", ADDRESS), ("tier", U64), ("expiration_us", U64), ("provider", BYTES), ("set_by", ADDRESS),
        ("removed", BOOL),
    )


@struct(MODULE, DROP | STORE)
class KycTierLimitsUpdateEvent(Struct):
    """The limits of one tier in `currency_code` were set (or `removed`)."""

    __slots__ = ()
    FIELDS = (
        ("currency_code", BYTES), ("tier", U64), ("max_per_transfer", U64), ("max_inflow", U64), ("max_outflow", U64),
        ("max_holding", U64), ("window_us", U64), ("removed", BOOL),
    )


RECORD = KycRecord.rtype()
EVENTS = KycEventsHolder.rtype()


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits that apply to one account (a plain value for pure checks)."""

    tier: int
    max_per_transfer: int
    max_inflow: int
    max_outflow: int
    max_holding: int
    window_us: int


@lru_cache(maxsize=None)
def event_tag(name: str) -> StructTag:
    """Return the StructTag of one of this module's event types."""
    return StructTag(AccountAddress.CORE_CODE, MODULE.name, name, ())


def policy_type(ccy: StructTag) -> ResourceType:
    """Return KycPolicy<ccy>."""
    return KycPolicy.of(ccy)


def usage_type(ccy: StructTag) -> ResourceType:
    """Return KycUsage<ccy>."""
    return KycUsage.of(ccy)


# ---------------------------------------------------------------- genesis
def initialize(ctx: Context, dr: Signer) -> None:
    """Publish the record-event holder and an empty (not enforced) policy per registered currency."""
    roles.assert_diem_root(ctx, dr)
    if ctx.exists(EVENTS, dr.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EKYC_EVENTS")
    ctx.move_to(_W, dr, KycEventsHolder(_W, ctx.new_event_handle(dr)))
    for code in currency.get_registered_codes(ctx):
        rtype = policy_type(currency.tag_of_code(code))
        if not ctx.exists(rtype, dr.address):
            ctx.move_to(_W, dr, rtype.pack(_W, tiers=(), policy_events=ctx.new_event_handle(dr)))


# ------------------------------------------------------------ pure rules
def compute_effective_tier(record: KycRecord | None, now_us: int) -> int:
    """Return the record's tier while it is unexpired, else the base tier 0."""
    if record is None or now_us >= record.expiration_us:
        return BASE_TIER
    return record.tier


def compute_tier_limits(tiers: tuple[TierLimits, ...], tier: int) -> Limits | None:
    """Return the limits of the highest defined tier <= tier (None when tier 0 is undefined)."""
    chosen = None
    for entry in tiers:
        if entry.tier <= tier:
            chosen = entry
    if chosen is None:
        return None
    return Limits(tier, chosen.max_per_transfer, chosen.max_inflow, chosen.max_outflow, chosen.max_holding,
                  chosen.window_us)


def is_enforced(policy: KycPolicy | None) -> bool:
    """Return True iff the currency's policy defines tier-0 limits."""
    return policy is not None and bool(policy.tiers) and policy.tiers[0].tier == BASE_TIER


def compute_usage_after_reset(usage: KycUsage | None, window_us: int, now_us: int) -> tuple[int, int, int]:
    """Return (start, inflow, outflow): a fresh window when none exists or once now > start + window."""
    if usage is None or now_us > usage.window_start_us + window_us:
        return now_us, 0, 0
    return usage.window_start_us, usage.window_inflow, usage.window_outflow


# ------------------------------------------------------------------ hook
def is_subject(ctx: Context, address: bytes) -> bool:
    """Return True iff KYC limits apply to the account (parent and child VASPs)."""
    return roles.is_vasp(ctx, address)


def get_limits(ctx: Context, address: bytes, ccy: StructTag) -> Limits | None:
    """Return the KYC limits applying to address in ccy now (None when the policy is not enforced)."""
    policy = ctx.get(policy_type(ccy), DIEM_ROOT)
    if not is_enforced(policy):
        return None
    tier = compute_effective_tier(ctx.get(RECORD, address), ctx.now_microseconds())
    return compute_tier_limits(policy.tiers, tier)


def check_transfer(ctx: Context, payer: bytes, payee: bytes, currency_code: bytes, amount: int) -> None:
    """Abort when a payment breaks the payer's or payee's KYC tier limits; else record it in their windows."""
    if payer == payee:
        return
    ccy = currency.tag_of_code(currency_code)
    policy = ctx.get(policy_type(ccy), DIEM_ROOT)
    if not is_enforced(policy):
        return
    now_us = ctx.now_microseconds()
    updates = []
    if is_subject(ctx, payer):
        updates.append(_check_outgoing(ctx, policy, ccy, payer, amount, now_us))
    if is_subject(ctx, payee):
        updates.append(_check_incoming(ctx, policy, ccy, payee, amount, now_us))
    # All checks pass before anything is written.
    for address, window in updates:
        _save_usage(ctx, ccy, address, window)


def _limits_at(ctx: Context, policy: KycPolicy, address: bytes, now_us: int) -> Limits:
    tier = compute_effective_tier(ctx.get(RECORD, address), now_us)
    return compute_tier_limits(policy.tiers, tier)


def _check_outgoing(
    ctx: Context, policy: KycPolicy, ccy: StructTag, payer: bytes, amount: int, now_us: int
) -> tuple[bytes, tuple[int, int, int]]:
    limits = _limits_at(ctx, policy, payer, now_us)
    if amount > limits.max_per_transfer:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EPAYER_TRANSFER_CAP")
    start, inflow, outflow = compute_usage_after_reset(ctx.get(usage_type(ccy), payer), limits.window_us, now_us)
    if outflow + amount > limits.max_outflow:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EOUTFLOW_LIMIT")
    return payer, (start, inflow, outflow + amount)


def _check_incoming(
    ctx: Context, policy: KycPolicy, ccy: StructTag, payee: bytes, amount: int, now_us: int
) -> tuple[bytes, tuple[int, int, int]]:
    limits = _limits_at(ctx, policy, payee, now_us)
    if amount > limits.max_per_transfer:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EPAYEE_TRANSFER_CAP")
    start, inflow, outflow = compute_usage_after_reset(ctx.get(usage_type(ccy), payee), limits.window_us, now_us)
    if inflow + amount > limits.max_inflow:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EINFLOW_LIMIT")
    # Called before the coin lands, so the stored balance is the pre-payment one.
    if (account.get_balance(ctx, payee, ccy) or 0) + amount > limits.max_holding:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EHOLDING_LIMIT")
    return payee, (start, min(inflow + amount, U64_MAX), outflow)


def _save_usage(ctx: Context, ccy: StructTag, address: bytes, window: tuple[int, int, int]) -> None:
    rtype = usage_type(ccy)
    start, inflow, outflow = window
    if ctx.exists(rtype, address):
        usage = ctx.borrow_mut(_W, rtype, address)
        usage.window_start_us, usage.window_inflow, usage.window_outflow = start, inflow, outflow
    else:
        packed = rtype.pack(_W, window_start_us=start, window_inflow=inflow, window_outflow=outflow)
        ctx.move_to_address(_W, address, packed)


# ---------------------------------------------------------------- records
def set_record(ctx: Context, setter: Signer, address: bytes, tier: int, expiration_us: int, provider: bytes) -> None:
    """Set the KYC record of a VASP account (TC on any VASP, a parent on its children); emits an event."""
    _assert_may_set(ctx, setter, address)
    if tier > MAX_KYC_TIER:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_TIER")
    now_us = ctx.now_microseconds()
    if expiration_us <= now_us:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EEXPIRATION_IN_PAST")
    if len(provider) > MAX_PROVIDER_LENGTH_BYTES:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EPROVIDER_TOO_LONG")
    if setter.address != TREASURY_COMPLIANCE:
        own_tier = compute_effective_tier(ctx.get(RECORD, setter.address), now_us)
        if tier > own_tier:
            raise ERRORS.abort(Category.INVALID_ARGUMENT, "ETIER_ABOVE_PARENT")
    fields = {"tier": tier, "expiration_us": expiration_us, "provider": provider, "set_by": setter.address,
              "updated_at_us": now_us}
    if ctx.exists(RECORD, address):
        record = ctx.borrow_mut(_W, RECORD, address)
        for name, value in fields.items():
            setattr(record, name, value)
    else:
        ctx.move_to_address(_W, address, KycRecord(_W, **fields))
    _emit_record(ctx, address, tier, expiration_us, provider, setter.address, False)


def revoke_record(ctx: Context, setter: Signer, address: bytes) -> None:
    """Remove a KYC record (the account falls back to tier 0); same permissions as set_record."""
    _assert_may_set(ctx, setter, address)
    if not ctx.exists(RECORD, address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EKYC_RECORD")
    ctx.move_from(_W, RECORD, address)
    _emit_record(ctx, address, BASE_TIER, 0, b"", setter.address, True)


def _assert_may_set(ctx: Context, setter: Signer, address: bytes) -> None:
    if setter.address == TREASURY_COMPLIANCE:
        roles.assert_treasury_compliance(ctx, setter)
    else:
        roles.assert_parent_vasp_role(ctx, setter)
        # A parent vouches only for its own children, never for itself or another VASP.
        if not vasp.is_child(ctx, address) or vasp.parent_address(ctx, address) != setter.address:
            raise ERRORS.abort(Category.INVALID_ARGUMENT, "ENOT_CHILD_OF_SENDER")
    if not is_subject(ctx, address):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ENOT_KYC_SUBJECT")


def _emit_record(
    ctx: Context, address: bytes, tier: int, expiration_us: int, provider: bytes, set_by: bytes, removed: bool
) -> None:
    if not ctx.exists(EVENTS, DIEM_ROOT):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EKYC_EVENTS")
    holder = ctx.borrow_mut(_W, EVENTS, DIEM_ROOT)
    event = KycRecordUpdateEvent(_W, address, tier, expiration_us, provider, set_by, removed)
    ctx.emit(holder.record_events, event_tag("KycRecordUpdateEvent"), event.to_bytes())


# ------------------------------------------------------------ tier limits
def set_tier_limits(
    ctx: Context, tc: Signer, ccy: StructTag, tier: int, max_per_transfer: int, max_inflow: int, max_outflow: int,
    max_holding: int, window_us: int,
) -> None:
    """Set one tier's limits in ccy (TC only); setting tier 0 turns enforcement on. Emits an event."""
    policy = _borrow_policy(ctx, tc, ccy, tier)
    if window_us == 0:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_TIER_LIMITS")
    entry = TierLimits(_W, tier, max_per_transfer, max_inflow, max_outflow, max_holding, window_us)
    others = tuple(t for t in policy.tiers if t.tier != tier)
    policy.tiers = tuple(sorted(others + (entry,), key=lambda t: t.tier))
    _emit_tier(ctx, policy, ccy, entry.to_bytes(), False)


def remove_tier_limits(ctx: Context, tc: Signer, ccy: StructTag, tier: int) -> None:
    """Remove one tier's limits (TC only); removing tier 0 turns enforcement off. Emits an event."""
    policy = _borrow_policy(ctx, tc, ccy, tier)
    if all(t.tier != tier for t in policy.tiers):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_TIER")
    policy.tiers = tuple(t for t in policy.tiers if t.tier != tier)
    _emit_tier(ctx, policy, ccy, encode_values((U64, tier), (U64, 0), (U64, 0), (U64, 0), (U64, 0), (U64, 0)), True)


def _borrow_policy(ctx: Context, tc: Signer, ccy: StructTag, tier: int) -> KycPolicy:
    roles.assert_treasury_compliance(ctx, tc)
    currency.assert_is_currency(ctx, ccy)
    if tier > MAX_KYC_TIER:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_TIER")
    if not ctx.exists(policy_type(ccy), DIEM_ROOT):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EKYC_POLICY")
    return ctx.borrow_mut(_W, policy_type(ccy), DIEM_ROOT)


def _emit_tier(ctx: Context, policy: KycPolicy, ccy: StructTag, tier_bytes: bytes, removed: bool) -> None:
    payload = encode_values((BYTES, currency.code_of(ccy))) + tier_bytes + encode_values((BOOL, removed))
    ctx.emit(policy.policy_events, event_tag("KycTierLimitsUpdateEvent"), payload)


# --------------------------------------------------------------- queries
def get_record(ctx: Context, address: bytes) -> KycRecord | None:
    """Return the (read-only) KYC record of address, or None."""
    return ctx.get(RECORD, address)


def get_effective_tier(ctx: Context, address: bytes) -> int:
    """Return the tier in force for address at the current block time."""
    return compute_effective_tier(ctx.get(RECORD, address), ctx.now_microseconds())
