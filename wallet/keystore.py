"""Encrypted keystore: one Argon2id + SecretBox file per account (primitives.keyfile), mode 0600."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import nacl.utils

from primitives.errors import DecodeError
from primitives.keyfile import NONCE_LENGTH, SALT_LENGTH, KdfParameters, WrongPassphrase, decrypt_secret, encrypt_secret
from primitives.keys import PrivateKey
from wallet.errors import KeystoreError, WrongPassphraseError

KEYSTORE_VERSION = 1
KEYSTORE_FILE_MODE = 0o600
KEYSTORE_DIR_MODE = 0o700
KEYSTORE_SUFFIX = ".json"
ADDRESS_HEX_LENGTH = 32
LABEL_LENGTH_MAX = 64
DEFAULT_KEYSTORE_DIR = Path("~/.stablechain/wallet")
KEYSTORE_DIR_ENV = "STABLECHAIN_WALLET_DIR"


@dataclass(frozen=True, slots=True)
class KeystoreEntry:
    """The public part of a stored account: address, public key, label and the file holding it."""

    address: bytes
    public_key: bytes
    label: str | None
    path: Path


def get_default_keystore_dir() -> Path:
    """Return $STABLECHAIN_WALLET_DIR or ~/.stablechain/wallet."""
    return Path(os.environ.get(KEYSTORE_DIR_ENV) or DEFAULT_KEYSTORE_DIR).expanduser()


def parse_address(text: str) -> bytes:
    """Return a 16-byte address from 32 hex characters (an optional 0x is accepted)."""
    cleaned = text.strip().lower().removeprefix("0x")
    try:
        address = bytes.fromhex(cleaned)
    except ValueError:
        raise KeystoreError(f"not an address: {text!r} (expected 32 hex characters)") from None
    if len(address) * 2 != ADDRESS_HEX_LENGTH:
        raise KeystoreError(f"not an address: {text!r} (expected 32 hex characters)")
    return address


class Keystore:
    """A directory of encrypted account files named <address hex>.json."""

    def __init__(self, directory: Path | str | None = None, kdf: KdfParameters = KdfParameters()) -> None:
        self.directory = Path(directory).expanduser() if directory is not None else get_default_keystore_dir()
        self.kdf = kdf

    def get_path(self, address: bytes) -> Path:
        """Return the file of an address."""
        return self.directory / f"{address.hex()}{KEYSTORE_SUFFIX}"

    def save(self, key: PrivateKey, passphrase: str, label: str | None = None, overwrite: bool = False,
             address: bytes | None = None) -> KeystoreEntry:
        """Encrypt key for address (default: the key's own; they differ after a rotation) and write it (0600)."""
        if label is not None and len(label) > LABEL_LENGTH_MAX:
            raise KeystoreError(f"label longer than {LABEL_LENGTH_MAX} characters")
        public_key = key.public_key()
        address = address or public_key.address()
        path = self.get_path(address)
        if path.exists() and not overwrite:
            raise KeystoreError(f"account {address.hex()} is already in the keystore ({path})")
        salt, nonce = nacl.utils.random(SALT_LENGTH), nacl.utils.random(NONCE_LENGTH)
        keyfile = json.loads(encrypt_secret(key.seed, passphrase, salt, nonce, self.kdf))
        document = {"version": KEYSTORE_VERSION, "address": address.hex(), "public_key": public_key.hex(),
                    "label": label, "crypto": keyfile}
        self.directory.mkdir(parents=True, exist_ok=True, mode=KEYSTORE_DIR_MODE)
        _write_private(path, json.dumps(document, indent=2).encode() + b"\n")
        return KeystoreEntry(address, public_key.data, label, path)

    def list(self) -> list[KeystoreEntry]:
        """Return the readable entries of the directory, sorted by label then address (bad files skipped)."""
        if not self.directory.is_dir():
            return []
        entries = []
        for path in sorted(self.directory.glob(f"*{KEYSTORE_SUFFIX}")):
            try:
                entries.append(_read_entry(path)[0])
            except KeystoreError:
                continue
        return sorted(entries, key=lambda entry: (entry.label or "", entry.address))

    def find(self, name: str) -> KeystoreEntry:
        """Return the entry whose label or address (hex) is name; KeystoreError if none or ambiguous."""
        matches = [entry for entry in self.list() if name in (entry.label, entry.address.hex())
                   or name.lower().removeprefix("0x") == entry.address.hex()]
        if not matches:
            raise KeystoreError(f"no account {name!r} in keystore {self.directory}")
        if len(matches) > 1:
            raise KeystoreError(f"{len(matches)} accounts are labelled {name!r}; use the address")
        return matches[0]

    def get_default(self) -> KeystoreEntry:
        """Return the only account of the keystore; KeystoreError if there are none or several."""
        entries = self.list()
        if len(entries) != 1:
            detail = "is empty" if not entries else f"holds {len(entries)} accounts; choose one with --account"
            raise KeystoreError(f"keystore {self.directory} {detail}")
        return entries[0]

    def load(self, entry: KeystoreEntry | Path, passphrase: str) -> PrivateKey:
        """Decrypt an entry's private key; WrongPassphraseError or KeystoreError explain a failure."""
        path = entry.path if isinstance(entry, KeystoreEntry) else Path(entry)
        stored, document = _read_entry(path)
        try:
            seed = decrypt_secret(json.dumps(document["crypto"]).encode(), passphrase)
            key = PrivateKey(seed)
        except WrongPassphrase:
            raise WrongPassphraseError(f"wrong passphrase for account {stored.address.hex()}") from None
        except DecodeError as error:
            raise KeystoreError(f"{path}: {error}") from None
        if key.public_key().data != stored.public_key:
            raise KeystoreError(f"{path}: the decrypted key does not match the stored public key")
        return key


def _write_private(path: Path, data: bytes) -> None:
    """Write data to a new temp file created 0600, then rename it over path (never world-readable)."""
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, KEYSTORE_FILE_MODE)
    try:
        os.fchmod(descriptor, KEYSTORE_FILE_MODE)
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)


def _read_entry(path: Path) -> tuple[KeystoreEntry, dict]:
    try:
        document = json.loads(path.read_bytes())
        address = bytes.fromhex(document["address"])
        public_key = bytes.fromhex(document["public_key"])
        label = document.get("label")
        if document["version"] != KEYSTORE_VERSION or not isinstance(document["crypto"], dict):
            raise ValueError("unsupported keystore version")
        if len(address) * 2 != ADDRESS_HEX_LENGTH or (label is not None and not isinstance(label, str)):
            raise ValueError("bad address or label")
    except FileNotFoundError:
        raise KeystoreError(f"no keystore file {path}") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise KeystoreError(f"{path} is not a stablechain keystore file: {error}") from None
    return KeystoreEntry(address, public_key, label, path), document
