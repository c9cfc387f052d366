"""Typed views of the Diem events the framework emits: a certified ContractEvent decoded into a frozen value.

The layouts are the Diem framework's event structs (diem-compat §1.5); the compliance events of the
stablechain framework decode through their own structs (contracts.framework.treasury_scripts.decode_event).
Readers (RPC views, compliance indexes, clients) decode here and render or store what they need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from primitives.bcs import Deserializer
from primitives.errors import DecodeError
from primitives.types.events import ContractEvent
from primitives.types.names import AccountAddress

ADDRESS_LENGTH = 16
FIXED_POINT_32_SCALE = 2**32


def _text(raw: bytes) -> str:
    # Currency codes are ASCII on chain; a foreign byte still shows instead of hiding the event.
    return raw.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class SentPaymentEvent:
    """DiemAccount::SentPaymentEvent on the payer's stream: amount, currency, payee, metadata."""

    payer: bytes  # the stream's owner (the creator of the event key)
    amount_micro: int
    currency: str
    payee: bytes
    metadata: bytes


@dataclass(frozen=True, slots=True)
class ReceivedPaymentEvent:
    """DiemAccount::ReceivedPaymentEvent on the payee's stream: amount, currency, payer, metadata."""

    payee: bytes  # the stream's owner (the creator of the event key)
    amount_micro: int
    currency: str
    payer: bytes
    metadata: bytes


@dataclass(frozen=True, slots=True)
class CreateAccountEvent:
    """DiemAccount::CreateAccountEvent: the new account and its role id."""

    created_address: bytes
    role_id: int


@dataclass(frozen=True, slots=True)
class AdminTransactionEvent:
    """DiemAccount::AdminTransactionEvent: when a write-set transaction committed."""

    committed_timestamp_secs: int


@dataclass(frozen=True, slots=True)
class MintEvent:
    """Diem::MintEvent: new coins of a currency."""

    amount_micro: int
    currency: str


@dataclass(frozen=True, slots=True)
class BurnEvent:
    """Diem::BurnEvent, PreburnEvent or CancelBurnEvent (kind): coins of a preburn queue."""

    kind: str  # "burn" | "preburn" | "cancelburn", Diem's view names
    amount_micro: int
    currency: str
    preburn_address: bytes


@dataclass(frozen=True, slots=True)
class ExchangeRateUpdateEvent:
    """Diem::ToXDXExchangeRateUpdateEvent: a currency's new rate to XDX as a FixedPoint32."""

    currency: str
    rate_fixed_point_32: int

    def get_rate(self) -> float:
        """Return the rate as a number (FixedPoint32 / 2**32)."""
        return self.rate_fixed_point_32 / FIXED_POINT_32_SCALE


@dataclass(frozen=True, slots=True)
class ReceivedMintEvent:
    """DesignatedDealer::ReceivedMintEvent: coins minted to a designated dealer."""

    currency: str
    destination_address: bytes
    amount_micro: int


@dataclass(frozen=True, slots=True)
class ComplianceKeyRotationEvent:
    """DualAttestation::ComplianceKeyRotationEvent: a VASP's new compliance key."""

    new_compliance_public_key: bytes
    time_rotated_seconds: int


@dataclass(frozen=True, slots=True)
class BaseUrlRotationEvent:
    """DualAttestation::BaseUrlRotationEvent: a VASP's new base URL (UTF-8)."""

    new_base_url: str
    time_rotated_seconds: int


@dataclass(frozen=True, slots=True)
class DiemIdDomainEvent:
    """DiemId::DiemIdDomainEvent: a domain added to or removed from a VASP."""

    removed: bool
    domain: str
    address: bytes


@dataclass(frozen=True, slots=True)
class NewBlockEvent:
    """DiemBlock::NewBlockEvent: a block's round, proposer, voters and time."""

    round: int
    proposer: bytes
    previous_block_votes: tuple[bytes, ...]
    time_microseconds: int


@dataclass(frozen=True, slots=True)
class NewEpochEvent:
    """DiemConfig::NewEpochEvent: the epoch that starts."""

    epoch: int


