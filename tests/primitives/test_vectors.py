"""Byte-for-byte reproduction of the Diem SDK vectors (diem_vectors.json) and the §3.8 worked example."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from primitives.account_identifier import AccountIdentifier, decode_account_identifier, encode_account_identifier
from primitives.bcs import Serializer
from primitives.hashing import get_salt
from primitives.keys import PrivateKey, is_valid_signature
from primitives.metadata import GeneralMetadataV0, Metadata, compute_dual_attestation_message
from primitives.types.events import EventKey
from primitives.types.ledger_transactions import Transaction
from primitives.types.names import AccountAddress, ChainId
from primitives.types.scripts import Script, ScriptFunction, TransactionArgument, TransactionArgumentKind
from primitives.types.transactions import (
    Ed25519Authenticator,
    RawTransaction,
    SignedTransaction,
    TransactionPayload,
    sign_raw_transaction,
)
from primitives.types.type_tags import ModuleId, currency_type_tag

DATA = Path(__file__).parent / "data"
VECTORS = json.loads((DATA / "diem_vectors.json").read_text())
EXAMPLE = json.loads((DATA / "worked_example.json").read_text())
ACCOUNTS = VECTORS["accounts"]
KEYS_BY_ADDRESS = {a["address"]: PrivateKey.from_hex(a["private_key"]) for a in ACCOUNTS}


def rebuild_raw(raw: RawTransaction) -> RawTransaction:
    """Return an equal RawTransaction with no cached encoding, so to_bcs really re-encodes."""
    return dataclasses.replace(raw)


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a["address"][:8])
def test_account_key_derivation_matches_sdk(account: dict) -> None:
    private_key = PrivateKey.from_hex(account["private_key"])
    public_key = private_key.public_key()
    assert public_key.hex() == account["public_key"]
    assert public_key.auth_key().hex() == account["auth_key"]
    assert AccountAddress(public_key.address()).hex() == account["address"]


@pytest.mark.parametrize("vector", VECTORS["transactions"], ids=lambda t: t["name"][:40])
def test_transaction_vector_decodes_and_reencodes_identically(vector: dict) -> None:
    signed_bcs = bytes.fromhex(vector["signed_bcs"])
    signed = SignedTransaction.from_bcs(signed_bcs)
    assert signed.raw_txn.to_bcs().hex() == vector["raw_bcs"]
    assert signed.raw_txn.signing_message().hex() == vector["signing_message"]
    assert signed.hash().hex() == vector["hash"]
    assert Transaction.from_bcs(b"\x00" + signed_bcs).hash().hex() == vector["hash"]
    assert signed.is_signature_valid()

    auth = signed.authenticator.value
    assert isinstance(auth, Ed25519Authenticator)
    assert auth.signature.hex() == vector["signature"]
    private_key = KEYS_BY_ADDRESS[signed.sender.hex()]
    assert auth.public_key == private_key.public_key().data
    assert signed.authentication_key() == private_key.public_key().auth_key()

    fresh_raw = rebuild_raw(signed.raw_txn)
    assert fresh_raw._bcs is None
    assert fresh_raw.to_bcs().hex() == vector["raw_bcs"]
    resigned = sign_raw_transaction(private_key, rebuild_raw(signed.raw_txn))
    assert resigned.to_bcs() == signed_bcs
    assert resigned == signed
    assert resigned.hash().hex() == vector["hash"]


def build_example_raw(payload: TransactionPayload, sequence_number: int) -> RawTransaction:
    """Return the §3.8 raw transaction around a payload."""
    return RawTransaction(
        sender=AccountAddress.from_hex(EXAMPLE["sender_address"]),
        sequence_number=sequence_number,
        payload=payload,
        max_gas_amount=1_000_000,
        gas_unit_price=0,
        gas_currency_code="XUS",
        expiration_timestamp_secs=1_900_000_000,
        chain_id=ChainId(2),
    )


def example_metadata() -> bytes:
    """Return GeneralMetadata with to_subaddress 0102030405060708."""
    return Metadata(GeneralMetadataV0(to_subaddress=bytes.fromhex("0102030405060708"))).to_bcs()


def test_worked_example_script_function_built_from_scratch() -> None:
    sender_key = PrivateKey.from_hex(EXAMPLE["sender_private_key"])
    receiver = AccountAddress(PrivateKey.from_hex(EXAMPLE["receiver_private_key"]).public_key().address())
    assert sender_key.public_key().hex() == EXAMPLE["sender_public_key"]
    assert sender_key.public_key().auth_key().hex() == EXAMPLE["sender_auth_key"]
    assert receiver.hex() == EXAMPLE["receiver_address"]
    metadata = example_metadata()
    assert metadata.hex() == EXAMPLE["metadata"]

    def vector_u8(value: bytes) -> bytes:
        ser = Serializer()
        ser.bytes(value)
        return ser.output()

    function = ScriptFunction(
        module=ModuleId(AccountAddress.CORE_CODE, "PaymentScripts"),
        function="peer_to_peer_with_metadata",
        ty_args=(currency_type_tag("XUS"),),
        args=(receiver.to_bcs(), (1_234_567).to_bytes(8, "little"), vector_u8(metadata), vector_u8(b"")),
    )
    raw = build_example_raw(TransactionPayload(function), 7)
    assert raw.to_bcs().hex() == EXAMPLE["raw_txn_bcs"]
    assert raw.signing_message().hex() == EXAMPLE["signing_message"]
    assert raw.signing_message()[:32] == get_salt("RawTransaction")

    signed = sign_raw_transaction(sender_key, raw)
    assert signed.authenticator.value.signature.hex() == EXAMPLE["signature"]
    assert signed.to_bcs().hex() == EXAMPLE["signed_txn_bcs"]
    assert signed.hash().hex() == EXAMPLE["txn_hash"]
    assert SignedTransaction.from_bcs(signed.to_bcs()) == signed


def test_worked_example_legacy_script_built_from_scratch() -> None:
    sender_key = PrivateKey.from_hex(EXAMPLE["sender_private_key"])
    receiver = AccountAddress.from_hex(EXAMPLE["receiver_address"])
    decoded = SignedTransaction.from_bcs(bytes.fromhex(EXAMPLE["script_signed_txn_bcs"]))
    code = decoded.raw_txn.payload.value.code  # opaque compiled Move bytes
    script = Script(
        code=code,
        ty_args=(currency_type_tag("XUS"),),
        args=(
            TransactionArgument(TransactionArgumentKind.ADDRESS, receiver),
            TransactionArgument(TransactionArgumentKind.U64, 1_234_567),
            TransactionArgument(TransactionArgumentKind.U8_VECTOR, example_metadata()),
            TransactionArgument(TransactionArgumentKind.U8_VECTOR, b""),
        ),
    )
    signed = sign_raw_transaction(sender_key, build_example_raw(TransactionPayload(script), 8))
    assert signed.to_bcs().hex() == EXAMPLE["script_signed_txn_bcs"]
    assert signed.hash().hex() == EXAMPLE["script_txn_hash"]
    assert signed == decoded


def test_legacy_script_arguments_convert_to_script_function_bytes() -> None:
    sf = SignedTransaction.from_bcs(bytes.fromhex(EXAMPLE["signed_txn_bcs"])).raw_txn.payload.value
    script = SignedTransaction.from_bcs(bytes.fromhex(EXAMPLE["script_signed_txn_bcs"])).raw_txn.payload.value
    assert tuple(arg.to_move_value_bytes() for arg in script.args) == sf.args


def test_child_vasp_event_keys() -> None:
    address = AccountAddress.from_hex(EXAMPLE["sender_address"])
    received, sent = EventKey.from_parts(0, address), EventKey.from_parts(1, address)
    assert received.hex() == EXAMPLE["child_vasp_received_event_key"]
    assert sent.hex() == EXAMPLE["child_vasp_sent_event_key"]
    assert sent.get_counter() == 1 and sent.get_creator_address() == address
    assert EventKey.from_bcs(sent.to_bcs()) == sent
    assert sent.to_bcs()[0] == 24  # EventKey is a newtype over Vec<u8>: length-prefixed


@pytest.mark.parametrize("vector", VECTORS["metadata"], ids=lambda m: m["name"][:30])
def test_metadata_vector_round_trips(vector: dict) -> None:
    data = bytes.fromhex(vector["bcs"])
    assert Metadata.from_bcs(data).to_bcs() == data


def test_travel_rule_attestation_message_and_signature() -> None:
    vector = next(m for m in VECTORS["metadata"] if "signature_message" in m)
    metadata = bytes.fromhex(vector["bcs"])
    message = compute_dual_attestation_message(metadata, AccountAddress.from_hex(vector["sender"]), vector["amount"])
    assert message.hex() == vector["signature_message"]
    public_key = bytes.fromhex(vector["recipient_compliance_public_key"])
    signature = bytes.fromhex(vector["recipient_signature"])
    assert is_valid_signature(public_key, message, signature)
    wrong_amount = compute_dual_attestation_message(metadata, AccountAddress.from_hex(vector["sender"]), vector["amount"] - 1)
    assert not is_valid_signature(public_key, wrong_amount, signature)


@pytest.mark.parametrize("vector", VECTORS["account_identifiers"], ids=lambda v: v["encoded"][:12])
def test_account_identifier_vector(vector: dict) -> None:
    address = AccountAddress.from_hex(vector["address"])
    subaddress = bytes.fromhex(vector["subaddress"]) if vector["subaddress"] else None
    assert encode_account_identifier(vector["hrp"], address, subaddress) == vector["encoded"]
    expected = AccountIdentifier(vector["hrp"], address, subaddress)
    assert decode_account_identifier(vector["encoded"]) == expected
    assert decode_account_identifier(vector["encoded"].upper()) == expected
