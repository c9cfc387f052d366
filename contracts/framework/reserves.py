"""Reserves (beyond Diem): auditors attest the off-chain reserve per currency; mints must stay backed."""

# State at Diem root: `ReserveAuditors` (who may attest) and one `ReserveRecord<C>` per fiat currency
# (the latest `MAX_RESERVE_HISTORY` attestations, the maximum attestation age, two event streams).
# An attestation is (amount in on-chain base units, 32-byte report hash, the auditor's attestation
# time). A mint aborts with `Reserves` codes when the currency has no attestation, when the latest is
# older than the maximum age (block time), or when total supply would exceed the attested amount.
# An attestation below the current supply is recorded all the same (it is a fact the regulator must
# see); it carries the supply at recording time, and no mint can succeed until reserves cover supply.

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from contracts.framework import DIEM_ROOT, currency, roles
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import DROP, KEY, STORE, Module, ResourceType, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BOOL, BYTES, U64, U128, StructField, Vector, encode_values
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("Reserves")
_W = MODULE.claim()
REPORT_HASH_LENGTH = 32
MAX_RESERVE_HISTORY = 64
MAX_RESERVE_AUDITORS = 16
MICROS_PER_DAY = 86_400_000_000
DEFAULT_MAX_RESERVE_AGE_US = 35 * MICROS_PER_DAY  # monthly attestations plus a grace period

ERRORS = ErrorTable(MODULE, {
    "ERESERVE_RECORD": (0, " The currency has no `ReserveRecord` (it is not reserve-backed)"),
    "ENOT_AUDITOR": (1, " The sender is not a registered reserve auditor"),
    "ENO_ATTESTATION": (2, " No reserve attestation has been recorded for the currency, so it cannot be minted"),
    "ESUPPLY_EXCEEDS_RESERVES": (3, " The mint would make total supply exceed the latest attested reserves"),
    "EATTESTATION_STALE": (4, " The latest reserve attestation is older than the maximum attestation age"),
    "EINVALID_REPORT_HASH": (5, " The attestation report hash is not 32 bytes"),
    "EATTESTATION_IN_FUTURE": (6, " The attestation time is after the current block time"),
    "EATTESTATION_OUT_OF_ORDER": (7, " The attestation time is earlier than the latest recorded attestation"),
    "EAUDITOR_ALREADY_REGISTERED": (8, " The address is already a registered reserve auditor"),
    "EAUDITOR_NOT_FOUND": (9, " The address is not a registered reserve auditor"),
    "EINVALID_MAX_AGE": (10, " The maximum attestation age must be greater than zero"),
    "ETOO_MANY_AUDITORS": (11, " The number of reserve auditors would exceed MAX_RESERVE_AUDITORS"),
    "ERESERVE_AUDITORS": (12, " A property expected of the `ReserveAuditors` resource didn't hold"),
})


@struct(MODULE, STORE)
class Attestation(Struct):
    """One attested reserve figure; `supply_at_record` is the currency's total supply when it was recorded."""

    __slots__ = ()
    FIELDS = (
        ("sequence", U64), ("amount", U128), ("report_hash", BYTES), ("attested_at_us", U64),
        ("recorded_at_us", U64), ("auditor", ADDRESS), ("supply_at_record", U128),
    )


@struct(MODULE, KEY, type_params=1)
class ReserveRecord(Struct):
    """At Diem root, per currency: recent attestations (newest last), total count, max age, event streams."""

    __slots__ = ()
    FIELDS = (
        ("attestations", Vector(StructField(Attestation))), ("attestation_count", U64),
        ("max_attestation_age_us", U64), ("attestation_events", StructField(EventHandle)),
        ("config_events", StructField(EventHandle)),
    )


@struct(MODULE, KEY)
class ReserveAuditors(Struct):
    """At Diem root: the addresses allowed to record attestations, and the stream of changes to that list."""

    __slots__ = ()
    FIELDS = (("auditors", Vector(ADDRESS)), ("change_events", StructField(EventHandle)))


