"""The Noise IK handshake matches the published Noise_IK_25519_ChaChaPoly_SHA256 vector and fails closed."""

from __future__ import annotations

import pytest

from node.network.noise import (
    HandshakeError,
    DecryptError,
    Initiator,
    KeyPair,
    Responder,
)

# The cacophony-format vector for Noise_IK_25519_ChaChaPoly_SHA256 (prologue "John Galt").
PROLOGUE = b"John Galt"
INITIATOR_STATIC = bytes.fromhex("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1")
INITIATOR_EPHEMERAL = bytes.fromhex("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a")
RESPONDER_STATIC = bytes.fromhex("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893")
RESPONDER_EPHEMERAL = bytes.fromhex("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b")
HANDSHAKE_HASH = bytes.fromhex("0b0f68fb0c27e03ce9b97565995ed4838cc0581b762ef72b062f6a546419fad7")
MESSAGES = [
    (
        "4c756477696720766f6e204d69736573",
        "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944"
        "718da798efbcd91528520204f904b9bd6c7413dccdc214d951e15253e39987f1"
        "8146e8cd0873654207148333479d4d16c289f0294b29960a72f48e0b7bba2e89"
        "083169825e59642148d492020664ccf7",
    ),
    (
        "4d757272617920526f746862617264",
        "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843"
        "5361e70b2ed446e6c9ec387d1d6b3b840f194e373979d241b203c4acafccf5",
    ),
    ("462e20412e20486179656b", "050e9f3c8fac16b68dbce8f8c4bfbf6617c897f9ada4aa29aa19c8"),
    ("4361726c204d656e676572", "344233a6cabb7141d80f3da2fedc311d9646bbb0f505afe403a667"),
    (
        "4a65616e2d426170746973746520536179",
        "62cdeeb172ad7ade7aa7d9e069da5790f12331bfa00177787a1d0810c67dc3b2b4",
    ),
    (
        "457567656e2042f6686d20766f6e2042617765726b",
        "029bead1b40992327044d409d9a1f3ad8f36c3c452775d557e18bbeb2e8dfcead32d514024",
    ),
]


def make_pair() -> tuple[Initiator, Responder]:
    """Return an initiator and a responder set up with the vector's keys."""
    initiator_static = KeyPair.from_private_key(INITIATOR_STATIC)
    responder_static = KeyPair.from_private_key(RESPONDER_STATIC)
    initiator = Initiator(
        initiator_static,
        responder_static.public_key,
        PROLOGUE,
        KeyPair.from_private_key(INITIATOR_EPHEMERAL),
    )
    responder = Responder(responder_static, PROLOGUE, KeyPair.from_private_key(RESPONDER_EPHEMERAL))
    return initiator, responder


def test_handshake_and_transport_match_the_published_vector() -> None:
    initiator, responder = make_pair()
    payload1, expected1 = (bytes.fromhex(part) for part in MESSAGES[0])
    message1 = initiator.write_message1(payload1)
    assert message1 == expected1
    assert responder.read_message1(message1) == payload1
    assert responder.remote_static_key == KeyPair.from_private_key(INITIATOR_STATIC).public_key

    payload2, expected2 = (bytes.fromhex(part) for part in MESSAGES[1])
    message2, responder_session = responder.write_message2(payload2)
    assert message2 == expected2
    received2, initiator_session = initiator.read_message2(message2)
    assert received2 == payload2
    assert initiator_session.handshake_hash == HANDSHAKE_HASH == responder_session.handshake_hash

    # Transport messages alternate: initiator, responder, initiator, responder.
    for index, (payload_hex, ciphertext_hex) in enumerate(MESSAGES[2:]):
        payload, expected = bytes.fromhex(payload_hex), bytes.fromhex(ciphertext_hex)
        sender, receiver = (
            (initiator_session, responder_session)
            if index % 2 == 0
            else (responder_session, initiator_session)
        )
        ciphertext = sender.send_cipher.encrypt(b"", payload)
        assert ciphertext == expected
        assert receiver.receive_cipher.decrypt(b"", ciphertext) == payload


def test_responder_with_another_static_key_cannot_read_message1() -> None:
    initiator, _ = make_pair()
    message1 = initiator.write_message1(b"hello")
    impostor = Responder(
        KeyPair.from_private_key(bytes(range(32))), PROLOGUE, KeyPair.from_private_key(bytes(32))
    )
    with pytest.raises(HandshakeError):
        impostor.read_message1(message1)


def test_another_prologue_fails_the_handshake() -> None:
    initiator, _ = make_pair()
    message1 = initiator.write_message1(b"")
    responder = Responder(
        KeyPair.from_private_key(RESPONDER_STATIC),
        b"another chain",
        KeyPair.from_private_key(RESPONDER_EPHEMERAL),
    )
    with pytest.raises(HandshakeError):
        responder.read_message1(message1)


def test_tampered_and_truncated_messages_are_refused() -> None:
    initiator, responder = make_pair()
    message1 = bytearray(initiator.write_message1(b"payload"))
    message1[40] ^= 1
    with pytest.raises(HandshakeError):
        responder.read_message1(bytes(message1))
    with pytest.raises(HandshakeError):
        make_pair()[1].read_message1(b"\x00" * 10)


def test_low_order_ephemeral_key_is_refused() -> None:
    _, responder = make_pair()
    with pytest.raises(HandshakeError):
        responder.read_message1(bytes(32) + bytes(80))


def test_replayed_transport_message_does_not_decrypt() -> None:
    initiator, responder = make_pair()
    responder.read_message1(initiator.write_message1(b""))
    message2, responder_session = responder.write_message2(b"")
    _, initiator_session = initiator.read_message2(message2)
    ciphertext = initiator_session.send_cipher.encrypt(b"", b"vote")
    assert responder_session.receive_cipher.decrypt(b"", ciphertext) == b"vote"
    with pytest.raises(DecryptError):
        responder_session.receive_cipher.decrypt(b"", ciphertext)


def test_ciphertext_shorter_than_a_tag_is_a_decrypt_error() -> None:
    initiator, responder = make_pair()
    responder.read_message1(initiator.write_message1(b""))
    _, responder_session = responder.write_message2(b"")
    with pytest.raises(DecryptError):
        responder_session.receive_cipher.decrypt(b"", b"junk")
