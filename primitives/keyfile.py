"""Passphrase encryption of private keys: Argon2id (PyNaCl pwhash) + XSalsa20-Poly1305 SecretBox.

The functions are pure: callers supply the salt and nonce (from a CSPRNG) so this leaf package
never reads randomness itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import nacl.exceptions
import nacl.pwhash
import nacl.secret

from primitives.errors import DecodeError

KEYFILE_VERSION = 1
KEYFILE_KDF = "argon2id"
SALT_LENGTH = nacl.pwhash.argon2id.SALTBYTES
NONCE_LENGTH = nacl.secret.SecretBox.NONCE_SIZE
# Interactive limits keep unlocking under a second on a small machine; stored in the file so
# stronger settings can be chosen later without breaking old files.
KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
KDF_OPSLIMIT_MAX = nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
KDF_MEMLIMIT_MAX = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE


class WrongPassphrase(ValueError):
    """The passphrase does not open this key file."""


@dataclass(frozen=True, slots=True)
class KdfParameters:
    """Argon2id cost parameters stored beside the ciphertext."""

    opslimit: int = KDF_OPSLIMIT
    memlimit: int = KDF_MEMLIMIT


def compute_key(passphrase: str, salt: bytes, params: KdfParameters) -> bytes:
    """Derive the 32-byte SecretBox key from a passphrase with Argon2id."""
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode("utf-8"),
        salt,
        opslimit=params.opslimit,
        memlimit=params.memlimit,
    )


def encrypt_secret(
    secret: bytes, passphrase: str, salt: bytes, nonce: bytes, params: KdfParameters = KdfParameters()
) -> bytes:
    """Return a JSON key file holding the secret encrypted under the passphrase."""
    if len(salt) != SALT_LENGTH or len(nonce) != NONCE_LENGTH:
        raise ValueError(f"salt must be {SALT_LENGTH} bytes and nonce {NONCE_LENGTH} bytes")
    box = nacl.secret.SecretBox(compute_key(passphrase, salt, params))
    ciphertext = box.encrypt(secret, nonce).ciphertext
    document = {
        "version": KEYFILE_VERSION,
        "kdf": KEYFILE_KDF,
        "opslimit": params.opslimit,
        "memlimit": params.memlimit,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "ciphertext": ciphertext.hex(),
    }
    return json.dumps(document, indent=2).encode() + b"\n"


def decrypt_secret(keyfile: bytes, passphrase: str) -> bytes:
    """Return the secret of a key file; WrongPassphrase or DecodeError explain a failure."""
    document = _parse_keyfile(keyfile)
    params = KdfParameters(document["opslimit"], document["memlimit"])
    box = nacl.secret.SecretBox(compute_key(passphrase, document["salt"], params))
    try:
        return box.decrypt(document["ciphertext"], document["nonce"])
    except nacl.exceptions.CryptoError:
        raise WrongPassphrase("wrong passphrase for this key file") from None


def is_encrypted_keyfile(data: bytes) -> bool:
    """Return True iff data looks like an encrypted key file rather than a plain hex key."""
    return data.lstrip().startswith(b"{")


def _parse_keyfile(keyfile: bytes) -> dict:
    try:
        raw = json.loads(keyfile)
        parsed = {
            "version": int(raw["version"]),
            "kdf": str(raw["kdf"]),
            "opslimit": int(raw["opslimit"]),
            "memlimit": int(raw["memlimit"]),
            "salt": bytes.fromhex(raw["salt"]),
            "nonce": bytes.fromhex(raw["nonce"]),
            "ciphertext": bytes.fromhex(raw["ciphertext"]),
        }
    except (ValueError, KeyError, TypeError) as error:
        raise DecodeError(f"not a stablechain key file: {error}") from None
    if parsed["version"] != KEYFILE_VERSION or parsed["kdf"] != KEYFILE_KDF:
        raise DecodeError(f"unsupported key file version {parsed['version']} / kdf {parsed['kdf']}")
    if len(parsed["salt"]) != SALT_LENGTH or len(parsed["nonce"]) != NONCE_LENGTH:
        raise DecodeError("key file salt or nonce has the wrong length")
    # Bound the work an untrusted file can demand before we run the KDF.
    if not (0 < parsed["opslimit"] <= KDF_OPSLIMIT_MAX and 0 < parsed["memlimit"] <= KDF_MEMLIMIT_MAX):
        raise DecodeError("key file KDF parameters are out of range")
    return parsed
