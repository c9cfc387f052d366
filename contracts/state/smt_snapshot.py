"""A state snapshot of the sparse Merkle tree: its leaves in key order, a chunk at a time, and the tree rebuilt."""

from __future__ import annotations

from binascii import hexlify
from collections.abc import Sequence

from contracts.state.node_store import InMemoryNodeStore, NodeStore
from contracts.state.smt import SparseMerkleTree
from contracts.state.smt_node import (
    DIGIT_BYTES,
    KEY_LENGTH,
    LEAF_HEADER_LENGTH,
    SLOT_COUNT,
    TAG_INTERNAL,
    TAG_LEAF,
    decode_internal,
    encode_node_key,
)
from primitives.errors import invariant

# (state key hash, value) of one leaf.
Leaf = tuple[bytes, bytes]


def get_leaves(store: NodeStore, version: int, start_key: bytes, limit: int) -> list[Leaf]:
    """Return up to limit leaves of the tree at version whose key is >= start_key, in key order."""
    root = store.get(encode_node_key(version, b""))
    invariant(root is not None, f"no tree root at version {version}")
    leaves: list[Leaf] = []
    _collect(store, root, b"", hexlify(start_key), limit, leaves)  # type: ignore[arg-type]
    return leaves


def _collect(store: NodeStore, node: bytes, path: bytes, start_path: bytes, limit: int, leaves: list[Leaf]) -> None:
    """Append the leaves under node (at nibble path) from start_path on, depth first in slot order."""
    if node[0] == TAG_LEAF:
        key = node[1 : 1 + KEY_LENGTH]
        if hexlify(key) >= start_path:
            leaves.append((key, node[LEAF_HEADER_LENGTH:]))
        return
    if node[0] != TAG_INTERNAL:
        return
    bitmap, _hashes, versions = decode_internal(node)
    index = -1
    for slot in range(SLOT_COUNT):
        if not bitmap >> slot & 1:
            continue
        index += 1
        child_path = path + DIGIT_BYTES[slot]
        # A subtree left of the start key holds no wanted leaf (hex paths sort like the keys).
        if child_path < start_path[: len(child_path)]:
            continue
        if len(leaves) >= limit:
            return
        child = store.get(versions[index] + child_path)
        invariant(child is not None, f"missing tree node under {child_path!r}")
        _collect(store, child, child_path, start_path, limit, leaves)  # type: ignore[arg-type]


def compute_snapshot_tree(version: int, leaves: Sequence[Leaf]) -> tuple[bytes, dict[bytes, bytes]]:
    """Return (root hash, every node) of a tree holding exactly these leaves, written as version."""
    tree = SparseMerkleTree(InMemoryNodeStore())
    return tree.compute_update(version, dict(leaves))
