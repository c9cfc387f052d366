"""The SDK's off-chain material on its own: the DIP-1 JWS vector, DIP-5 intents, and the payment state machine."""

from __future__ import annotations

import pytest

from primitives.keys import PrivateKey
from wallet.intent import Intent, IntentError, decode_intent, encode_intent
from wallet.offchain import jws
from wallet.offchain.payment_state import Actor, FollowUp, MissingStateField, State, compute_state, get_follow_up
from wallet.offchain.payment_state import is_valid_transition

# DIP-1 "Details of JWS": the sample signed with the key below.
VECTOR_PUBLIC_KEY = bytes.fromhex("bd47e3e7afb94debbd82e10ab7d410a885b589db49138628562ac2ec85726129")
VECTOR_JWS = (b"eyJhbGciOiJFZERTQSJ9.U2FtcGxlIHNpZ25lZCBwYXlsb2FkLg.dZvbycl2Jkl3H7NmQzL6P0_lDEW42s9FrZ8z-hXkLqYyxNq8"
              b"yOlDjlP9wh3wyop5MU2sIOYvay-laBmpdW6OBQ")
IDENTIFIER = "dm1p7ujcndcl7nudzwt8fglhx6wxn08kgs5tm6mz4us2vfufk"


def test_the_dip1_jws_vector_verifies() -> None:
    assert jws.decode(VECTOR_JWS, VECTOR_PUBLIC_KEY) == b"Sample signed payload."


def test_jws_round_trip_and_tampering() -> None:
    key = PrivateKey.from_seed_material(b"compliance")
    message = jws.encode(b'{"a":1}', key.sign)
    assert message.startswith(b"eyJhbGciOiJFZERTQSJ9.")
    assert jws.decode(message, key.public_key().data) == b'{"a":1}'
    header, payload, signature = message.split(b".")
    with pytest.raises(jws.JwsSignatureError):
        jws.decode(header + b"." + jws.encode_base64url(b'{"a":2}').encode() + b"." + signature, key.public_key().data)


@pytest.mark.parametrize("message", [
    b"only.two", b"a.b.c.d", b"eyJhbGciOiJub25lIn0.e30.",            # alg none
    b"eyJhbGciOiJIUzI1NiJ9.e30.AAAA",                                  # HS256: algorithm confusion
    "eyJhbGciOiJFZERTQSJ9.é.x".encode(), b"eyJhbGciOiJFZERTQSJ9.e30=.AAAA",
])
def test_jws_refuses_anything_but_compact_eddsa(message: bytes) -> None:
    with pytest.raises(jws.JwsError):
        jws.decode(message, VECTOR_PUBLIC_KEY)


def test_a_correctly_signed_jws_with_another_algorithm_header_is_refused() -> None:
    key = PrivateKey.from_seed_material(b"compliance")
    signing_input = jws.encode_base64url(b'{"alg":"none"}') + "." + jws.encode_base64url(b"{}")
    forged = f"{signing_input}.{jws.encode_base64url(key.sign(signing_input.encode()))}".encode()
    with pytest.raises(jws.JwsError, match="header"):
        jws.decode(forged, key.public_key().data)


def test_intent_round_trip_matches_dip5() -> None:
    text = f"diem://{IDENTIFIER}?c=XDX&am=1000000"
    assert decode_intent(text) == Intent(IDENTIFIER, "XDX", 1_000_000)
    assert encode_intent(IDENTIFIER, "XDX", 1_000_000) == text
    assert decode_intent(f"diem://{IDENTIFIER}") == Intent(IDENTIFIER)
    assert decode_intent(text).identifier.subaddress == bytes.fromhex("cf64428bdeb62af2")


@pytest.mark.parametrize("text", [
    f"https://{IDENTIFIER}", "diem://not-bech32", f"diem://{IDENTIFIER}?am=0", f"diem://{IDENTIFIER}?am=-5",
    f"diem://{IDENTIFIER}?am=1.5", f"diem://{IDENTIFIER}?am=1&am=2", f"diem://{IDENTIFIER}?label=coffee",
    f"diem://{IDENTIFIER}?c=xus", f"diem://{IDENTIFIER}?am", f"diem://{IDENTIFIER}?am={2**64}",
    f"diem://{IDENTIFIER}?c=XUS&" + "x" * 300,
])
def test_intents_that_dip5_does_not_define_are_refused(text: str) -> None:
    with pytest.raises(IntentError):
        decode_intent(text)


def payment(sender: str, receiver: str, **fields: object) -> dict:
    body = {"sender": {"status": {"status": sender}}, "receiver": {"status": {"status": receiver}}}
    for path, value in fields.items():
        actor, _, name = path.partition("__")
        if name:
            body[actor][name] = value
        else:
            body[actor] = value
    return body


@pytest.mark.parametrize("body, state", [
    (payment("needs_kyc_data", "none", sender__kyc_data={}), State.S_INIT),
    (payment("needs_kyc_data", "ready_for_settlement", receiver__kyc_data={}, recipient_signature="ab"), State.R_SEND),
    (payment("needs_kyc_data", "soft_match"), State.R_SOFT),
    (payment("needs_kyc_data", "soft_match", sender__additional_kyc_data="x"), State.S_SOFT_SEND),
    (payment("soft_match", "ready_for_settlement"), State.S_SOFT),
    (payment("soft_match", "ready_for_settlement", receiver__additional_kyc_data="x"), State.R_SOFT_SEND),
    (payment("ready_for_settlement", "ready_for_settlement"), State.READY),
    (payment("needs_kyc_data", "abort"), State.R_ABORT),
    (payment("abort", "none"), State.S_ABORT),
])
def test_each_dip1_state_is_recognised(body: dict, state: State) -> None:
    assert compute_state(body) is state


def test_a_state_without_its_required_fields_names_them() -> None:
    with pytest.raises(MissingStateField) as error:
        compute_state(payment("needs_kyc_data", "ready_for_settlement"))
    assert error.value.fields == ["receiver.kyc_data", "recipient_signature"]


def test_transitions_and_turns_follow_dip1() -> None:
    assert is_valid_transition(State.S_INIT, State.R_SEND) and not is_valid_transition(State.S_INIT, State.READY)
    assert get_follow_up(Actor.RECEIVER, State.S_INIT) is FollowUp.EVALUATE_KYC_DATA
    assert get_follow_up(Actor.SENDER, State.S_INIT) is None
    assert get_follow_up(Actor.SENDER, State.READY) is FollowUp.SUBMIT_TRANSACTION
    assert get_follow_up(Actor.RECEIVER, State.R_ABORT) is None
