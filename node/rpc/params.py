"""Strict parsers for positional JSON-RPC params, raising Diem's invalid-params error."""

from __future__ import annotations


from node.rpc.jsonrpc import JsonRpcError, JsonValue, invalid_params
from primitives.limits import U64_MAX

ADDRESS_HEX_LENGTH = 32
EVENT_KEY_HEX_LENGTH = 48


def parse_u64(method: str, value: JsonValue) -> int:
    """Return value as a u64, rejecting bools, floats, negatives and overflow."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U64_MAX:
        raise invalid_params(method)
    return value


def parse_optional_u64(method: str, value: JsonValue) -> int | None:
    """Return value as a u64 or None for JSON null."""
    return None if value is None else parse_u64(method, value)


def parse_bool(method: str, value: JsonValue) -> bool:
    """Return value as a bool; JSON null means false, as Diem's SDK sends it."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid_params(method)
    return value


def parse_hex(method: str, value: JsonValue, length_hex: int | None = None) -> bytes:
    """Return the bytes of a hex string (upper or lower case, no 0x), optionally of fixed length."""
    if not isinstance(value, str) or (length_hex is not None and len(value) != length_hex):
        raise invalid_params(method)
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise invalid_params(method) from None


def parse_address(method: str, value: JsonValue) -> bytes:
    """Return a 16-byte account address from 32 hex characters."""
    return parse_hex(method, value, ADDRESS_HEX_LENGTH)


def parse_event_key(method: str, value: JsonValue) -> bytes:
    """Return a 24-byte event key from 48 hex characters."""
    return parse_hex(method, value, EVENT_KEY_HEX_LENGTH)


def get_param(params: list[JsonValue], index: int) -> JsonValue:
    """Return the positional param at index, or None when it was omitted."""
    return params[index] if index < len(params) else None


def check_page_size(limit: int, page_size_max: int) -> None:
    """Reject a page larger than the node serves, with Diem's message."""
    if limit > page_size_max:
        raise JsonRpcError(-32600, f"Invalid Request: page size = {limit}, exceed limit {page_size_max}")
