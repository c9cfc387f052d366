"""Move type tags: primitive, vector and struct tags, and module ids (diem-compat §3.2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar

from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError
from primitives.limits import BCS_MAX_CONTAINER_DEPTH
from primitives.types.bcs_type import BcsType, make_variant_error
from primitives.types.names import AccountAddress, check_identifier, read_identifier


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
        check_identifier(self.module, "struct module")
        check_identifier(self.name, "struct name")
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
    module = read_identifier(de, "struct module")
    name = read_identifier(de, "struct name")
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
        raise make_variant_error("TypeTag", index, de)
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
        check_identifier(self.name, "module name")

    def __str__(self) -> str:
        return f"0x{self.address.hex()}::{self.name}"

    def serialize(self, ser: Serializer) -> None:
        ser.fixed_bytes(self.address.value)
        ser.str(self.name)

    @classmethod
    def deserialize(cls, de: Deserializer) -> ModuleId:
        return cls(AccountAddress.deserialize(de), read_identifier(de, "module name"))