@struct(MODULE, DROP | STORE)
class ReserveAttestationEvent(Struct):
    """An attestation was recorded (amount vs the supply at that moment)."""

    __slots__ = ()
    FIELDS = (
        ("currency_code", BYTES), ("sequence", U64), ("amount", U128), ("report_hash", BYTES),
        ("attested_at_us", U64), ("auditor", ADDRESS), ("total_supply", U128),
    )


@struct(MODULE, DROP | STORE)
class ReserveAuditorChangeEvent(Struct):
    """An auditor was added (`added`) or removed by `initiator_address`."""

    __slots__ = ()
    FIELDS = (("auditor", ADDRESS), ("added", BOOL), ("initiator_address", ADDRESS))


@struct(MODULE, DROP | STORE)
class ReserveConfigUpdateEvent(Struct):
    """The maximum attestation age of a currency changed."""

    __slots__ = ()
    FIELDS = (("currency_code", BYTES), ("max_attestation_age_us", U64))


AUDITORS = ReserveAuditors.rtype()


@dataclass(frozen=True, slots=True)
class AttestationView:
    """A recorded attestation, as the proof-of-reserves query returns it."""

    sequence: int
    amount: int
    report_hash: bytes
    attested_at_us: int
    recorded_at_us: int
    auditor: bytes
    supply_at_record: int


@dataclass(frozen=True, slots=True)
class ProofOfReserves:
    """Supply against reserves for one currency at one version (margin = reserves - supply)."""

    currency_code: bytes
    total_supply: int
    preburn_value: int
    latest: AttestationView | None
    history: tuple[AttestationView, ...]
    attestation_count: int
    max_attestation_age_us: int
    age_us: int | None
    margin: int | None
    is_stale: bool
    is_fully_backed: bool


@lru_cache(maxsize=None)
def event_tag(name: str) -> StructTag:
    """Return the StructTag of one of this module's event types."""
    return StructTag(AccountAddress.CORE_CODE, MODULE.name, name, ())


def record_type(ccy: StructTag) -> ResourceType:
    """Return ReserveRecord<ccy>."""
    return ReserveRecord.of(ccy)


# ---------------------------------------------------------------- genesis
def initialize(ctx: Context, dr: Signer, config: Any) -> None:
    """Publish the auditor list and a record per fiat currency with the initial attestations (genesis)."""
    roles.assert_diem_root(ctx, dr)
    if ctx.exists(AUDITORS, dr.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "ERESERVE_AUDITORS")
    # Genesis config lists (address, public key) pairs; plain addresses are accepted too.
    auditors = tuple(
        bytes(entry[0]) if isinstance(entry, tuple) else bytes(entry)
        for entry in (getattr(config, "reserve_auditors", None) or ())
    )
    if len(auditors) > MAX_RESERVE_AUDITORS:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "ETOO_MANY_AUDITORS")
    ctx.move_to(_W, dr, ReserveAuditors(_W, auditors, ctx.new_event_handle(dr)))
    max_age_us = getattr(config, "max_reserve_age_us", None) or DEFAULT_MAX_RESERVE_AGE_US
    initial = _normalize_initial(getattr(config, "initial_reserves", None) or {})
    for code in currency.get_registered_codes(ctx):
        ccy = currency.tag_of_code(code)
        if currency.get_currency_info(ctx, ccy).is_synthetic:
            continue
        publish_record(ctx, dr, ccy, max_age_us)
        if code in initial:
            amount, report_hash, attested_at_us = initial[code]
            _record(ctx, ccy, dr.address, amount, report_hash, attested_at_us, is_genesis=True)


def _normalize_initial(initial: dict) -> dict[bytes, tuple[int, bytes, int]]:
    return {(k.encode("ascii") if isinstance(k, str) else bytes(k)): tuple(v) for k, v in initial.items()}


