"""Script functions of the compliance framework, and its genesis initialisation."""

# `TreasuryComplianceScripts` keeps Diem's names and argument orders (sliding nonce first where Diem had
# one); the additions (wipe, pause, KYC, limits, minting-ability event) live there too because only TC
# may send them. `ComplianceScripts` holds the new entry points of other roles: parent VASPs (KYC of
# their children), reserve auditors (attestations) and Diem root (auditor list, attestation age).

from __future__ import annotations

from functools import lru_cache
from typing import Any

from contracts.framework import DIEM_ROOT, currency, designated_dealer, dual_attestation, freezing, kyc, limits
from contracts.framework import pause, reserves, roles, sliding_nonce
from contracts.scripts import ArgType, script_function
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import DROP, KEY, STORE, Module, Signer, Struct, struct
from contracts.vm.values import BOOL, BYTES, StructField
from primitives.limits import U64_MAX
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("TreasuryComplianceScripts")
_W = MODULE.claim()
FIXED_POINT32 = Module("FixedPoint32")
A = ArgType
TC_SCRIPTS = "TreasuryComplianceScripts"
COMPLIANCE_SCRIPTS = "ComplianceScripts"
FIXED_POINT32_FRACTION_BITS = 32

ERRORS = ErrorTable(MODULE, {
    "EMINT_ADMIN_EVENTS": (0, " The `MintAdminEvents` resource is in an invalid state"),
})
FIXED_POINT32_ERRORS = ErrorTable(FIXED_POINT32, {
    "EDENOMINATOR": (0x10001, " The denominator provided was zero"),
    "ERATIO_OUT_OF_RANGE": (
        0x20005, " The computed ratio when converting to a `FixedPoint32` would be unrepresentable"),
})


@struct(MODULE, KEY)
class MintAdminEvents(Struct):
    """At Diem root (beyond Diem): the stream of minting-ability changes."""

    __slots__ = ()
    FIELDS = (("minting_ability_events", StructField(EventHandle)),)


@struct(MODULE, DROP | STORE)
class MintingAbilityUpdateEvent(Struct):
    """Minting of `currency_code` was enabled (`can_mint`) or disabled."""

    __slots__ = ()
    FIELDS = (("currency_code", BYTES), ("can_mint", BOOL))


MINT_ADMIN_EVENTS = MintAdminEvents.rtype()


@lru_cache(maxsize=None)
def event_tag(name: str) -> StructTag:
    """Return the StructTag of one of this module's event types."""
    return StructTag(AccountAddress.CORE_CODE, MODULE.name, name, ())


