"""TransactionInfo: what the ledger accumulator commits to for each transaction (ADR 0001)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError, invariant
from primitives.hashing import HASH_LENGTH, hash_with_salt
from primitives.limits import U64_MAX

TRANSACTION_INFO_SALT = "TransactionInfo"
STATE_CHANGE_SALT = "StateChangeSet"


def _write_hash(serializer: Serializer, value: bytes) -> None:
    serializer.fixed_bytes(value, HASH_LENGTH)


def _read_hash(deserializer: Deserializer) -> bytes:
    return deserializer.fixed_bytes(HASH_LENGTH)


@dataclass(frozen=True, slots=True)
class TransactionInfo:
    """The executed result of one transaction; state_root_hash is set only where the tree was versioned (block end)."""

    transaction_hash: bytes
    state_change_hash: bytes
    event_root_hash: bytes
    state_root_hash: bytes | None
    gas_used: int
    status_code: int

    def __post_init__(self) -> None:
        for name in ("transaction_hash", "state_change_hash", "event_root_hash"):
            value = getattr(self, name)
            invariant(type(value) is bytes and len(value) == HASH_LENGTH, f"{name} must be a 32-byte hash")
        root = self.state_root_hash
        invariant(root is None or (type(root) is bytes and len(root) == HASH_LENGTH), "bad state_root_hash")
        invariant(type(self.gas_used) is int and 0 <= self.gas_used <= U64_MAX, "gas_used must be a u64")
        invariant(type(self.status_code) is int and 0 <= self.status_code <= U64_MAX, "status_code must be a u64")

    def serialize(self, serializer: Serializer) -> None:
        """Write BCS: three [u8;32], Option<[u8;32]>, u64 gas_used, u64 status_code."""
        _write_hash(serializer, self.transaction_hash)
        _write_hash(serializer, self.state_change_hash)
        _write_hash(serializer, self.event_root_hash)
        serializer.option(self.state_root_hash, _write_hash)
        serializer.u64(self.gas_used)
        serializer.u64(self.status_code)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> TransactionInfo:
        """Read a TransactionInfo written by serialize."""
        transaction_hash = _read_hash(deserializer)
        state_change_hash = _read_hash(deserializer)
        event_root_hash = _read_hash(deserializer)
        state_root_hash = deserializer.option(_read_hash)
        gas_used = deserializer.u64()
        return cls(transaction_hash, state_change_hash, event_root_hash, state_root_hash, gas_used, deserializer.u64())

    def to_bcs(self) -> bytes:
        """Return the canonical BCS bytes."""
        serializer = Serializer()
        self.serialize(serializer)
        return serializer.output()

    @classmethod
    def from_bcs(cls, data: bytes) -> TransactionInfo:
        """Decode canonical bytes, raising DecodeError on malformed input."""
        deserializer = Deserializer(data)
        info = cls.deserialize(deserializer)
        deserializer.finish()
        return info

    def hash(self) -> bytes:
        """Return the accumulator leaf of this transaction: hash_with_salt("TransactionInfo", bcs)."""
        return hash_with_salt(TRANSACTION_INFO_SALT, self.to_bcs())


def encode_state_changes(changes: Mapping[bytes, bytes | None]) -> bytes:
    """Return a transaction's write set as BCS Vec<([u8;32], Option<Vec<u8>>)> sorted by key."""
    serializer = Serializer()
    serializer.uleb128(len(changes))
    for key in sorted(changes):
        invariant(type(key) is bytes and len(key) == HASH_LENGTH, "state keys are 32 bytes")
        serializer.fixed_bytes(key)
        serializer.option(changes[key], Serializer.bytes)
    return serializer.output()


def decode_state_changes(data: bytes) -> dict[bytes, bytes | None]:
    """Return the write set of encode_state_changes's bytes; DecodeError when malformed or not strictly sorted."""
    deserializer = Deserializer(data)
    changes: dict[bytes, bytes | None] = {}
    previous = b""
    for _ in range(deserializer.length("state changes")):
        key = deserializer.fixed_bytes(HASH_LENGTH)
        if key <= previous:
            raise DecodeError("state changes are strictly sorted by key")
        previous = key
        changes[key] = deserializer.option(Deserializer.bytes)
    deserializer.finish()
    return changes


def compute_state_change_hash(changes: Mapping[bytes, bytes | None]) -> bytes:
    """Return the hash of a transaction's write set: of its encode_state_changes bytes."""
    return compute_encoded_state_change_hash(encode_state_changes(changes))


def compute_encoded_state_change_hash(encoded: bytes) -> bytes:
    """Return the state change hash of a write set already encoded by encode_state_changes."""
    return hash_with_salt(STATE_CHANGE_SALT, encoded)
