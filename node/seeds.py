"""Seeds: `NETWORK_PUBLIC_KEY@HOST:PORT`, the nodes a config names to follow the chain from."""

from __future__ import annotations

from primitives.network_address import NetworkAddress, parse_network_address

NETWORK_PUBLIC_KEY_BYTES = 32


def parse_seed(seed: str) -> tuple[bytes, NetworkAddress] | None:
    """Return (Ed25519 network public key, address) of `NETWORK_PUBLIC_KEY@HOST:PORT`, or None when malformed."""
    key_hex, at, address_text = seed.partition("@")
    address = parse_network_address(address_text)
    try:
        key = bytes.fromhex(key_hex)
    except ValueError:
        return None
    return (key, address) if at and address is not None and len(key) == NETWORK_PUBLIC_KEY_BYTES else None
