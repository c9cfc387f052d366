"""Storage protocols for tree nodes and accumulator nodes, with in-memory implementations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class NodeStore(Protocol):
    """Byte-keyed store of sparse Merkle tree nodes; nodes are immutable once written."""

    def get(self, node_key: bytes) -> bytes | None:
        """Return the encoded node stored under node_key, or None."""
        ...

    def put_batch(self, nodes: Mapping[bytes, bytes]) -> None:
        """Write every (node_key, encoded node) pair, atomically if the backend can."""
        ...


class InMemoryNodeStore:
    """A dict-backed NodeStore for tests, benchmarks and speculative execution."""

    __slots__ = ("nodes", "get")

    def __init__(self) -> None:
        self.nodes: dict[bytes, bytes] = {}
        # The bound dict.get is the fastest lookup Python offers; it is the hot path of every update.
        self.get = self.nodes.get

    def put_batch(self, nodes: Mapping[bytes, bytes]) -> None:
        """Write every (node_key, encoded node) pair."""
        self.nodes.update(nodes)

    def __len__(self) -> int:
        return len(self.nodes)


class OverlayNodeStore:
    """Writes stay in memory above a read-only base until taken, so a speculative block can be dropped."""

    __slots__ = ("base", "pending")

    def __init__(self, base: NodeStore) -> None:
        self.base = base
        self.pending: dict[bytes, bytes] = {}

    def get(self, node_key: bytes) -> bytes | None:
        """Return the node from the pending writes, else from the base store."""
        node = self.pending.get(node_key)
        return node if node is not None else self.base.get(node_key)

    def put_batch(self, nodes: Mapping[bytes, bytes]) -> None:
        """Keep the nodes pending; the base store is not touched."""
        self.pending.update(nodes)

    def take_pending(self) -> dict[bytes, bytes]:
        """Return and forget the pending writes (the caller commits them to the base)."""
        pending, self.pending = self.pending, {}
        return pending


class AccumulatorStore(Protocol):
    """Store of frozen accumulator node hashes keyed by in-order position."""

    def get(self, position: int) -> bytes | None:
        """Return the hash of the frozen node at position, or None."""
        ...

    def put_batch(self, hashes: Mapping[int, bytes]) -> None:
        """Write every (position, hash) pair."""
        ...


class InMemoryAccumulatorStore:
    """A dict-backed AccumulatorStore."""

    __slots__ = ("hashes",)

    def __init__(self) -> None:
        self.hashes: dict[int, bytes] = {}

    def get(self, position: int) -> bytes | None:
        """Return the hash of the frozen node at position, or None."""
        return self.hashes.get(position)

    def put_batch(self, hashes: Mapping[int, bytes]) -> None:
        """Write every (position, hash) pair."""
        self.hashes.update(hashes)

    def __len__(self) -> int:
        return len(self.hashes)


def encode_position(position: int) -> bytes:
    """Return the 8-byte big-endian key of an accumulator position, for byte-keyed backends."""
    return position.to_bytes(8, "big")

