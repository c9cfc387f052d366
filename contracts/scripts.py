"""Script-function dispatch table and the legacy-script table (recognised by sha3-256 of the code)."""

from __future__ import annotations

import importlib
import struct as _struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from primitives.hashing import sha3_256
from primitives.types.names import AccountAddress
from primitives.types.scripts import Script, ScriptFunction
from primitives.types.type_tags import StructTag, TypeTag, TypeTagKind

CORE_SCRIPT_MODULES = (
    "contracts.framework.payment_scripts",
    "contracts.framework.account_creation_scripts",
    "contracts.framework.account_administration_scripts",
    "contracts.framework.staking_scripts",
)
OPTIONAL_SCRIPT_MODULES = ("contracts.framework.treasury_scripts",)
KNOWN_COIN_MODULES = frozenset({"XUS", "XDX"})
UNKNOWN_SCRIPT_NAME = "unknown"
CORE_ADDRESS_BYTES = AccountAddress.CORE_CODE.value


class ArgType(Enum):
    """Move argument types a script function may take."""

    U8 = "u8"
    U64 = "u64"
    U128 = "u128"
    ADDRESS = "address"
    BOOL = "bool"
    VECTOR_U8 = "vector<u8>"


class InvalidPayload(Exception):
    """Unknown function, wrong arity, bad argument bytes or bad type arguments (kept as miscellaneous_error)."""


@dataclass(frozen=True, slots=True)
class ScriptFunctionSpec:
    """A registered entry function: where it lives, its type-parameter count, argument types and handler."""

    module: str
    function: str
    type_params: int
    args: tuple[ArgType, ...]
    handler: Callable[..., None]


@dataclass(frozen=True, slots=True)
class LegacyScript:
    """A known compiled script: its Diem name and the script function it maps to."""

    name: str
    module: str
    function: str


# sha3-256 of the code bytes of each Diem stdlib script we accept (diem-compat §4.1).
LEGACY_SCRIPTS: dict[bytes, LegacyScript] = {
    bytes.fromhex(digest): LegacyScript(name, module, name)
    for name, module, digest in (
        ("peer_to_peer_with_metadata", "PaymentScripts",
         "04ea43107fafc12adcd09f6c68d63e194675d0ce843a7faf7cceb6c813db9d9a"),
        ("rotate_dual_attestation_info", "AccountAdministrationScripts",
         "b4e23670c081e09e5da9f3c26aa31f84da8beab55ab299cfdddf64769551ed76"),
        ("create_child_vasp_account", "AccountCreationScripts",
         "bf800f1dee9d9f9d472d679a08e28a748fff71135ebfbb6c587f56068ac2028b"),
        ("create_parent_vasp_account", "AccountCreationScripts",
         "7f00777016cf8770922b6f91e1f7884721a80334f385ee65bbfc420d1bdf5c6b"),
        ("create_designated_dealer", "AccountCreationScripts",
         "b84a5e3dfcd0aeefd7db94f16ebb2827db46927641aeee2acc6eec516bb711b5"),
        ("tiered_mint", "TreasuryComplianceScripts",
         "0718b7826d70196405eacc6643e444b67310c843694389f4085537128dfa538c"),
        ("add_currency_to_account", "AccountAdministrationScripts",
         "2589feee1e4dea7012b3ce8923a10ef80e2ab360ffdb6ada4c9b013a1b08fb3a"),
    )
}
SCRIPT_ALLOW_LIST: tuple[bytes, ...] = tuple(LEGACY_SCRIPTS)

_REGISTRY: dict[tuple[str, str], ScriptFunctionSpec] = {}
_LOADED = [False]


def script_function(module: str, function: str, type_params: int, args: tuple[ArgType, ...]):  # noqa: ANN201
    """Register the decorated handler(ctx, signer, ty_args, *args) as module::function."""

    def register(handler: Callable[..., None]) -> Callable[..., None]:
        _REGISTRY[(module, function)] = ScriptFunctionSpec(module, function, type_params, tuple(args), handler)
        return handler

    return register


def load_framework_scripts() -> None:
    """Import the modules that register script functions (the compliance ones only if present)."""
    if _LOADED[0]:
        return
    for name in CORE_SCRIPT_MODULES:
        importlib.import_module(name)
    for name in OPTIONAL_SCRIPT_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    _LOADED[0] = True


def get_spec(module: str, function: str) -> ScriptFunctionSpec | None:
    """Return the registered script function, or None."""
    load_framework_scripts()
    return _REGISTRY.get((module, function))


def get_legacy_script(code: bytes) -> LegacyScript | None:
    """Return the known script with exactly this code, or None."""
    return LEGACY_SCRIPTS.get(sha3_256(code))


def get_script_name(code: bytes) -> str:
    """Return the Diem name of a legacy script's code ("unknown" if not in the table)."""
    known = get_legacy_script(code)
    return known.name if known is not None else UNKNOWN_SCRIPT_NAME


