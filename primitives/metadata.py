"""Payment metadata (BCS enum `Metadata`) and the dual-attestation message (diem-compat §6.1-6.2)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError
from primitives.limits import U64_MAX
from primitives.types.bcs_type import BcsType
from primitives.types.names import AccountAddress

DUAL_ATTESTATION_DOMAIN_SEPARATOR = b"@@$$DIEM_ATTEST$$@@"
PAYMENT_REFERENCE_ID_LENGTH = 16
_VERSION_0 = 0


class RefundReason(IntEnum):
    """Why a payment is refunded."""

    OTHER_REASON = 0
    INVALID_SUBADDRESS = 1
    USER_INITIATED_PARTIAL_REFUND = 2
    USER_INITIATED_FULL_REFUND = 3
    INVALID_REFERENCE_ID = 4


@dataclass(frozen=True, slots=True)
class UndefinedMetadata:
    """Metadata::Undefined (variant 0)."""

    VARIANT: ClassVar[int] = 0
    VERSIONED: ClassVar[bool] = False

    def serialize_body(self, ser: Serializer) -> None:
        """Write nothing: a unit variant."""

    @classmethod
    def deserialize_body(cls, de: Deserializer) -> UndefinedMetadata:
        return cls()


@dataclass(frozen=True, slots=True)
class GeneralMetadataV0:
    """Metadata::GeneralMetadata(GeneralMetadataVersion0{to, from, referenced_event})."""

    to_subaddress: bytes | None = None
    from_subaddress: bytes | None = None
    referenced_event: int | None = None

    VARIANT: ClassVar[int] = 1
    VERSIONED: ClassVar[bool] = True

    def serialize_body(self, ser: Serializer) -> None:
        ser.option(self.to_subaddress, Serializer.bytes)
        ser.option(self.from_subaddress, Serializer.bytes)
        ser.option(self.referenced_event, Serializer.u64)

    @classmethod
    def deserialize_body(cls, de: Deserializer) -> GeneralMetadataV0:
        to_subaddress = de.option(Deserializer.bytes)
        from_subaddress = de.option(Deserializer.bytes)
        return cls(to_subaddress, from_subaddress, de.option(Deserializer.u64))


@dataclass(frozen=True, slots=True)
class TravelRuleMetadataV0:
    """Metadata::TravelRuleMetadata(TravelRuleMetadataVersion0{off_chain_reference_id})."""

    off_chain_reference_id: str | None = None

    VARIANT: ClassVar[int] = 2
    VERSIONED: ClassVar[bool] = True

    def serialize_body(self, ser: Serializer) -> None:
        ser.option(self.off_chain_reference_id, Serializer.str)

    @classmethod
    def deserialize_body(cls, de: Deserializer) -> TravelRuleMetadataV0:
        return cls(de.option(Deserializer.str))


@dataclass(frozen=True, slots=True)
class UnstructuredBytesMetadata:
    """Metadata::UnstructuredBytesMetadata{metadata} (no version layer)."""

    metadata: bytes | None = None

    VARIANT: ClassVar[int] = 3
    VERSIONED: ClassVar[bool] = False

    def serialize_body(self, ser: Serializer) -> None:
        ser.option(self.metadata, Serializer.bytes)

    @classmethod
    def deserialize_body(cls, de: Deserializer) -> UnstructuredBytesMetadata:
        return cls(de.option(Deserializer.bytes))


@dataclass(frozen=True, slots=True)
class RefundMetadataV0:
    """Metadata::RefundMetadata(RefundMetadataV0{transaction_version, reason})."""

    transaction_version: int
    reason: RefundReason

    VARIANT: ClassVar[int] = 4
    VERSIONED: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not 0 <= self.transaction_version <= U64_MAX:
            raise DecodeError(f"refund transaction_version out of u64 range: {self.transaction_version}")
        object.__setattr__(self, "reason", RefundReason(self.reason))

    def serialize_body(self, ser: Serializer) -> None:
        ser.u64(self.transaction_version)
        ser.variant_index(self.reason)

    @classmethod
    def deserialize_body(cls, de: Deserializer) -> RefundMetadataV0:
        version = de.u64()
        start = de.position
        reason = de.variant_index()
        if reason > max(RefundReason):
            raise DecodeError(f"RefundReason at offset {start}: unknown variant {reason}")
        return cls(version, RefundReason(reason))


@dataclass(frozen=True, slots=True)
class CoinTradeMetadataV0:
    """Metadata::CoinTradeMetadata(CoinTradeMetadataV0{trade_ids})."""

    trade_ids: tuple[str, ...] = ()

    VARIANT: ClassVar[int] = 5
    VERSIONED: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "trade_ids", tuple(self.trade_ids))

    def serialize_body(self, ser: Serializer) -> None:
        ser.sequence(self.trade_ids, Serializer.str)

    @classmethod
    def deserialize_body(cls, de: Deserializer) -> CoinTradeMetadataV0:
        return cls(tuple(de.sequence(Deserializer.str)))


@dataclass(frozen=True, slots=True)
class PaymentMetadataV0:
    """Metadata::PaymentMetadata(PaymentMetadataVersion0{reference_id: [u8; 16]})."""

    reference_id: bytes

    VARIANT: ClassVar[int] = 6
    VERSIONED: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if len(self.reference_id) != PAYMENT_REFERENCE_ID_LENGTH:
            raise DecodeError(f"payment reference id must be 16 bytes, got {len(self.reference_id)}")

    def serialize_body(self, ser: Serializer) -> None:
        ser.fixed_bytes(self.reference_id, PAYMENT_REFERENCE_ID_LENGTH)

    @classmethod
    def deserialize_body(cls, de: Deserializer) -> PaymentMetadataV0:
        return cls(de.fixed_bytes(PAYMENT_REFERENCE_ID_LENGTH))


MetadataBody = (
    UndefinedMetadata | GeneralMetadataV0 | TravelRuleMetadataV0 | UnstructuredBytesMetadata
    | RefundMetadataV0 | CoinTradeMetadataV0 | PaymentMetadataV0
)
_BODY_CLASSES = (
    UndefinedMetadata, GeneralMetadataV0, TravelRuleMetadataV0, UnstructuredBytesMetadata,
    RefundMetadataV0, CoinTradeMetadataV0, PaymentMetadataV0,
)


@dataclass(frozen=True, slots=True)
class Metadata(BcsType):
    """The Metadata enum; the variant (and version 0 layer where present) follows value's class."""

    value: MetadataBody

    def __post_init__(self) -> None:
        if type(self.value) not in _BODY_CLASSES:
            raise DecodeError(f"Metadata cannot hold {type(self.value).__name__}")

    def serialize(self, ser: Serializer) -> None:
        body = self.value
        ser.variant_index(body.VARIANT)
        if body.VERSIONED:
            ser.variant_index(_VERSION_0)
        body.serialize_body(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> Metadata:
        start = de.position
        index = de.variant_index()
        if index >= len(_BODY_CLASSES):
            raise DecodeError(f"Metadata at offset {start}: unknown variant {index}")
        body_class = _BODY_CLASSES[index]
        if body_class.VERSIONED:
            version_start = de.position
            version = de.variant_index()
            if version != _VERSION_0:
                raise DecodeError(f"{body_class.__name__} at offset {version_start}: unknown version {version}")
        return cls(body_class.deserialize_body(de))


def decode_metadata(data: bytes) -> Metadata | None:
    """Return the decoded Metadata, or None for empty or undecodable bytes (like the SDK)."""
    if not data:
        return None
    try:
        return Metadata.from_bcs(data)
    except DecodeError:
        return None


def compute_dual_attestation_message(metadata: bytes, payer: AccountAddress, amount: int) -> bytes:
    """Return metadata ‖ payer (16 bytes) ‖ amount (u64 LE) ‖ "@@$$DIEM_ATTEST$$@@", the signed bytes."""
    ser = Serializer()
    ser.fixed_bytes(metadata)
    ser.fixed_bytes(payer.value)
    ser.u64(amount)
    ser.fixed_bytes(DUAL_ATTESTATION_DOMAIN_SEPARATOR)
    return ser.output()
