"""Injectable signature schemes: real Ed25519 by default, a fast insecure one for simulations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from primitives.hashing import sha3_256
from primitives.keys import PrivateKey, is_valid_signature


class SignatureScheme(Protocol):
    """Verifies signatures; stateless."""

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Return True iff signature is valid for message under public_key."""


class Signer(Protocol):
    """Holds one validator's key and signs messages."""

    def sign(self, message: bytes) -> bytes:
        """Return the signature of message."""

    def get_public_key(self) -> bytes:
        """Return the public key matching the signing key."""


@dataclass(frozen=True, slots=True)
class Ed25519Scheme:
    """Strict Ed25519 verification (primitives.keys)."""

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        return is_valid_signature(public_key, message, signature)


@dataclass(frozen=True, slots=True)
class Ed25519Signer:
    """Signs with an Ed25519 private key; repr never shows the secret."""

    private_key: PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def get_public_key(self) -> bytes:
        return self.private_key.public_key().data


@dataclass(frozen=True, slots=True)
class InsecureHashScheme:
    """Test-only scheme: signature = sha3(public key, message); anyone can forge it, so never ship it."""

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        return signature == sha3_256(b"insecure-test-signature", public_key, message)


@dataclass(frozen=True, slots=True)
class InsecureHashSigner:
    """Test-only signer for InsecureHashScheme; the 'key' is public."""

    public_key: bytes

    def sign(self, message: bytes) -> bytes:
        return sha3_256(b"insecure-test-signature", self.public_key, message)

    def get_public_key(self) -> bytes:
        return self.public_key


DEFAULT_SCHEME = Ed25519Scheme()
