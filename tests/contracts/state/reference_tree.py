"""A from-the-definition oracle for the state tree: recomputes the root of a key set from scratch."""

from __future__ import annotations

from primitives.hashing import hash_with_salt

PLACEHOLDER = b"SPARSE_MERKLE_PLACEHOLDER_HASH" + bytes(2)


def reference_leaf_hash(key: bytes, value: bytes) -> bytes:
    """Return hash_with_salt("SparseMerkleLeaf", key || hash_with_salt("StateValue", value))."""
    return hash_with_salt("SparseMerkleLeaf", key + hash_with_salt("StateValue", value))


def reference_subtree(entries: list[tuple[str, bytes, bytes]], depth: int) -> bytes | None:
    """Return the hash of the subtree of (hex key, key, value) entries sharing depth nibbles, or None."""
    if not entries:
        return None
    if len(entries) == 1:
        _, key, value = entries[0]
        return reference_leaf_hash(key, value)
    bitmap = 0
    children = []
    for slot, digit in enumerate("0123456789abcdef"):
        child = reference_subtree([entry for entry in entries if entry[0][depth] == digit], depth + 1)
        if child is not None:
            bitmap |= 1 << slot
            children.append(child)
    return hash_with_salt("SparseMerkleInternal", bitmap.to_bytes(2, "big") + b"".join(children))


def reference_root(state: dict[bytes, bytes]) -> bytes:
    """Return the root hash the tree must have for exactly this key -> value mapping."""
    entries = [(key.hex(), key, value) for key, value in state.items()]
    root = reference_subtree(entries, 0)
    return PLACEHOLDER if root is None else root
