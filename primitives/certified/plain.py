"""Plain (canonical-msgpack-ready) forms of certified dataclasses and back, driven by type hints.

Every signed or hashed value and every consensus wire message goes through to_plain, so its field order is
the format: a dataclass becomes the list of its fields in declaration order.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any

from primitives.errors import DecodeError, InvariantViolation

# A wire value nests no deeper than this (a proposal holds a block, its QC, sync info, ...).
MAX_WIRE_DEPTH = 16
# Sequences on the wire are bounded so a peer cannot make us allocate without limit.
MAX_WIRE_SEQUENCE_LENGTH = 100_000

_SCALAR = ()
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def to_plain(value: Any) -> Any:
    """Return value as nested lists of ints, bytes, str, bool and None (dataclasses become lists)."""
    kind = type(value)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        if kind is tuple or kind is list:
            return [to_plain(item) for item in value]
        names = tuple(spec.name for spec in dataclasses.fields(kind)) if dataclasses.is_dataclass(kind) else _SCALAR
        _FIELD_NAMES[kind] = names
    if names is _SCALAR:
        return value
    return [to_plain(getattr(value, name)) for name in names]


def from_plain(cls: type, plain: Any) -> Any:
    """Rebuild a dataclass of type cls from its plain form; raise DecodeError on any mismatch."""
    try:
        return _get_decoder(cls)(plain, 0)
    except DecodeError:
        raise
    except (TypeError, ValueError, OverflowError, InvariantViolation) as error:
        # Constructors check their invariants; on peer bytes a broken one is malformed input, never a halt.
        raise DecodeError(f"cannot decode {getattr(cls, '__name__', cls)}: {error}") from error


Decoder = Callable[[Any, int], Any]
_DECODERS: dict[Any, Decoder] = {}


def _get_decoder(hint: Any) -> Decoder:
    decoder = _DECODERS.get(hint)
    if decoder is None:
        decoder = _compile(hint)
        _DECODERS[hint] = decoder
    return decoder


def _compile(hint: Any) -> Decoder:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _compile_optional(hint)
    if origin is tuple:
        return _compile_tuple(hint)
    if dataclasses.is_dataclass(hint):
        return _compile_dataclass(hint)
    return _compile_scalar(hint)


def _check_depth(depth: int) -> None:
    if depth > MAX_WIRE_DEPTH:
        raise DecodeError("wire value nested too deeply")


def _compile_optional(hint: Any) -> Decoder:
    members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if len(members) != 1:
        raise DecodeError("only Optional unions are supported on the wire")
    member = members[0]
    return lambda plain, depth: None if plain is None else _get_decoder(member)(plain, depth)


def _compile_tuple(hint: Any) -> Decoder:
    args = typing.get_args(hint)

    def decode(plain: Any, depth: int) -> tuple:
        _check_depth(depth)
        if not isinstance(plain, (list, tuple)) or len(plain) > MAX_WIRE_SEQUENCE_LENGTH:
            raise DecodeError("expected a bounded sequence")
        if len(args) == 2 and args[1] is Ellipsis:
            item_decoder = _get_decoder(args[0])
            return tuple(item_decoder(item, depth + 1) for item in plain)
        if len(args) != len(plain):
            raise DecodeError("fixed tuple of wrong length")
        return tuple(_get_decoder(arg)(item, depth + 1) for arg, item in zip(args, plain))

    return decode


def _compile_dataclass(cls: type) -> Decoder:
    hints = typing.get_type_hints(cls)
    names = [spec.name for spec in dataclasses.fields(cls)]
    field_hints = [hints[name] for name in names]

    def decode(plain: Any, depth: int) -> Any:
        _check_depth(depth)
        if not isinstance(plain, (list, tuple)) or len(plain) != len(names):
            raise DecodeError(f"{cls.__name__}: expected {len(names)} fields")
        values = [_get_decoder(hint)(item, depth + 1) for hint, item in zip(field_hints, plain)]
        return cls(*values)

    return decode


def _decode_bool(plain: Any, depth: int) -> bool:
    if not isinstance(plain, bool):
        raise DecodeError("expected a bool")
    return plain


def _decode_int(plain: Any, depth: int) -> int:
    if type(plain) is not int or plain < 0:
        raise DecodeError("expected a non-negative int")
    return plain


def _decode_bytes(plain: Any, depth: int) -> bytes:
    if not isinstance(plain, (bytes, bytearray)):
        raise DecodeError("expected bytes")
    return bytes(plain)


def _decode_str(plain: Any, depth: int) -> str:
    if not isinstance(plain, str):
        raise DecodeError("expected str")
    return plain


_SCALAR_DECODERS: dict[Any, Decoder] = {bool: _decode_bool, int: _decode_int, bytes: _decode_bytes, str: _decode_str}


def _compile_scalar(hint: Any) -> Decoder:
    decoder = _SCALAR_DECODERS.get(hint)
    if decoder is None:
        raise DecodeError(f"unsupported wire type {hint!r}")
    return decoder
