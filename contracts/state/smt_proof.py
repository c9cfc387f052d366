"""Sparse Merkle proofs of inclusion and non-inclusion, their verifier and their BCS encoding."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.state.hashes import (
    SPARSE_MERKLE_PLACEHOLDER_HASH,
    compute_internal_hash,
    compute_leaf_hash,
    compute_value_hash,
)
from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError
from primitives.hashing import HASH_LENGTH

# 32-byte keys have 64 nibbles; two distinct keys part at the latest on the last one.
MAX_PROOF_LEVELS = 64
SLOT_COUNT = 16
MAX_BITMAP = (1 << SLOT_COUNT) - 1


@dataclass(frozen=True, slots=True)
class SparseMerkleLeaf:
    """The leaf a proof ends on: its key and the hash of its value."""

    key: bytes
    value_hash: bytes

    def hash(self) -> bytes:
        """Return the leaf's hash."""
        return compute_leaf_hash(self.key, self.value_hash)


@dataclass(frozen=True, slots=True)
class ProofLevel:
    """One internal node on the path: which of its 16 slots are occupied, and the other children's hashes."""

    bitmap: int
    siblings: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class SparseMerkleProof:
    """Internal nodes from the root down, then the leaf on the key's path (None if the path ends empty)."""

    leaf: SparseMerkleLeaf | None
    levels: tuple[ProofLevel, ...]

    def serialize(self, serializer: Serializer) -> None:
        """Write BCS: Option<(key [u8;32], value_hash [u8;32])>, Vec<(bitmap u16, Vec<[u8;32]>)>."""
        serializer.option(self.leaf, _write_leaf)
        serializer.uleb128(len(self.levels))
        for level in self.levels:
            serializer.u16(level.bitmap)
            serializer.uleb128(len(level.siblings))
            for sibling in level.siblings:
                serializer.fixed_bytes(sibling, HASH_LENGTH)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> SparseMerkleProof:
        """Read a proof written by serialize."""
        leaf = deserializer.option(_read_leaf)
        count = deserializer.length("proof levels")
        if count > MAX_PROOF_LEVELS:
            raise DecodeError(f"{count} proof levels exceed {MAX_PROOF_LEVELS}")
        levels = []
        for _ in range(count):
            bitmap = deserializer.u16()
            siblings = deserializer.length("proof siblings")
            if bitmap == 0 or siblings > bitmap.bit_count():
                raise DecodeError(f"proof level with bitmap {bitmap:#06x} cannot have {siblings} siblings")
            levels.append(ProofLevel(bitmap, tuple(deserializer.fixed_bytes(HASH_LENGTH) for _ in range(siblings))))
        return cls(leaf, tuple(levels))

    def to_bcs(self) -> bytes:
        """Return the BCS bytes of the proof."""
        serializer = Serializer()
        self.serialize(serializer)
        return serializer.output()

    @classmethod
    def from_bcs(cls, data: bytes) -> SparseMerkleProof:
        """Decode a proof, raising DecodeError on malformed bytes."""
        deserializer = Deserializer(data)
        proof = cls.deserialize(deserializer)
        deserializer.finish()
        return proof


def _write_leaf(serializer: Serializer, leaf: SparseMerkleLeaf) -> None:
    serializer.fixed_bytes(leaf.key, HASH_LENGTH)
    serializer.fixed_bytes(leaf.value_hash, HASH_LENGTH)


def _read_leaf(deserializer: Deserializer) -> SparseMerkleLeaf:
    return SparseMerkleLeaf(deserializer.fixed_bytes(HASH_LENGTH), deserializer.fixed_bytes(HASH_LENGTH))


def _is_hash(value: object) -> bool:
    return type(value) is bytes and len(value) == HASH_LENGTH


def get_terminal_hash(key: bytes, value: bytes | None, proof: SparseMerkleProof) -> bytes | None | bool:
    """Return the hash the path ends on (None: an empty slot), or False if the proof's ending cannot hold."""
    leaf = proof.leaf
    if leaf is not None and not (_is_hash(leaf.key) and _is_hash(leaf.value_hash)):
        return False
    if value is not None:
        if leaf is None or leaf.key != key or leaf.value_hash != compute_value_hash(value):
            return False
        return leaf.hash()
    if leaf is None:
        return None
    depth = len(proof.levels)
    # A different key may sit where ours would, provided it shares the path so far.
    if leaf.key == key or leaf.key.hex()[:depth] != key.hex()[:depth]:
        return False
    return leaf.hash()


def verify_proof(root: bytes, key: bytes, value: bytes | None, proof: SparseMerkleProof) -> bool:
    """Return whether proof shows key holding value (or being absent, if value is None) under root."""
    if not (_is_hash(key) and _is_hash(root) and (value is None or type(value) is bytes)):
        return False
    levels = proof.levels
    if len(levels) > MAX_PROOF_LEVELS:
        return False
    current = get_terminal_hash(key, value, proof)
    if current is False:
        return False
    key_hex = key.hex()
    for depth in range(len(levels) - 1, -1, -1):
        bitmap, siblings = levels[depth].bitmap, levels[depth].siblings
        if type(bitmap) is not int or not 0 < bitmap <= MAX_BITMAP:
            return False
        if not all(_is_hash(sibling) for sibling in siblings):
            return False
        bit = 1 << int(key_hex[depth], 16)
        if current is None:
            # Only the deepest level may show the key's slot empty.
            if bitmap & bit or len(siblings) != bitmap.bit_count():
                return False
            children = siblings
        else:
            if not bitmap & bit or len(siblings) != bitmap.bit_count() - 1:
                return False
            index = (bitmap & (bit - 1)).bit_count()
            children = siblings[:index] + (current,) + siblings[index:]
        current = compute_internal_hash(bitmap, children)
    if current is None:
        current = SPARSE_MERKLE_PLACEHOLDER_HASH
    return current == root
