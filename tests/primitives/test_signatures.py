"""Signature checks: tampering, strict Ed25519, auth-key binding, MultiEd25519 thresholds, multi-agent."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primitives.errors import DecodeError
from primitives.keys import PrivateKey, compute_auth_key
from primitives.multisig import (
    MultiEd25519PublicKey,
    MultiEd25519Signature,
    is_valid_multi_signature,
    sign_multi,
)
from primitives.types.names import AccountAddress
from primitives.types.transactions import (
    AccountAuthenticator,
    Ed25519Authenticator,
    MultiAgentAuthenticator,
    MultiEd25519Authenticator,
    SignedTransaction,
    TransactionAuthenticator,
    compute_multi_agent_signing_message,
    sign_raw_transaction,
)
from tests.primitives.test_vectors import EXAMPLE

SENDER_KEY = PrivateKey.from_hex(EXAMPLE["sender_private_key"])
OTHER_KEY = PrivateKey.from_hex(EXAMPLE["receiver_private_key"])
SIGNED = SignedTransaction.from_bcs(bytes.fromhex(EXAMPLE["signed_txn_bcs"]))
RAW = SIGNED.raw_txn
ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493
KEYS = [PrivateKey.from_seed_material(b"multi-%d" % i) for i in range(32)]


def with_signature(signature: bytes, public_key: bytes | None = None) -> SignedTransaction:
    """Return SIGNED with its Ed25519 signature (and optionally key) replaced."""
    key = public_key or SENDER_KEY.public_key().data
    return SignedTransaction(RAW, TransactionAuthenticator.ed25519(key, signature))


def test_valid_signature_and_sender_auth_key() -> None:
    assert SIGNED.is_signature_valid()
    assert SIGNED.authentication_key().hex() == EXAMPLE["sender_auth_key"]
    assert SIGNED.authentication_key()[16:] == SIGNED.sender.value


def test_tampered_transaction_fails_verification() -> None:
    tampered = SignedTransaction(dataclasses.replace(RAW, sequence_number=8), SIGNED.authenticator)
    assert not tampered.is_signature_valid()
    assert tampered.hash() != SIGNED.hash()


@given(st.integers(0, 63), st.integers(1, 255))
def test_tampered_signature_fails_verification(position: int, flip: int) -> None:
    signature = bytearray(SIGNED.authenticator.value.signature)
    signature[position] ^= flip
    assert not with_signature(bytes(signature)).is_signature_valid()


def test_signature_by_another_key_is_detected_by_the_auth_key() -> None:
    # Valid signature, but the key does not belong to the sender: the prologue's auth-key check catches it.
    forged = sign_raw_transaction(OTHER_KEY, RAW)
    assert forged.is_signature_valid()
    assert forged.authentication_key() != SIGNED.authentication_key()
    assert forged.authentication_key()[16:] != forged.sender.value


def test_non_canonical_s_is_rejected() -> None:
    signature = SIGNED.authenticator.value.signature
    s = int.from_bytes(signature[32:], "little") + ED25519_ORDER
    assert s < 2**256
    assert not with_signature(signature[:32] + s.to_bytes(32, "little")).is_signature_valid()


def test_small_order_public_key_is_rejected() -> None:
    # The identity point with R = identity, S = 0 "verifies" any message under non-strict rules.
    identity = (1).to_bytes(32, "little")
    assert not with_signature(identity + bytes(32), public_key=identity).is_signature_valid()


def multi_key(count: int, threshold: int) -> MultiEd25519PublicKey:
    """Return a threshold-of-count key over the first count test keys."""
    return MultiEd25519PublicKey(tuple(k.public_key().data for k in KEYS[:count]), threshold)


def multi_signed(key: MultiEd25519PublicKey, signers: list[int]) -> SignedTransaction:
    """Return RAW authenticated by a MultiEd25519 signature from the given key indices."""
    signature = sign_multi(((i, KEYS[i]) for i in signers), RAW.signing_message())
    return SignedTransaction(RAW, TransactionAuthenticator(MultiEd25519Authenticator(key.to_bytes(), signature.to_bytes())))


@pytest.mark.parametrize(
    ("count", "threshold", "signers", "valid"),
    [
        (1, 1, [0], True),
        (3, 2, [0, 2], True),
        (3, 2, [2, 0, 1], True),
        (3, 2, [1], False),
        (3, 3, [0, 1], False),
        (32, 32, list(range(32)), True),
        (32, 17, list(range(15, 32)), True),
        (5, 1, [], False),
    ],
)
def test_multi_ed25519_threshold(count: int, threshold: int, signers: list[int], valid: bool) -> None:
    key = multi_key(count, threshold)
    signed = multi_signed(key, signers)
    assert signed.is_signature_valid() is valid
    assert signed.authentication_key() == compute_auth_key(key.to_bytes(), 1)
    assert SignedTransaction.from_bcs(signed.to_bcs()) == signed


def test_multi_ed25519_layout() -> None:
    key = multi_key(3, 2)
    assert key.to_bytes() == b"".join(k.public_key().data for k in KEYS[:3]) + b"\x02"
    signature = sign_multi([(2, KEYS[2]), (0, KEYS[0])], b"m")
    assert signature.bitmap == bytes([0b1010_0000, 0, 0, 0])
    assert signature.signatures == (KEYS[0].sign(b"m"), KEYS[2].sign(b"m"))
    assert signature.get_signer_indices() == [0, 2]
    assert sign_multi([(31, KEYS[31])], b"m").bitmap == bytes([0, 0, 0, 1])
    assert MultiEd25519Signature.from_bytes(signature.to_bytes()) == signature


def test_multi_ed25519_bitmap_bit_for_missing_key_is_rejected() -> None:
    key = multi_key(2, 1)
    signature = sign_multi([(2, KEYS[2])], b"m")  # bit 2 but only keys 0 and 1 exist
    assert not is_valid_multi_signature(key.to_bytes(), b"m", signature.to_bytes())


def test_multi_ed25519_wrong_member_signature_fails() -> None:
    key = multi_key(3, 2)
    signature = MultiEd25519Signature.from_indexed([(0, KEYS[0].sign(b"m")), (1, KEYS[2].sign(b"m"))])
    assert not is_valid_multi_signature(key.to_bytes(), b"m", signature.to_bytes())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        bytes(32),  # no threshold byte
        bytes(32) + b"\x00",  # threshold 0
        bytes(64) + b"\x03",  # threshold above key count
        bytes(33 * 32) + b"\x01",  # 33 keys
        bytes(31) + b"\x01",
    ],
)
def test_malformed_multi_ed25519_public_keys(data: bytes) -> None:
    with pytest.raises(DecodeError):
        MultiEd25519PublicKey.from_bytes(data)
    assert not is_valid_multi_signature(data, b"m", sign_multi([(0, KEYS[0])], b"m").to_bytes())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        bytes(64) + bytes([0b1100_0000, 0, 0, 0]),  # 2 bits, 1 signature
        bytes(64),  # no bitmap
        bytes(65) + bytes(4),
        bytes(64 * 33) + b"\xff\xff\xff\xff",
    ],
)
def test_malformed_multi_ed25519_signatures(data: bytes) -> None:
    with pytest.raises(DecodeError):
        MultiEd25519Signature.from_bytes(data)


def test_malformed_multi_ed25519_authenticator_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        MultiEd25519Authenticator(bytes(32) + b"\x02", bytes(4))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n), st.sets(st.integers(0, n - 1)))))
def test_multi_ed25519_valid_iff_enough_signers(params: tuple[int, int, set[int]]) -> None:
    count, threshold, signers = params
    assert multi_signed(multi_key(count, threshold), sorted(signers)).is_signature_valid() is (len(signers) >= threshold)


def test_multi_agent_signatures_cover_secondary_addresses() -> None:
    secondary = AccountAddress(OTHER_KEY.public_key().address())
    message = compute_multi_agent_signing_message(RAW, (secondary,))

    def account_auth(key: PrivateKey, msg: bytes) -> AccountAuthenticator:
        return AccountAuthenticator(Ed25519Authenticator(key.public_key().data, key.sign(msg)))

    auth = MultiAgentAuthenticator(account_auth(SENDER_KEY, message), (secondary,), (account_auth(OTHER_KEY, message),))
    signed = SignedTransaction(RAW, TransactionAuthenticator(auth))
    assert signed.is_signature_valid()
    assert signed.authentication_key() == SENDER_KEY.public_key().auth_key()
    assert SignedTransaction.from_bcs(signed.to_bcs()) == signed
    # Signing only the raw transaction (without the secondary addresses) is not enough.
    plain = RAW.signing_message()
    weak = MultiAgentAuthenticator(account_auth(SENDER_KEY, plain), (secondary,), (account_auth(OTHER_KEY, plain),))
    assert not SignedTransaction(RAW, TransactionAuthenticator(weak)).is_signature_valid()
    mismatched = MultiAgentAuthenticator(auth.sender, (secondary,), ())
    assert not SignedTransaction(RAW, TransactionAuthenticator(mismatched)).is_signature_valid()
