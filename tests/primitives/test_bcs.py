"""BCS rules (diem-compat §3.1): encodings of each primitive and targeted rejections of malformed input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from primitives.bcs import Deserializer, Serializer, encode_uleb128
from primitives.errors import DecodeError, InvariantViolation
from primitives.limits import BCS_MAX_CONTAINER_DEPTH, BCS_MAX_SEQUENCE_LENGTH
from primitives.types.events import ContractEvent, EventKey
from primitives.types.names import AccountAddress, Identifier
from primitives.types.scripts import TransactionArgument
from primitives.types.transactions import SignedTransaction, TransactionPayload
from primitives.types.type_tags import StructTag, TypeTag
from tests.primitives.test_vectors import EXAMPLE

SIGNED = bytes.fromhex(EXAMPLE["signed_txn_bcs"])


def encode(write) -> bytes:
    """Run write(serializer) and return the output."""
    ser = Serializer()
    write(ser)
    return ser.output()


@pytest.mark.parametrize(
    ("method", "value", "expected"),
    [
        ("u8", 0xAB, "ab"),
        ("u16", 0x0102, "0201"),
        ("u32", 0x01020304, "04030201"),
        ("u64", 1_234_567, "87d6120000000000"),
        ("u128", 2**127 + 1, "01" + "00" * 14 + "80"),
        ("bool", True, "01"),
        ("bool", False, "00"),
        ("uleb128", 0, "00"),
        ("uleb128", 127, "7f"),
        ("uleb128", 128, "8001"),
        ("uleb128", 300, "ac02"),
        ("uleb128", BCS_MAX_SEQUENCE_LENGTH, "ffffffff07"),
        ("variant_index", 2**32 - 1, "ffffffff0f"),
        ("bytes", b"\x01\x02", "020102"),
        ("str", "XUS", "03585553"),
        ("str", "é", "02c3a9"),
    ],
)
def test_primitive_encodings_and_decodings(method: str, value: object, expected: str) -> None:
    data = encode(lambda ser: getattr(ser, method)(value))
    assert data.hex() == expected
    de = Deserializer(data)
    assert getattr(de, method)() == value
    de.finish()


def test_option_and_sequence_layout() -> None:
    data = encode(lambda ser: (ser.option(None, Serializer.u8), ser.option(5, Serializer.u8),
                               ser.sequence([1, 2], Serializer.u16)))
    assert data.hex() == "00" + "0105" + "02" + "0100" + "0200"
    de = Deserializer(data)
    assert (de.option(Deserializer.u8), de.option(Deserializer.u8), de.sequence(Deserializer.u16)) == (None, 5, [1, 2])
    de.finish()


@given(st.integers(0, BCS_MAX_SEQUENCE_LENGTH))
def test_uleb128_round_trips_canonically(value: int) -> None:
    data = encode_uleb128(value)
    de = Deserializer(data)
    assert de.uleb128() == value
    de.finish()
    assert data[-1] != 0 or data == b"\x00"


@pytest.mark.parametrize(
    ("hex_input", "reader", "message"),
    [
        ("8000", "uleb128", "non-canonical"),
        ("ff00", "uleb128", "non-canonical"),
        ("808000", "uleb128", "non-canonical"),
        ("8080808008", "uleb128", "exceeds"),  # 2^31
        ("ffffffff1f", "variant_index", "exceeds"),  # 2^33 - 1
        ("808080808001", "variant_index", "longer than 5"),
        ("80", "uleb128", "end of input"),
        ("02", "bool", "invalid value"),
        ("ff", "bool", "invalid value"),
        ("01", "u16", "need 2 bytes"),
        ("01020304050607", "u64", "need 8 bytes"),
        ("05010203", "bytes", "exceeds"),
        ("ffffffff07", "bytes", "exceeds"),
        ("02c328", "str", "UTF-8"),
        ("03eda080", "str", "UTF-8"),  # an encoded surrogate
        ("02c0af", "str", "UTF-8"),  # overlong encoding of '/'
    ],
)
def test_malformed_primitives_are_rejected(hex_input: str, reader: str, message: str | None) -> None:
    de = Deserializer(bytes.fromhex(hex_input))
    with pytest.raises(DecodeError, match=message):
        getattr(de, reader)()
        de.finish()


def test_errors_name_the_offset() -> None:
    de = Deserializer(bytes.fromhex("0102"))
    de.u8()
    with pytest.raises(DecodeError, match="bool at offset 1: invalid value 0x02"):
        de.bool()


def test_trailing_bytes_are_rejected() -> None:
    with pytest.raises(DecodeError, match="1 trailing bytes at offset"):
        SignedTransaction.from_bcs(SIGNED + b"\x00")


def test_sequence_longer_than_remaining_input_is_rejected_before_allocating() -> None:
    de = Deserializer(encode_uleb128(BCS_MAX_SEQUENCE_LENGTH) + b"\x00")
    with pytest.raises(DecodeError, match="sequence length"):
        de.sequence(Deserializer.u8)


def test_out_of_range_enum_variants_are_rejected() -> None:
    for cls, index in [(TypeTag, 8), (TransactionArgument, 6), (TransactionPayload, 4), (ContractEvent, 1)]:
        with pytest.raises(DecodeError, match="unknown variant"):
            cls.from_bcs(encode_uleb128(index) + bytes(40))
    # The user-transaction variant byte of the authenticator, bumped to 3, is unknown.
    auth_offset = len(bytes.fromhex(EXAMPLE["raw_txn_bcs"]))
    tampered = SIGNED[:auth_offset] + b"\x03" + SIGNED[auth_offset + 1 :]
    with pytest.raises(DecodeError, match="TransactionAuthenticator: unknown variant 3"):
        SignedTransaction.from_bcs(tampered)


def nested_vector_tag_bytes(depth: int) -> bytes:
    """Return vector<…<bool>…> with depth TypeTag levels in total."""
    return b"\x06" * (depth - 1) + b"\x00"


def test_nesting_up_to_the_limit_is_accepted_and_deeper_is_rejected() -> None:
    tag = TypeTag.from_bcs(nested_vector_tag_bytes(BCS_MAX_CONTAINER_DEPTH))
    assert tag.to_bcs() == nested_vector_tag_bytes(BCS_MAX_CONTAINER_DEPTH)
    with pytest.raises(DecodeError, match="nesting deeper than 500"):
        TypeTag.from_bcs(nested_vector_tag_bytes(BCS_MAX_CONTAINER_DEPTH + 1))
    with pytest.raises(DecodeError, match="nesting"):
        TypeTag.vector(tag)  # a too-deep tag cannot even be built
    assert hash(tag) == hash(TypeTag.from_bcs(tag.to_bcs()))  # deep tags hash without recursion


def test_nested_struct_tags_count_towards_the_depth_limit() -> None:
    # Each Struct level is a TypeTag plus a StructTag (2 containers); the innermost Bool is one more.
    level = b"\x07" + bytes(16) + b"\x01M\x01S\x01"
    accepted = level * 249 + b"\x00"
    assert TypeTag.from_bcs(accepted).to_bcs() == accepted
    with pytest.raises(DecodeError, match="nesting deeper than 500"):
        TypeTag.from_bcs(level * 250 + b"\x00")


def test_garbage_far_deeper_than_the_python_stack_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        TypeTag.from_bcs(b"\x06" * 100_000 + b"\x00")


def test_invalid_identifiers_are_rejected() -> None:
    for bad in ["", "1abc", "_", "a-b", "a b", "é"]:
        with pytest.raises(DecodeError):
            Identifier(bad)
        with pytest.raises(DecodeError, match="identifier"):
            Identifier.from_bcs(encode(lambda ser: ser.str(bad)))
    assert Identifier.from_bcs(b"\x02_a").value == "_a"
    with pytest.raises(DecodeError, match="struct name"):
        StructTag.from_bcs(bytes(16) + b"\x03XUS\x03X-S\x00")


def test_serializer_rejects_out_of_range_values_as_programmer_errors() -> None:
    ser = Serializer()
    for method, value in [("u8", 256), ("u16", -1), ("u32", 2**32), ("u64", 2**64), ("u128", -1),
                          ("bool", 1), ("uleb128", 2**31), ("variant_index", 2**32)]:
        with pytest.raises(InvariantViolation):
            getattr(ser, method)(value)
    with pytest.raises(InvariantViolation):
        ser.fixed_bytes(b"\x00", 16)
    with pytest.raises(InvariantViolation):
        ser.str("\ud800")


def test_fixed_address_and_event_key_lengths() -> None:
    with pytest.raises(DecodeError):
        AccountAddress.from_bcs(bytes(15))
    with pytest.raises(DecodeError, match="24 bytes"):
        EventKey.from_bcs(b"\x17" + bytes(23))
    assert AccountAddress.from_hex("000000000000000000000000000000DD") == AccountAddress.TESTNET_DD
    assert AccountAddress.DIEM_ROOT.hex() == "0000000000000000000000000a550c18"
    assert AccountAddress.TREASURY_COMPLIANCE.hex() == "0000000000000000000000000b1e55ed"
    for bad in ["0x" + "00" * 15, "zz" * 16, "00" * 15]:
        with pytest.raises(DecodeError):
            AccountAddress.from_hex(bad)
