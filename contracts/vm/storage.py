"""State views and the per-block cache of decoded, read-only resources."""

from __future__ import annotations

from typing import Any, Protocol

from contracts.vm.structs import ResourceType

ResourceKey = tuple[bytes, ResourceType]
_ABSENT = object()
# Frozen values are immutable, so equal bytes of one type always decode to an interchangeable value:
# a process-wide cache keyed by (type, bytes) saves decoding across blocks without any invalidation.
DECODE_CACHE_ENTRIES = 200_000
# Struct classes whose change invalidates BlockState.memo (per-block memo of configuration reads).
MEMO_WATCHED_TYPES: set[type] = set()
_DECODED: dict[tuple[ResourceType, bytes], Any] = {}


def _decode_cached(rtype: ResourceType, raw: bytes) -> Any:
    value = _DECODED.get((rtype, raw))
    if value is None:
        value = rtype.decode(raw)
        value.freeze()
        if len(_DECODED) >= DECODE_CACHE_ENTRIES:
            _DECODED.clear()
        _DECODED[(rtype, raw)] = value
    return value


class StateView(Protocol):
    """Read access to committed state: state key (32 bytes) -> canonical value bytes or None."""

    def get(self, key: bytes) -> bytes | None:
        """Return the value stored under key, or None."""


class InMemoryStateView:
    """A dict-backed StateView (tests, genesis, benchmarks)."""

    def __init__(self, values: dict[bytes, bytes] | None = None) -> None:
        self.values: dict[bytes, bytes] = dict(values or {})

    def get(self, key: bytes) -> bytes | None:
        """Return the value stored under key, or None."""
        return self.values.get(key)

    def apply(self, write_set: dict[bytes, bytes | None]) -> None:
        """Apply a write set (None deletes)."""
        for key, value in write_set.items():
            if value is None:
                self.values.pop(key, None)
            else:
                self.values[key] = value


class BlockState:
    """Decoded view of the state during one block: base reads cached, earlier transactions' writes on top."""

    __slots__ = ("base", "values", "dirty", "memo", "_keys")

    def __init__(self, base: StateView) -> None:
        self.base = base
        self.values: dict[ResourceKey, Any] = {}
        self.dirty: dict[ResourceKey, bytes | None] = {}
        self.memo: dict[object, Any] = {}
        self._keys: dict[ResourceKey, bytes] = {}

    def read(self, key: ResourceKey) -> Any:
        """Return the frozen value under (address, type), or None."""
        value = self.values.get(key, _ABSENT)
        if value is _ABSENT:
            raw = self.base.get(self.state_key(key))
            value = None if raw is None else _decode_cached(key[1], raw)
            self.values[key] = value
        return value

    def state_key(self, key: ResourceKey) -> bytes:
        """Return (cached) the state-tree key of a resource key."""
        found = self._keys.get(key)
        if found is None:
            found = self._keys[key] = key[1].state_key(key[0])
        return found

    def commit(self, changes: dict[ResourceKey, Any], encoded: dict[ResourceKey, bytes | None]) -> None:
        """Make a transaction's (already frozen) changes and their bytes visible to later transactions."""
        self.values.update(changes)
        self.dirty.update(encoded)
        decoded = _DECODED
        if len(decoded) >= DECODE_CACHE_ENTRIES:
            decoded.clear()
        watched = False
        for key, raw in encoded.items():
            rtype = key[1]
            if rtype.cls in MEMO_WATCHED_TYPES:
                watched = True
            if raw is not None:
                decoded[(rtype, raw)] = changes[key]
        if watched:
            self.memo.clear()

    def get_state_keys(self, encoded: dict[ResourceKey, bytes | None]) -> dict[bytes, bytes | None]:
        """Return encoded re-keyed by state key (cached per resource key)."""
        keys = self._keys
        result = {}
        for key, raw in encoded.items():
            state_key = keys.get(key)
            if state_key is None:
                state_key = self.state_key(key)
            result[state_key] = raw
        return result

    def get_write_set(self) -> dict[bytes, bytes | None]:
        """Return the block's merged write set: state key -> canonical bytes (None = deleted)."""
        state_key = self.state_key
        return {state_key(key): raw for key, raw in self.dirty.items()}
