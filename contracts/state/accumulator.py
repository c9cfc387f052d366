"""Append-only Merkle accumulator (Diem style): frozen subtrees in a store, placeholders on the right."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from contracts.state.accumulator_proof import (
    AccumulatorConsistencyProof,
    AccumulatorProof,
    get_frozen_blocks,
    get_height,
    get_position,
    get_range_blocks,
)
from contracts.state.hashes import (
    ACCUMULATOR_PLACEHOLDER_HASH,
    EVENT_ACCUMULATOR_SALT,
    TRANSACTION_ACCUMULATOR_SALT,
    compute_accumulator_parent,
)
from contracts.state.node_store import AccumulatorStore
from primitives.errors import invariant
from primitives.hashing import HASH_LENGTH, get_salt
from primitives.limits import U64_MAX


class MerkleAccumulator:
    """An append-only accumulator whose frozen node hashes live in an AccumulatorStore, keyed by position."""

    __slots__ = ("store", "num_leaves", "prefix")

    def __init__(
        self, store: AccumulatorStore, num_leaves: int = 0, salt: str = TRANSACTION_ACCUMULATOR_SALT
    ) -> None:
        self.store = store
        self.num_leaves = num_leaves
        self.prefix = get_salt(salt)

    def compute_append(self, leaf_hashes: Iterable[bytes]) -> tuple[int, dict[int, bytes]]:
        """Return (new leaf count, new frozen nodes by position) of appending leaves, writing nothing."""
        writes: dict[int, bytes] = {}
        count = self.num_leaves
        get = self.store.get
        prefix = self.prefix
        for leaf_hash in leaf_hashes:
            invariant(type(leaf_hash) is bytes and len(leaf_hash) == HASH_LENGTH, "leaves are 32-byte hashes")
            invariant(count <= U64_MAX, "accumulator is full")
            node = leaf_hash
            level = 0
            index = count
            writes[get_position(0, index)] = node
            # Each odd index completes its parent: fold left siblings while they are frozen.
            while index & 1:
                left_position = get_position(level, index - 1)
                left = writes.get(left_position) or get(left_position)
                invariant(left is not None, f"missing frozen accumulator node {left_position}")
                node = compute_accumulator_parent(prefix, left, node)
                index >>= 1
                level += 1
                writes[get_position(level, index)] = node
            count += 1
        return count, writes

    def append(self, leaf_hashes: Iterable[bytes]) -> bytes:
        """Append leaves, store the newly frozen nodes and return the new root."""
        count, writes = self.compute_append(leaf_hashes)
        self.store.put_batch(writes)
        self.num_leaves = count
        return self.get_root(count)

    def get_node_hash(self, level: int, index: int, num_leaves: int) -> bytes:
        """Return the hash of node (level, index) in the accumulator of num_leaves leaves."""
        start = index << level
        if start >= num_leaves:
            return ACCUMULATOR_PLACEHOLDER_HASH
        if start + (1 << level) <= num_leaves:
            frozen = self.store.get(get_position(level, index))
            invariant(frozen is not None, f"missing frozen accumulator node ({level}, {index})")
            return frozen
        left = self.get_node_hash(level - 1, 2 * index, num_leaves)
        right = self.get_node_hash(level - 1, 2 * index + 1, num_leaves)
        return compute_accumulator_parent(self.prefix, left, right)

    def get_root(self, num_leaves: int | None = None) -> bytes:
        """Return the root after num_leaves leaves (default: all)."""
        count = self.num_leaves if num_leaves is None else num_leaves
        invariant(0 <= count <= self.num_leaves, f"no accumulator of {count} leaves yet")
        if count == 0:
            return ACCUMULATOR_PLACEHOLDER_HASH
        return self.get_node_hash(get_height(count), 0, count)

    def get_proof(self, leaf_index: int, num_leaves: int | None = None) -> AccumulatorProof:
        """Return the inclusion proof of leaf leaf_index in the accumulator of num_leaves leaves."""
        count = self.num_leaves if num_leaves is None else num_leaves
        invariant(0 <= leaf_index < count <= self.num_leaves, f"no leaf {leaf_index} among {count}")
        siblings = tuple(
            self.get_node_hash(level, (leaf_index >> level) ^ 1, count) for level in range(get_height(count))
        )
        return AccumulatorProof(siblings)

    def get_consistency_proof(self, old_num_leaves: int, new_num_leaves: int) -> AccumulatorConsistencyProof:
        """Return the proof that the new_num_leaves accumulator extends the old_num_leaves one."""
        invariant(0 <= old_num_leaves <= new_num_leaves <= self.num_leaves, "bad consistency range")
        old = tuple(self.store.get(get_position(level, index)) for level, index in get_frozen_blocks(old_num_leaves))
        new = tuple(
            self.store.get(get_position(level, index))
            for level, index in get_range_blocks(old_num_leaves, new_num_leaves)
        )
        invariant(all(value is not None for value in old + new), "missing frozen accumulator node")
        return AccumulatorConsistencyProof(old, new)  # type: ignore[arg-type]


def compute_accumulator_root(leaf_hashes: Sequence[bytes], salt: str = TRANSACTION_ACCUMULATOR_SALT) -> bytes:
    """Return the accumulator root of leaves computed in memory, level by level."""
    if not leaf_hashes:
        return ACCUMULATOR_PLACEHOLDER_HASH
    prefix = get_salt(salt)
    level = list(leaf_hashes)
    while len(level) > 1:
        # An odd node out has an entirely empty right subtree: its sibling is the placeholder.
        if len(level) & 1:
            level.append(ACCUMULATOR_PLACEHOLDER_HASH)
        level = [compute_accumulator_parent(prefix, level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def compute_event_root(event_hashes: Sequence[bytes]) -> bytes:
    """Return the event accumulator root of one transaction's event hashes."""
    return compute_accumulator_root(event_hashes, EVENT_ACCUMULATOR_SALT)