FrameworkEvent = (
    SentPaymentEvent | ReceivedPaymentEvent | CreateAccountEvent | AdminTransactionEvent | MintEvent | BurnEvent
    | ExchangeRateUpdateEvent | ReceivedMintEvent | ComplianceKeyRotationEvent | BaseUrlRotationEvent
    | DiemIdDomainEvent | NewBlockEvent | NewEpochEvent
)
Decoder = Callable[[Deserializer, bytes], FrameworkEvent]


def _address(de: Deserializer) -> bytes:
    return de.fixed_bytes(ADDRESS_LENGTH)


def _sent_payment(de: Deserializer, owner: bytes) -> SentPaymentEvent:
    return SentPaymentEvent(owner, de.u64(), _text(de.bytes()), _address(de), de.bytes())


def _received_payment(de: Deserializer, owner: bytes) -> ReceivedPaymentEvent:
    return ReceivedPaymentEvent(owner, de.u64(), _text(de.bytes()), _address(de), de.bytes())


def _burn(kind: str) -> Decoder:
    return lambda de, _owner: BurnEvent(kind, de.u64(), _text(de.bytes()), _address(de))


def _base_url_rotation(de: Deserializer, _owner: bytes) -> BaseUrlRotationEvent:
    url, seconds = de.bytes(), de.u64()
    try:
        return BaseUrlRotationEvent(url.decode("utf-8"), seconds)
    except UnicodeDecodeError:
        raise DecodeError("base url is not UTF-8") from None


def _new_block(de: Deserializer, _owner: bytes) -> NewBlockEvent:
    round_, proposer = de.u64(), _address(de)
    votes = tuple(de.sequence(_address))
    return NewBlockEvent(round_, proposer, votes, de.u64())


# (module, struct name) at 0x1 -> decoder of the event's BCS payload.
DECODERS: dict[tuple[str, str], Decoder] = {
    ("DiemAccount", "SentPaymentEvent"): _sent_payment,
    ("DiemAccount", "ReceivedPaymentEvent"): _received_payment,
    ("DiemAccount", "CreateAccountEvent"): lambda de, _owner: CreateAccountEvent(_address(de), de.u64()),
    ("DiemAccount", "AdminTransactionEvent"): lambda de, _owner: AdminTransactionEvent(de.u64()),
    ("Diem", "MintEvent"): lambda de, _owner: MintEvent(de.u64(), _text(de.bytes())),
    ("Diem", "BurnEvent"): _burn("burn"),
    ("Diem", "PreburnEvent"): _burn("preburn"),
    ("Diem", "CancelBurnEvent"): _burn("cancelburn"),
    ("Diem", "ToXDXExchangeRateUpdateEvent"): lambda de, _owner: ExchangeRateUpdateEvent(_text(de.bytes()), de.u64()),
    ("DesignatedDealer", "ReceivedMintEvent"): lambda de, _owner: ReceivedMintEvent(_text(de.bytes()), _address(de),
                                                                                    de.u64()),
    ("DualAttestation", "ComplianceKeyRotationEvent"): lambda de, _owner: ComplianceKeyRotationEvent(de.bytes(),
                                                                                                     de.u64()),
    ("DualAttestation", "BaseUrlRotationEvent"): _base_url_rotation,
    ("DiemId", "DiemIdDomainEvent"): lambda de, _owner: DiemIdDomainEvent(de.bool(), _text(de.bytes()), _address(de)),
    ("DiemBlock", "NewBlockEvent"): _new_block,
    ("DiemConfig", "NewEpochEvent"): lambda de, _owner: NewEpochEvent(de.u64()),
}


def get_decoder(event: ContractEvent) -> Decoder | None:
    """Return the decoder of a 0x1 framework event's type, or None for any other type."""
    struct_tag = event.type_tag.struct
    if struct_tag is None or struct_tag.address != AccountAddress.CORE_CODE:
        return None
    return DECODERS.get((struct_tag.module, struct_tag.name))


def decode_event(event: ContractEvent) -> FrameworkEvent | None:
    """Return the typed value of a framework event, or None when its type is unknown or its bytes do not decode."""
    decoder = get_decoder(event)
    if decoder is None:
        return None
    try:
        de = Deserializer(event.event_data)
        value = decoder(de, event.key.get_creator_address().value)
        de.finish()
    except DecodeError:
        return None
    return value
