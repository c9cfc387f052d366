"""One batch update of the sparse Merkle tree: sorted keys, one walk per shared subtree, each node hashed once."""

from __future__ import annotations

import hashlib
from binascii import hexlify
from collections.abc import Mapping

from contracts.state.hashes import INTERNAL_PREFIX, LEAF_PREFIX, VALUE_PREFIX
from contracts.state.node_store import NodeStore
from contracts.state.smt_node import (
    DIGIT_BYTES,
    KEY_LENGTH,
    SLOT_COUNT,
    SLOT_OF_DIGIT,
    TAG_INTERNAL,
    TAG_LEAF,
    VERSION_LENGTH,
    decode_internal,
)
from primitives.errors import invariant
from primitives.hashing import HASH_LENGTH

_sha3 = hashlib.sha3_256

# A child entry while a batch is applied: (hash, version bytes or None, leaf bytes still to place
# or None). Leaf bytes are set only for a leaf that is not yet stored at the path it will occupy.
# An update item: (hex key, leaf bytes or None for a delete, leaf hash, stored version, stored path).


class Batch:
    """One versioned batch update: walks the old tree once and records the new nodes."""

    __slots__ = ("get", "writes", "version_bytes", "loaded")

    def __init__(self, store: NodeStore, version: int) -> None:
        self.get = store.get
        self.writes: dict[bytes, bytes] = {}
        self.version_bytes = version.to_bytes(VERSION_LENGTH, "big")
        self.loaded: list[bytes] = []  # keys of old nodes read on the way down (candidates for stale)

    def load(self, version_bytes: bytes, path: bytes) -> bytes:
        """Return the node written at version_bytes for path, in this batch or in the store."""
        key = version_bytes + path
        node = self.writes.get(key) or self.get(key)
        invariant(node is not None, f"missing tree node {key.hex()}")
        self.loaded.append(key)
        return node

    def get_stale_keys(self) -> list[bytes]:
        """Return the old nodes this version replaced: a node written at the same path supersedes them.

        Nodes orphaned by a deletion (a subtree that collapsed) are not listed: the pruner never reclaims
        them, which errs on the side of keeping a node.
        """
        version_bytes, writes = self.version_bytes, self.writes
        return [key for key in dict.fromkeys(self.loaded)
                if key[:VERSION_LENGTH] != version_bytes and version_bytes + key[VERSION_LENGTH:] in writes]

    def update(self, node: bytes, path: bytes, depth: int, items: list, lo: int, hi: int, old: tuple):
        """Return the new entry of the subtree at path after applying items[lo:hi] (old: its entry now)."""
        tag = node[0]
        if tag == TAG_INTERNAL:
            return self.update_internal(node, path, depth, items, lo, hi, old)
        if tag == TAG_LEAF:
            leaf_hex = hexlify(node[1 : 1 + KEY_LENGTH])
            if hi - lo == 1 and items[lo][0] == leaf_hex:  # the common case: one key rewritten
                item = items[lo]
                return None if item[1] is None else (item[2], None, item[1])
            inserts = [item for item in items[lo:hi] if item[1] is not None]
            if all(item[0] != leaf_hex for item in items[lo:hi]):
                inserts.append((leaf_hex, node, old[0], old[1], path))
                inserts.sort()
        else:
            inserts = [item for item in items[lo:hi] if item[1] is not None]
        return self.build(inserts, 0, len(inserts), depth, path)

    def build(self, inserts: list, lo: int, hi: int, depth: int, path: bytes):
        """Return the entry of a subtree holding exactly the given (sorted) inserts."""
        if hi - lo <= 1:
            if hi == lo:
                return None
            _, leaf, leaf_hash, stored_version, stored_path = inserts[lo]
            if stored_path == path:
                return (leaf_hash, stored_version, None)
            return (leaf_hash, None, leaf)
        children: list = [None] * SLOT_COUNT
        for digit, start, end in _split(inserts, lo, hi, depth):
            child_path = path + DIGIT_BYTES[SLOT_OF_DIGIT[digit]]
            children[SLOT_OF_DIGIT[digit]] = self.build(inserts, start, end, depth + 1, child_path)
        return self.finish_internal(path, children)

    def update_internal(self, node: bytes, path: bytes, depth: int, items: list, lo: int, hi: int, old):
        """Return the new entry of an internal node's subtree after applying items[lo:hi]."""
        if hi - lo == 1:
            return self.update_one(node, path, depth, items, lo, old)
        return self.update_runs(node, path, depth, items, lo, hi, old)

    def update_one(self, node: bytes, path: bytes, depth: int, items: list, lo: int, old: tuple):
        """Update an internal node's subtree with one item: descend in a loop, then patch upwards."""
        item = items[lo]
        hex_key = item[0]
        frames = []
        while True:
            bitmap = (node[1] << 8) | node[2]
            slot = SLOT_OF_DIGIT[hex_key[depth]]
            bit = 1 << slot
            count = bitmap.bit_count()
            if not bitmap & bit or count < 2:  # the slot set may change here: take the general path
                entry = self.update_runs(node, path, depth, items, lo, lo + 1, _get_entry(frames, old))
                break
            index = (bitmap & (bit - 1)).bit_count()
            versions_at = 3 + HASH_LENGTH * count
            at = versions_at + VERSION_LENGTH * index
            frames.append((node, path, slot, index, versions_at, at))
            depth += 1
            path = hex_key[:depth]
            child_key = node[at : at + VERSION_LENGTH] + path
            self.loaded.append(child_key)
            node = self.get(child_key)
            if node[0] != TAG_INTERNAL:
                if node[0] == TAG_LEAF and hexlify(node[1 : 1 + KEY_LENGTH]) == hex_key:
                    entry = None if item[1] is None else (item[2], None, item[1])
                else:
                    entry = self.update(node, path, depth, items, lo, lo + 1, _get_entry(frames, old))
                break
        return self.unwind(frames, entry)

    def unwind(self, frames: list, entry):
        """Rewrite each node on a descended path, bottom up, around its new child entry."""
        version_bytes = self.version_bytes
        writes = self.writes
        for node, path, slot, index, versions_at, at in reversed(frames):
            if entry is None:
                entry = self.finish_internal(path, _merge_children(node, [(slot, None)]))
                continue
            child_hash, child_version, pending_leaf = entry
            if pending_leaf is not None:
                writes[version_bytes + path + DIGIT_BYTES[slot]] = pending_leaf
                child_version = version_bytes
            start = 3 + HASH_LENGTH * index
            new_node = b"".join(
                (node[:start], child_hash, node[start + HASH_LENGTH : at], child_version, node[at + VERSION_LENGTH :])
            )
            writes[version_bytes + path] = new_node
            entry = (_sha3(INTERNAL_PREFIX + new_node[1:versions_at]).digest(), version_bytes, None)
        return entry

    def update_runs(self, node: bytes, path: bytes, depth: int, items: list, lo: int, hi: int, old):
        """Apply items[lo:hi] child by child (one run of keys per slot), then rewrite the node once."""
        bitmap = (node[1] << 8) | node[2]
        versions_at = 3 + HASH_LENGTH * bitmap.bit_count()
        changes = []
        # Same slots before and after, and at least two of them: no collapse, patch in place.
        in_place = bitmap.bit_count() >= 2
        runs = ((items[lo][0][depth], lo, hi),) if hi - lo == 1 else _split(items, lo, hi, depth)
        for digit, start, end in runs:
            slot = SLOT_OF_DIGIT[digit]
            bit = 1 << slot
            child_path = path + DIGIT_BYTES[slot]
            if bitmap & bit:
                index = (bitmap & (bit - 1)).bit_count()
                at = versions_at + VERSION_LENGTH * index
                before = (node[3 + 32 * index : 35 + 32 * index], node[at : at + VERSION_LENGTH], None)
                child_key = before[1] + child_path
                self.loaded.append(child_key)
                child = self.get(child_key)
                if child[0] == TAG_INTERNAL:
                    after = self.update_internal(child, child_path, depth + 1, items, start, end, before)
                else:
                    after = self.update(child, child_path, depth + 1, items, start, end, before)
            else:
                before = None
                inserts = [item for item in items[start:end] if item[1] is not None]
                after = self.build(inserts, 0, len(inserts), depth + 1, child_path)
            if after != before:
                changes.append((slot, after))
                in_place = in_place and after is not None and before is not None
        if not changes:
            return old
        if not in_place:
            return self.finish_internal(path, _merge_children(node, changes))
        version_bytes = self.version_bytes
        buffer = bytearray(node)
        for slot, (child_hash, child_version, pending_leaf) in changes:
            if pending_leaf is not None:
                self.writes[version_bytes + path + DIGIT_BYTES[slot]] = pending_leaf
                child_version = version_bytes
            index = (bitmap & ((1 << slot) - 1)).bit_count()
            buffer[3 + 32 * index : 35 + 32 * index] = child_hash
            at = versions_at + VERSION_LENGTH * index
            buffer[at : at + VERSION_LENGTH] = child_version
        new_node = bytes(buffer)
        self.writes[version_bytes + path] = new_node
        return (_sha3(INTERNAL_PREFIX + new_node[1:versions_at]).digest(), version_bytes, None)

    def finish_internal(self, path: bytes, children: list):
        """Write the internal node for children, or lift a lone leaf / drop an empty subtree."""
        slots = [slot for slot in range(SLOT_COUNT) if children[slot] is not None]
        if len(slots) <= 1:
            if not slots:
                return None
            lone = children[slots[0]]
            if lone[2] is not None:
                return lone
            child = self.load(lone[1], path + DIGIT_BYTES[slots[0]])
            if child[0] == TAG_LEAF:
                return (lone[0], None, child)
        version_bytes = self.version_bytes
        writes = self.writes
        bitmap = 0
        hashes = []
        versions = []
        for slot in slots:
            child_hash, child_version, pending_leaf = children[slot]
            if pending_leaf is not None:
                writes[version_bytes + path + DIGIT_BYTES[slot]] = pending_leaf
                child_version = version_bytes
            bitmap |= 1 << slot
            hashes.append(child_hash)
            versions.append(child_version)
        header = bitmap.to_bytes(2, "big") + b"".join(hashes)
        writes[version_bytes + path] = b"\x00" + header + b"".join(versions)
        return (_sha3(INTERNAL_PREFIX + header).digest(), version_bytes, None)


