"""Versioned sparse Merkle tree over 32-byte keys: 16-ary radix nodes, leaves at their shortest unique prefix."""

from __future__ import annotations

from binascii import hexlify
from collections.abc import Mapping

from contracts.state.hashes import SPARSE_MERKLE_PLACEHOLDER_HASH
from contracts.state.node_store import NodeStore
from contracts.state.smt_batch import Batch, prepare_updates
from contracts.state.smt_node import (
    KEY_LENGTH,
    LEAF_HEADER_LENGTH,
    NULL_NODE,
    SLOT_OF_DIGIT,
    TAG_INTERNAL,
    TAG_LEAF,
    VERSION_LENGTH,
    decode_internal,
    encode_node_key,
    get_node_hash,
)
from contracts.state.smt_proof import ProofLevel, SparseMerkleLeaf, SparseMerkleProof
from primitives.errors import invariant
from primitives.hashing import HASH_LENGTH
from primitives.limits import U64_MAX


class SparseMerkleTree:
    """A versioned sparse Merkle tree whose nodes live in a NodeStore; every applied version stays readable."""

    __slots__ = ("store", "latest_version")

    def __init__(self, store: NodeStore, latest_version: int | None = None) -> None:
        self.store = store
        self.latest_version = latest_version

    def apply(
        self, version: int, updates: Mapping[bytes, bytes | None], base_version: int | None = None
    ) -> bytes:
        """Apply updates (None deletes) on top of base_version (default: latest), store them as version, return the root."""
        root_hash, nodes = self.compute_update(version, updates, base_version)
        self.store.put_batch(nodes)
        if self.latest_version is None or version > self.latest_version:
            self.latest_version = version
        return root_hash

    def compute_update(
        self, version: int, updates: Mapping[bytes, bytes | None], base_version: int | None = None
    ) -> tuple[bytes, dict[bytes, bytes]]:
        """Return (root hash, new nodes by key) of version without writing anything."""
        root_hash, nodes, _stale = self.compute_update_with_stale(version, updates, base_version)
        return root_hash, nodes

    def compute_update_with_stale(
        self, version: int, updates: Mapping[bytes, bytes | None], base_version: int | None = None
    ) -> tuple[bytes, dict[bytes, bytes], list[bytes]]:
        """Return (root hash, new nodes by key, keys of the old nodes version replaces) without writing anything."""
        base = self.latest_version if base_version is None else base_version
        invariant(0 <= version <= U64_MAX, f"version out of range: {version}")
        invariant(base is None or 0 <= base < version, f"version {version} must follow base {base}")
        batch = Batch(self.store, version)
        items = prepare_updates(updates)
        if base is None:
            old_root = NULL_NODE
            old = (SPARSE_MERKLE_PLACEHOLDER_HASH, None, None)
        else:
            base_bytes = base.to_bytes(VERSION_LENGTH, "big")
            old_root = batch.load(base_bytes, b"")
            old = (get_node_hash(old_root), base_bytes, None)
        entry = batch.update(old_root, b"", 0, items, 0, len(items), old) if items else old
        root_key = batch.version_bytes
        if entry is None:
            batch.writes[root_key] = NULL_NODE
            return SPARSE_MERKLE_PLACEHOLDER_HASH, batch.writes, batch.get_stale_keys()
        if entry[2] is not None:
            batch.writes[root_key] = entry[2]
        elif entry[1] != root_key:
            batch.writes[root_key] = old_root if entry[1] is None else batch.load(entry[1], b"")
        return entry[0], batch.writes, batch.get_stale_keys()

    def get_root_node(self, version: int) -> bytes:
        """Return the encoded root node of an applied version (InvariantViolation if never applied)."""
        node = self.store.get(encode_node_key(version, b""))
        invariant(node is not None, f"no tree root at version {version}")
        return node

    def get_root_hash(self, version: int) -> bytes:
        """Return the root hash of an applied version."""
        return get_node_hash(self.get_root_node(version))

    def has_version(self, version: int) -> bool:
        """Return whether a root was stored for version."""
        return self.store.get(encode_node_key(version, b"")) is not None

    def get(self, key: bytes, version: int) -> bytes | None:
        """Return the value of key at version, or None if absent."""
        node = self.get_root_node(version)
        path = hexlify(key)
        depth = 0
        while node[0] == TAG_INTERNAL:
            slot = SLOT_OF_DIGIT[path[depth]]
            bitmap = (node[1] << 8) | node[2]
            if not bitmap >> slot & 1:
                return None
            index = (bitmap & ((1 << slot) - 1)).bit_count()
            base = 3 + HASH_LENGTH * bitmap.bit_count() + VERSION_LENGTH * index
            depth += 1
            node = self.store.get(node[base : base + VERSION_LENGTH] + path[:depth])
            invariant(node is not None, f"missing tree node under {path[:depth]!r}")
        if node[0] == TAG_LEAF and node[1 : 1 + KEY_LENGTH] == key:
            return node[LEAF_HEADER_LENGTH:]
        return None

    def get_with_proof(self, key: bytes, version: int) -> tuple[bytes | None, SparseMerkleProof]:
        """Return the value of key at version (None if absent) and a proof of it against that version's root."""
        invariant(type(key) is bytes and len(key) == KEY_LENGTH, "state keys are 32 bytes")
        node = self.get_root_node(version)
        path = hexlify(key)
        levels = []
        depth = 0
        while node[0] == TAG_INTERNAL:
            bitmap, hashes, versions = decode_internal(node)
            bit = 1 << SLOT_OF_DIGIT[path[depth]]
            if not bitmap & bit:
                levels.append(ProofLevel(bitmap, tuple(hashes)))
                return None, SparseMerkleProof(None, tuple(levels))
            index = (bitmap & (bit - 1)).bit_count()
            levels.append(ProofLevel(bitmap, tuple(hashes[:index] + hashes[index + 1 :])))
            depth += 1
            node = self.store.get(versions[index] + path[:depth])
            invariant(node is not None, f"missing tree node under {path[:depth]!r}")
        if node[0] == TAG_LEAF:
            leaf = SparseMerkleLeaf(node[1 : 1 + KEY_LENGTH], node[1 + KEY_LENGTH : LEAF_HEADER_LENGTH])
            value = node[LEAF_HEADER_LENGTH:] if leaf.key == key else None
            return value, SparseMerkleProof(leaf, tuple(levels))
        return None, SparseMerkleProof(None, ())
