"""Ed25519 keys via PyNaCl, authentication keys and address derivation (diem-compat §3.4-3.5)."""

from __future__ import annotations

from dataclasses import dataclass

import nacl.bindings
import nacl.exceptions
import nacl.signing

from primitives.errors import DecodeError
from primitives.hashing import sha3_256

ED25519_PUBLIC_KEY_LENGTH = 32
ED25519_PRIVATE_KEY_LENGTH = 32
ED25519_SIGNATURE_LENGTH = 64
AUTH_KEY_LENGTH = 32
ADDRESS_LENGTH = 16
SCHEME_ED25519 = 0
SCHEME_MULTI_ED25519 = 1


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An Ed25519 public key (32 bytes)."""

    data: bytes

    def __post_init__(self) -> None:
        if len(self.data) != ED25519_PUBLIC_KEY_LENGTH:
            raise DecodeError(f"ed25519 public key must be 32 bytes, got {len(self.data)}")

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return True iff signature is a valid strict Ed25519 signature of message."""
        return is_valid_signature(self.data, message, signature)

    def auth_key(self) -> bytes:
        """Return sha3_256(public_key || 0x00), the Ed25519 authentication key."""
        return compute_auth_key(self.data, SCHEME_ED25519)

    def address(self) -> bytes:
        """Return the 16-byte account address derived from this key."""
        return self.auth_key()[AUTH_KEY_LENGTH - ADDRESS_LENGTH :]

    def hex(self) -> str:
        """Return the key as lowercase hex."""
        return self.data.hex()


@dataclass(frozen=True, slots=True)
class PrivateKey:
    """An Ed25519 private key (32-byte seed); repr never shows the secret."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != ED25519_PRIVATE_KEY_LENGTH:
            raise DecodeError(f"ed25519 private key must be 32 bytes, got {len(self.seed)}")

    def __repr__(self) -> str:
        return f"PrivateKey(public={self.public_key().hex()})"

    @classmethod
    def from_hex(cls, text: str) -> PrivateKey:
        """Parse a private key from 64 hex characters."""
        return cls(bytes.fromhex(text))

    @classmethod
    def from_seed_material(cls, material: bytes) -> PrivateKey:
        """Derive a key deterministically from arbitrary bytes (tests, devnet genesis)."""
        return cls(sha3_256(b"stablechain-key-seed", material))

    def public_key(self) -> PublicKey:
        """Return the matching public key."""
        return PublicKey(_signing_key(self.seed).verify_key.encode())

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of message (deterministic, RFC 8032)."""
        return _signing_key(self.seed).sign(message).signature


_SIGNING_KEY_CACHE: dict[bytes, nacl.signing.SigningKey] = {}


def _signing_key(seed: bytes) -> nacl.signing.SigningKey:
    key = _SIGNING_KEY_CACHE.get(seed)
    if key is None:
        key = nacl.signing.SigningKey(seed)
        if len(_SIGNING_KEY_CACHE) < 4096:
            _SIGNING_KEY_CACHE[seed] = key
    return key


def is_valid_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify strictly: libsodium rejects non-canonical S and small-order keys, like verify_strict."""
    if len(public_key) != ED25519_PUBLIC_KEY_LENGTH or len(signature) != ED25519_SIGNATURE_LENGTH:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


def is_valid_public_key(public_key: bytes) -> bool:
    """Return True iff the bytes are a valid, non-small-order Ed25519 point (Diem's validate_pubkey)."""
    if len(public_key) != ED25519_PUBLIC_KEY_LENGTH:
        return False
    try:
        return bool(nacl.bindings.crypto_core_ed25519_is_valid_point(public_key))
    except (nacl.exceptions.ValueError, ValueError, TypeError):
        return False


def compute_auth_key(public_key_bytes: bytes, scheme: int) -> bytes:
    """Return sha3_256(public_key_bytes || scheme), Diem's authentication key."""
    return sha3_256(public_key_bytes, bytes([scheme]))


def get_address_from_auth_key(auth_key: bytes) -> bytes:
    """Return the last 16 bytes of a 32-byte authentication key."""
    if len(auth_key) != AUTH_KEY_LENGTH:
        raise DecodeError(f"authentication key must be 32 bytes, got {len(auth_key)}")
    return auth_key[AUTH_KEY_LENGTH - ADDRESS_LENGTH :]
