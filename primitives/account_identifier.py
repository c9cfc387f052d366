"""Bech32 account identifiers (DIP-5 style: hrp `dm`/`tdm`, version 1, address ‖ subaddress), BIP-173 checksum."""

from __future__ import annotations

from dataclasses import dataclass

from primitives.errors import DecodeError
from primitives.types.names import AccountAddress

MAINNET_HRP = "dm"
TESTNET_HRP = "tdm"
ACCOUNT_IDENTIFIER_VERSION = 1
SUBADDRESS_LENGTH = 8
BECH32_MAX_LENGTH = 90
BECH32_CHECKSUM_LENGTH = 6
_ZERO_SUBADDRESS = bytes(SUBADDRESS_LENGTH)
_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {char: i for i, char in enumerate(_CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32_CONSTANT = 1
_PAYLOAD_LENGTH = 16 + SUBADDRESS_LENGTH


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = ((checksum & 0x1FFFFFF) << 5) ^ value
        for i in range(5):
            if (top >> i) & 1:
                checksum ^= _GENERATOR[i]
    return checksum


def _expand_hrp(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _create_checksum(hrp: str, data: list[int]) -> list[int]:
    polymod = _polymod(_expand_hrp(hrp) + data + [0] * BECH32_CHECKSUM_LENGTH) ^ _BECH32_CONSTANT
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(BECH32_CHECKSUM_LENGTH)]


def bech32_encode(hrp: str, data: list[int]) -> str:
    """Return hrp ‖ "1" ‖ data (5-bit groups) ‖ checksum, in lowercase."""
    combined = data + _create_checksum(hrp, data)
    return hrp + "1" + "".join(_CHARSET[d] for d in combined)


def bech32_decode(text: str) -> tuple[str, list[int]]:
    """Return (hrp, 5-bit data without checksum); DecodeError on any BIP-173 violation."""
    if len(text) > BECH32_MAX_LENGTH:
        raise DecodeError(f"bech32 string longer than {BECH32_MAX_LENGTH} characters")
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise DecodeError("bech32 string has characters outside 33..126")
    if text.lower() != text and text.upper() != text:
        raise DecodeError("bech32 string mixes upper and lower case")
    text = text.lower()
    separator = text.rfind("1")
    if separator < 1 or separator + 1 + BECH32_CHECKSUM_LENGTH > len(text):
        raise DecodeError("bech32 separator missing or checksum too short")
    hrp = text[:separator]
    try:
        data = [_CHARSET_INDEX[c] for c in text[separator + 1 :]]
    except KeyError as exc:
        raise DecodeError(f"bech32 data has invalid character {exc.args[0]!r}") from None
    if _polymod(_expand_hrp(hrp) + data) != _BECH32_CONSTANT:
        raise DecodeError("bech32 checksum mismatch")
    return hrp, data[:-BECH32_CHECKSUM_LENGTH]


def convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    """Regroup bit groups (BIP-173 convertbits); DecodeError on invalid padding when pad is False."""
    accumulator = 0
    bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    for value in data:
        if value >> from_bits:
            raise DecodeError(f"value {value} does not fit in {from_bits} bits")
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((accumulator >> bits) & max_value)
    if pad:
        if bits:
            out.append((accumulator << (to_bits - bits)) & max_value)
    elif bits >= from_bits or ((accumulator << (to_bits - bits)) & max_value):
        raise DecodeError("bech32 data has invalid padding")
    return out


@dataclass(frozen=True, slots=True)
class AccountIdentifier:
    """An account address with optional 8-byte subaddress and network prefix (hrp)."""

    hrp: str
    address: AccountAddress
    subaddress: bytes | None = None

    def __post_init__(self) -> None:
        if self.hrp not in (MAINNET_HRP, TESTNET_HRP):
            raise DecodeError(f"account identifier hrp must be dm or tdm, got {self.hrp!r}")
        if self.subaddress is not None and len(self.subaddress) != SUBADDRESS_LENGTH:
            raise DecodeError(f"subaddress must be {SUBADDRESS_LENGTH} bytes, got {len(self.subaddress)}")

    def encode(self) -> str:
        """Return the bech32 text, e.g. dm1p…"""
        payload = self.address.value + (self.subaddress or _ZERO_SUBADDRESS)
        return bech32_encode(self.hrp, [ACCOUNT_IDENTIFIER_VERSION] + convert_bits(payload, 8, 5, True))

    @classmethod
    def decode(cls, text: str, expected_hrp: str | None = None) -> AccountIdentifier:
        """Parse bech32 text; an all-zero subaddress decodes as None."""
        hrp, data = bech32_decode(text)
        if expected_hrp is not None and hrp != expected_hrp:
            raise DecodeError(f"account identifier hrp {hrp!r}, expected {expected_hrp!r}")
        if not data or data[0] != ACCOUNT_IDENTIFIER_VERSION:
            raise DecodeError(f"unsupported account identifier version {data[0] if data else None}")
        payload = bytes(convert_bits(data[1:], 5, 8, False))
        if len(payload) != _PAYLOAD_LENGTH:
            raise DecodeError(f"account identifier payload must be {_PAYLOAD_LENGTH} bytes, got {len(payload)}")
        subaddress = payload[16:]
        return cls(hrp, AccountAddress(payload[:16]), None if subaddress == _ZERO_SUBADDRESS else subaddress)


def encode_account_identifier(hrp: str, address: AccountAddress, subaddress: bytes | None = None) -> str:
    """Return the bech32 account identifier text."""
    return AccountIdentifier(hrp, address, subaddress).encode()


def decode_account_identifier(text: str, expected_hrp: str | None = None) -> AccountIdentifier:
    """Parse a bech32 account identifier."""
    return AccountIdentifier.decode(text, expected_hrp)
