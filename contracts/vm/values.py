"""Typed field descriptors and the canonical (BCS) codec of stored values."""

from __future__ import annotations

import struct
from typing import Any

from primitives.bcs import encode_uleb128
from primitives.errors import DecodeError
from primitives.limits import U64_MAX, U128_MAX

ADDRESS_LENGTH = 16
_U64_PACKER = struct.Struct("<Q")
_U128_BYTES = 16


def _read_uleb128(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise DecodeError("truncated ULEB128")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and shift:
                raise DecodeError("non-canonical ULEB128")
            return value, pos
        shift += 7
        if shift > 35:
            raise DecodeError("ULEB128 too long")


def _take(data: bytes, pos: int, length: int) -> tuple[bytes, int]:
    end = pos + length
    if end > len(data):
        raise DecodeError("truncated value")
    return data[pos:end], end


class FieldType:
    """How one field is encoded, decoded, cloned and frozen; primitives are immutable."""

    name = "field"
    is_struct = False

    def encode(self, out: bytearray, value: Any) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def decode(self, data: bytes, pos: int) -> tuple[Any, int]:  # pragma: no cover - overridden
        raise NotImplementedError

    def clone(self, value: Any) -> Any:
        """Return a private mutable copy (identity for immutable values)."""
        return value

    def freeze(self, value: Any) -> None:
        """Make nested structs read-only (nothing to do for immutable values)."""


class _U8(FieldType):
    name = "u8"

    def encode(self, out: bytearray, value: int) -> None:
        if not 0 <= value <= 0xFF:
            raise OverflowError("u8 out of range")
        out.append(value)

    def decode(self, data: bytes, pos: int) -> tuple[int, int]:
        raw, pos = _take(data, pos, 1)
        return raw[0], pos


class _U64(FieldType):
    name = "u64"

    def encode(self, out: bytearray, value: int) -> None:
        out += _U64_PACKER.pack(value)

    def decode(self, data: bytes, pos: int) -> tuple[int, int]:
        raw, pos = _take(data, pos, 8)
        return _U64_PACKER.unpack(raw)[0], pos


class _U128(FieldType):
    name = "u128"

    def encode(self, out: bytearray, value: int) -> None:
        if not 0 <= value <= U128_MAX:
            raise OverflowError("u128 out of range")
        out += value.to_bytes(_U128_BYTES, "little")

    def decode(self, data: bytes, pos: int) -> tuple[int, int]:
        raw, pos = _take(data, pos, _U128_BYTES)
        return int.from_bytes(raw, "little"), pos


class _Bool(FieldType):
    name = "bool"

    def encode(self, out: bytearray, value: bool) -> None:
        out.append(1 if value else 0)

    def decode(self, data: bytes, pos: int) -> tuple[bool, int]:
        raw, pos = _take(data, pos, 1)
        if raw[0] > 1:
            raise DecodeError("bool must be 0 or 1")
        return raw[0] == 1, pos


class _Address(FieldType):
    name = "address"

    def encode(self, out: bytearray, value: bytes) -> None:
        if len(value) != ADDRESS_LENGTH:
            raise DecodeError("address must be 16 bytes")
        out += value

    def decode(self, data: bytes, pos: int) -> tuple[bytes, int]:
        return _take(data, pos, ADDRESS_LENGTH)


class _Bytes(FieldType):
    name = "vector<u8>"

    def encode(self, out: bytearray, value: bytes) -> None:
        out += encode_uleb128(len(value))
        out += value

    def decode(self, data: bytes, pos: int) -> tuple[bytes, int]:
        length, pos = _read_uleb128(data, pos)
        return _take(data, pos, length)


class Vector(FieldType):
    """vector<T>, held as an immutable tuple (mutate by assigning a new tuple)."""

    def __init__(self, element: FieldType) -> None:
        self.element = element
        self.name = f"vector<{element.name}>"
        self.is_struct = element.is_struct

    def encode(self, out: bytearray, value: tuple) -> None:
        out += encode_uleb128(len(value))
        for item in value:
            self.element.encode(out, item)

    def decode(self, data: bytes, pos: int) -> tuple[tuple, int]:
        length, pos = _read_uleb128(data, pos)
        items = []
        for _ in range(length):
            item, pos = self.element.decode(data, pos)
            items.append(item)
        return tuple(items), pos

    def clone(self, value: tuple) -> tuple:
        return tuple(self.element.clone(v) for v in value) if self.is_struct else value

    def freeze(self, value: tuple) -> None:
        if self.is_struct:
            for item in value:
                self.element.freeze(item)


class Option(FieldType):
    """Option<T>: None or a value."""

    def __init__(self, element: FieldType) -> None:
        self.element = element
        self.name = f"option<{element.name}>"
        self.is_struct = element.is_struct

    def encode(self, out: bytearray, value: Any) -> None:
        if value is None:
            out.append(0)
        else:
            out.append(1)
            self.element.encode(out, value)

    def decode(self, data: bytes, pos: int) -> tuple[Any, int]:
        raw, pos = _take(data, pos, 1)
        if raw[0] == 0:
            return None, pos
        if raw[0] != 1:
            raise DecodeError("option tag must be 0 or 1")
        return self.element.decode(data, pos)

    def clone(self, value: Any) -> Any:
        return None if value is None else self.element.clone(value)

    def freeze(self, value: Any) -> None:
        if value is not None:
            self.element.freeze(value)


class StructField(FieldType):
    """A nested struct value (its class provides encode/decode/clone/freeze)."""

    is_struct = True

    def __init__(self, cls: type, inherit_type_args: bool = False) -> None:
        self.cls = cls
        self.name = cls.__name__
        self.inherit_type_args = inherit_type_args

    def encode(self, out: bytearray, value: Any) -> None:
        value.encode_into(out)

    def decode(self, data: bytes, pos: int) -> tuple[Any, int]:
        return self.cls.decode_from(data, pos)

    def clone(self, value: Any) -> Any:
        return value.clone()

    def freeze(self, value: Any) -> None:
        value.freeze()


U8 = _U8()
U64 = _U64()
U128 = _U128()
BOOL = _Bool()
ADDRESS = _Address()
BYTES = _Bytes()


def check_u64(value: int) -> int:
    """Return value if it fits in u64, else raise OverflowError (the VM maps it to an arithmetic error)."""
    if not 0 <= value <= U64_MAX:
        raise OverflowError("u64 arithmetic overflow")
    return value


def encode_values(*pairs: tuple[FieldType, Any]) -> bytes:
    """Return the BCS encoding of (type, value) pairs in order (event payloads)."""
    out = bytearray()
    for ftype, value in pairs:
        ftype.encode(out, value)
    return bytes(out)
