"""MultiEd25519 k-of-n keys and signatures in Diem's byte layout (diem-compat §3.2, §3.5)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from primitives.errors import DecodeError
from primitives.keys import (
    ED25519_PUBLIC_KEY_LENGTH,
    ED25519_SIGNATURE_LENGTH,
    SCHEME_MULTI_ED25519,
    PrivateKey,
    compute_auth_key,
    is_valid_signature,
)
from primitives.limits import MULTI_ED25519_BITMAP_LENGTH, MULTI_ED25519_MAX_KEYS

_THRESHOLD_LENGTH = 1
_BITMAP_BITS = MULTI_ED25519_BITMAP_LENGTH * 8


@dataclass(frozen=True, slots=True)
class MultiEd25519PublicKey:
    """A k-of-n Ed25519 key: pk_1 ‖ … ‖ pk_n ‖ threshold(u8), with 1 ≤ threshold ≤ n ≤ 32."""

    public_keys: tuple[bytes, ...]
    threshold: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_keys", tuple(self.public_keys))
        count = len(self.public_keys)
        if not 1 <= count <= MULTI_ED25519_MAX_KEYS:
            raise DecodeError(f"multi-ed25519 key count must be 1..{MULTI_ED25519_MAX_KEYS}, got {count}")
        if not 1 <= self.threshold <= count:
            raise DecodeError(f"multi-ed25519 threshold must be 1..{count}, got {self.threshold}")
        for key in self.public_keys:
            if len(key) != ED25519_PUBLIC_KEY_LENGTH:
                raise DecodeError(f"multi-ed25519 member key must be 32 bytes, got {len(key)}")

    @classmethod
    def from_bytes(cls, data: bytes) -> MultiEd25519PublicKey:
        """Parse Diem's layout; DecodeError on a bad length, key count or threshold."""
        keys_length = len(data) - _THRESHOLD_LENGTH
        if keys_length <= 0 or keys_length % ED25519_PUBLIC_KEY_LENGTH:
            raise DecodeError(f"multi-ed25519 public key has invalid length {len(data)}")
        keys = tuple(
            bytes(data[i : i + ED25519_PUBLIC_KEY_LENGTH])
            for i in range(0, keys_length, ED25519_PUBLIC_KEY_LENGTH)
        )
        return cls(keys, data[-1])

    def to_bytes(self) -> bytes:
        """Return Diem's byte layout."""
        return b"".join(self.public_keys) + bytes([self.threshold])

    def auth_key(self) -> bytes:
        """Return sha3_256(key_bytes ‖ 0x01), the MultiEd25519 authentication key."""
        return compute_auth_key(self.to_bytes(), SCHEME_MULTI_ED25519)


@dataclass(frozen=True, slots=True)
class MultiEd25519Signature:
    """Signatures ordered by key index ‖ 4-byte bitmap (key i ↔ byte i/8, mask 0x80 >> i%8)."""

    signatures: tuple[bytes, ...]
    bitmap: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "signatures", tuple(self.signatures))
        if len(self.bitmap) != MULTI_ED25519_BITMAP_LENGTH:
            raise DecodeError(f"multi-ed25519 bitmap must be 4 bytes, got {len(self.bitmap)}")
        if len(self.signatures) > MULTI_ED25519_MAX_KEYS:
            raise DecodeError(f"multi-ed25519 signature holds {len(self.signatures)} > 32 signatures")
        if _popcount(self.bitmap) != len(self.signatures):
            raise DecodeError("multi-ed25519 bitmap bit count differs from the number of signatures")
        for signature in self.signatures:
            if len(signature) != ED25519_SIGNATURE_LENGTH:
                raise DecodeError(f"multi-ed25519 member signature must be 64 bytes, got {len(signature)}")

    @classmethod
    def from_bytes(cls, data: bytes) -> MultiEd25519Signature:
        """Parse Diem's layout; DecodeError on a bad length or a bitmap/count mismatch."""
        sigs_length = len(data) - MULTI_ED25519_BITMAP_LENGTH
        if sigs_length < 0 or sigs_length % ED25519_SIGNATURE_LENGTH:
            raise DecodeError(f"multi-ed25519 signature has invalid length {len(data)}")
        signatures = tuple(
            bytes(data[i : i + ED25519_SIGNATURE_LENGTH])
            for i in range(0, sigs_length, ED25519_SIGNATURE_LENGTH)
        )
        return cls(signatures, bytes(data[sigs_length:]))

    @classmethod
    def from_indexed(cls, indexed: Iterable[tuple[int, bytes]]) -> MultiEd25519Signature:
        """Build from (key index, signature) pairs in any order; duplicate indices are rejected."""
        by_index = dict()
        for index, signature in indexed:
            if not 0 <= index < _BITMAP_BITS or index in by_index:
                raise DecodeError(f"invalid or duplicate multi-ed25519 signer index {index}")
            by_index[index] = signature
        bitmap = bytearray(MULTI_ED25519_BITMAP_LENGTH)
        for index in by_index:
            bitmap[index // 8] |= 0x80 >> (index % 8)
        return cls(tuple(by_index[i] for i in sorted(by_index)), bytes(bitmap))

    def to_bytes(self) -> bytes:
        """Return Diem's byte layout."""
        return b"".join(self.signatures) + self.bitmap

    def get_signer_indices(self) -> list[int]:
        """Return the key indices whose bit is set, ascending."""
        return [i for i in range(_BITMAP_BITS) if self.bitmap[i // 8] & (0x80 >> (i % 8))]


def _popcount(bitmap: bytes) -> int:
    return int.from_bytes(bitmap, "big").bit_count()


def is_valid_multi_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify a MultiEd25519 signature strictly: parseable, bits only for existing keys, ≥ threshold valid."""
    try:
        key = MultiEd25519PublicKey.from_bytes(public_key)
        multi = MultiEd25519Signature.from_bytes(signature)
    except DecodeError:
        return False
    indices = multi.get_signer_indices()
    if len(indices) < key.threshold:
        return False
    if indices and indices[-1] >= len(key.public_keys):
        return False
    return all(
        is_valid_signature(key.public_keys[index], message, sig)
        for index, sig in zip(indices, multi.signatures)
    )


def sign_multi(
    private_keys: Iterable[tuple[int, PrivateKey]], message: bytes
) -> MultiEd25519Signature:
    """Sign message with each (key index, private key) and assemble the multi-signature."""
    return MultiEd25519Signature.from_indexed((i, key.sign(message)) for i, key in private_keys)
