"""Payment metadata encodings from the SDK (diem-compat §6.1) and the dual-attestation message (§6.2)."""

from __future__ import annotations

import pytest

from primitives.errors import DecodeError
from primitives.metadata import (
    CoinTradeMetadataV0,
    GeneralMetadataV0,
    Metadata,
    PaymentMetadataV0,
    RefundMetadataV0,
    RefundReason,
    TravelRuleMetadataV0,
    UndefinedMetadata,
    compute_dual_attestation_message,
    decode_metadata,
)
from primitives.types.names import AccountAddress

# (value, SDK hex) pairs from diem-compat §6.1.
SDK_METADATA = [
    (GeneralMetadataV0(to_subaddress=bytes.fromhex("0102030405060708")), "0100010801020304050607080000"),
    (GeneralMetadataV0(bytes.fromhex("2222222222222222"), bytes.fromhex("1111111111111111")),
     "0100010822222222222222220108111111111111111100"),
    (TravelRuleMetadataV0("6cd81d79-f041-4f28-867f-e4d54950833e"),
     "0200012436636438316437392d663034312d346632382d383637662d653464353439353038333365"),
    (RefundMetadataV0(42, RefundReason.INVALID_SUBADDRESS), "04002a0000000000000001"),
    (PaymentMetadataV0(bytes.fromhex("6cd81d79f0414f28867fe4d54950833e")), "06006cd81d79f0414f28867fe4d54950833e"),
    (CoinTradeMetadataV0(("abc",)), "05000103616263"),
    (UndefinedMetadata(), "00"),
]


@pytest.mark.parametrize(("body", "expected"), SDK_METADATA, ids=lambda x: type(x).__name__)
def test_metadata_matches_sdk_bytes(body: object, expected: str) -> None:
    assert Metadata(body).to_bcs().hex() == expected
    assert Metadata.from_bcs(bytes.fromhex(expected)) == Metadata(body)


def test_dual_attestation_message_layout_from_the_reference() -> None:
    metadata = Metadata(TravelRuleMetadataV0("6cd81d79-f041-4f28-867f-e4d54950833e")).to_bcs()
    message = compute_dual_attestation_message(metadata, AccountAddress.from_hex("e52999d653b418b73c002e3e43bc7ca9"), 10**9)
    assert message.hex() == (
        metadata.hex() + "e52999d653b418b73c002e3e43bc7ca9" + "00ca9a3b00000000" + "404024244449454d5f41545445535424244040"
    )


@pytest.mark.parametrize("hex_input", ["07", "0101", "0200", "040001000000000000000005", "0600" + "00" * 15, "0100020000"])
def test_malformed_metadata_is_rejected(hex_input: str) -> None:
    with pytest.raises(DecodeError):
        Metadata.from_bcs(bytes.fromhex(hex_input))
    assert decode_metadata(bytes.fromhex(hex_input)) is None


def test_decode_metadata_tolerates_empty_and_returns_values() -> None:
    assert decode_metadata(b"") is None
    assert decode_metadata(bytes.fromhex("04002a0000000000000001")) == Metadata(RefundMetadataV0(42, RefundReason(1)))
