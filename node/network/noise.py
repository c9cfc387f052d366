"""Noise_IK_25519_ChaChaPoly_SHA256 handshake and transport ciphers, sans I/O, on libsodium."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.exceptions

from primitives.errors import invariant
from primitives.keys import PrivateKey

PROTOCOL_NAME = b"Noise_IK_25519_ChaChaPoly_SHA256"
DH_LENGTH_BYTES = 32
HASH_LENGTH_BYTES = 32
TAG_LENGTH_BYTES = 16
# Noise reserves 2**64 - 1; a session that reaches it must be re-established, not wrapped.
NONCE_MAX = 2**64 - 2
# IK message 1 = e (32) + encrypted s (32 + 16) + encrypted payload (payload + 16).
MESSAGE1_OVERHEAD_BYTES = DH_LENGTH_BYTES + DH_LENGTH_BYTES + 2 * TAG_LENGTH_BYTES
# IK message 2 = e (32) + encrypted payload (payload + 16).
MESSAGE2_OVERHEAD_BYTES = DH_LENGTH_BYTES + TAG_LENGTH_BYTES


class HandshakeError(Exception):
    """A handshake message that does not decrypt, has the wrong length or uses a bad key."""


class DecryptError(Exception):
    """A transport message whose authentication tag does not verify."""


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An X25519 key pair: the static network identity of a validator."""

    private_key: bytes
    public_key: bytes

    @staticmethod
    def from_private_key(private_key: bytes) -> KeyPair:
        """Return the key pair whose private scalar is private_key (clamped by libsodium)."""
        invariant(len(private_key) == DH_LENGTH_BYTES, "an X25519 private key has 32 bytes")
        return KeyPair(private_key, sodium.crypto_scalarmult_base(private_key))


def make_network_key_pair(key: PrivateKey) -> KeyPair:
    """Return the X25519 Noise key pair of an Ed25519 network key (libsodium's standard conversion)."""
    return KeyPair.from_private_key(sodium.crypto_sign_ed25519_sk_to_curve25519(key.seed + key.public_key().data))


def compute_network_public_key(ed25519_public_key: bytes) -> bytes:
    """Return the X25519 key the transport pins for a validator's Ed25519 network key."""
    return sodium.crypto_sign_ed25519_pk_to_curve25519(ed25519_public_key)


def compute_dh(key_pair: KeyPair, public_key: bytes) -> bytes:
    """Return X25519(private, public), refusing low-order points (libsodium rejects zero output)."""
    if len(public_key) != DH_LENGTH_BYTES:
        raise HandshakeError("an X25519 public key has 32 bytes")
    try:
        return sodium.crypto_scalarmult(key_pair.private_key, public_key)
    except nacl.exceptions.RuntimeError as error:
        raise HandshakeError("low-order X25519 public key") from error


def compute_hkdf(chaining_key: bytes, input_key_material: bytes) -> tuple[bytes, bytes]:
    """Return the two outputs of the Noise HKDF (HMAC-SHA256)."""
    temp_key = hmac.new(chaining_key, input_key_material, hashlib.sha256).digest()
    output1 = hmac.new(temp_key, b"\x01", hashlib.sha256).digest()
    output2 = hmac.new(temp_key, output1 + b"\x02", hashlib.sha256).digest()
    return output1, output2


def encode_nonce(counter: int) -> bytes:
    """Return the 96-bit ChaChaPoly nonce: 32 zero bits then the 64-bit little-endian counter."""
    return b"\x00\x00\x00\x00" + counter.to_bytes(8, "little")


class CipherState:
    """One direction of an encrypted channel: a key and a message counter."""

    __slots__ = ("key", "nonce")

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key
        self.nonce = 0

    def encrypt(self, associated_data: bytes, plaintext: bytes) -> bytes:
        """Return the ciphertext of plaintext under the next nonce (plaintext when keyless)."""
        if self.key is None:
            return plaintext
        invariant(self.nonce <= NONCE_MAX, "noise nonce exhausted; the session must be rebuilt")
        ciphertext = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
            plaintext, associated_data, encode_nonce(self.nonce), self.key
        )
        self.nonce += 1
        return ciphertext

    def decrypt(self, associated_data: bytes, ciphertext: bytes) -> bytes:
        """Return the plaintext of ciphertext under the next nonce, or raise DecryptError."""
        if self.key is None:
            return ciphertext
        if self.nonce > NONCE_MAX:
            raise DecryptError("noise nonce exhausted")
        # libsodium's binding raises ValueError, not CryptoError, for input shorter than a tag.
        if len(ciphertext) < TAG_LENGTH_BYTES:
            raise DecryptError("ciphertext shorter than its authentication tag")
        try:
            plaintext = sodium.crypto_aead_chacha20poly1305_ietf_decrypt(
                ciphertext, associated_data, encode_nonce(self.nonce), self.key
            )
        except nacl.exceptions.CryptoError as error:
            raise DecryptError("authentication tag does not verify") from error
        self.nonce += 1
        return plaintext


