"""Decode committed events and user transactions into compliance-index activities (never raising)."""

# Payments (the bulk of the chain) take a fast path: the event header and payload, and the script function
# call, are read field by field without building the typed values; anything unusual falls back to the full
# decoders. An event that decodes in neither way is left out of the indexes; the chain keeps it.

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from contracts.events import (
    BaseUrlRotationEvent,
    BurnEvent,
    ComplianceKeyRotationEvent,
    CreateAccountEvent,
    ExchangeRateUpdateEvent,
    MintEvent,
    decode_event,
)
from contracts.framework import treasury_scripts
from contracts.payments import decode_payment
from contracts.scripts import InvalidPayload, resolve
from primitives.bcs import Deserializer
from primitives.errors import DecodeError, InvariantViolation
from primitives.limits import U64_MAX
from primitives.metadata import TravelRuleMetadataV0, decode_metadata
from primitives.types.events import ContractEvent
from primitives.types.ledger_transactions import Transaction
from primitives.types.scripts import Script, ScriptFunction
from primitives.types.transactions import SignedTransaction
from primitives.types.type_tags import TypeTagKind

CORE_ADDRESS = bytes(15) + b"\x01"
ADDRESS_LENGTH_BYTES = 16
EVENT_KEY_COUNTER_BYTES = 8
PAYMENT_EVENTS = frozenset({"SentPaymentEvent", "ReceivedPaymentEvent"})
# Modules whose events are indexed (DiemBlock's NewBlockEvent, one per block, is not).
INDEXED_MODULES = frozenset({"DiemAccount", "Diem", "DesignatedDealer", "DualAttestation",
                             *(tag.module for tag in treasury_scripts.EVENT_STRUCTS)})
PAYMENT_SCRIPT = "PaymentScripts::peer_to_peer_with_metadata"
TRANSACTION_VARIANT_USER = 0
PAYLOAD_VARIANT_SCRIPT_FUNCTION = 3
PAYMENT_SIGNATURE_ARG_INDEX = 3
DECODE_ERRORS = (DecodeError, ValueError, InvariantViolation, InvalidPayload, IndexError)


class ActivityKind(IntEnum):
    """What an indexed event did; the numbers are stored in keys, so they are stable and never reused."""

    PAYMENT = 1  # SentPaymentEvent (+ its ReceivedPaymentEvent): account = payer, counterparty = payee
    RECEIVED_PAYMENT = 2  # a ReceivedPaymentEvent with no SentPaymentEvent (mint deposit, cancelled burn)
    CREATE_ACCOUNT = 3
    MINT = 4
    BURN = 5
    PREBURN = 6
    CANCEL_BURN = 7
    RECEIVED_MINT = 8
    FREEZE = 9
    UNFREEZE = 10
    WIPE = 11
    PAUSE = 12
    UNPAUSE = 13
    KYC_RECORD = 14
    KYC_TIER_LIMITS = 15
    LIMITS_DEFINITION = 16
    LIMITS_WINDOW = 17
    RESERVE_ATTESTATION = 18
    RESERVE_AUDITOR_CHANGE = 19
    RESERVE_CONFIG = 20
    MINTING_ABILITY = 21
    DUAL_ATTESTATION_LIMIT = 22
    EXCHANGE_RATE_UPDATE = 23
    COMPLIANCE_KEY_ROTATION = 24
    BASE_URL_ROTATION = 25