def publish_record(ctx: Context, dr: Signer, ccy: StructTag, max_age_us: int) -> None:
    """Publish an empty ReserveRecord<ccy> at Diem root (Diem root only)."""
    roles.assert_diem_root(ctx, dr)
    if max_age_us <= 0:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_MAX_AGE")
    if ctx.exists(record_type(ccy), dr.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "ERESERVE_RECORD")
    handles = (ctx.new_event_handle(dr), ctx.new_event_handle(dr))
    ctx.move_to(_W, dr, record_type(ccy).pack(
        _W, attestations=(), attestation_count=0, max_attestation_age_us=max_age_us,
        attestation_events=handles[0], config_events=handles[1],
    ))


# ------------------------------------------------------------- auditing
def is_auditor(ctx: Context, address: bytes) -> bool:
    """Return True iff address may record attestations."""
    registry = ctx.get(AUDITORS, DIEM_ROOT)
    return registry is not None and address in registry.auditors


def record_attestation(
    ctx: Context, auditor: Signer, ccy: StructTag, amount: int, report_hash: bytes, attested_at_us: int
) -> None:
    """Record an auditor's attestation of ccy reserves and emit ReserveAttestationEvent."""
    if not is_auditor(ctx, auditor.address):
        raise ERRORS.abort(Category.REQUIRES_ROLE, "ENOT_AUDITOR")
    currency.assert_is_currency(ctx, ccy)
    _record(ctx, ccy, auditor.address, amount, report_hash, attested_at_us)


def _record(
    ctx: Context, ccy: StructTag, auditor: bytes, amount: int, report_hash: bytes, attested_at_us: int,
    is_genesis: bool = False,
) -> None:
    rtype = record_type(ccy)
    if not ctx.exists(rtype, DIEM_ROOT):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ERESERVE_RECORD")
    if len(report_hash) != REPORT_HASH_LENGTH:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_REPORT_HASH")
    now_us = ctx.now_microseconds()
    # Genesis runs before the first block time exists; its attestation time comes from the config.
    if attested_at_us > now_us and not is_genesis:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EATTESTATION_IN_FUTURE")
    record = ctx.borrow_mut(_W, rtype, DIEM_ROOT)
    # Attestation times only move forward, so "latest" is unambiguous.
    if record.attestations and attested_at_us < record.attestations[-1].attested_at_us:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EATTESTATION_OUT_OF_ORDER")
    supply = currency.get_total_value(ctx, ccy)
    sequence = record.attestation_count
    entry = Attestation(_W, sequence, amount, report_hash, attested_at_us, now_us, auditor, supply)
    record.attestations = (record.attestations + (entry,))[-MAX_RESERVE_HISTORY:]
    record.attestation_count = sequence + 1
    payload = encode_values(
        (BYTES, currency.code_of(ccy)), (U64, sequence), (U128, amount), (BYTES, report_hash),
        (U64, attested_at_us), (ADDRESS, auditor), (U128, supply),
    )
    ctx.emit(record.attestation_events, event_tag("ReserveAttestationEvent"), payload)


def add_auditor(ctx: Context, dr: Signer, address: bytes) -> None:
    """Register a reserve auditor (Diem root only) and emit ReserveAuditorChangeEvent."""
    registry = _borrow_registry(ctx, dr)
    if address in registry.auditors:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EAUDITOR_ALREADY_REGISTERED")
    if len(registry.auditors) >= MAX_RESERVE_AUDITORS:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "ETOO_MANY_AUDITORS")
    registry.auditors = registry.auditors + (address,)
    _emit_auditor_change(ctx, registry, address, True, dr.address)


def remove_auditor(ctx: Context, dr: Signer, address: bytes) -> None:
    """Deregister a reserve auditor (Diem root only) and emit ReserveAuditorChangeEvent."""
    registry = _borrow_registry(ctx, dr)
    if address not in registry.auditors:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EAUDITOR_NOT_FOUND")
    registry.auditors = tuple(a for a in registry.auditors if a != address)
    _emit_auditor_change(ctx, registry, address, False, dr.address)


def _borrow_registry(ctx: Context, dr: Signer) -> ReserveAuditors:
    roles.assert_diem_root(ctx, dr)
    if not ctx.exists(AUDITORS, DIEM_ROOT):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ERESERVE_AUDITORS")
    return ctx.borrow_mut(_W, AUDITORS, DIEM_ROOT)


