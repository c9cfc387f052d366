"""Validator network addresses as the chain stores them: `HOST:PORT` in ASCII, checked the same everywhere."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Diem keeps a validator's addresses in its on-chain config; these bound what one validator may store.
NETWORK_ADDRESS_BYTES_MAX = 64
NETWORK_ADDRESSES_MAX = 4
PORT_MIN = 1
PORT_MAX = 65_535
# A DNS name or IPv4 address, or an IPv6 address in brackets; nothing else (no spaces, no schemes).
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,61}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])$")


@dataclass(frozen=True, slots=True)
class NetworkAddress:
    """Where a node listens for peers."""

    host: str
    port: int

    def encode(self) -> bytes:
        """Return the on-chain bytes: `HOST:PORT` in ASCII."""
        return str(self).encode("ascii")

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address keeps its brackets
        return f"{host}:{self.port}"


def parse_network_address(text: str | bytes) -> NetworkAddress | None:
    """Return the address `HOST:PORT` names, or None when it is malformed."""
    if isinstance(text, bytes):
        if len(text) > NETWORK_ADDRESS_BYTES_MAX or not text.isascii():
            return None
        text = text.decode("ascii")
    if len(text) > NETWORK_ADDRESS_BYTES_MAX or ":" not in text:
        return None
    host, _, port_text = text.rpartition(":")
    if not port_text.isdigit() or not _HOST.match(host):
        return None
    port = int(port_text)
    if not PORT_MIN <= port <= PORT_MAX:
        return None
    return NetworkAddress(host.strip("[]") if host.startswith("[") else host, port)


def is_valid_address_list(addresses: tuple[bytes, ...]) -> bool:
    """Return True iff addresses is 1..NETWORK_ADDRESSES_MAX well-formed, distinct addresses."""
    if not 0 < len(addresses) <= NETWORK_ADDRESSES_MAX or len(set(addresses)) != len(addresses):
        return False
    return all(parse_network_address(address) is not None for address in addresses)