K = ActivityKind
TRANSFER_KINDS = frozenset({K.PAYMENT, K.RECEIVED_PAYMENT})
ACTION_KINDS = frozenset({
    K.FREEZE, K.UNFREEZE, K.WIPE, K.PAUSE, K.UNPAUSE, K.KYC_RECORD, K.KYC_TIER_LIMITS, K.LIMITS_DEFINITION,
    K.LIMITS_WINDOW, K.RESERVE_ATTESTATION, K.RESERVE_AUDITOR_CHANGE, K.RESERVE_CONFIG, K.MINTING_ABILITY,
    K.DUAL_ATTESTATION_LIMIT, K.EXCHANGE_RATE_UPDATE, K.RECEIVED_MINT, K.BURN, K.CANCEL_BURN,
})
# Diem's burn-family events (contracts.events.BurnEvent.kind) -> kind.
_BURN_KINDS = {"burn": K.BURN, "preburn": K.PREBURN, "cancelburn": K.CANCEL_BURN}
_TEXT_FIELDS = frozenset({"currency_code", "provider"})
# Compliance events (treasury_scripts.decode_event): kind, initiator field, subject field, counterparty field.
_COMPLIANCE_EVENTS: dict[str, tuple[ActivityKind, str | None, str | None, str | None]] = {
    "FreezeAccountEvent": (K.FREEZE, "initiator_address", "frozen_address", None),
    "UnfreezeAccountEvent": (K.UNFREEZE, "initiator_address", "unfrozen_address", None),
    "WipeEvent": (K.WIPE, "initiator_address", "wiped_address", None),
    "PauseEvent": (K.PAUSE, "initiator_address", None, None),
    "UnpauseEvent": (K.UNPAUSE, "initiator_address", None, None),
    "KycRecordUpdateEvent": (K.KYC_RECORD, "set_by", "address", None),
    "KycTierLimitsUpdateEvent": (K.KYC_TIER_LIMITS, None, None, None),
    "LimitsDefinitionUpdateEvent": (K.LIMITS_DEFINITION, None, "limit_address", None),
    "WindowUpdateEvent": (K.LIMITS_WINDOW, None, "window_address", "limit_address"),
    "ReserveAttestationEvent": (K.RESERVE_ATTESTATION, "auditor", None, None),
    "ReserveAuditorChangeEvent": (K.RESERVE_AUDITOR_CHANGE, "initiator_address", "auditor", None),
    "ReserveConfigUpdateEvent": (K.RESERVE_CONFIG, None, None, None),
    "ReceivedMintEvent": (K.RECEIVED_MINT, None, "destination_address", None),
    "MintingAbilityUpdateEvent": (K.MINTING_ABILITY, None, None, None),
}


def get_kind_name(kind: int) -> str:
    """Return the API name of a kind (e.g. "payment", "kyc_record")."""
    return ActivityKind(kind).name.lower()


def parse_kind_name(name: str) -> ActivityKind | None:
    """Return the kind of an API name, or None when unknown."""
    return ActivityKind.__members__.get(name.upper()) if isinstance(name, str) else None


@dataclass(frozen=True, slots=True)
class Activity:
    """One indexed event: who (account), with whom (counterparty), what currency and amount, decoded fields."""

    index: int
    kind: int
    account: bytes | None = None
    counterparty: bytes | None = None
    currency: str | None = None
    amount: int | None = None
    initiator: bytes | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_plain(self) -> list[Any]:
        """Return the stored form."""
        return [self.index, self.kind, self.account, self.counterparty, self.currency, self.amount, self.initiator,
                self.details]

    @classmethod
    def from_plain(cls, plain: list[Any]) -> Activity:
        """Rebuild an activity from its stored form."""
        return cls(*plain)


def _normalize(value: Any) -> Any:
    """Return a value msgpack can hold: u128 above u64 become decimal strings, tuples lists."""
    if isinstance(value, bool) or value is None or isinstance(value, (bytes, str)):
        return value
    if isinstance(value, int):
        return value if 0 <= value <= U64_MAX else str(value)
    if isinstance(value, (list, tuple)):
        return [_normalize(item) for item in value]
    return str(value)