def _emit_auditor_change(
    ctx: Context, registry: ReserveAuditors, address: bytes, added: bool, initiator: bytes
) -> None:
    event = ReserveAuditorChangeEvent(_W, address, added, initiator)
    ctx.emit(registry.change_events, event_tag("ReserveAuditorChangeEvent"), event.to_bytes())


def set_max_attestation_age(ctx: Context, dr: Signer, ccy: StructTag, max_age_us: int) -> None:
    """Change how old the latest attestation may be for minting (Diem root only); emits ReserveConfigUpdateEvent."""
    roles.assert_diem_root(ctx, dr)
    if max_age_us <= 0:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_MAX_AGE")
    rtype = record_type(ccy)
    if not ctx.exists(rtype, DIEM_ROOT):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ERESERVE_RECORD")
    record = ctx.borrow_mut(_W, rtype, DIEM_ROOT)
    record.max_attestation_age_us = max_age_us
    payload = encode_values((BYTES, currency.code_of(ccy)), (U64, max_age_us))
    ctx.emit(record.config_events, event_tag("ReserveConfigUpdateEvent"), payload)


# ------------------------------------------------------------- minting
def assert_supply_backed(ctx: Context, ccy: StructTag) -> None:
    """Abort unless ccy's total supply is within its latest, fresh attestation (called after a mint)."""
    info = currency.get_currency_info(ctx, ccy)
    if info.is_synthetic:
        return
    record = ctx.get(record_type(ccy), DIEM_ROOT)
    if record is None:
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ERESERVE_RECORD")
    if not record.attestations:
        raise ERRORS.abort(Category.INVALID_STATE, "ENO_ATTESTATION")
    latest = record.attestations[-1]
    if ctx.now_microseconds() - latest.attested_at_us > record.max_attestation_age_us:
        raise ERRORS.abort(Category.INVALID_STATE, "EATTESTATION_STALE")
    if info.total_value > latest.amount:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "ESUPPLY_EXCEEDS_RESERVES")


# ----------------------------------------------------- proof of reserves
def _view(entry: Attestation) -> AttestationView:
    return AttestationView(
        entry.sequence, entry.amount, entry.report_hash, entry.attested_at_us, entry.recorded_at_us,
        entry.auditor, entry.supply_at_record,
    )


def get_latest_attestation(ctx: Context, ccy: StructTag) -> AttestationView | None:
    """Return the latest attestation of ccy, or None."""
    record = ctx.get(record_type(ccy), DIEM_ROOT)
    return _view(record.attestations[-1]) if record is not None and record.attestations else None


def get_auditors(ctx: Context) -> tuple[bytes, ...]:
    """Return the registered reserve auditors."""
    registry = ctx.get(AUDITORS, DIEM_ROOT)
    return () if registry is None else tuple(registry.auditors)


def get_proof_of_reserves(ctx: Context, ccy: StructTag, now_us: int) -> ProofOfReserves:
    """Return supply, preburn, latest and recent attestations, age, staleness and margin of ccy at now_us."""
    info = currency.get_currency_info(ctx, ccy)
    record = ctx.get(record_type(ccy), DIEM_ROOT)
    history = tuple(_view(e) for e in record.attestations) if record is not None else ()
    latest = history[-1] if history else None
    max_age_us = record.max_attestation_age_us if record is not None else 0
    age_us = None if latest is None else now_us - latest.attested_at_us
    margin = None if latest is None else latest.amount - info.total_value
    is_stale = latest is None or age_us > max_age_us
    return ProofOfReserves(
        currency_code=info.currency_code, total_supply=info.total_value, preburn_value=info.preburn_value,
        latest=latest, history=history, attestation_count=record.attestation_count if record else 0,
        max_attestation_age_us=max_age_us, age_us=age_us, margin=margin, is_stale=is_stale,
        is_fully_backed=margin is not None and margin >= 0,
    )
