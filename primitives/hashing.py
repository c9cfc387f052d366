"""SHA3-256 hashing with Diem's domain-separation prefixes (diem-compat §3.3-3.6)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

HASH_LENGTH = 32
DIEM_HASH_PREFIX = b"DIEM::"
ZERO_HASH = bytes(HASH_LENGTH)


def sha3_256(*parts: bytes) -> bytes:
    """Return the SHA3-256 digest of the concatenated parts."""
    digest = hashlib.sha3_256()
    for part in parts:
        digest.update(part)
    return digest.digest()


@lru_cache(maxsize=None)
def get_salt(type_name: str) -> bytes:
    """Return Diem's salt for a type name: sha3_256(b"DIEM::" + name)."""
    return sha3_256(DIEM_HASH_PREFIX + type_name.encode("ascii"))


def hash_with_salt(type_name: str, data: bytes) -> bytes:
    """Return sha3_256(salt(type_name) || data), Diem's CryptoHash of a BCS value."""
    return sha3_256(get_salt(type_name), data)
