"""Domain-separated hashes of the state tree and the accumulators (ADR 0001)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from primitives.hashing import HASH_LENGTH, get_salt, hash_with_salt
from primitives.types.events import ContractEvent

STATE_VALUE_SALT = "StateValue"
SMT_LEAF_SALT = "SparseMerkleLeaf"
SMT_INTERNAL_SALT = "SparseMerkleInternal"
TRANSACTION_ACCUMULATOR_SALT = "TransactionAccumulator"
EVENT_ACCUMULATOR_SALT = "EventAccumulator"
CONTRACT_EVENT_SALT = "ContractEvent"

# Diem's placeholders: an ASCII tag zero-padded to 32 bytes, never the output of a salted hash.
SPARSE_MERKLE_PLACEHOLDER_HASH = b"SPARSE_MERKLE_PLACEHOLDER_HASH".ljust(HASH_LENGTH, b"\x00")
ACCUMULATOR_PLACEHOLDER_HASH = b"ACCUMULATOR_PLACEHOLDER_HASH".ljust(HASH_LENGTH, b"\x00")

_sha3 = hashlib.sha3_256
# Salts are prepended by hand on the hot path; equal by definition to hash_with_salt (tested).
VALUE_PREFIX = get_salt(STATE_VALUE_SALT)
LEAF_PREFIX = get_salt(SMT_LEAF_SALT)
INTERNAL_PREFIX = get_salt(SMT_INTERNAL_SALT)


def compute_value_hash(value: bytes) -> bytes:
    """Return the hash the tree stores for a state value: hash_with_salt("StateValue", value)."""
    return _sha3(VALUE_PREFIX + value).digest()


def compute_leaf_hash(key: bytes, value_hash: bytes) -> bytes:
    """Return a leaf's hash: hash_with_salt("SparseMerkleLeaf", key || value_hash)."""
    return _sha3(LEAF_PREFIX + key + value_hash).digest()


def compute_internal_hash(bitmap: int, child_hashes: list[bytes] | tuple[bytes, ...]) -> bytes:
    """Return an internal node's hash: hash_with_salt("SparseMerkleInternal", bitmap_u16_be || children)."""
    return _sha3(INTERNAL_PREFIX + bitmap.to_bytes(2, "big") + b"".join(child_hashes)).digest()


def compute_accumulator_parent(prefix: bytes, left: bytes, right: bytes) -> bytes:
    """Return an accumulator internal node's hash given the salt prefix of its accumulator."""
    return _sha3(prefix + left + right).digest()


def compute_event_hashes(events: Sequence[ContractEvent]) -> list[bytes]:
    """Return the event accumulator's leaves: hash_with_salt("ContractEvent", bcs) of each event."""
    return [hash_with_salt(CONTRACT_EVENT_SALT, event.to_bcs()) for event in events]
