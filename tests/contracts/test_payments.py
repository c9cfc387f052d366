"""The payments decoder: which transactions move value, from whom to whom, how much, with what metadata."""

from __future__ import annotations

import json
from pathlib import Path

from contracts.payments import CREATE_CHILD_VASP, PEER_TO_PEER, Payment, decode_payment
from contracts.transaction_builder import (
    compose_create_child_vasp,
    compose_peer_to_peer,
    compose_rotate_dual_attestation_info,
)
from primitives.keys import PrivateKey
from primitives.types.names import AccountAddress, ChainId
from primitives.types.scripts import Script, TransactionArgument, TransactionArgumentKind
from primitives.types.transactions import RawTransaction, SignedTransaction, TransactionPayload, sign_raw_transaction
from primitives.types.type_tags import currency_type_tag

ALICE = PrivateKey.from_seed_material(b"alice")
BOB = PrivateKey.from_seed_material(b"bob").public_key().address()
VECTORS = Path(__file__).resolve().parents[1] / "primitives" / "data" / "diem_vectors.json"


def _signed(payload: TransactionPayload) -> SignedTransaction:
    raw = RawTransaction(AccountAddress(ALICE.public_key().address()), 0, payload, 1_000_000, 0, "XUS", 10**10,
                         ChainId(2))
    return sign_raw_transaction(ALICE, raw)


def _load_p2p_script_code() -> bytes:
    vectors = json.loads(VECTORS.read_text())["transactions"]
    vector = next(v for v in vectors if v["name"] == "p2p legacy script")
    return SignedTransaction.from_bcs(bytes.fromhex(vector["signed_bcs"])).raw_txn.payload.value.code


def _legacy_p2p(payee: bytes, amount: int, metadata: bytes, signature: bytes) -> TransactionPayload:
    args = (TransactionArgument(TransactionArgumentKind.ADDRESS, AccountAddress(payee)),
            TransactionArgument(TransactionArgumentKind.U64, amount),
            TransactionArgument(TransactionArgumentKind.U8_VECTOR, metadata),
            TransactionArgument(TransactionArgumentKind.U8_VECTOR, signature))
    return TransactionPayload(Script(_load_p2p_script_code(), (currency_type_tag("XUS"),), args))


def test_a_peer_to_peer_payment_carries_its_metadata_and_signature() -> None:
    payment = decode_payment(_signed(compose_peer_to_peer(BOB, 42, "XUS", b"meta", b"\x07" * 64)))
    assert payment == Payment(ALICE.public_key().address(), BOB, 42, "XUS", b"meta", b"\x07" * 64, PEER_TO_PEER)
    assert payment.is_peer_to_peer()


def test_a_legacy_script_payment_decodes_like_the_script_function() -> None:
    function = decode_payment(_signed(compose_peer_to_peer(BOB, 42, "XUS", b"meta", b"sig")))
    legacy = decode_payment(_signed(_legacy_p2p(BOB, 42, b"meta", b"sig")))
    assert legacy == function


def test_funding_a_new_child_vasp_is_a_payment_without_metadata() -> None:
    child = PrivateKey.from_seed_material(b"child").public_key()
    payment = decode_payment(_signed(compose_create_child_vasp(child.address(), child.auth_key()[:16], 9)))
    assert payment == Payment(ALICE.public_key().address(), child.address(), 9, "XUS", function=CREATE_CHILD_VASP)
    assert not payment.is_peer_to_peer()


def test_transactions_that_move_no_value_are_no_payment() -> None:
    assert decode_payment(_signed(compose_rotate_dual_attestation_info(b"https://a", bytes(32)))) is None
    unknown = TransactionPayload(Script(b"\x00not-a-known-script", (currency_type_tag("XUS"),), ()))
    assert decode_payment(_signed(unknown)) is None
