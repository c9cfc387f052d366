"""Binary Canonical Serialization (diem-compat §3.1): a strict, fast encoder and decoder."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import TypeVar

from primitives.errors import DecodeError, InvariantViolation
from primitives.limits import (
    BCS_MAX_CONTAINER_DEPTH,
    BCS_MAX_SEQUENCE_LENGTH,
    BCS_MAX_VARIANT_INDEX,
    U128_MAX,
)

T = TypeVar("T")

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_U128_LENGTH = 16
_ULEB128_MAX_BYTES_U32 = 5

# Pre-encoded ULEB128 for the common small values (lengths and variant indices below 128).
_SMALL_ULEB128 = tuple(bytes([value]) for value in range(0x80))


def encode_uleb128(value: int) -> bytes:
    """Return the canonical ULEB128 encoding of a non-negative integer."""
    if 0 <= value < 0x80:
        return _SMALL_ULEB128[value]
    if value < 0:
        raise InvariantViolation(f"ULEB128 value must be non-negative, got {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class Serializer:
    """Append-only BCS writer; invalid values are programmer errors (InvariantViolation)."""

    __slots__ = ("_buf", "_depth")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._depth = 0

    def output(self) -> bytes:
        """Return the bytes written so far."""
        return bytes(self._buf)

    def bool(self, value: bool) -> None:
        """Write a bool as one byte 0x00/0x01."""
        if value is True:
            self._buf.append(1)
        elif value is False:
            self._buf.append(0)
        else:
            raise InvariantViolation(f"BCS bool must be a bool, got {value!r}")

    def u8(self, value: int) -> None:
        """Write an unsigned 8-bit integer."""
        if not 0 <= value <= 0xFF:
            raise InvariantViolation(f"u8 out of range: {value}")
        self._buf.append(value)

    def u16(self, value: int) -> None:
        """Write an unsigned 16-bit little-endian integer."""
        self._pack(_U16, value, "u16")

    def u32(self, value: int) -> None:
        """Write an unsigned 32-bit little-endian integer."""
        self._pack(_U32, value, "u32")

    def u64(self, value: int) -> None:
        """Write an unsigned 64-bit little-endian integer."""
        self._pack(_U64, value, "u64")

    def u128(self, value: int) -> None:
        """Write an unsigned 128-bit little-endian integer."""
        if not isinstance(value, int) or not 0 <= value <= U128_MAX:
            raise InvariantViolation(f"u128 out of range: {value!r}")
        self._buf += value.to_bytes(_U128_LENGTH, "little")

    def _pack(self, packer: struct.Struct, value: int, what: str) -> None:
        try:
            self._buf += packer.pack(value)
        except struct.error as exc:
            raise InvariantViolation(f"{what} out of range: {value!r}") from exc

    def uleb128(self, value: int) -> None:
        """Write a ULEB128 length (at most 2^31-1)."""
        if not 0 <= value <= BCS_MAX_SEQUENCE_LENGTH:
            raise InvariantViolation(f"BCS length out of range: {value}")
        self._buf += encode_uleb128(value)

    def variant_index(self, index: int) -> None:
        """Write an enum variant index as ULEB128 (u32)."""
        if not 0 <= index <= BCS_MAX_VARIANT_INDEX:
            raise InvariantViolation(f"variant index out of range: {index}")
        self._buf += encode_uleb128(index)

    def bytes(self, value: bytes) -> None:
        """Write a length-prefixed byte vector."""
        self.uleb128(len(value))
        self._buf += value

    def fixed_bytes(self, value: bytes, length: int | None = None) -> None:
        """Write raw bytes without a length prefix (fixed arrays), checking length if given."""
        if length is not None and len(value) != length:
            raise InvariantViolation(f"fixed array must be {length} bytes, got {len(value)}")
        self._buf += value

    def str(self, value: str) -> None:
        """Write a length-prefixed UTF-8 string."""
        try:
            encoded = value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvariantViolation(f"string is not encodable as UTF-8: {exc}") from exc
        self.bytes(encoded)

    def sequence(self, items: Iterable[T], fn: Callable[[Serializer, T], None]) -> None:
        """Write a length-prefixed sequence, each item written by fn(serializer, item)."""
        items = items if isinstance(items, (list, tuple)) else list(items)
        self.uleb128(len(items))
        for item in items:
            fn(self, item)

    def option(self, value: T | None, fn: Callable[[Serializer, T], None]) -> None:
        """Write an Option: 0x00 for None, else 0x01 followed by fn(serializer, value)."""
        if value is None:
            self._buf.append(0)
        else:
            self._buf.append(1)
            fn(self, value)

    def enter_container(self) -> None:
        """Count one more level of container nesting (limit 500)."""
        self._depth += 1
        if self._depth > BCS_MAX_CONTAINER_DEPTH:
            raise InvariantViolation(f"BCS nesting deeper than {BCS_MAX_CONTAINER_DEPTH}")

    def leave_container(self) -> None:
        """Close one level of container nesting."""
        self._depth -= 1


class Deserializer:
    """Strict BCS reader over bytes; every malformed input raises DecodeError with its offset."""

    __slots__ = ("_data", "_pos", "_end", "_depth")

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._data = data if type(data) is bytes else bytes(data)
        self._pos = 0
        self._end = len(self._data)
        self._depth = 0

    @property
    def position(self) -> int:
        """Offset of the next byte to read."""
        return self._pos

    def remaining(self) -> int:
        """Number of unread bytes."""
        return self._end - self._pos

    def slice(self, start: int, end: int) -> bytes:
        """Return already-read input bytes data[start:end] (to cache an encoding)."""
        return self._data[start:end]

    def finish(self) -> None:
        """Raise DecodeError unless all input has been consumed."""
        if self._pos != self._end:
            raise DecodeError(f"{self._end - self._pos} trailing bytes at offset {self._pos}")

    def _error(self, what: str, detail: str, pos: int | None = None) -> DecodeError:
        return DecodeError(f"{what} at offset {self._pos if pos is None else pos}: {detail}")

    def _take(self, length: int, what: str) -> bytes:
        pos = self._pos
        end = pos + length
        if end > self._end:
            raise self._error(what, f"need {length} bytes, only {self._end - pos} left")
        self._pos = end
        return self._data[pos:end]

    def bool(self) -> bool:
        """Read a bool (only 0x00 or 0x01 accepted)."""
        pos = self._pos
        if pos >= self._end:
            raise self._error("bool", "unexpected end of input")
        value = self._data[pos]
        if value > 1:
            raise self._error("bool", f"invalid value {value:#04x}")
        self._pos = pos + 1
        return value == 1

    def u8(self) -> int:
        """Read an unsigned 8-bit integer."""
        pos = self._pos
        if pos >= self._end:
            raise self._error("u8", "unexpected end of input")
        self._pos = pos + 1
        return self._data[pos]

    def _unpack(self, unpacker: struct.Struct, what: str) -> int:
        pos = self._pos
        if pos + unpacker.size > self._end:
            raise self._error(what, f"need {unpacker.size} bytes, only {self._end - pos} left")
        self._pos = pos + unpacker.size
        return unpacker.unpack_from(self._data, pos)[0]

    def u16(self) -> int:
        """Read an unsigned 16-bit little-endian integer."""
        return self._unpack(_U16, "u16")

    def u32(self) -> int:
        """Read an unsigned 32-bit little-endian integer."""
        return self._unpack(_U32, "u32")

    def u64(self) -> int:
        """Read an unsigned 64-bit little-endian integer."""
        return self._unpack(_U64, "u64")

    def u128(self) -> int:
        """Read an unsigned 128-bit little-endian integer."""
        return int.from_bytes(self._take(_U128_LENGTH, "u128"), "little")

    def _uleb128(self, limit: int, what: str) -> int:
        data, pos, end = self._data, self._pos, self._end
        if pos < end and data[pos] < 0x80:  # fast path: one byte
            self._pos = pos + 1
            return data[pos]
        start = pos
        value = 0
        shift = 0
        while True:
            if pos >= end:
                raise self._error(what, "unexpected end of input in ULEB128", start)
            if pos - start >= _ULEB128_MAX_BYTES_U32:
                raise self._error(what, "ULEB128 longer than 5 bytes", start)
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
        if byte == 0:
            raise self._error(what, "non-canonical ULEB128 (trailing zero group)", start)
        if value > limit:
            raise self._error(what, f"value {value} exceeds {limit}", start)
        self._pos = pos
        return value

    def uleb128(self) -> int:
        """Read a canonical ULEB128 length (at most 2^31-1)."""
        return self._uleb128(BCS_MAX_SEQUENCE_LENGTH, "length")

    def variant_index(self) -> int:
        """Read a canonical ULEB128 enum variant index (u32)."""
        return self._uleb128(BCS_MAX_VARIANT_INDEX, "variant index")

    def length(self, what: str = "length") -> int:
        """Read a length and check it does not exceed the remaining input."""
        start = self._pos
        length = self._uleb128(BCS_MAX_SEQUENCE_LENGTH, what)
        if length > self._end - self._pos:
            raise self._error(what, f"{length} exceeds the {self._end - self._pos} bytes left", start)
        return length

    def bytes(self) -> bytes:
        """Read a length-prefixed byte vector."""
        data, pos = self._data, self._pos
        if pos < self._end and data[pos] < 0x80:  # fast path: one-byte length
            end = pos + 1 + data[pos]
            if end <= self._end:
                self._pos = end
                return data[pos + 1 : end]
        length = self.length("byte vector length")
        pos = self._pos
        self._pos = pos + length
        return data[pos : pos + length]

    def fixed_bytes(self, length: int) -> bytes:
        """Read exactly length raw bytes (fixed array, no prefix)."""
        return self._take(length, f"[u8; {length}]")

    def str(self) -> str:
        """Read a length-prefixed string, rejecting invalid UTF-8."""
        start = self._pos
        raw = self.bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._error("string", f"invalid UTF-8 ({exc.reason})", start) from None

    def sequence(self, fn: Callable[[Deserializer], T]) -> list[T]:
        """Read a length-prefixed sequence, each element read by fn(deserializer)."""
        # Every element we decode occupies at least one byte, so longer lengths are malformed.
        count = self.length("sequence length")
        return [fn(self) for _ in range(count)]

    def option(self, fn: Callable[[Deserializer], T]) -> T | None:
        """Read an Option: 0x00 is None, 0x01 is followed by the value."""
        pos = self._pos
        if pos >= self._end:
            raise self._error("option tag", "unexpected end of input")
        tag = self._data[pos]
        if tag > 1:
            raise self._error("option tag", f"invalid value {tag:#04x}")
        self._pos = pos + 1
        return fn(self) if tag == 1 else None

    def enter_container(self) -> None:
        """Count one more level of container nesting; deeper than 500 is rejected."""
        self._depth += 1
        if self._depth > BCS_MAX_CONTAINER_DEPTH:
            raise self._error("container", f"nesting deeper than {BCS_MAX_CONTAINER_DEPTH}")

    def leave_container(self) -> None:
        """Close one level of container nesting."""
        self._depth -= 1
