"""The wire encoding the proof methods add to contracts/state's: account blobs."""

from __future__ import annotations

from collections.abc import Sequence

from primitives.bcs import Deserializer, Serializer


def encode_account_blob(resources: Sequence[tuple[bytes, bytes]]) -> bytes:
    """Return BCS Vec<(Vec<u8> struct tag, Vec<u8> value)> of an account's present resources."""
    serializer = Serializer()
    serializer.uleb128(len(resources))
    for tag_bytes, value in resources:
        serializer.bytes(tag_bytes)
        serializer.bytes(value)
    return serializer.output()


def decode_account_blob(data: bytes) -> list[tuple[bytes, bytes]]:
    """Decode an account blob, raising DecodeError on malformed bytes."""
    deserializer = Deserializer(data)
    count = deserializer.length("account blob")
    resources = [(deserializer.bytes(), deserializer.bytes()) for _ in range(count)]
    deserializer.finish()
    return resources
