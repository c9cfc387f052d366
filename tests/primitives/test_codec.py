"""Canonical msgpack: deterministic encoding, strict decoding, only DecodeError on garbage."""

from __future__ import annotations

from enum import IntEnum

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primitives.codec import pack, signing_bytes, unpack
from primitives.errors import DecodeError, InvariantViolation
from primitives.hashing import get_salt
from primitives.limits import CODEC_MAX_DEPTH

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.binary(max_size=20), st.text(max_size=10))
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=5) | st.binary(max_size=5), children, max_size=4),
    ),
    max_leaves=20,
)


@given(values)
def test_pack_unpack_round_trip_is_canonical(value: object) -> None:
    data = pack(value)
    assert unpack(data) == value
    assert pack(unpack(data)) == data


@given(st.dictionaries(st.text(max_size=5), st.integers(0, 9), min_size=2, max_size=6))
def test_map_key_order_does_not_change_the_encoding(mapping: dict) -> None:
    assert pack(mapping) == pack(dict(reversed(list(mapping.items()))))


class Color(IntEnum):
    RED = 3


def test_tuples_enums_and_bytearrays_normalize() -> None:
    assert pack((1, Color.RED, bytearray(b"x"))) == pack([1, 3, b"x"])


@pytest.mark.parametrize("value", [1.5, {1: 2}, {(1,): 2}, object(), 2**64, -(2**63) - 1, {"a": [0.0]}, set()])
def test_pack_rejects_values_outside_the_canonical_subset(value: object) -> None:
    with pytest.raises(InvariantViolation):
        pack(value)


@pytest.mark.parametrize(
    "data",
    [
        pack([1]) + b"\x00",  # trailing
        msgpack.packb(1.5),  # float
        msgpack.packb({1: 2}),  # int key
        b"\xc1",  # never-used byte
        msgpack.packb({"b": 1, "a": 2}),  # unsorted keys
        b"\xcd\x00\x01",  # non-minimal int
        msgpack.packb(msgpack.ExtType(1, b"a")),
        b"\x92\x01",  # truncated array
        b"\x91" * (CODEC_MAX_DEPTH + 1) + b"\x01",  # too deep
        b"\xa2\xff\xfe",  # invalid UTF-8
        b"",
    ],
)
def test_unpack_rejects_malformed_or_non_canonical(data: bytes) -> None:
    with pytest.raises(DecodeError):
        unpack(data)


def test_size_limit() -> None:
    data = pack(b"x" * 100)
    with pytest.raises(DecodeError, match="exceeds"):
        unpack(data, max_bytes=50)
    assert unpack(data, max_bytes=len(data)) == b"x" * 100


def test_non_canonical_is_accepted_when_not_required() -> None:
    assert unpack(b"\xcd\x00\x01", canonical=False) == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=100))
def test_random_bytes_only_ever_raise_decode_error(data: bytes) -> None:
    try:
        unpack(data)
    except DecodeError:
        pass


def test_signing_bytes_are_domain_separated() -> None:
    assert signing_bytes("Vote", 2, [1]) == get_salt("Vote") + b"\x02" + pack([1])
    assert signing_bytes("Vote", 2, [1]) != signing_bytes("Proposal", 2, [1])
    assert signing_bytes("Vote", 2, [1]) != signing_bytes("Vote", 4, [1])
