"""Key files on disk: plain hex or passphrase-encrypted, written owner-readable only."""

from __future__ import annotations

import os
from pathlib import Path

import nacl.utils

from primitives.errors import DecodeError
from primitives.keyfile import NONCE_LENGTH, SALT_LENGTH, WrongPassphrase, decrypt_secret, encrypt_secret, is_encrypted_keyfile
from primitives.keys import PrivateKey

KEY_FILE_MODE = 0o600


class KeyFileError(ValueError):
    """A key file is missing, malformed, or locked with a passphrase we do not have."""


def save_private_key(path: Path, key: PrivateKey, passphrase: str | None = None) -> None:
    """Write a key file (encrypted when a passphrase is given) readable by the owner only."""
    if passphrase is None:
        data = key.seed.hex().encode() + b"\n"
    else:
        salt, nonce = nacl.utils.random(SALT_LENGTH), nacl.utils.random(NONCE_LENGTH)
        data = encrypt_secret(key.seed, passphrase, salt, nonce)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, KEY_FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def load_private_key(path: Path, passphrase: str | None = None) -> PrivateKey:
    """Read a key file; a clear KeyFileError explains any failure."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise KeyFileError(f"{path}: cannot read key file: {error.strerror}") from None
    if is_encrypted_keyfile(data):
        if passphrase is None:
            raise KeyFileError(f"{path}: key file is encrypted; a passphrase is required")
        try:
            return PrivateKey(decrypt_secret(data, passphrase))
        except WrongPassphrase:
            raise KeyFileError(f"{path}: wrong passphrase") from None
        except DecodeError as error:
            raise KeyFileError(f"{path}: {error}") from None
    try:
        return PrivateKey(bytes.fromhex(data.decode("ascii").strip()))
    except (ValueError, UnicodeDecodeError):
        raise KeyFileError(f"{path}: not a hex ed25519 private key (64 hex characters)") from None


def load_passphrase(variable: str | None) -> str | None:
    """Return the passphrase from the named environment variable, if one is configured."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise KeyFileError(f"environment variable {variable} (keys.passphrase_env) is not set")
    return value
