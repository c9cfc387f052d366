"""Diem's BCS types (diem-compat §3.2): addresses, type tags, payloads, transactions, events."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar, TypeVar

from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError, InvariantViolation
from primitives.hashing import HASH_LENGTH, get_salt, hash_with_salt
from primitives.keys import (
    ADDRESS_LENGTH,
    ED25519_PUBLIC_KEY_LENGTH,
    ED25519_SIGNATURE_LENGTH,
    SCHEME_ED25519,
    SCHEME_MULTI_ED25519,
    PrivateKey,
    compute_auth_key,
    is_valid_signature,
)
from primitives.limits import BCS_MAX_CONTAINER_DEPTH, U64_MAX, U128_MAX
from primitives.multisig import MultiEd25519PublicKey, MultiEd25519Signature, is_valid_multi_signature

_T = TypeVar("_T", bound="BcsType")
EVENT_KEY_LENGTH = 24
EVENT_KEY_COUNTER_LENGTH = 8
_IDENTIFIER_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9_]*|_[A-Za-z0-9_]+)\Z")


class BcsType:
    """Mixin giving to_bcs/from_bcs to classes that define serialize/deserialize."""

    __slots__ = ()

    def serialize(self, ser: Serializer) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def deserialize(cls: type[_T], de: Deserializer) -> _T:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_bcs(self) -> bytes:
        """Return the BCS encoding."""
        ser = Serializer()
        self.serialize(ser)
        return ser.output()

    @classmethod
    def from_bcs(cls: type[_T], data: bytes) -> _T:
        """Decode exactly one value from data; DecodeError on malformed input or trailing bytes."""
        de = Deserializer(data)
        try:
            value = cls.deserialize(de)
        except RecursionError:
            raise DecodeError("BCS value nested too deeply") from None
        de.finish()
        return value


def _put(ser: Serializer, item: BcsType) -> None:
    item.serialize(ser)


def _bad_variant(what: str, index: int, de: Deserializer) -> DecodeError:
    return DecodeError(f"{what}: unknown variant {index} before offset {de.position}")


# ---------------------------------------------------------------- addresses and names


@dataclass(frozen=True, slots=True, order=True)
class AccountAddress(BcsType):
    """A 16-byte account address, encoded as a fixed array."""

    value: bytes

    VM_RESERVED: ClassVar[AccountAddress]
    CORE_CODE: ClassVar[AccountAddress]
    DIEM_ROOT: ClassVar[AccountAddress]
    TREASURY_COMPLIANCE: ClassVar[AccountAddress]
    TESTNET_DD: ClassVar[AccountAddress]

    def __post_init__(self) -> None:
        if type(self.value) is not bytes or len(self.value) != ADDRESS_LENGTH:
            raise DecodeError(f"account address must be 16 bytes, got {self.value!r}")

    @classmethod
    def from_hex(cls, text: str) -> AccountAddress:
        """Parse 32 hex characters (either case, no 0x)."""
        if len(text) != 2 * ADDRESS_LENGTH:
            raise DecodeError(f"account address hex must be 32 characters, got {len(text)}")
        try:
            return cls(bytes.fromhex(text))
        except ValueError as exc:
            raise DecodeError(f"invalid account address hex {text!r}") from exc

    @classmethod
    def from_int(cls, number: int) -> AccountAddress:
        """Build an address from an integer (e.g. 0xA550C18)."""
        return cls(number.to_bytes(ADDRESS_LENGTH, "big"))

    def hex(self) -> str:
        """Return 32 lowercase hex characters, no 0x (Diem's JSON form)."""
        return self.value.hex()

    def __str__(self) -> str:
        return self.value.hex()

    def serialize(self, ser: Serializer) -> None:
        ser.fixed_bytes(self.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> AccountAddress:
        return cls(de.fixed_bytes(ADDRESS_LENGTH))


AccountAddress.VM_RESERVED = AccountAddress.from_int(0x0)
AccountAddress.CORE_CODE = AccountAddress.from_int(0x1)
AccountAddress.DIEM_ROOT = AccountAddress.from_int(0xA550C18)
AccountAddress.TREASURY_COMPLIANCE = AccountAddress.from_int(0xB1E55ED)
AccountAddress.TESTNET_DD = AccountAddress.from_int(0xDD)


@dataclass(frozen=True, slots=True, order=True)
class ChainId(BcsType):
    """A chain id (u8)."""

    value: int

    def __post_init__(self) -> None:
        if not 0 <= self.value <= 0xFF:
            raise DecodeError(f"chain id must be a u8, got {self.value}")

    def serialize(self, ser: Serializer) -> None:
        ser.u8(self.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> ChainId:
        return cls(de.u8())


def is_valid_identifier(name: str) -> bool:
    """Return True iff name is a Move identifier ([A-Za-z][A-Za-z0-9_]* or _[A-Za-z0-9_]+)."""
    return _IDENTIFIER_RE.match(name) is not None


def _check_identifier(name: str, what: str) -> None:
    if type(name) is not str or _IDENTIFIER_RE.match(name) is None:
        raise DecodeError(f"{what} is not a valid Move identifier: {name!r}")


def _read_identifier(de: Deserializer, what: str) -> str:
    start = de.position
    name = de.str()
    if _IDENTIFIER_RE.match(name) is None:
        raise DecodeError(f"{what} at offset {start} is not a valid Move identifier: {name!r}")
    return name


@dataclass(frozen=True, slots=True, order=True)
class Identifier(BcsType):
    """A Move identifier (newtype over String); other types hold identifiers as plain validated str."""

    value: str

    def __post_init__(self) -> None:
        _check_identifier(self.value, "identifier")

    def serialize(self, ser: Serializer) -> None:
        ser.str(self.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> Identifier:
        return cls(_read_identifier(de, "identifier"))


# ---------------------------------------------------------------- type tags


class TypeTagKind(IntEnum):
    """TypeTag variant indices."""

    BOOL = 0
    U8 = 1
    U64 = 2
    U128 = 3
    ADDRESS = 4
    SIGNER = 5
    VECTOR = 6
    STRUCT = 7


_PRIMITIVE_TAG_NAMES = {0: "bool", 1: "u8", 2: "u64", 3: "u128", 4: "address", 5: "signer"}


class _EncodedIdentity:
    """Equality, hashing and ordering by canonical BCS bytes (cached), so deep values never recurse."""

    __slots__ = ()

    def to_bcs(self) -> bytes:
        """Return the (cached) BCS encoding."""
        cached = self._bcs  # type: ignore[attr-defined]
        if cached is None:
            ser = Serializer()
            _write_tag_node(ser, self)  # type: ignore[arg-type]
            cached = ser.output()
            object.__setattr__(self, "_bcs", cached)
        return cached

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self is other or self.to_bcs() == other.to_bcs()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.to_bcs())

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.to_bcs() < other.to_bcs()  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True, eq=False)
class TypeTag(_EncodedIdentity, BcsType):
    """A Move type: kind plus `vector_element` (VECTOR) or `struct` (STRUCT); hashable, ordered by BCS."""

    kind: TypeTagKind
    vector_element: TypeTag | None = None
    struct: StructTag | None = None
    _bcs: bytes | None = field(default=None, init=False, repr=False)
    _depth: int = field(default=1, init=False, repr=False)

    BOOL: ClassVar[TypeTag]
    U8: ClassVar[TypeTag]
    U64: ClassVar[TypeTag]
    U128: ClassVar[TypeTag]
    ADDRESS: ClassVar[TypeTag]
    SIGNER: ClassVar[TypeTag]

    def __post_init__(self) -> None:
        kind = self.kind
        if kind == TypeTagKind.VECTOR:
            ok = type(self.vector_element) is TypeTag and self.struct is None
            depth = 1 + self.vector_element._depth if ok else 0  # type: ignore[union-attr]
        elif kind == TypeTagKind.STRUCT:
            ok = type(self.struct) is StructTag and self.vector_element is None
            depth = 1 + self.struct._depth if ok else 0  # type: ignore[union-attr]
        else:
            ok = kind in _PRIMITIVE_TAG_NAMES and self.vector_element is None and self.struct is None
            depth = 1
        if not ok:
            raise DecodeError(f"malformed TypeTag({kind!r}, {self.vector_element!r}, {self.struct!r})")
        _check_depth(depth)
        object.__setattr__(self, "_depth", depth)
        if type(kind) is not TypeTagKind:
            object.__setattr__(self, "kind", TypeTagKind(kind))

    @staticmethod
    def vector(element: TypeTag) -> TypeTag:
        """Return vector<element>."""
        return TypeTag(TypeTagKind.VECTOR, vector_element=element)

    @staticmethod
    def struct_of(tag: StructTag) -> TypeTag:
        """Return the struct type tag for a StructTag."""
        return TypeTag(TypeTagKind.STRUCT, struct=tag)

    def __str__(self) -> str:
        if self.kind == TypeTagKind.VECTOR:
            return f"vector<{self.vector_element}>"
        if self.kind == TypeTagKind.STRUCT:
            return str(self.struct)
        return _PRIMITIVE_TAG_NAMES[self.kind]

    def serialize(self, ser: Serializer) -> None:
        ser.fixed_bytes(self.to_bcs())

    @classmethod
    def deserialize(cls, de: Deserializer) -> TypeTag:
        return _read_type_tag(de)


def _check_depth(depth: int) -> None:
    if depth > BCS_MAX_CONTAINER_DEPTH:
        raise DecodeError(f"type tag nesting deeper than {BCS_MAX_CONTAINER_DEPTH}")


@dataclass(frozen=True, slots=True, eq=False)
class StructTag(_EncodedIdentity, BcsType):
    """A struct type address::module::name<type_params>; hashable, ordered by BCS."""

    address: AccountAddress
    module: str
    name: str
    type_params: tuple[TypeTag, ...] = ()
    _bcs: bytes | None = field(default=None, init=False, repr=False)
    _depth: int = field(default=1, init=False, repr=False)

    def __post_init__(self) -> None:
        _check_identifier(self.module, "struct module")
        _check_identifier(self.name, "struct name")
        if type(self.type_params) is not tuple:
            object.__setattr__(self, "type_params", tuple(self.type_params))
        if self.type_params:
            depth = 1 + max(param._depth for param in self.type_params)
            _check_depth(depth)
            object.__setattr__(self, "_depth", depth)

    def __str__(self) -> str:
        params = f"<{', '.join(map(str, self.type_params))}>" if self.type_params else ""
        return f"0x{self.address.hex()}::{self.module}::{self.name}{params}"

    def serialize(self, ser: Serializer) -> None:
        ser.fixed_bytes(self.to_bcs())

    @classmethod
    def deserialize(cls, de: Deserializer) -> StructTag:
        return _read_struct_tag(de)


# Type tags nest arbitrarily, so reading and writing use one Python frame per level (no helper
# frames in between): 500 levels, the BCS limit, stay well inside Python's recursion limit.
def _write_tag_node(ser: Serializer, node: TypeTag | StructTag) -> None:
    if node._bcs is not None:
        ser.fixed_bytes(node._bcs)
        return
    if type(node) is TypeTag:
        ser.variant_index(node.kind)
        if node.kind == TypeTagKind.VECTOR:
            _write_tag_node(ser, node.vector_element)  # type: ignore[arg-type]
        elif node.kind == TypeTagKind.STRUCT:
            _write_tag_node(ser, node.struct)  # type: ignore[arg-type]
        return
    ser.fixed_bytes(node.address.value)
    ser.str(node.module)
    ser.str(node.name)
    ser.uleb128(len(node.type_params))
    for param in node.type_params:
        _write_tag_node(ser, param)


def _read_struct_tag(de: Deserializer) -> StructTag:
    start = de.position
    de.enter_container()
    address = AccountAddress.deserialize(de)
    module = _read_identifier(de, "struct module")
    name = _read_identifier(de, "struct name")
    params = []
    for _ in range(de.length("type parameter count")):
        params.append(_read_type_tag(de))
    de.leave_container()
    tag = StructTag(address, module, name, tuple(params))
    object.__setattr__(tag, "_bcs", de.slice(start, de.position))
    return tag


def _read_type_tag(de: Deserializer) -> TypeTag:
    start = de.position
    de.enter_container()
    index = de.variant_index()
    if index < TypeTagKind.VECTOR:
        de.leave_container()
        return _PRIMITIVE_TAGS[index]
    if index == TypeTagKind.VECTOR:
        tag = TypeTag(TypeTagKind.VECTOR, vector_element=_read_type_tag(de))
    elif index == TypeTagKind.STRUCT:
        tag = TypeTag(TypeTagKind.STRUCT, struct=_read_struct_tag(de))
    else:
        raise _bad_variant("TypeTag", index, de)
    de.leave_container()
    object.__setattr__(tag, "_bcs", de.slice(start, de.position))
    return tag


_PRIMITIVE_TAGS = tuple(TypeTag(TypeTagKind(i)) for i in range(TypeTagKind.VECTOR))
TypeTag.BOOL, TypeTag.U8, TypeTag.U64, TypeTag.U128, TypeTag.ADDRESS, TypeTag.SIGNER = _PRIMITIVE_TAGS
for _tag in _PRIMITIVE_TAGS:
    _tag.to_bcs()


def currency_type_tag(code: str) -> TypeTag:
    """Return Struct(0x1::code::code), the type argument naming a currency (e.g. XUS)."""
    return TypeTag.struct_of(StructTag(AccountAddress.CORE_CODE, code, code, ()))


@dataclass(frozen=True, slots=True, order=True)
class ModuleId(BcsType):
    """A module address::name."""

    address: AccountAddress
    name: str

    def __post_init__(self) -> None:
        _check_identifier(self.name, "module name")

    def __str__(self) -> str:
        return f"0x{self.address.hex()}::{self.name}"

    def serialize(self, ser: Serializer) -> None:
        ser.fixed_bytes(self.address.value)
        ser.str(self.name)

    @classmethod
    def deserialize(cls, de: Deserializer) -> ModuleId:
        return cls(AccountAddress.deserialize(de), _read_identifier(de, "module name"))


# ---------------------------------------------------------------- payloads


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
            raise _bad_variant("TransactionArgument", index, de)
        return cls(TransactionArgumentKind(index), value)


def _as_tuple(obj: object, name: str) -> None:
    value = getattr(obj, name)
    if type(value) is not tuple:
        object.__setattr__(obj, name, tuple(value))


@dataclass(frozen=True, slots=True)
class Script(BcsType):
    """A legacy script payload: compiled code, type arguments and TransactionArguments."""

    code: bytes
    ty_args: tuple[TypeTag, ...] = ()
    args: tuple[TransactionArgument, ...] = ()

    def __post_init__(self) -> None:
        _as_tuple(self, "ty_args")
        _as_tuple(self, "args")

    def serialize(self, ser: Serializer) -> None:
        ser.bytes(self.code)
        ser.sequence(self.ty_args, _put)
        ser.sequence(self.args, _put)

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
        _check_identifier(self.function, "function name")
        _as_tuple(self, "ty_args")
        _as_tuple(self, "args")

    def serialize(self, ser: Serializer) -> None:
        self.module.serialize(ser)
        ser.str(self.function)
        ser.sequence(self.ty_args, _put)
        ser.sequence(self.args, Serializer.bytes)

    @classmethod
    def deserialize(cls, de: Deserializer) -> ScriptFunction:
        module = ModuleId.deserialize(de)
        function = _read_identifier(de, "function name")
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


# ---------------------------------------------------------------- events and write sets


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
            raise _bad_variant("ContractEvent", index, de)
        key = EventKey.deserialize(de)
        sequence_number = de.u64()
        return cls(key, sequence_number, TypeTag.deserialize(de), de.bytes())


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
        raise _bad_variant("WriteOp", index, de)


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
        _as_tuple(self, "entries")

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
        _as_tuple(self, "events")

    def serialize(self, ser: Serializer) -> None:
        self.write_set.serialize(ser)
        ser.sequence(self.events, _put)

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
        raise _bad_variant("WriteSetPayload", index, de)


_PAYLOAD_CLASSES: tuple[type[BcsType], ...] = (WriteSetPayload, Script, Module, ScriptFunction)
_PAYLOAD_INDEX = {payload_class: i for i, payload_class in enumerate(_PAYLOAD_CLASSES)}


@dataclass(frozen=True, slots=True)
class TransactionPayload(BcsType):
    """TransactionPayload: 0 WriteSet | 1 Script | 2 Module | 3 ScriptFunction, chosen by value's class."""

    value: WriteSetPayload | Script | Module | ScriptFunction

    def __post_init__(self) -> None:
        if type(self.value) not in _PAYLOAD_INDEX:
            raise DecodeError(f"TransactionPayload cannot hold {type(self.value).__name__}")

    @property
    def variant(self) -> int:
        """The variant index (0 WriteSet, 1 Script, 2 Module, 3 ScriptFunction)."""
        return _PAYLOAD_INDEX[type(self.value)]

    def serialize(self, ser: Serializer) -> None:
        ser.variant_index(_PAYLOAD_INDEX[type(self.value)])
        self.value.serialize(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> TransactionPayload:
        index = de.variant_index()
        if index >= len(_PAYLOAD_CLASSES):
            raise _bad_variant("TransactionPayload", index, de)
        return cls(_PAYLOAD_CLASSES[index].deserialize(de))  # type: ignore[arg-type]


# ---------------------------------------------------------------- transactions

_RAW_TRANSACTION_SALT = get_salt("RawTransaction")
_RAW_TRANSACTION_WITH_DATA_SALT = get_salt("RawTransactionWithData")
_TRANSACTION_SALT_NAME = "Transaction"


@dataclass(frozen=True, slots=True)
class RawTransaction(BcsType):
    """The unsigned transaction; its BCS is cached after the first encoding or decoding."""

    sender: AccountAddress
    sequence_number: int
    payload: TransactionPayload
    max_gas_amount: int
    gas_unit_price: int
    gas_currency_code: str
    expiration_timestamp_secs: int
    chain_id: ChainId
    _bcs: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def to_bcs(self) -> bytes:
        """Return the (cached) BCS encoding."""
        if self._bcs is None:
            ser = Serializer()
            self.serialize(ser)
            object.__setattr__(self, "_bcs", ser.output())
        return self._bcs  # type: ignore[return-value]

    def signing_message(self) -> bytes:
        """Return salt("RawTransaction") ‖ BCS(self), the bytes the sender signs."""
        return _RAW_TRANSACTION_SALT + self.to_bcs()

    def serialize(self, ser: Serializer) -> None:
        if self._bcs is not None:
            ser.fixed_bytes(self._bcs)
            return
        ser.fixed_bytes(self.sender.value)
        ser.u64(self.sequence_number)
        self.payload.serialize(ser)
        ser.u64(self.max_gas_amount)
        ser.u64(self.gas_unit_price)
        ser.str(self.gas_currency_code)
        ser.u64(self.expiration_timestamp_secs)
        ser.u8(self.chain_id.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> RawTransaction:
        start = de.position
        raw = cls(
            AccountAddress.deserialize(de), de.u64(), TransactionPayload.deserialize(de),
            de.u64(), de.u64(), de.str(), de.u64(), ChainId.deserialize(de),
        )
        # Strict BCS is canonical, so the input slice equals the re-encoding.
        object.__setattr__(raw, "_bcs", de.slice(start, de.position))
        return raw


def compute_multi_agent_signing_message(
    raw_txn: RawTransaction, secondary_signer_addresses: tuple[AccountAddress, ...]
) -> bytes:
    """Return salt("RawTransactionWithData") ‖ BCS(RawTransactionWithData::MultiAgent{raw, addrs})."""
    ser = Serializer()
    ser.variant_index(0)
    raw_txn.serialize(ser)
    ser.sequence(secondary_signer_addresses, _put)
    return _RAW_TRANSACTION_WITH_DATA_SALT + ser.output()


@dataclass(frozen=True, slots=True)
class Ed25519Authenticator(BcsType):
    """A single Ed25519 public key (32 bytes) and signature (64 bytes)."""

    public_key: bytes
    signature: bytes

    SCHEME: ClassVar[int] = SCHEME_ED25519

    def __post_init__(self) -> None:
        if len(self.public_key) != ED25519_PUBLIC_KEY_LENGTH or len(self.signature) != ED25519_SIGNATURE_LENGTH:
            raise DecodeError("ed25519 authenticator needs a 32-byte key and a 64-byte signature")

    def authentication_key(self) -> bytes:
        """Return sha3_256(public_key ‖ 0x00)."""
        return compute_auth_key(self.public_key, SCHEME_ED25519)

    def verify(self, message: bytes) -> bool:
        """Return True iff the signature over message is valid (strict)."""
        return is_valid_signature(self.public_key, message, self.signature)

    def serialize(self, ser: Serializer) -> None:
        ser.bytes(self.public_key)
        ser.bytes(self.signature)

    @classmethod
    def deserialize(cls, de: Deserializer) -> Ed25519Authenticator:
        return cls(de.bytes(), de.bytes())


@dataclass(frozen=True, slots=True)
class MultiEd25519Authenticator(BcsType):
    """A MultiEd25519 public key and signature, in Diem's raw byte layouts (see multisig.py)."""

    public_key: bytes
    signature: bytes

    SCHEME: ClassVar[int] = SCHEME_MULTI_ED25519

    def __post_init__(self) -> None:
        MultiEd25519PublicKey.from_bytes(self.public_key)
        MultiEd25519Signature.from_bytes(self.signature)

    def authentication_key(self) -> bytes:
        """Return sha3_256(multi_public_key ‖ 0x01)."""
        return compute_auth_key(self.public_key, SCHEME_MULTI_ED25519)

    def verify(self, message: bytes) -> bool:
        """Return True iff at least threshold valid member signatures cover message."""
        return is_valid_multi_signature(self.public_key, message, self.signature)

    def serialize(self, ser: Serializer) -> None:
        ser.bytes(self.public_key)
        ser.bytes(self.signature)

    @classmethod
    def deserialize(cls, de: Deserializer) -> MultiEd25519Authenticator:
        return cls(de.bytes(), de.bytes())


_ACCOUNT_AUTH_CLASSES: tuple[type, ...] = (Ed25519Authenticator, MultiEd25519Authenticator)


@dataclass(frozen=True, slots=True)
class AccountAuthenticator(BcsType):
    """AccountAuthenticator: 0 Ed25519 | 1 MultiEd25519, chosen by value's class."""

    value: Ed25519Authenticator | MultiEd25519Authenticator

    def __post_init__(self) -> None:
        if type(self.value) not in _ACCOUNT_AUTH_CLASSES:
            raise DecodeError(f"AccountAuthenticator cannot hold {type(self.value).__name__}")

    def authentication_key(self) -> bytes:
        """Return the authentication key of the signer's public key."""
        return self.value.authentication_key()

    def verify(self, message: bytes) -> bool:
        """Return True iff the signature over message is valid."""
        return self.value.verify(message)

    def serialize(self, ser: Serializer) -> None:
        ser.variant_index(self.value.SCHEME)
        self.value.serialize(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> AccountAuthenticator:
        index = de.variant_index()
        if index >= len(_ACCOUNT_AUTH_CLASSES):
            raise _bad_variant("AccountAuthenticator", index, de)
        return cls(_ACCOUNT_AUTH_CLASSES[index].deserialize(de))


@dataclass(frozen=True, slots=True)
class MultiAgentAuthenticator(BcsType):
    """TransactionAuthenticator::MultiAgent: sender plus secondary signers (diem_version ≥ 3)."""

    sender: AccountAuthenticator
    secondary_signer_addresses: tuple[AccountAddress, ...]
    secondary_signers: tuple[AccountAuthenticator, ...]

    def __post_init__(self) -> None:
        _as_tuple(self, "secondary_signer_addresses")
        _as_tuple(self, "secondary_signers")

    def serialize(self, ser: Serializer) -> None:
        self.sender.serialize(ser)
        ser.sequence(self.secondary_signer_addresses, _put)
        ser.sequence(self.secondary_signers, _put)

    @classmethod
    def deserialize(cls, de: Deserializer) -> MultiAgentAuthenticator:
        sender = AccountAuthenticator.deserialize(de)
        addresses = tuple(de.sequence(AccountAddress.deserialize))
        return cls(sender, addresses, tuple(de.sequence(AccountAuthenticator.deserialize)))


_TXN_AUTH_CLASSES: tuple[type, ...] = (
    Ed25519Authenticator, MultiEd25519Authenticator, MultiAgentAuthenticator,
)
_TXN_AUTH_INDEX = {auth_class: i for i, auth_class in enumerate(_TXN_AUTH_CLASSES)}


@dataclass(frozen=True, slots=True)
class TransactionAuthenticator(BcsType):
    """TransactionAuthenticator: 0 Ed25519 | 1 MultiEd25519 | 2 MultiAgent, chosen by value's class."""

    value: Ed25519Authenticator | MultiEd25519Authenticator | MultiAgentAuthenticator

    def __post_init__(self) -> None:
        if type(self.value) not in _TXN_AUTH_INDEX:
            raise DecodeError(f"TransactionAuthenticator cannot hold {type(self.value).__name__}")

    @classmethod
    def ed25519(cls, public_key: bytes, signature: bytes) -> TransactionAuthenticator:
        """Build a single-key Ed25519 authenticator."""
        return cls(Ed25519Authenticator(public_key, signature))

    def authentication_key(self) -> bytes:
        """Return the sender's authentication key (sha3(pk ‖ scheme))."""
        value = self.value
        if type(value) is MultiAgentAuthenticator:
            return value.sender.authentication_key()
        return value.authentication_key()  # type: ignore[union-attr]

    def serialize(self, ser: Serializer) -> None:
        ser.variant_index(_TXN_AUTH_INDEX[type(self.value)])
        self.value.serialize(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> TransactionAuthenticator:
        index = de.variant_index()
        if index >= len(_TXN_AUTH_CLASSES):
            raise _bad_variant("TransactionAuthenticator", index, de)
        return cls(_TXN_AUTH_CLASSES[index].deserialize(de))


@dataclass(frozen=True, slots=True)
class SignedTransaction(BcsType):
    """A raw transaction with its authenticator; BCS and hash are cached."""

    raw_txn: RawTransaction
    authenticator: TransactionAuthenticator
    _bcs: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _hash: bytes | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def sender(self) -> AccountAddress:
        """The sending account."""
        return self.raw_txn.sender

    @property
    def sequence_number(self) -> int:
        """The sender's sequence number."""
        return self.raw_txn.sequence_number

    @property
    def raw_bytes(self) -> bytes:
        """The signed transaction's BCS (cached; equal to the decoded input)."""
        return self.to_bcs()

    def to_bcs(self) -> bytes:
        """Return the (cached) BCS encoding."""
        if self._bcs is None:
            ser = Serializer()
            self.raw_txn.serialize(ser)
            self.authenticator.serialize(ser)
            object.__setattr__(self, "_bcs", ser.output())
        return self._bcs  # type: ignore[return-value]

    def hash(self) -> bytes:
        """Return sha3(salt("Transaction") ‖ 0x00 ‖ BCS(self)), the JSON-RPC transaction hash."""
        if self._hash is None:
            object.__setattr__(self, "_hash", hash_with_salt(_TRANSACTION_SALT_NAME, b"\x00" + self.to_bcs()))
        return self._hash  # type: ignore[return-value]

    def authentication_key(self) -> bytes:
        """Return sha3(public_key ‖ scheme) of the sender's key, to compare with the account's."""
        return self.authenticator.authentication_key()

    def is_signature_valid(self) -> bool:
        """Return True iff every signature verifies strictly over its signing message."""
        auth = self.authenticator.value
        if type(auth) is MultiAgentAuthenticator:
            if len(auth.secondary_signer_addresses) != len(auth.secondary_signers):
                return False
            message = compute_multi_agent_signing_message(self.raw_txn, auth.secondary_signer_addresses)
            signers = (auth.sender, *auth.secondary_signers)
            return all(signer.verify(message) for signer in signers)
        return auth.verify(self.raw_txn.signing_message())  # type: ignore[union-attr]

    def serialize(self, ser: Serializer) -> None:
        ser.fixed_bytes(self.to_bcs())

    @classmethod
    def deserialize(cls, de: Deserializer) -> SignedTransaction:
        start = de.position
        signed = cls(RawTransaction.deserialize(de), TransactionAuthenticator.deserialize(de))
        object.__setattr__(signed, "_bcs", de.slice(start, de.position))
        return signed


def sign_raw_transaction(private_key: PrivateKey, raw_txn: RawTransaction) -> SignedTransaction:
    """Sign raw_txn with an Ed25519 key and return the SignedTransaction."""
    signature = private_key.sign(raw_txn.signing_message())
    return SignedTransaction(
        raw_txn, TransactionAuthenticator.ed25519(private_key.public_key().data, signature)
    )


@dataclass(frozen=True, slots=True)
class BlockMetadata(BcsType):
    """The per-block metadata transaction."""

    id: bytes
    round: int
    timestamp_usecs: int
    previous_block_votes: tuple[AccountAddress, ...]
    proposer: AccountAddress

    def __post_init__(self) -> None:
        if len(self.id) != HASH_LENGTH:
            raise DecodeError(f"block id must be {HASH_LENGTH} bytes, got {len(self.id)}")
        _as_tuple(self, "previous_block_votes")

    def serialize(self, ser: Serializer) -> None:
        ser.bytes(self.id)
        ser.u64(self.round)
        ser.u64(self.timestamp_usecs)
        ser.sequence(self.previous_block_votes, _put)
        ser.fixed_bytes(self.proposer.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> BlockMetadata:
        block_id, round_, timestamp_usecs = de.bytes(), de.u64(), de.u64()
        votes = tuple(de.sequence(AccountAddress.deserialize))
        return cls(block_id, round_, timestamp_usecs, votes, AccountAddress.deserialize(de))


_TXN_CLASSES: tuple[type, ...] = (SignedTransaction, WriteSetPayload, BlockMetadata)
_TXN_INDEX = {txn_class: i for i, txn_class in enumerate(_TXN_CLASSES)}


@dataclass(frozen=True, slots=True)
class Transaction(BcsType):
    """Transaction: 0 UserTransaction(SignedTransaction) | 1 GenesisTransaction(WriteSetPayload) | 2 BlockMetadata."""

    value: SignedTransaction | WriteSetPayload | BlockMetadata

    def __post_init__(self) -> None:
        if type(self.value) not in _TXN_INDEX:
            raise DecodeError(f"Transaction cannot hold {type(self.value).__name__}")

    @property
    def variant(self) -> int:
        """The variant index (0 user, 1 genesis, 2 block metadata)."""
        return _TXN_INDEX[type(self.value)]

    def hash(self) -> bytes:
        """Return sha3(salt("Transaction") ‖ BCS(self))."""
        if type(self.value) is SignedTransaction:
            return self.value.hash()
        return hash_with_salt(_TRANSACTION_SALT_NAME, self.to_bcs())

    def serialize(self, ser: Serializer) -> None:
        ser.variant_index(_TXN_INDEX[type(self.value)])
        self.value.serialize(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> Transaction:
        index = de.variant_index()
        if index >= len(_TXN_CLASSES):
            raise _bad_variant("Transaction", index, de)
        return cls(_TXN_CLASSES[index].deserialize(de))