def initialize_compliance(ctx: Context, dr: Signer, tc: Signer, config: Any = None) -> None:
    """Genesis, after currency registration: every compliance module's state at Diem root, then reserves."""
    roles.assert_treasury_compliance(ctx, tc)
    freezing.initialize(ctx, dr)
    pause.initialize(ctx, dr)
    limits.initialize(ctx, dr)
    kyc.initialize(ctx, dr)
    if ctx.exists(MINT_ADMIN_EVENTS, dr.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EMINT_ADMIN_EVENTS")
    ctx.move_to(_W, dr, MintAdminEvents(_W, ctx.new_event_handle(dr)))
    # Genesis may instead call reserves.initialize itself (hooks.initialize_reserves) without a config here.
    if config is not None:
        reserves.initialize(ctx, dr, config)


def compute_fixed_point32_from_rational(numerator: int, denominator: int) -> int:
    """Return the raw FixedPoint32 of numerator/denominator (truncated), aborting as Diem's FixedPoint32."""
    if denominator == 0:
        raise FIXED_POINT32_ERRORS.abort(Category.INVALID_ARGUMENT, "EDENOMINATOR")
    quotient = (numerator << FIXED_POINT32_FRACTION_BITS) // denominator
    if quotient == 0 and numerator != 0:
        raise FIXED_POINT32_ERRORS.abort(Category.INVALID_ARGUMENT, "ERATIO_OUT_OF_RANGE")
    if quotient > U64_MAX:
        raise FIXED_POINT32_ERRORS.abort(Category.LIMIT_EXCEEDED, "ERATIO_OUT_OF_RANGE")
    return quotient


# ------------------------------------------------------- mint and burn
@script_function(TC_SCRIPTS, "tiered_mint", 1, (A.U64, A.ADDRESS, A.U64, A.U64))
def tiered_mint(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int, dd_address: bytes,
                mint_amount: int, tier_index: int) -> None:
    """Mint to a designated dealer (events: ReceivedMintEvent, MintEvent, ReceivedPaymentEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    designated_dealer.tiered_mint(ctx, tc, ty_args[0], dd_address, mint_amount, tier_index)


@script_function(TC_SCRIPTS, "preburn", 1, (A.U64,))
def preburn(ctx: Context, account: Signer, ty_args: tuple, amount: int) -> None:
    """A DD queues amount for burning (events: SentPaymentEvent to itself, PreburnEvent)."""
    designated_dealer.preburn(ctx, account, ty_args[0], amount)


@script_function(TC_SCRIPTS, "burn_with_amount", 1, (A.U64, A.ADDRESS, A.U64))
def burn_with_amount(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int, preburn_address: bytes,
                     amount: int) -> None:
    """Burn the oldest queued preburn of exactly amount (event: BurnEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    designated_dealer.burn_with_amount(ctx, tc, ty_args[0], preburn_address, amount)


@script_function(TC_SCRIPTS, "cancel_burn_with_amount", 1, (A.ADDRESS, A.U64))
def cancel_burn_with_amount(ctx: Context, tc: Signer, ty_args: tuple, preburn_address: bytes, amount: int) -> None:
    """Return the oldest queued preburn of amount to the DD (events: CancelBurnEvent, ReceivedPaymentEvent)."""
    designated_dealer.cancel_burn_with_amount(ctx, tc, ty_args[0], preburn_address, amount)


# --------------------------------------------------- currency settings
@script_function(TC_SCRIPTS, "update_exchange_rate", 1, (A.U64, A.U64, A.U64))
def update_exchange_rate(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int, numerator: int,
                         denominator: int) -> None:
    """Set the currency's rate to XDX to numerator/denominator (event: ToXDXExchangeRateUpdateEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    rate_raw = compute_fixed_point32_from_rational(numerator, denominator)
    currency.update_xdx_exchange_rate(ctx, tc, ty_args[0], rate_raw)


@script_function(TC_SCRIPTS, "update_minting_ability", 1, (A.BOOL,))
def update_minting_ability(ctx: Context, tc: Signer, ty_args: tuple, allow_minting: bool) -> None:
    """Enable or disable minting (event, beyond Diem: MintingAbilityUpdateEvent)."""
    ccy = ty_args[0]
    currency.update_minting_ability(ctx, tc, ccy, allow_minting)
    if not ctx.exists(MINT_ADMIN_EVENTS, DIEM_ROOT):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EMINT_ADMIN_EVENTS")
    holder = ctx.borrow_mut(_W, MINT_ADMIN_EVENTS, DIEM_ROOT)
    event = MintingAbilityUpdateEvent(_W, currency.code_of(ccy), allow_minting)
    ctx.emit(holder.minting_ability_events, event_tag("MintingAbilityUpdateEvent"), event.to_bytes())


@script_function(TC_SCRIPTS, "update_dual_attestation_limit", 0, (A.U64, A.U64))
def update_dual_attestation_limit(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int,
                                  new_micro_xdx_limit: int) -> None:
    """Set the travel-rule threshold (event, beyond Diem: DualAttestationLimitUpdateEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    dual_attestation.set_microdiem_limit(ctx, tc, new_micro_xdx_limit)


# ------------------------------------------------ freeze, wipe, pause
@script_function(TC_SCRIPTS, "freeze_account", 0, (A.U64, A.ADDRESS))
def freeze_account(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int, to_freeze: bytes) -> None:
    """Freeze an account (event: FreezeAccountEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    freezing.freeze_account(ctx, tc, to_freeze)


@script_function(TC_SCRIPTS, "unfreeze_account", 0, (A.U64, A.ADDRESS))
def unfreeze_account(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int, to_unfreeze: bytes) -> None:
    """Unfreeze an account (event: UnfreezeAccountEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    freezing.unfreeze_account(ctx, tc, to_unfreeze)


@script_function(TC_SCRIPTS, "wipe_frozen_account", 1, (A.U64, A.ADDRESS))
def wipe_frozen_account(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int, address: bytes) -> None:
    """Burn a frozen account's balance (events: PreburnEvent, BurnEvent when non-zero, then WipeEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    freezing.wipe_frozen_account(ctx, tc, ty_args[0], address)


@script_function(TC_SCRIPTS, "pause_transfers", 0, (A.U64,))
def pause_transfers(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int) -> None:
    """Stop payments, preburns and mints (event: PauseEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    pause.pause(ctx, tc)


@script_function(TC_SCRIPTS, "unpause_transfers", 0, (A.U64,))
def unpause_transfers(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int) -> None:
    """Resume payments, preburns and mints (event: UnpauseEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    pause.unpause(ctx, tc)


# ------------------------------------------------------------------ KYC
@script_function(TC_SCRIPTS, "set_kyc_record", 0, (A.U64, A.ADDRESS, A.U64, A.U64, A.VECTOR_U8))
def set_kyc_record(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int, address: bytes, tier: int,
                   expiration_us: int, provider: bytes) -> None:
    """Set a VASP account's KYC record (event: KycRecordUpdateEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    # kyc.set_record also accepts parent VASPs; this entry point is treasury compliance's alone.
    roles.assert_treasury_compliance(ctx, tc)
    kyc.set_record(ctx, tc, address, tier, expiration_us, provider)


@script_function(TC_SCRIPTS, "revoke_kyc_record", 0, (A.U64, A.ADDRESS))
def revoke_kyc_record(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int, address: bytes) -> None:
    """Remove a KYC record (event: KycRecordUpdateEvent with removed = true)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    roles.assert_treasury_compliance(ctx, tc)
    kyc.revoke_record(ctx, tc, address)


@script_function(TC_SCRIPTS, "set_kyc_tier_limits", 1, (A.U64, A.U64, A.U64, A.U64, A.U64, A.U64, A.U64))
def set_kyc_tier_limits(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int, tier: int,
                        max_per_transfer: int, max_inflow: int, max_outflow: int, max_holding: int,
                        window_us: int) -> None:
    """Set one tier's limits (event: KycTierLimitsUpdateEvent); tier 0 turns enforcement on."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    kyc.set_tier_limits(ctx, tc, ty_args[0], tier, max_per_transfer, max_inflow, max_outflow, max_holding, window_us)


@script_function(TC_SCRIPTS, "remove_kyc_tier_limits", 1, (A.U64, A.U64))
def remove_kyc_tier_limits(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int, tier: int) -> None:
    """Remove one tier's limits (event: KycTierLimitsUpdateEvent with removed = true)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    kyc.remove_tier_limits(ctx, tc, ty_args[0], tier)


# --------------------------------------------------------- account limits
@script_function(TC_SCRIPTS, "publish_account_limit_definition", 1, (A.U64, A.ADDRESS, A.U64, A.U64, A.U64, A.U64))
def publish_account_limit_definition(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int,
                                     limit_address: bytes, max_inflow: int, max_outflow: int, max_holding: int,
                                     time_period: int) -> None:
    """Publish a limits definition at an account (event: LimitsDefinitionUpdateEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    limits.publish_limits_definition(ctx, tc, ty_args[0], limit_address, max_inflow, max_outflow, max_holding,
                                     time_period)


@script_function(TC_SCRIPTS, "update_account_limit_definition", 1, (A.U64, A.ADDRESS, A.U64, A.U64, A.U64, A.U64))
def update_account_limit_definition(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int,
                                    limit_address: bytes, new_max_inflow: int, new_max_outflow: int,
                                    new_max_holding_balance: int, new_time_period: int) -> None:
    """Update a limits definition, 0 = unchanged (event: LimitsDefinitionUpdateEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    limits.update_limits_definition(ctx, tc, ty_args[0], limit_address, new_max_inflow, new_max_outflow,
                                    new_max_holding_balance, new_time_period)


@script_function(TC_SCRIPTS, "publish_account_limit_window", 1, (A.U64, A.ADDRESS, A.ADDRESS))
def publish_account_limit_window(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int,
                                 parent_address: bytes, limit_address: bytes) -> None:
    """Start limiting a parent VASP and its children (event: WindowUpdateEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    limits.publish_window(ctx, tc, ty_args[0], parent_address, limit_address)


@script_function(TC_SCRIPTS, "update_account_limit_window_info", 1, (A.U64, A.ADDRESS, A.U64, A.ADDRESS))
def update_account_limit_window_info(ctx: Context, tc: Signer, ty_args: tuple, sliding_nonce_value: int,
                                     window_address: bytes, aggregate_balance: int, new_limit_address: bytes) -> None:
    """Re-balance / re-point a window, balance 0 = unchanged (event: WindowUpdateEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, sliding_nonce_value)
    limits.update_window_info(ctx, tc, ty_args[0], window_address, aggregate_balance, new_limit_address)


# ------------------------------------------- other roles (ComplianceScripts)
@script_function(COMPLIANCE_SCRIPTS, "set_child_kyc_record", 0, (A.ADDRESS, A.U64, A.U64, A.VECTOR_U8))
def set_child_kyc_record(ctx: Context, parent: Signer, ty_args: tuple, child: bytes, tier: int, expiration_us: int,
                         provider: bytes) -> None:
    """A parent VASP sets its child's KYC record, at most its own tier (event: KycRecordUpdateEvent)."""
    kyc.set_record(ctx, parent, child, tier, expiration_us, provider)


@script_function(COMPLIANCE_SCRIPTS, "revoke_child_kyc_record", 0, (A.ADDRESS,))
def revoke_child_kyc_record(ctx: Context, parent: Signer, ty_args: tuple, child: bytes) -> None:
    """A parent VASP removes its child's KYC record (event: KycRecordUpdateEvent, removed)."""
    kyc.revoke_record(ctx, parent, child)


@script_function(COMPLIANCE_SCRIPTS, "record_reserve_attestation", 1, (A.U64, A.VECTOR_U8, A.U64))
def record_reserve_attestation(ctx: Context, auditor: Signer, ty_args: tuple, amount: int, report_hash: bytes,
                               attested_at_us: int) -> None:
    """A reserve auditor records attested reserves (event: ReserveAttestationEvent)."""
    reserves.record_attestation(ctx, auditor, ty_args[0], amount, report_hash, attested_at_us)


@script_function(COMPLIANCE_SCRIPTS, "add_reserve_auditor", 0, (A.U64, A.ADDRESS))
def add_reserve_auditor(ctx: Context, dr: Signer, ty_args: tuple, sliding_nonce_value: int, auditor: bytes) -> None:
    """Diem root registers a reserve auditor (event: ReserveAuditorChangeEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, dr, sliding_nonce_value)
    reserves.add_auditor(ctx, dr, auditor)


@script_function(COMPLIANCE_SCRIPTS, "remove_reserve_auditor", 0, (A.U64, A.ADDRESS))
def remove_reserve_auditor(ctx: Context, dr: Signer, ty_args: tuple, sliding_nonce_value: int, auditor: bytes) -> None:
    """Diem root deregisters a reserve auditor (event: ReserveAuditorChangeEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, dr, sliding_nonce_value)
    reserves.remove_auditor(ctx, dr, auditor)


@script_function(COMPLIANCE_SCRIPTS, "set_max_reserve_age", 1, (A.U64, A.U64))
def set_max_reserve_age(ctx: Context, dr: Signer, ty_args: tuple, sliding_nonce_value: int, max_age_us: int) -> None:
    """Diem root sets how old an attestation may be for minting (event: ReserveConfigUpdateEvent)."""
    sliding_nonce.record_nonce_or_abort(ctx, dr, sliding_nonce_value)
    reserves.set_max_attestation_age(ctx, dr, ty_args[0], max_age_us)


# ------------------------------------------------------ readers for RPC / regulators
EVENT_STRUCTS = {
    cls.rtype().struct_tag: cls
    for cls in (
        freezing.FreezeAccountEvent, freezing.UnfreezeAccountEvent, freezing.WipeEvent, pause.PauseEvent,
        pause.UnpauseEvent, limits.LimitsDefinitionUpdateEvent, limits.WindowUpdateEvent, kyc.KycRecordUpdateEvent,
        kyc.KycTierLimitsUpdateEvent, reserves.ReserveAttestationEvent, reserves.ReserveAuditorChangeEvent,
        reserves.ReserveConfigUpdateEvent, designated_dealer.ReceivedMintEvent, MintingAbilityUpdateEvent,
    )
}


def decode_event(type_tag: StructTag, data: bytes) -> dict[str, Any] | None:
    """Return the fields of a compliance event (addresses and byte strings as bytes), or None if not ours."""
    cls = EVENT_STRUCTS.get(type_tag)
    if cls is None:
        return None
    value = cls.rtype().decode(data)
    return {name: getattr(value, name) for name, _ in cls.FIELDS}


def get_compliance_event_keys(ctx: Context) -> dict[str, bytes]:
    """Return the event key of every compliance stream at Diem root (per currency for policy and reserves)."""
    keys: dict[str, bytes] = {}
    sources = (
        (freezing.FREEZE_EVENTS, ("freeze_event_handle", "unfreeze_event_handle")),
        (freezing.WIPE_EVENTS, ("wipe_event_handle",)),
        (pause.PAUSE_STATE, ("pause_event_handle", "unpause_event_handle")),
        (limits.EVENTS, ("definition_events", "window_events")),
        (kyc.EVENTS, ("record_events",)),
        (reserves.AUDITORS, ("change_events",)),
        (MINT_ADMIN_EVENTS, ("minting_ability_events",)),
    )
    for rtype, names in sources:
        holder = ctx.get(rtype, DIEM_ROOT)
        for name in names if holder is not None else ():
            keys[name] = getattr(holder, name).guid
    for code in currency.get_registered_codes(ctx):
        ccy = currency.tag_of_code(code)
        policy = ctx.get(kyc.policy_type(ccy), DIEM_ROOT)
        record = ctx.get(reserves.record_type(ccy), DIEM_ROOT)
        label = code.decode("ascii")
        if policy is not None:
            keys[f"kyc_policy_events/{label}"] = policy.policy_events.guid
        if record is not None:
            keys[f"reserve_attestation_events/{label}"] = record.attestation_events.guid
            keys[f"reserve_config_events/{label}"] = record.config_events.guid
    return keys
