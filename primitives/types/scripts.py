"""Script payloads: transaction arguments, legacy scripts, script functions and modules (diem-compat §3.2)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError
from primitives.limits import U128_MAX, U64_MAX
from primitives.types.bcs_type import BcsType, freeze_tuple, make_variant_error, serialize_item
from primitives.types.names import AccountAddress, check_identifier, read_identifier
from primitives.types.type_tags import ModuleId, TypeTag


class TransactionArgumentKind(IntEnum):
    """TransactionArgument variant indices."""

    U8 = 0
    U64 = 1
    U128 = 2
    ADDRESS = 3
    U8_VECTOR = 4
    BOOL = 5


_ARG_INT_MAX = {
    TransactionArgumentKind.U8: 0xFF, TransactionArgumentKind.U64: U64_MAX, TransactionArgumentKind.U128: U128_MAX,
}


@dataclass(frozen=True, slots=True)
class TransactionArgument(BcsType):
    """A legacy script argument: kind plus an int, AccountAddress, bytes or bool value."""

    kind: TransactionArgumentKind
    value: int | AccountAddress | bytes | bool

    def __post_init__(self) -> None:
        kind, value = self.kind, self.value
        if kind in _ARG_INT_MAX:
            ok = type(value) is int and 0 <= value <= _ARG_INT_MAX[kind]
        elif kind == TransactionArgumentKind.ADDRESS:
            ok = type(value) is AccountAddress
        elif kind == TransactionArgumentKind.U8_VECTOR:
            ok = type(value) is bytes
        elif kind == TransactionArgumentKind.BOOL:
            ok = type(value) is bool
        else:
            ok = False
        if not ok:
            raise DecodeError(f"malformed TransactionArgument({kind!r}, {value!r})")
        if type(kind) is not TransactionArgumentKind:
            object.__setattr__(self, "kind", TransactionArgumentKind(kind))

    def to_move_value_bytes(self) -> bytes:
        """Return the BCS of the Move value, i.e. the matching ScriptFunction argument bytes."""
        ser = Serializer()
        self._serialize_value(ser)
        return ser.output()

    def _serialize_value(self, ser: Serializer) -> None:
        kind, value = self.kind, self.value
        if kind == TransactionArgumentKind.U8:
            ser.u8(value)  # type: ignore[arg-type]
        elif kind == TransactionArgumentKind.U64:
            ser.u64(value)  # type: ignore[arg-type]
        elif kind == TransactionArgumentKind.U128:
            ser.u128(value)  # type: ignore[arg-type]
        elif kind == TransactionArgumentKind.ADDRESS:
            ser.fixed_bytes(value.value)  # type: ignore[union-attr]
        elif kind == TransactionArgumentKind.U8_VECTOR:
            ser.bytes(value)  # type: ignore[arg-type]
        else:
            ser.bool(value)  # type: ignore[arg-type]

    def serialize(self, ser: Serializer) -> None:
        ser.variant_index(self.kind)
        self._serialize_value(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> TransactionArgument:
        index = de.variant_index()
        if index == TransactionArgumentKind.U8:
            value: int | AccountAddress | bytes | bool = de.u8()
        elif index == TransactionArgumentKind.U64:
            value = de.u64()
        elif index == TransactionArgumentKind.U128:
            value = de.u128()
        elif index == TransactionArgumentKind.ADDRESS:
            value = AccountAddress.deserialize(de)
        elif index == TransactionArgumentKind.U8_VECTOR:
            value = de.bytes()
        elif index == TransactionArgumentKind.BOOL:
            value = de.bool()
        else:
            raise make_variant_error("TransactionArgument", index, de)
        return cls(TransactionArgumentKind(index), value)


@dataclass(frozen=True, slots=True)
class Script(BcsType):
    """A legacy script payload: compiled code, type arguments and TransactionArguments."""

    code: bytes
    ty_args: tuple[TypeTag, ...] = ()
    args: tuple[TransactionArgument, ...] = ()

    def __post_init__(self) -> None:
        freeze_tuple(self, "ty_args")
        freeze_tuple(self, "args")

    def serialize(self, ser: Serializer) -> None:
        ser.bytes(self.code)
        ser.sequence(self.ty_args, serialize_item)
        ser.sequence(self.args, serialize_item)

    @classmethod
    def deserialize(cls, de: Deserializer) -> Script:
        code = de.bytes()
        ty_args = tuple(de.sequence(TypeTag.deserialize))
        return cls(code, ty_args, tuple(de.sequence(TransactionArgument.deserialize)))


@dataclass(frozen=True, slots=True)
class ScriptFunction(BcsType):
    """A call module::function<ty_args>(args), each arg being the BCS of a Move value."""

    module: ModuleId
    function: str
    ty_args: tuple[TypeTag, ...] = ()
    args: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        check_identifier(self.function, "function name")
        freeze_tuple(self, "ty_args")
        freeze_tuple(self, "args")

    def serialize(self, ser: Serializer) -> None:
        self.module.serialize(ser)
        ser.str(self.function)
        ser.sequence(self.ty_args, serialize_item)
        ser.sequence(self.args, Serializer.bytes)

    @classmethod
    def deserialize(cls, de: Deserializer) -> ScriptFunction:
        module = ModuleId.deserialize(de)
        function = read_identifier(de, "function name")
        ty_args = tuple(de.sequence(TypeTag.deserialize))
        return cls(module, function, ty_args, tuple(de.sequence(Deserializer.bytes)))


@dataclass(frozen=True, slots=True)
class Module(BcsType):
    """A module publishing payload (compiled code)."""

    code: bytes

    def serialize(self, ser: Serializer) -> None:
        ser.bytes(self.code)

    @classmethod
    def deserialize(cls, de: Deserializer) -> Module:
        return cls(de.bytes())
