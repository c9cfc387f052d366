"""Per-struct specialised clone / freeze / encode functions (the executor's hot path), generated once."""

from __future__ import annotations

import struct as _struct
from typing import Any, Callable

from contracts.vm.values import ADDRESS, BYTES, U64, FieldType, Option, StructField
from primitives.bcs import encode_uleb128
from primitives.errors import DecodeError

_U64_PACK = _struct.Struct("<Q").pack


_SIMPLE = (U64, BYTES, ADDRESS)


def _is_immutable(ftype: FieldType) -> bool:
    """Values of structs declared IMMUTABLE are never mutated after packing, so clones may share them."""
    inner = ftype.element if type(ftype) is Option else ftype
    return type(inner) is StructField and getattr(inner.cls, "IMMUTABLE", False)


def _encode_simple(expr: str, ftype: FieldType, var: str) -> list[str]:
    if ftype is U64:
        return [f"    out += _u64({expr})"]
    if ftype is BYTES:
        return [f"    {var} = {expr}", f"    out += _uleb(len({var}))", f"    out += {var}"]
    return [f"    {var} = {expr}", f"    if len({var}) != 16:", "        raise _bad('address must be 16 bytes')",
            f"    out += {var}"]


def _encode_lines(name: str, ftype: FieldType, index: int) -> list[str]:
    if ftype in _SIMPLE:
        return _encode_simple(f"self.{name}", ftype, "v")
    if type(ftype) is StructField:
        inner_types = ftype.cls._TYPES
        if inner_types and all(t in _SIMPLE for t in inner_types):  # inline one level (e.g. EventHandle)
            lines = [f"    h = self.{name}"]
            for inner_name, inner_type in zip(ftype.cls._NAMES, inner_types):
                lines += _encode_simple(f"h.{inner_name}", inner_type, "w")
            return lines
        return [f"    self.{name}.encode_into(out)"]
    if type(ftype) is Option and type(ftype.element) is StructField:
        return [f"    v = self.{name}", "    if v is None:", "        out.append(0)", "    else:",
                "        out.append(1)", "        v.encode_into(out)"]
    return [f"    _t{index}.encode(out, self.{name})"]


def _clone_freeze_lines(name: str, ftype: FieldType, index: int) -> tuple[list[str], list[str]]:
    if not ftype.is_struct or _is_immutable(ftype):
        freeze = [f"    v = self.{name}", "    if v is not None and not v._frozen:", "        v.freeze()"]
        return [f"    _set(obj, {name!r}, self.{name})"], freeze if ftype.is_struct else []
    if type(ftype) is StructField:
        return [f"    _set(obj, {name!r}, self.{name}.clone())"], [f"    self.{name}.freeze()"]
    if type(ftype) is Option and type(ftype.element) is StructField:
        return ([f"    v = self.{name}", f"    _set(obj, {name!r}, None if v is None else v.clone())"],
                [f"    v = self.{name}", "    if v is not None:", "        v.freeze()"])
    return [f"    _set(obj, {name!r}, _t{index}.clone(self.{name}))"], [f"    _t{index}.freeze(self.{name})"]


def _field_lines(names: tuple[str, ...], types: tuple[FieldType, ...]) -> tuple[list[str], list[str], list[str]]:
    clone, freeze, encode = [], [], []
    for index, (name, ftype) in enumerate(zip(names, types)):
        clone_lines, freeze_lines = _clone_freeze_lines(name, ftype, index)
        clone += clone_lines
        freeze += freeze_lines
        encode += _encode_lines(name, ftype, index)
    return clone, freeze, encode


def compile_methods(cls: type, names: tuple[str, ...], types: tuple[FieldType, ...]) -> dict[str, Callable[..., Any]]:
    """Return specialised clone, freeze and encode_into functions for a struct layout."""
    clone, freeze, encode = _field_lines(names, types)
    source = "\n".join([
        "def clone(self):",
        "    obj = _new(_cls)",
        "    _set(obj, '_frozen', False)",
        "    _set(obj, '_type', self._type)",
        *clone,
        "    return obj",
        "def freeze(self):",
        "    _set(self, '_frozen', True)",
        *freeze,
        "def encode_into(self, out):",
        *(encode or ["    pass"]),
    ])
    namespace: dict[str, Any] = {
        "_new": object.__new__, "_set": object.__setattr__, "_cls": cls, "_u64": _U64_PACK,
        "_uleb": encode_uleb128, "_bad": DecodeError,
    }
    namespace.update({f"_t{i}": ftype for i, ftype in enumerate(types)})
    exec(compile(source, f"<struct {cls.__name__}>", "exec"), namespace)  # noqa: S102 - generated from field specs
    return {"clone": namespace["clone"], "freeze": namespace["freeze"], "encode_into": namespace["encode_into"]}