def _text(value: Any) -> str | None:
    """Return a currency code as text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else None


def _decode_diem_event(event: ContractEvent, index: int) -> Activity | None:
    """Return the activity of a Diem framework event the indexes keep (payments take decode_payment_event)."""
    value = decode_event(event)
    if isinstance(value, CreateAccountEvent):
        return Activity(index, K.CREATE_ACCOUNT, value.created_address, None, None, None, None,
                        {"role_id": value.role_id})
    if isinstance(value, BurnEvent):
        return Activity(index, _BURN_KINDS[value.kind], value.preburn_address, None, value.currency, value.amount_micro)
    if isinstance(value, MintEvent):
        return Activity(index, K.MINT, None, None, value.currency, value.amount_micro, None, {})
    if isinstance(value, ExchangeRateUpdateEvent):
        return Activity(index, K.EXCHANGE_RATE_UPDATE, None, None, value.currency, None, None,
                        {"currency_code": value.currency})
    rotated = event.key.get_creator_address().value
    if isinstance(value, ComplianceKeyRotationEvent):
        # Index records (schema v1) keep the new key as hex text.
        details = {"new_compliance_public_key": value.new_compliance_public_key.hex(),
                   "time_rotated_seconds": value.time_rotated_seconds}
        return Activity(index, K.COMPLIANCE_KEY_ROTATION, rotated, None, None, None, None, details)
    if isinstance(value, BaseUrlRotationEvent):
        details = {"new_base_url": value.new_base_url, "time_rotated_seconds": value.time_rotated_seconds}
        return Activity(index, K.BASE_URL_ROTATION, rotated, None, None, None, None, details)
    return None  # not indexed (admin transactions), or bytes that do not decode: the chain keeps it


def _decode_compliance_event(event: ContractEvent, index: int) -> Activity | None:
    """Return the activity of a compliance-framework event, or None when it is not one."""
    struct_tag = event.type_tag.struct
    fields = treasury_scripts.decode_event(struct_tag, event.event_data)  # type: ignore[arg-type]
    if fields is None:
        return None
    kind, initiator_field, subject_field, counterparty_field = _COMPLIANCE_EVENTS[struct_tag.name]  # type: ignore[union-attr]
    amount = fields.get("amount")
    details = {key: _text(value) if key in _TEXT_FIELDS else _normalize(value) for key, value in fields.items()}
    return Activity(index, kind, fields.get(subject_field) if subject_field else None,
                    fields.get(counterparty_field) if counterparty_field else None,
                    _text(fields.get("currency_code")), amount if isinstance(amount, int) and amount <= U64_MAX else None,
                    fields.get(initiator_field) if initiator_field else None, details)


def read_event_header(data: bytes) -> tuple[bytes, str, str, bytes] | None:
    """Return (event key, module, name, payload) of an event of a 0x1 struct without type params, else None."""
    de = Deserializer(data)
    if de.variant_index() != 0:
        return None
    key = de.bytes()
    de.u64()
    if de.variant_index() != TypeTagKind.STRUCT or de.fixed_bytes(ADDRESS_LENGTH_BYTES) != CORE_ADDRESS:
        return None
    module, name = de.str(), de.str()
    if de.uleb128() != 0:
        return None
    payload = de.bytes()
    de.finish()
    return key, module, name, payload


def decode_payment_event(key: bytes, name: str, payload: bytes, index: int) -> tuple[str, Activity]:
    """Return ("sent" | "received", activity) of a payment event: {amount, currency_code, party, metadata}."""
    de = Deserializer(payload)
    amount, currency, party, metadata = de.u64(), de.bytes(), de.fixed_bytes(ADDRESS_LENGTH_BYTES), de.bytes()
    de.finish()
    creator = key[EVENT_KEY_COUNTER_BYTES:]
    details = {"metadata": metadata} if metadata else {}
    code = currency.decode("utf-8", errors="replace")
    if name == "SentPaymentEvent":
        return "sent", Activity(index, K.PAYMENT, creator, party, code, amount, None, details)
    return "received", Activity(index, K.RECEIVED_PAYMENT, party, creator, code, amount, None, details)


def decode_activity(data: bytes, index: int) -> Activity | tuple[str, Activity] | None:
    """Return the activity of one stored event (BCS ContractEvent), or None when it is not indexed."""
    try:
        header = read_event_header(data)
        if header is None:
            return None
        key, module, name, payload = header
        if module == "DiemAccount" and name in PAYMENT_EVENTS:
            return decode_payment_event(key, name, payload, index)
        if module not in INDEXED_MODULES:
            return None
        event = ContractEvent.from_bcs(data)
        if name in _COMPLIANCE_EVENTS:
            return _decode_compliance_event(event, index)
        if module == "DualAttestation" and name == "DualAttestationLimitUpdateEvent":
            de = Deserializer(payload)
            limit = de.u64()
            de.finish()
            return Activity(index, K.DUAL_ATTESTATION_LIMIT, None, None, None, None, None,
                            {"micro_xdx_limit": limit})
        return _decode_diem_event(event, index)
    except DECODE_ERRORS:
        return None


def pair_payments(decoded: Iterable[Activity | tuple[str, Activity] | None]) -> list[Activity]:
    """Return the activities of one transaction, each received payment folded into its sent payment."""
    activities: list[Activity] = []
    sent: list[Activity] = []
    for item in decoded:
        if item is None:
            continue
        if isinstance(item, Activity):
            activities.append(item)
            continue
        side, activity = item
        if side == "sent":
            sent.append(activity)
            activities.append(activity)
            continue
        match = next((s for s in sent if (s.account, s.counterparty, s.currency, s.amount)
                      == (activity.account, activity.counterparty, activity.currency, activity.amount)), None)
        if match is None:
            activities.append(activity)
        else:
            sent.remove(match)
    return activities


def decode_user_transaction(data: bytes) -> SignedTransaction | None:
    """Return the signed transaction of a stored Transaction, or None for system transactions."""
    try:
        value = Transaction.from_bcs(data).value
    except DECODE_ERRORS:
        return None
    return value if isinstance(value, SignedTransaction) else None


def get_script_name(signed: SignedTransaction | None) -> str | None:
    """Return "Module::function" of a transaction's script, or None."""
    payload = None if signed is None else signed.raw_txn.payload.value
    if not isinstance(payload, (Script, ScriptFunction)):
        return None
    try:
        spec, _ty_args, _args = resolve(payload)
    except DECODE_ERRORS:
        return None
    return f"{spec.module}::{spec.function}"


