"""What a person types is parsed into a value or refused with a message: never another exception."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.inputs import (
    BadInput,
    parse_account_ref,
    parse_amount_micro,
    parse_currency,
    parse_day,
    parse_period,
    parse_search,
    parse_version,
)
from primitives.account_identifier import TESTNET_HRP, encode_account_identifier
from primitives.types.names import AccountAddress

ADDRESS = bytes.fromhex("5066a2dc196e79ea86845c6b60566c9d")
PARSERS = (parse_version, parse_account_ref, parse_search, parse_currency, parse_amount_micro, parse_day)


def test_a_version_is_a_whole_number_within_u64() -> None:
    assert parse_version(" 42 ") == 42
    assert parse_version("18446744073709551615") == 2**64 - 1
    for text in ("", "-1", "1.5", "0x10", "18446744073709551616", "٣"):
        with pytest.raises(BadInput):
            parse_version(text)


def test_an_account_is_an_address_an_identifier_or_a_diem_id() -> None:
    assert parse_account_ref("0x" + ADDRESS.hex().upper()).address == ADDRESS
    subaddress = bytes(range(8))
    identifier = encode_account_identifier(TESTNET_HRP, AccountAddress(ADDRESS), subaddress)
    parsed = parse_account_ref(identifier)
    assert (parsed.address, parsed.subaddress) == (ADDRESS, subaddress)
    diem_id = parse_account_ref("alice@VASP.example")
    assert diem_id.is_diem_id() and (diem_id.diem_id_user, diem_id.diem_id_domain) == ("alice", "vasp.example")


@pytest.mark.parametrize("text", ["zz", "ab cd" * 8, "tdm1qqqq", ADDRESS.hex()[:-1], "@vasp", "a b@c"])
def test_anything_else_is_not_an_account(text: str) -> None:
    with pytest.raises(BadInput):
        parse_account_ref(text)


def test_a_search_names_a_transaction_an_account_or_a_page() -> None:
    assert parse_search("7").kind == "transaction"
    assert parse_search(ADDRESS.hex()).kind == "account"
    assert parse_search("Reserves").kind == "reserves"
    with pytest.raises(BadInput, match="nothing matches"):
        parse_search("<script>alert(1)</script>")


def test_a_period_is_two_days_in_order() -> None:
    assert parse_period("2026-01-01", "2026-03-31") == (date(2026, 1, 1), date(2026, 3, 31))
    for first, last in (("2026-03-31", "2026-01-01"), ("2026-02-30", "2026-03-01"), ("2026-W01-1", "2026-01-02")):
        with pytest.raises(BadInput):
            parse_period(first, last)


def test_amounts_and_currency_codes() -> None:
    assert parse_amount_micro("1000.5") == 1_000_500_000
    assert parse_currency("XUS") == "XUS"
    for parser, text in ((parse_amount_micro, "-1"), (parse_amount_micro, "1e3"), (parse_currency, "xus"),
                         (parse_currency, "<b>")):
        with pytest.raises(BadInput):
            parser(text)


@given(st.text(max_size=400))
def test_any_text_is_parsed_or_refused_with_bad_input(text: str) -> None:
    for parser in PARSERS:
        try:
            parser(text)
        except BadInput as error:
            assert str(error)
