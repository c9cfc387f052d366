"""Event keys and contract events (diem-compat §3.2, §3.6)."""

from __future__ import annotations

from dataclasses import dataclass

from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError
from primitives.types.bcs_type import BcsType, make_variant_error
from primitives.types.names import AccountAddress
from primitives.types.type_tags import TypeTag

EVENT_KEY_LENGTH = 24
EVENT_KEY_COUNTER_LENGTH = 8


@dataclass(frozen=True, slots=True, order=True)
class EventKey(BcsType):
    """A 24-byte event stream key: u64 LE creation counter ‖ creator address (§3.7)."""

    value: bytes

    def __post_init__(self) -> None:
        if type(self.value) is not bytes or len(self.value) != EVENT_KEY_LENGTH:
            raise DecodeError(f"event key must be 24 bytes, got {self.value!r}")

    @classmethod
    def from_parts(cls, counter: int, address: AccountAddress) -> EventKey:
        """Build the key of the counter-th event handle created by address."""
        return cls(counter.to_bytes(EVENT_KEY_COUNTER_LENGTH, "little") + address.value)

    @classmethod
    def from_hex(cls, text: str) -> EventKey:
        """Parse 48 hex characters."""
        try:
            return cls(bytes.fromhex(text))
        except ValueError as exc:
            raise DecodeError(f"invalid event key hex {text!r}") from exc

    def get_counter(self) -> int:
        """Return the creation counter."""
        return int.from_bytes(self.value[:EVENT_KEY_COUNTER_LENGTH], "little")

    def get_creator_address(self) -> AccountAddress:
        """Return the address that created the handle."""
        return AccountAddress(self.value[EVENT_KEY_COUNTER_LENGTH:])

    def hex(self) -> str:
        """Return 48 lowercase hex characters."""
        return self.value.hex()

    def serialize(self, ser: Serializer) -> None:
        ser.bytes(self.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> EventKey:
        start = de.position
        value = de.bytes()
        if len(value) != EVENT_KEY_LENGTH:
            raise DecodeError(f"event key at offset {start} must be 24 bytes, got {len(value)}")
        return cls(value)


@dataclass(frozen=True, slots=True)
class ContractEvent(BcsType):
    """An emitted event (ContractEvent::V0)."""

    key: EventKey
    sequence_number: int
    type_tag: TypeTag
    event_data: bytes

    def serialize(self, ser: Serializer) -> None:
        ser.variant_index(0)
        self.key.serialize(ser)
        ser.u64(self.sequence_number)
        self.type_tag.serialize(ser)
        ser.bytes(self.event_data)

    @classmethod
    def deserialize(cls, de: Deserializer) -> ContractEvent:
        index = de.variant_index()
        if index != 0:
            raise make_variant_error("ContractEvent", index, de)
        key = EventKey.deserialize(de)
        sequence_number = de.u64()
        return cls(key, sequence_number, TypeTag.deserialize(de), de.bytes())
