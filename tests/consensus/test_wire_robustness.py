"""Peer bytes that break a constructor's invariant are malformed input (DecodeError), never a halt."""

from __future__ import annotations

import pytest

from primitives.certified.plain import from_plain
from primitives.certified.validators import ValidatorSet
from primitives.errors import DecodeError

ADDRESS_A, ADDRESS_B = b"\x01" * 16, b"\x02" * 16
KEY = b"\x03" * 32


@pytest.mark.parametrize(
    "members",
    [
        [[ADDRESS_B, KEY, KEY, 1, []], [ADDRESS_A, KEY, KEY, 1, []]],  # unsorted addresses
        [[ADDRESS_A, KEY, KEY, 1, []], [ADDRESS_A, KEY, KEY, 1, []]],  # duplicate member
        [[ADDRESS_A, KEY, KEY, 0, []]],  # zero voting power
        [],  # no members
    ],
)
def test_a_validator_set_violating_its_invariants_is_a_decode_error(members: list) -> None:
    with pytest.raises(DecodeError):
        from_plain(ValidatorSet, [members])


def test_a_valid_validator_set_decodes() -> None:
    decoded = from_plain(ValidatorSet, [[[ADDRESS_A, KEY, KEY, 1, []], [ADDRESS_B, KEY, KEY, 2, [b"198.18.0.2:6180"]]]])
    assert decoded.get_total_power() == 3