def _get_entry(frames: list, root_entry: tuple) -> tuple:
    """Return the old entry of the node below the last descended frame (root_entry if none)."""
    if not frames:
        return root_entry
    node, _, _, index, _, at = frames[-1]
    return (node[3 + HASH_LENGTH * index : 3 + HASH_LENGTH * (index + 1)], node[at : at + VERSION_LENGTH], None)


def _merge_children(node: bytes, changes: list) -> list:
    """Return the 16 child entries of an encoded internal node with changes applied."""
    bitmap, hashes, versions = decode_internal(node)
    children: list = [None] * SLOT_COUNT
    index = 0
    for slot in range(SLOT_COUNT):
        if bitmap >> slot & 1:
            children[slot] = (hashes[index], versions[index], None)
            index += 1
    for slot, entry in changes:
        children[slot] = entry
    return children


def _split(items: list, lo: int, hi: int, depth: int) -> list[tuple[int, int, int]]:
    """Return (hex digit, start, end) runs of sorted items by their nibble at depth."""
    runs = []
    start = lo
    digit = items[lo][0][depth]
    for index in range(lo + 1, hi):
        next_digit = items[index][0][depth]
        if next_digit != digit:
            runs.append((digit, start, index))
            start = index
            digit = next_digit
    runs.append((digit, start, hi))
    return runs


def prepare_updates(updates: Mapping[bytes, bytes | None]) -> list[tuple]:
    """Return update items sorted by key: (hex key, leaf bytes or None, leaf hash, None, None)."""
    items = []
    append = items.append
    value_prefix = VALUE_PREFIX
    leaf_prefix = LEAF_PREFIX
    for key, value in updates.items():
        if type(key) is not bytes or len(key) != KEY_LENGTH:
            invariant(False, f"state keys are 32 bytes, got {key!r}")
        if value is None:
            append((hexlify(key), None, None, None, None))
        elif type(value) is bytes:
            body = key + _sha3(value_prefix + value).digest()
            append((hexlify(key), b"\x01" + body + value, _sha3(leaf_prefix + body).digest(), None, None))
        else:
            invariant(False, f"state values are bytes or None, got {type(value).__name__}")
    items.sort()
    return items
