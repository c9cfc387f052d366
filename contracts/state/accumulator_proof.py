"""Accumulator inclusion and consistency proofs, their verifiers and their BCS encodings."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.state.hashes import (
    ACCUMULATOR_PLACEHOLDER_HASH,
    TRANSACTION_ACCUMULATOR_SALT,
    compute_accumulator_parent,
)
from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError
from primitives.hashing import HASH_LENGTH, get_salt
from primitives.limits import U64_MAX

# A u64 leaf count gives a tree at most 64 levels high.
MAX_ACCUMULATOR_HEIGHT = 64
# [0, old) has at most 64 frozen subtrees and [old, new) at most 2 per level.
MAX_CONSISTENCY_OLD_SUBTREES = 64
MAX_CONSISTENCY_NEW_SUBTREES = 128


def get_position(level: int, index: int) -> int:
    """Return the in-order position of the node at level (leaves are 0) and index within the level."""
    return (index << (level + 1)) | ((1 << level) - 1)


def get_height(num_leaves: int) -> int:
    """Return the number of levels above the leaves in an accumulator of num_leaves leaves."""
    return 0 if num_leaves <= 1 else (num_leaves - 1).bit_length()


def get_frozen_blocks(num_leaves: int) -> list[tuple[int, int]]:
    """Return (level, index) of the frozen subtrees covering [0, num_leaves), left to right."""
    blocks = []
    start = 0
    for level in range(num_leaves.bit_length() - 1, -1, -1):
        if num_leaves >> level & 1:
            blocks.append((level, start >> level))
            start += 1 << level
    return blocks


def get_range_blocks(start: int, end: int) -> list[tuple[int, int]]:
    """Return (level, index) of the maximal aligned subtrees covering [start, end), left to right."""
    blocks = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else MAX_ACCUMULATOR_HEIGHT
        while start + (1 << level) > end:
            level -= 1
        blocks.append((level, start >> level))
        start += 1 << level
    return blocks


def compute_root_from_blocks(blocks: dict[tuple[int, int], bytes], num_leaves: int, prefix: bytes) -> bytes:
    """Return the root of num_leaves leaves given hashes of aligned subtrees that cover them."""
    if num_leaves == 0:
        return ACCUMULATOR_PLACEHOLDER_HASH

    def compute(level: int, index: int) -> bytes:
        if index << level >= num_leaves:
            return ACCUMULATOR_PLACEHOLDER_HASH
        block = blocks.get((level, index))
        if block is not None or level == 0:
            return block if block is not None else ACCUMULATOR_PLACEHOLDER_HASH
        return compute_accumulator_parent(prefix, compute(level - 1, 2 * index), compute(level - 1, 2 * index + 1))

    return compute(get_height(num_leaves), 0)


def _is_hash(value: object) -> bool:
    return type(value) is bytes and len(value) == HASH_LENGTH


def _write_hashes(serializer: Serializer, hashes: tuple[bytes, ...]) -> None:
    serializer.uleb128(len(hashes))
    for value in hashes:
        serializer.fixed_bytes(value, HASH_LENGTH)


def _read_hashes(deserializer: Deserializer, limit: int, what: str) -> tuple[bytes, ...]:
    count = deserializer.length(what)
    if count > limit:
        raise DecodeError(f"{what}: {count} hashes exceed the limit of {limit}")
    return tuple(deserializer.fixed_bytes(HASH_LENGTH) for _ in range(count))


@dataclass(frozen=True, slots=True)
class AccumulatorProof:
    """Siblings of a leaf's path, from the leaf's level up to just below the root."""

    siblings: tuple[bytes, ...]

    def serialize(self, serializer: Serializer) -> None:
        """Write the proof as BCS: Vec<[u8; 32]>."""
        _write_hashes(serializer, self.siblings)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> AccumulatorProof:
        """Read a proof written by serialize."""
        return cls(_read_hashes(deserializer, MAX_ACCUMULATOR_HEIGHT, "accumulator proof"))

    def to_bcs(self) -> bytes:
        """Return the BCS bytes of the proof."""
        serializer = Serializer()
        self.serialize(serializer)
        return serializer.output()

    @classmethod
    def from_bcs(cls, data: bytes) -> AccumulatorProof:
        """Decode a proof, raising DecodeError on malformed bytes."""
        deserializer = Deserializer(data)
        proof = cls.deserialize(deserializer)
        deserializer.finish()
        return proof


@dataclass(frozen=True, slots=True)
class AccumulatorConsistencyProof:
    """Frozen subtrees of the old accumulator, then the aligned subtrees of the leaves added since."""

    old_subtrees: tuple[bytes, ...]
    new_subtrees: tuple[bytes, ...]

    def serialize(self, serializer: Serializer) -> None:
        """Write the proof as BCS: two Vec<[u8; 32]>."""
        _write_hashes(serializer, self.old_subtrees)
        _write_hashes(serializer, self.new_subtrees)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> AccumulatorConsistencyProof:
        """Read a proof written by serialize."""
        old = _read_hashes(deserializer, MAX_CONSISTENCY_OLD_SUBTREES, "old subtrees")
        new = _read_hashes(deserializer, MAX_CONSISTENCY_NEW_SUBTREES, "new subtrees")
        return cls(old, new)

    def to_bcs(self) -> bytes:
        """Return the BCS bytes of the proof."""
        serializer = Serializer()
        self.serialize(serializer)
        return serializer.output()

    @classmethod
    def from_bcs(cls, data: bytes) -> AccumulatorConsistencyProof:
        """Decode a proof, raising DecodeError on malformed bytes."""
        deserializer = Deserializer(data)
        proof = cls.deserialize(deserializer)
        deserializer.finish()
        return proof


def verify_inclusion(
    root: bytes,
    leaf_hash: bytes,
    index: int,
    num_leaves: int,
    proof: AccumulatorProof,
    salt: str = TRANSACTION_ACCUMULATOR_SALT,
) -> bool:
    """Return whether leaf_hash is leaf number index of the num_leaves-leaf accumulator with this root."""
    if not (type(index) is int and type(num_leaves) is int and 0 <= index < num_leaves <= U64_MAX + 1):
        return False
    siblings = proof.siblings
    if len(siblings) != get_height(num_leaves) or not _is_hash(leaf_hash):
        return False
    if not all(_is_hash(sibling) for sibling in siblings):
        return False
    prefix = get_salt(salt)
    node = leaf_hash
    for level, sibling in enumerate(siblings):
        if index >> level & 1:
            node = compute_accumulator_parent(prefix, sibling, node)
        else:
            node = compute_accumulator_parent(prefix, node, sibling)
    return node == root


def verify_consistency(
    old_root: bytes,
    old_num_leaves: int,
    new_root: bytes,
    new_num_leaves: int,
    proof: AccumulatorConsistencyProof,
    salt: str = TRANSACTION_ACCUMULATOR_SALT,
) -> bool:
    """Return whether the new accumulator extends the old one (same first old_num_leaves leaves)."""
    if not (type(old_num_leaves) is int and type(new_num_leaves) is int):
        return False
    if not 0 <= old_num_leaves <= new_num_leaves <= U64_MAX + 1:
        return False
    old_blocks = get_frozen_blocks(old_num_leaves)
    new_blocks = get_range_blocks(old_num_leaves, new_num_leaves)
    if len(proof.old_subtrees) != len(old_blocks) or len(proof.new_subtrees) != len(new_blocks):
        return False
    if not all(_is_hash(value) for value in proof.old_subtrees + proof.new_subtrees):
        return False
    prefix = get_salt(salt)
    blocks = dict(zip(old_blocks, proof.old_subtrees))
    if compute_root_from_blocks(blocks, old_num_leaves, prefix) != old_root:
        return False
    blocks.update(zip(new_blocks, proof.new_subtrees))
    return compute_root_from_blocks(blocks, new_num_leaves, prefix) == new_root