class SymmetricState:
    """The running handshake hash and chaining key of the Noise spec."""

    __slots__ = ("cipher", "chaining_key", "handshake_hash")

    def __init__(self, protocol_name: bytes) -> None:
        if len(protocol_name) <= HASH_LENGTH_BYTES:
            digest = protocol_name.ljust(HASH_LENGTH_BYTES, b"\x00")
        else:
            digest = hashlib.sha256(protocol_name).digest()
        self.handshake_hash = digest
        self.chaining_key = digest
        self.cipher = CipherState()

    def mix_hash(self, data: bytes) -> None:
        """Absorb data into the handshake hash."""
        self.handshake_hash = hashlib.sha256(self.handshake_hash + data).digest()

    def mix_key(self, input_key_material: bytes) -> None:
        """Absorb a DH output into the chaining key and rekey the handshake cipher."""
        self.chaining_key, temp_key = compute_hkdf(self.chaining_key, input_key_material)
        self.cipher = CipherState(temp_key)

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        """Encrypt with the handshake hash as associated data, then absorb the ciphertext."""
        ciphertext = self.cipher.encrypt(self.handshake_hash, plaintext)
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes) -> bytes:
        """Decrypt with the handshake hash as associated data, then absorb the ciphertext."""
        try:
            plaintext = self.cipher.decrypt(self.handshake_hash, ciphertext)
        except DecryptError as error:
            raise HandshakeError("handshake message does not authenticate") from error
        self.mix_hash(ciphertext)
        return plaintext

    def split(self) -> tuple[CipherState, CipherState]:
        """Return the (initiator-to-responder, responder-to-initiator) transport ciphers."""
        key1, key2 = compute_hkdf(self.chaining_key, b"")
        return CipherState(key1), CipherState(key2)


@dataclass(frozen=True, slots=True)
class Session:
    """The result of a completed handshake: the two transport ciphers and the peer's static key."""

    send_cipher: CipherState
    receive_cipher: CipherState
    remote_static_key: bytes
    handshake_hash: bytes


class Initiator:
    """The initiator side of IK: -> e, es, s, ss then <- e, ee, se."""

    def __init__(
        self, static: KeyPair, remote_static_key: bytes, prologue: bytes, ephemeral: KeyPair
    ) -> None:
        self.static = static
        self.ephemeral = ephemeral
        self.remote_static_key = remote_static_key
        self.state = SymmetricState(PROTOCOL_NAME)
        self.state.mix_hash(prologue)
        self.state.mix_hash(remote_static_key)

    def write_message1(self, payload: bytes) -> bytes:
        """Return message 1 carrying payload encrypted to the responder."""
        state = self.state
        state.mix_hash(self.ephemeral.public_key)
        state.mix_key(compute_dh(self.ephemeral, self.remote_static_key))
        encrypted_static = state.encrypt_and_hash(self.static.public_key)
        state.mix_key(compute_dh(self.static, self.remote_static_key))
        return self.ephemeral.public_key + encrypted_static + state.encrypt_and_hash(payload)

    def read_message2(self, message: bytes) -> tuple[bytes, Session]:
        """Return the responder's payload and the established session, or raise HandshakeError."""
        if len(message) < MESSAGE2_OVERHEAD_BYTES:
            raise HandshakeError("handshake message 2 is too short")
        state = self.state
        remote_ephemeral = message[:DH_LENGTH_BYTES]
        state.mix_hash(remote_ephemeral)
        state.mix_key(compute_dh(self.ephemeral, remote_ephemeral))
        state.mix_key(compute_dh(self.static, remote_ephemeral))
        payload = state.decrypt_and_hash(message[DH_LENGTH_BYTES:])
        send_cipher, receive_cipher = state.split()
        session = Session(send_cipher, receive_cipher, self.remote_static_key, state.handshake_hash)
        return payload, session


class Responder:
    """The responder side of IK: reads message 1, learns the initiator's key, writes message 2."""

    def __init__(self, static: KeyPair, prologue: bytes, ephemeral: KeyPair) -> None:
        self.static = static
        self.ephemeral = ephemeral
        self.remote_ephemeral_key = b""
        self.remote_static_key = b""
        self.state = SymmetricState(PROTOCOL_NAME)
        self.state.mix_hash(prologue)
        self.state.mix_hash(static.public_key)

    def read_message1(self, message: bytes) -> bytes:
        """Return the initiator's payload; afterwards remote_static_key names the initiator."""
        if len(message) < MESSAGE1_OVERHEAD_BYTES:
            raise HandshakeError("handshake message 1 is too short")
        state = self.state
        self.remote_ephemeral_key = message[:DH_LENGTH_BYTES]
        state.mix_hash(self.remote_ephemeral_key)
        state.mix_key(compute_dh(self.static, self.remote_ephemeral_key))
        static_end = DH_LENGTH_BYTES * 2 + TAG_LENGTH_BYTES
        self.remote_static_key = state.decrypt_and_hash(message[DH_LENGTH_BYTES:static_end])
        state.mix_key(compute_dh(self.static, self.remote_static_key))
        return state.decrypt_and_hash(message[static_end:])

    def write_message2(self, payload: bytes) -> tuple[bytes, Session]:
        """Return message 2 and the established session."""
        invariant(self.remote_static_key != b"", "message 1 must be read before message 2")
        state = self.state
        state.mix_hash(self.ephemeral.public_key)
        state.mix_key(compute_dh(self.ephemeral, self.remote_ephemeral_key))
        state.mix_key(compute_dh(self.ephemeral, self.remote_static_key))
        message = self.ephemeral.public_key + state.encrypt_and_hash(payload)
        receive_cipher, send_cipher = state.split()
        session = Session(send_cipher, receive_cipher, self.remote_static_key, state.handshake_hash)
        return message, session