def read_script_function(data: bytes) -> tuple[str, list[bytes]] | None:
    """Return ("Module::function", raw args) of a user transaction calling a 0x1 script function whose type
    arguments are plain structs; None for anything else (the caller then decodes the whole transaction)."""
    de = Deserializer(data)
    if de.variant_index() != TRANSACTION_VARIANT_USER:
        return None
    de.fixed_bytes(ADDRESS_LENGTH_BYTES)
    de.u64()
    if de.variant_index() != PAYLOAD_VARIANT_SCRIPT_FUNCTION or de.fixed_bytes(ADDRESS_LENGTH_BYTES) != CORE_ADDRESS:
        return None
    module, function = de.str(), de.str()
    for _ in range(de.length("type arguments")):
        if de.variant_index() != TypeTagKind.STRUCT:
            return None
        de.fixed_bytes(ADDRESS_LENGTH_BYTES)
        de.str()
        de.str()
        if de.length("type parameters") != 0:
            return None
    return f"{module}::{function}", [de.bytes() for _ in range(de.length("arguments"))]


def get_script_and_signature(data: bytes) -> tuple[str | None, bytes]:
    """Return a user transaction's script ("Module::function") and, for a payment, its metadata signature."""
    try:
        fast = read_script_function(data)
        if fast is not None:
            script, raw_args = fast
            if script != PAYMENT_SCRIPT or len(raw_args) <= PAYMENT_SIGNATURE_ARG_INDEX:
                return script, b""
            de = Deserializer(raw_args[PAYMENT_SIGNATURE_ARG_INDEX])
            signature = de.bytes()
            de.finish()
            return script, signature
    except DECODE_ERRORS:
        pass
    signed = decode_user_transaction(data)
    script = get_script_name(signed)
    try:
        payment = None if signed is None else decode_payment(signed)
    except DECODE_ERRORS:
        payment = None
    return script, payment.metadata_signature if script == PAYMENT_SCRIPT and payment is not None else b""


def add_travel_rule(activities: list[Activity], signature: bytes) -> list[Activity]:
    """Mark payments that carried a dual-attestation signature or TravelRuleMetadata."""
    marked = []
    for activity in activities:
        if activity.kind != K.PAYMENT:
            marked.append(activity)
            continue
        metadata = decode_metadata(activity.details.get("metadata", b""))
        is_travel_rule = isinstance(None if metadata is None else metadata.value, TravelRuleMetadataV0)
        if signature or is_travel_rule:
            details = dict(activity.details, travel_rule=True, metadata_signature=signature)
            if is_travel_rule:
                details["off_chain_reference_id"] = metadata.value.off_chain_reference_id  # type: ignore[union-attr]
            activity = Activity(activity.index, activity.kind, activity.account, activity.counterparty,
                                activity.currency, activity.amount, activity.initiator, details)
        marked.append(activity)
    return marked