def _decode_u(raw: bytes, width: int) -> int:
    if len(raw) != width:
        raise InvalidPayload(f"expected {width} bytes, got {len(raw)}")
    return int.from_bytes(raw, "little")


def _decode_bytes(raw: bytes) -> bytes:
    length = shift = pos = 0
    while True:
        if pos >= len(raw) or shift > 28:
            raise InvalidPayload("bad vector<u8> length")
        byte = raw[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and shift:
                raise InvalidPayload("non-canonical length")
            break
        shift += 7
    if len(raw) - pos != length:
        raise InvalidPayload("vector<u8> length mismatch")
    return raw[pos:]


def decode_arg(arg_type: ArgType, raw: bytes) -> Any:
    """Decode one BCS argument into bytes (address, vector<u8>), int or bool."""
    if arg_type is ArgType.U64:
        if len(raw) != 8:
            raise InvalidPayload("u64 argument must be 8 bytes")
        return _struct.unpack("<Q", raw)[0]
    if arg_type is ArgType.ADDRESS:
        if len(raw) != 16:
            raise InvalidPayload("address argument must be 16 bytes")
        return bytes(raw)
    if arg_type is ArgType.VECTOR_U8:
        return _decode_bytes(raw)
    if arg_type is ArgType.BOOL:
        if raw not in (b"\x00", b"\x01"):
            raise InvalidPayload("bool argument must be 0 or 1")
        return raw == b"\x01"
    return _decode_u(raw, 1 if arg_type is ArgType.U8 else 16)


_TYPE_ARGS_CACHE: dict[tuple[TypeTag, ...], tuple[StructTag, ...]] = {}
_COIN_TAGS: dict[str, StructTag] = {}


def _canonical_coin_tag(module: str) -> StructTag:
    """One shared StructTag per coin type (downstream caches then hit on identity)."""
    found = _COIN_TAGS.get(module)
    if found is None:
        found = _COIN_TAGS[module] = StructTag(AccountAddress.CORE_CODE, module, module, ())
    return found
TYPE_ARGS_CACHE_SIZE = 1024


def _check_type_args(ty_args: tuple[TypeTag, ...], expected: int) -> tuple[StructTag, ...]:
    if expected == 0 and not ty_args:
        return ()
    if expected == 1 and len(ty_args) == 1:  # the hot path: one coin type, checked without hashing tags
        inner = ty_args[0].struct
        if (inner is not None and inner.module in KNOWN_COIN_MODULES and inner.name == inner.module
                and not inner.type_params and inner.address.value == CORE_ADDRESS_BYTES):
            return (_canonical_coin_tag(inner.module),)
    found = _TYPE_ARGS_CACHE.get(ty_args)
    if found is not None and len(found) == expected:
        return found
    tags = _validate_type_args(ty_args, expected)
    if len(_TYPE_ARGS_CACHE) < TYPE_ARGS_CACHE_SIZE:
        _TYPE_ARGS_CACHE[ty_args] = tags
    return tags


def _validate_type_args(ty_args: tuple[TypeTag, ...], expected: int) -> tuple[StructTag, ...]:
    if len(ty_args) != expected:
        raise InvalidPayload(f"expected {expected} type arguments, got {len(ty_args)}")
    tags = []
    for tag in ty_args:
        inner = tag.struct if tag.kind == TypeTagKind.STRUCT else None
        if inner is None or inner.address != AccountAddress.CORE_CODE or inner.module != inner.name:
            raise InvalidPayload(f"type argument {tag} is not a coin type")
        if inner.module not in KNOWN_COIN_MODULES or inner.type_params:
            raise InvalidPayload(f"type argument {tag} names no published module")
        tags.append(inner)
    return tuple(tags)


def resolve(payload: Script | ScriptFunction) -> tuple[ScriptFunctionSpec, tuple[StructTag, ...], tuple[Any, ...]]:
    """Map a payload to (function, currency type args, decoded args); InvalidPayload if it cannot run."""
    if isinstance(payload, Script):
        known = get_legacy_script(payload.code)
        if known is None:
            raise InvalidPayload("unknown script")
        module, function = known.module, known.function
        raw_args = tuple(arg.to_move_value_bytes() for arg in payload.args)
    else:
        if payload.module.address.value != CORE_ADDRESS_BYTES:
            raise InvalidPayload("script functions live at 0x1")
        module, function, raw_args = payload.module.name, payload.function, payload.args
    spec = _REGISTRY.get((module, function)) if _LOADED[0] else get_spec(module, function)
    if spec is None:
        raise InvalidPayload(f"unknown script function {module}::{function}")
    if len(raw_args) != len(spec.args):
        raise InvalidPayload(f"{function} takes {len(spec.args)} arguments, got {len(raw_args)}")
    ty_args = _check_type_args(tuple(payload.ty_args), spec.type_params)
    args = tuple(decode_arg(kind, raw) for kind, raw in zip(spec.args, raw_args))
    return spec, ty_args, args
