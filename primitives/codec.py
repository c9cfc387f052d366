"""Canonical msgpack for peer messages and stored records: ints, bools, None, str, bytes, lists, maps only."""

from __future__ import annotations

from typing import Any

import msgpack

from primitives.errors import DecodeError, InvariantViolation
from primitives.hashing import get_salt
from primitives.limits import (
    CODEC_MAX_ARRAY_LENGTH,
    CODEC_MAX_BIN_BYTES,
    CODEC_MAX_DEPTH,
    CODEC_MAX_MAP_LENGTH,
    CODEC_MAX_MESSAGE_BYTES,
    CODEC_MAX_STR_BYTES,
)

MSGPACK_INT_MIN = -(2**63)
MSGPACK_INT_MAX = 2**64 - 1


class _Unsupported(Exception):
    """Internal: a value outside the canonical subset."""


def _key_order(key: str | bytes) -> tuple[int, str | bytes]:
    # Canonical map order: str keys (by code point) first, then bytes keys (bytewise).
    return (0, key) if type(key) is str else (1, key)


def _normalize(obj: Any, depth: int) -> Any:
    """Return obj with only exact canonical types (tuples→lists, maps key-sorted), else raise _Unsupported."""
    kind = type(obj)
    if kind is bytes or kind is str or kind is bool or obj is None:
        return obj
    if kind is int:
        if not MSGPACK_INT_MIN <= obj <= MSGPACK_INT_MAX:
            raise _Unsupported(f"integer {obj} outside msgpack range")
        return obj
    if depth >= CODEC_MAX_DEPTH:
        raise _Unsupported(f"nesting deeper than {CODEC_MAX_DEPTH}")
    if kind is list or kind is tuple:
        return [_normalize(item, depth + 1) for item in obj]
    if kind is dict:
        for key in obj:
            if type(key) is not str and type(key) is not bytes:
                raise _Unsupported(f"map key of type {type(key).__name__} (only str/bytes)")
        return {key: _normalize(obj[key], depth + 1) for key in sorted(obj, key=_key_order)}
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):  # IntEnum and friends encode as their integer value
        return _normalize(int(obj), depth)
    if isinstance(obj, (bytearray, memoryview)):
        return bytes(obj)
    raise _Unsupported(f"type {kind.__name__} is not allowed in canonical msgpack")


def pack(obj: Any) -> bytes:
    """Encode obj canonically; floats, ext types and non-str/bytes map keys are programmer errors."""
    try:
        normalized = _normalize(obj, 0)
    except _Unsupported as exc:
        raise InvariantViolation(f"cannot pack: {exc}") from None
    return msgpack.packb(normalized, use_bin_type=True)


def unpack(data: bytes, max_bytes: int = CODEC_MAX_MESSAGE_BYTES, *, canonical: bool = True) -> Any:
    """Decode one value with strict limits; DecodeError on anything malformed, trailing or non-canonical."""
    if len(data) > max_bytes:
        raise DecodeError(f"msgpack message of {len(data)} bytes exceeds {max_bytes}")
    try:
        obj = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            use_list=True,
            max_bin_len=CODEC_MAX_BIN_BYTES,
            max_str_len=CODEC_MAX_STR_BYTES,
            max_array_len=CODEC_MAX_ARRAY_LENGTH,
            max_map_len=CODEC_MAX_MAP_LENGTH,
            max_ext_len=0,
        )
    except msgpack.ExtraData as exc:
        raise DecodeError(f"msgpack: {len(exc.extra)} trailing bytes") from None
    except (ValueError, TypeError, OverflowError, msgpack.UnpackException) as exc:
        raise DecodeError(f"msgpack: {type(exc).__name__}: {exc}") from None
    except RecursionError:
        raise DecodeError("msgpack: nested too deeply") from None
    try:
        normalized = _normalize(obj, 0)
    except _Unsupported as exc:
        raise DecodeError(f"msgpack: {exc}") from None
    if canonical and msgpack.packb(normalized, use_bin_type=True) != bytes(data):
        raise DecodeError("msgpack: encoding is not canonical")
    return normalized


def unpack_unchecked(data: bytes, max_bytes: int = CODEC_MAX_MESSAGE_BYTES) -> Any:
    """Decode one value with the size limits alone (no canonical check), for from_plain, which checks every type."""
    if len(data) > max_bytes:
        raise DecodeError(f"msgpack message of {len(data)} bytes exceeds {max_bytes}")
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=True, max_bin_len=CODEC_MAX_BIN_BYTES,
                               max_str_len=CODEC_MAX_STR_BYTES, max_array_len=CODEC_MAX_ARRAY_LENGTH,
                               max_map_len=CODEC_MAX_MAP_LENGTH, max_ext_len=0)
    except (ValueError, TypeError, OverflowError, msgpack.UnpackException, RecursionError) as exc:
        raise DecodeError(f"msgpack: {type(exc).__name__}: {exc}") from None


def signing_bytes(domain: str, chain_id: int, obj: Any) -> bytes:
    """Return salt(domain) ‖ chain_id (u8) ‖ pack(obj): domain-separated bytes to sign for non-BCS messages."""
    if not 0 <= chain_id <= 0xFF:
        raise InvariantViolation(f"chain id must be a u8, got {chain_id}")
    return get_salt(domain) + bytes([chain_id]) + pack(obj)
