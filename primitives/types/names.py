"""Addresses, chain ids and Move identifiers (diem-compat §3.2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError
from primitives.keys import ADDRESS_LENGTH
from primitives.types.bcs_type import BcsType

_IDENTIFIER_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9_]*|_[A-Za-z0-9_]+)\Z")


@dataclass(frozen=True, slots=True, order=True)
class AccountAddress(BcsType):
    """A 16-byte account address, encoded as a fixed array."""

    value: bytes

    VM_RESERVED: ClassVar[AccountAddress]
    CORE_CODE: ClassVar[AccountAddress]
    DIEM_ROOT: ClassVar[AccountAddress]
    TREASURY_COMPLIANCE: ClassVar[AccountAddress]
    TESTNET_DD: ClassVar[AccountAddress]

    def __post_init__(self) -> None:
        if type(self.value) is not bytes or len(self.value) != ADDRESS_LENGTH:
            raise DecodeError(f"account address must be 16 bytes, got {self.value!r}")

    @classmethod
    def from_hex(cls, text: str) -> AccountAddress:
        """Parse 32 hex characters (either case, no 0x)."""
        if len(text) != 2 * ADDRESS_LENGTH:
            raise DecodeError(f"account address hex must be 32 characters, got {len(text)}")
        try:
            return cls(bytes.fromhex(text))
        except ValueError as exc:
            raise DecodeError(f"invalid account address hex {text!r}") from exc

    @classmethod
    def from_int(cls, number: int) -> AccountAddress:
        """Build an address from an integer (e.g. 0xA550C18)."""
        return cls(number.to_bytes(ADDRESS_LENGTH, "big"))

    def hex(self) -> str:
        """Return 32 lowercase hex characters, no 0x (Diem's JSON form)."""
        return self.value.hex()

    def __str__(self) -> str:
        return self.value.hex()

    def serialize(self, ser: Serializer) -> None:
        ser.fixed_bytes(self.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> AccountAddress:
        return cls(de.fixed_bytes(ADDRESS_LENGTH))


AccountAddress.VM_RESERVED = AccountAddress.from_int(0x0)
AccountAddress.CORE_CODE = AccountAddress.from_int(0x1)
AccountAddress.DIEM_ROOT = AccountAddress.from_int(0xA550C18)
AccountAddress.TREASURY_COMPLIANCE = AccountAddress.from_int(0xB1E55ED)
AccountAddress.TESTNET_DD = AccountAddress.from_int(0xDD)


@dataclass(frozen=True, slots=True, order=True)
class ChainId(BcsType):
    """A chain id (u8)."""

    value: int

    def __post_init__(self) -> None:
        if not 0 <= self.value <= 0xFF:
            raise DecodeError(f"chain id must be a u8, got {self.value}")

    def serialize(self, ser: Serializer) -> None:
        ser.u8(self.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> ChainId:
        return cls(de.u8())


def is_valid_identifier(name: str) -> bool:
    """Return True iff name is a Move identifier ([A-Za-z][A-Za-z0-9_]* or _[A-Za-z0-9_]+)."""
    return _IDENTIFIER_RE.match(name) is not None


def check_identifier(name: str, what: str) -> None:
    """Raise DecodeError unless name is a valid Move identifier."""
    if type(name) is not str or _IDENTIFIER_RE.match(name) is None:
        raise DecodeError(f"{what} is not a valid Move identifier: {name!r}")


def read_identifier(de: Deserializer, what: str) -> str:
    """Read a Move identifier, raising DecodeError when it is not valid."""
    start = de.position
    name = de.str()
    if _IDENTIFIER_RE.match(name) is None:
        raise DecodeError(f"{what} at offset {start} is not a valid Move identifier: {name!r}")
    return name


@dataclass(frozen=True, slots=True, order=True)
class Identifier(BcsType):
    """A Move identifier (newtype over String); other types hold identifiers as plain validated str."""

    value: str

    def __post_init__(self) -> None:
        check_identifier(self.value, "identifier")

    def serialize(self, ser: Serializer) -> None:
        ser.str(self.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> Identifier:
        return cls(read_identifier(de, "identifier"))
