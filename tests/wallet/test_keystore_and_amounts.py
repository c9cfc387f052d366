"""Keystore files are encrypted, 0600, findable by label or address; amounts parse exactly."""

from __future__ import annotations

import json
import stat

import nacl.pwhash
import pytest
from hypothesis import given
from hypothesis import strategies as st

from primitives.keyfile import KdfParameters
from primitives.keys import PrivateKey
from wallet.amounts import format_amount, parse_amount
from wallet.errors import AmountError, KeystoreError, WrongPassphraseError
from wallet.keystore import Keystore

FAST_KDF = KdfParameters(nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_MIN)
KEY = PrivateKey.from_seed_material(b"alice")


@pytest.fixture
def keystore(tmp_path):
    return Keystore(tmp_path / "wallet", FAST_KDF)


def test_a_saved_key_loads_back_only_with_its_passphrase(keystore) -> None:
    entry = keystore.save(KEY, "correct horse", label="alice")
    assert entry.address == KEY.public_key().address()
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o600
    assert keystore.load(entry, "correct horse") == KEY
    with pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        keystore.load(entry, "wrong")


def test_the_file_never_holds_the_secret_in_clear(keystore) -> None:
    entry = keystore.save(KEY, "pw")
    text = entry.path.read_text()
    assert KEY.seed.hex() not in text
    document = json.loads(text)
    assert document["address"] == entry.address.hex() and document["crypto"]["kdf"] == "argon2id"


def test_accounts_are_listed_and_found_by_label_or_address(keystore) -> None:
    bob = PrivateKey.from_seed_material(b"bob")
    keystore.save(KEY, "pw", label="alice")
    keystore.save(bob, "pw", label="bob")
    assert [entry.label for entry in keystore.list()] == ["alice", "bob"]
    assert keystore.find("bob").address == bob.public_key().address()
    assert keystore.find("0x" + KEY.public_key().address().hex()).label == "alice"
    with pytest.raises(KeystoreError, match="no account"):
        keystore.find("carol")
    with pytest.raises(KeystoreError, match="2 accounts"):
        keystore.get_default()


def test_saving_twice_is_refused_unless_overwriting(keystore) -> None:
    keystore.save(KEY, "pw")
    with pytest.raises(KeystoreError, match="already"):
        keystore.save(KEY, "pw")
    keystore.save(KEY, "new", overwrite=True)
    assert keystore.load(keystore.get_default(), "new") == KEY


def test_a_corrupt_file_is_a_clear_error(keystore) -> None:
    entry = keystore.save(KEY, "pw")
    entry.path.write_text("{not json")
    with pytest.raises(KeystoreError, match="not a stablechain keystore"):
        keystore.load(entry.path, "pw")
    assert keystore.list() == []


def test_a_swapped_public_key_is_detected(keystore) -> None:
    entry = keystore.save(KEY, "pw")
    document = json.loads(entry.path.read_text())
    document["public_key"] = PrivateKey.from_seed_material(b"x").public_key().hex()
    entry.path.write_text(json.dumps(document))
    with pytest.raises(KeystoreError, match="does not match"):
        keystore.load(entry.path, "pw")


@pytest.mark.parametrize("text, micro", [("1.5", 1_500_000), ("0", 0), ("0.000001", 1), ("12", 12_000_000),
                                         (".25", 250_000), ("3.", 3_000_000), ("1_000", 1_000_000_000)])
def test_human_amounts_become_micro_units(text: str, micro: int) -> None:
    assert parse_amount(text) == micro


@pytest.mark.parametrize("text", ["-1", "1.0000001", "abc", "", "1e6", "1.2.3", "18446744073709.551616"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_formatting_and_parsing_round_trip(micro: int) -> None:
    assert parse_amount(format_amount(micro)) == micro
