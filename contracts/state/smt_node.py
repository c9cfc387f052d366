"""Encoding of sparse Merkle tree nodes and node keys (ADR 0001)."""

from __future__ import annotations

import hashlib

from contracts.state.hashes import INTERNAL_PREFIX, LEAF_PREFIX, SPARSE_MERKLE_PLACEHOLDER_HASH, VALUE_PREFIX
from primitives.hashing import HASH_LENGTH

# Node encodings (ADR 0001):
#   internal = 0x00 || bitmap u16 BE || child hashes (32 each, slot order) || child versions (u64 BE each)
#   leaf     = 0x01 || key (32) || value_hash (32) || value
#   null     = 0x02 (the empty tree's root)
# Node key = version u64 BE || nibble path as lower-case ASCII hex (one byte per nibble).
TAG_INTERNAL = 0
TAG_LEAF = 1
TAG_NULL = 2
NULL_NODE = b"\x02"
KEY_LENGTH = HASH_LENGTH
VERSION_LENGTH = 8
LEAF_HEADER_LENGTH = 1 + 2 * HASH_LENGTH
SLOT_COUNT = 16
HEX_DIGITS = b"0123456789abcdef"
SLOT_OF_DIGIT = {digit: slot for slot, digit in enumerate(HEX_DIGITS)}
DIGIT_BYTES = tuple(bytes((digit,)) for digit in HEX_DIGITS)
_sha3 = hashlib.sha3_256


def encode_node_key(version: int, path: bytes) -> bytes:
    """Return the store key of the node at a nibble path (ASCII hex) written at version."""
    return version.to_bytes(VERSION_LENGTH, "big") + path


def get_node_hash(node: bytes) -> bytes:
    """Return the hash of an encoded node."""
    tag = node[0]
    if tag == TAG_INTERNAL:
        count = ((node[1] << 8) | node[2]).bit_count()
        return _sha3(INTERNAL_PREFIX + node[1 : 3 + HASH_LENGTH * count]).digest()
    if tag == TAG_LEAF:
        return _sha3(LEAF_PREFIX + node[1:LEAF_HEADER_LENGTH]).digest()
    return SPARSE_MERKLE_PLACEHOLDER_HASH


def decode_internal(node: bytes) -> tuple[int, list[bytes], list[bytes]]:
    """Return (bitmap, child hashes, child version bytes) of an encoded internal node."""
    bitmap = (node[1] << 8) | node[2]
    count = bitmap.bit_count()
    hashes = [node[3 + HASH_LENGTH * i : 3 + HASH_LENGTH * (i + 1)] for i in range(count)]
    base = 3 + HASH_LENGTH * count
    versions = [node[base + VERSION_LENGTH * i : base + VERSION_LENGTH * (i + 1)] for i in range(count)]
    return bitmap, hashes, versions


def encode_leaf(key: bytes, value: bytes) -> tuple[bytes, bytes]:
    """Return (encoded leaf node, leaf hash) for a key and its value."""
    value_hash = _sha3(VALUE_PREFIX + value).digest()
    body = key + value_hash
    return b"\x01" + body + value, _sha3(LEAF_PREFIX + body).digest()
