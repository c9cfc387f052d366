"""Bech32 account identifiers: BIP-173 rules and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from primitives.account_identifier import (
    MAINNET_HRP,
    TESTNET_HRP,
    AccountIdentifier,
    bech32_decode,
    bech32_encode,
    decode_account_identifier,
)
from primitives.errors import DecodeError
from tests.primitives.strategies import addresses

VALID = "dm1pagv0p3qwpcn3zeslww3dqu9g9l8kgs5tm6mz4usnz26fg"


@given(st.sampled_from([MAINNET_HRP, TESTNET_HRP]), addresses,
       st.none() | st.binary(min_size=8, max_size=8).filter(lambda b: any(b)))
def test_identifiers_round_trip(hrp: str, address, subaddress) -> None:
    identifier = AccountIdentifier(hrp, address, subaddress)
    text = identifier.encode()
    assert text.startswith(hrp + "1p")
    assert AccountIdentifier.decode(text) == identifier


def test_bip173_reference_strings() -> None:
    # Valid test vectors from BIP-173.
    for text in ["A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"]:
        hrp, data = bech32_decode(text)
        assert bech32_encode(hrp, data) == text.lower()


@pytest.mark.parametrize(
    "text",
    [
        VALID[:-1] + ("q" if VALID[-1] != "q" else "p"),  # checksum
        VALID.upper()[:5] + VALID[5:],  # mixed case
        VALID.replace("1p", "1b", 1),  # 'b' is not in the charset
        "dm1" + "q" * 90,  # too long
        "tdm1pagv0p3qwpcn3zeslww3dqu9g9uqqqqqqqqqqqqq5fzrc7",  # hrp changed, checksum no longer fits
        "pzry9x0s0muk",  # no separator
        bech32_encode("dm", [2] + [0] * 39),  # version 2
        bech32_encode("dm", [1] + [0] * 30),  # short payload
        bech32_encode("xm", [1] + [0] * 39),  # unknown hrp
        bech32_encode("dm", [1] + [0] * 38 + [1]),  # non-zero padding bits
    ],
)
def test_malformed_identifiers_are_rejected(text: str) -> None:
    with pytest.raises(DecodeError):
        decode_account_identifier(text)


def test_expected_hrp_is_enforced() -> None:
    with pytest.raises(DecodeError, match="expected"):
        decode_account_identifier(VALID, expected_hrp=TESTNET_HRP)
