"""Invariants over arbitrary values: round trips, canonical encodings, and only DecodeError on garbage."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primitives.errors import DecodeError
from primitives.types.bcs_type import BcsType
from primitives.types.type_tags import StructTag, TypeTag
from tests.primitives.strategies import STRATEGIES, struct_tags, type_tags

TYPES = list(STRATEGIES)
FUZZ_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
def test_every_value_round_trips_and_reencodes_identically(cls: type[BcsType]) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(STRATEGIES[cls])
    def check(value: BcsType) -> None:
        encoded = value.to_bcs()
        decoded = cls.from_bcs(encoded)
        assert decoded == value
        assert hash(decoded) == hash(value)
        assert decoded.to_bcs() == encoded
        with pytest.raises(DecodeError, match="trailing"):
            cls.from_bcs(encoded + b"\x00")
        if encoded:
            with pytest.raises(DecodeError):
                cls.from_bcs(encoded[:-1])

    check()


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
def test_random_bytes_only_ever_raise_decode_error(cls: type[BcsType]) -> None:
    @FUZZ_SETTINGS
    @given(st.binary(max_size=200))
    def check(data: bytes) -> None:
        try:
            value = cls.from_bcs(data)
        except DecodeError:
            return
        # Whatever is accepted must be the one canonical encoding of its value.
        assert value.to_bcs() == data

    check()


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
def test_mutated_encodings_only_ever_raise_decode_error(cls: type[BcsType]) -> None:
    @FUZZ_SETTINGS
    @given(STRATEGIES[cls], st.data())
    def check(value: BcsType, data: st.DataObject) -> None:
        encoded = bytearray(value.to_bcs())
        if not encoded:
            return
        for _ in range(data.draw(st.integers(1, 3))):
            position = data.draw(st.integers(0, len(encoded) - 1))
            encoded[position] = data.draw(st.integers(0, 255))
        cut = data.draw(st.integers(0, len(encoded)))
        mutated = bytes(encoded[:cut])
        try:
            decoded = cls.from_bcs(mutated)
        except DecodeError:
            return
        assert decoded.to_bcs() == mutated

    check()


@given(type_tags, type_tags)
def test_type_tags_are_hashable_and_totally_ordered_by_encoding(a: TypeTag, b: TypeTag) -> None:
    assert (a == b) == (a.to_bcs() == b.to_bcs())
    assert len({a, b}) == (1 if a == b else 2)
    assert sorted([a, b]) == sorted([b, a])
    assert (a < b) == (a.to_bcs() < b.to_bcs())


@given(struct_tags)
def test_struct_tag_text_form(tag: StructTag) -> None:
    assert str(tag).startswith("0x" + tag.address.hex() + "::" + tag.module + "::" + tag.name)
