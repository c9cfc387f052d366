"""Write sets: access paths, write ops, change sets and write-set payloads (diem-compat §3.2)."""

from __future__ import annotations

from dataclasses import dataclass

from primitives.bcs import Deserializer, Serializer
from primitives.errors import InvariantViolation
from primitives.types.bcs_type import BcsType, freeze_tuple, make_variant_error, serialize_item
from primitives.types.events import ContractEvent
from primitives.types.names import AccountAddress
from primitives.types.scripts import Script


@dataclass(frozen=True, slots=True, order=True)
class AccessPath(BcsType):
    """A storage location: address plus an opaque path."""

    address: AccountAddress
    path: bytes

    def serialize(self, ser: Serializer) -> None:
        ser.fixed_bytes(self.address.value)
        ser.bytes(self.path)

    @classmethod
    def deserialize(cls, de: Deserializer) -> AccessPath:
        return cls(AccountAddress.deserialize(de), de.bytes())


@dataclass(frozen=True, slots=True)
class WriteOp(BcsType):
    """A write: `value` None is Deletion (variant 0), bytes is Value (variant 1)."""

    value: bytes | None

    def is_deletion(self) -> bool:
        """Return True for a deletion."""
        return self.value is None

    def serialize(self, ser: Serializer) -> None:
        if self.value is None:
            ser.variant_index(0)
        else:
            ser.variant_index(1)
            ser.bytes(self.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> WriteOp:
        index = de.variant_index()
        if index == 0:
            return cls(None)
        if index == 1:
            return cls(de.bytes())
        raise make_variant_error("WriteOp", index, de)


def _serialize_write(ser: Serializer, entry: tuple[AccessPath, WriteOp]) -> None:
    entry[0].serialize(ser)
    entry[1].serialize(ser)


def _deserialize_write(de: Deserializer) -> tuple[AccessPath, WriteOp]:
    return AccessPath.deserialize(de), WriteOp.deserialize(de)


@dataclass(frozen=True, slots=True)
class WriteSet(BcsType):
    """An ordered list of (AccessPath, WriteOp) writes."""

    entries: tuple[tuple[AccessPath, WriteOp], ...] = ()

    def __post_init__(self) -> None:
        freeze_tuple(self, "entries")

    def serialize(self, ser: Serializer) -> None:
        ser.sequence(self.entries, _serialize_write)

    @classmethod
    def deserialize(cls, de: Deserializer) -> WriteSet:
        return cls(tuple(de.sequence(_deserialize_write)))


@dataclass(frozen=True, slots=True)
class ChangeSet(BcsType):
    """A write set plus the events it emits."""

    write_set: WriteSet
    events: tuple[ContractEvent, ...] = ()

    def __post_init__(self) -> None:
        freeze_tuple(self, "events")

    def serialize(self, ser: Serializer) -> None:
        self.write_set.serialize(ser)
        ser.sequence(self.events, serialize_item)

    @classmethod
    def deserialize(cls, de: Deserializer) -> ChangeSet:
        write_set = WriteSet.deserialize(de)
        return cls(write_set, tuple(de.sequence(ContractEvent.deserialize)))


@dataclass(frozen=True, slots=True)
class WriteSetScript(BcsType):
    """WriteSetPayload::Script: a script executed as a given account."""

    execute_as: AccountAddress
    script: Script

    def serialize(self, ser: Serializer) -> None:
        ser.fixed_bytes(self.execute_as.value)
        self.script.serialize(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> WriteSetScript:
        return cls(AccountAddress.deserialize(de), Script.deserialize(de))


@dataclass(frozen=True, slots=True)
class WriteSetPayload(BcsType):
    """WriteSetPayload: 0 Direct(ChangeSet) | 1 Script(WriteSetScript)."""

    value: ChangeSet | WriteSetScript

    def serialize(self, ser: Serializer) -> None:
        if type(self.value) is ChangeSet:
            ser.variant_index(0)
        elif type(self.value) is WriteSetScript:
            ser.variant_index(1)
        else:
            raise InvariantViolation(f"WriteSetPayload holds {type(self.value).__name__}")
        self.value.serialize(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> WriteSetPayload:
        index = de.variant_index()
        if index == 0:
            return cls(ChangeSet.deserialize(de))
        if index == 1:
            return cls(WriteSetScript.deserialize(de))
        raise make_variant_error("WriteSetPayload", index, de)
