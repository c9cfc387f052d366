"""What a person may type into a URL or a form, parsed strictly: a value, or a BadInput with a clear message."""

# Every handler parses its input here before anything reaches the node, so a malformed version, address or
# search term becomes a 400 page that says what was expected, never an exception deeper down.

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

from primitives.account_identifier import AccountIdentifier
from primitives.errors import DecodeError
from primitives.limits import U64_MAX
from wallet.amounts import parse_amount
from wallet.errors import AmountError

INPUT_CHARS_MAX = 256  # longer than any address, identifier or Diem ID
SHOWN_INPUT_CHARS_MAX = 80  # how much of a bad input an error page repeats back
ADDRESS_HEX_CHARS = 32
VERSION_DIGITS_MAX = 20  # u64::MAX has 20 digits
CURRENCY_CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")
ADDRESS_PATTERN = re.compile(r"^(?:0x)?([0-9a-fA-F]{32})$")
VERSION_PATTERN = re.compile(r"^[0-9]{1,20}$")
DAY_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Diem ID (DIP-10): user identifier and domain, lower-case letters, digits and a few separators.
DIEM_ID_PATTERN = re.compile(r"^([a-zA-Z0-9._-]{1,64})@([a-zA-Z0-9.-]{1,63})$")
IDENTIFIER_PREFIXES = ("tdm1", "dm1")
MICROS_PER_SECOND = 1_000_000
SECONDS_PER_DAY = 86_400


class BadInput(ValueError):
    """Input a person typed that is not what the page expects; the message says what was expected."""


class NotFound(LookupError):
    """Well-formed input that names nothing on the chain (or in the regulator's records)."""


@dataclass(frozen=True, slots=True)
class AccountRef:
    """An account named by address, by account identifier (with its subaddress), or by Diem ID."""

    text: str
    address: bytes | None
    subaddress: bytes | None = None
    diem_id_user: str | None = None
    diem_id_domain: str | None = None

    def is_diem_id(self) -> bool:
        """Return True iff the account must still be found through its Diem ID domain."""
        return self.address is None


@dataclass(frozen=True, slots=True)
class SearchTarget:
    """Where a search goes: a kind ("transaction", "account", "validators", "reserves") and its value."""

    kind: str
    value: str


def quote_input(text: str) -> str:
    """Return the start of an input for an error message (templates escape it; this only bounds its length)."""
    return text if len(text) <= SHOWN_INPUT_CHARS_MAX else text[:SHOWN_INPUT_CHARS_MAX] + "…"


def check_length(text: str, what: str) -> str:
    """Return text stripped, or BadInput when it is empty or longer than any valid input."""
    cleaned = text.strip()
    if not cleaned:
        raise BadInput(f"{what} is empty")
    if len(cleaned) > INPUT_CHARS_MAX:
        raise BadInput(f"{what} is longer than {INPUT_CHARS_MAX} characters")
    return cleaned


def parse_version(text: str) -> int:
    """Return a ledger version: a whole number from 0 to 2^64 - 1."""
    cleaned = check_length(text, "the version")
    if not VERSION_PATTERN.match(cleaned) or int(cleaned) > U64_MAX:
        raise BadInput(f"{quote_input(cleaned)!r} is not a ledger version: a version is a whole number "
                       f"from 0 to {U64_MAX}")
    return int(cleaned)


def parse_address(text: str) -> bytes:
    """Return a 16-byte account address written as 32 hex characters (0x optional)."""
    match = ADDRESS_PATTERN.match(check_length(text, "the address"))
    if match is None:
        raise BadInput(f"{quote_input(text.strip())!r} is not an address: an address is 32 hex characters")
    return bytes.fromhex(match.group(1))


def parse_account_ref(text: str) -> AccountRef:
    """Return the account named by an address, an account identifier (tdm1…/dm1…) or a Diem ID (user@domain)."""
    cleaned = check_length(text, "the account")
    if ADDRESS_PATTERN.match(cleaned):
        return AccountRef(cleaned, parse_address(cleaned))
    if cleaned.lower().startswith(IDENTIFIER_PREFIXES):
        try:
            identifier = AccountIdentifier.decode(cleaned.lower())
        except (DecodeError, ValueError) as error:
            raise BadInput(f"{quote_input(cleaned)!r} is not a valid account identifier: {error}") from None
        return AccountRef(cleaned, identifier.address.value, identifier.subaddress)
    match = DIEM_ID_PATTERN.match(cleaned)
    if match is not None:
        return AccountRef(cleaned, None, None, match.group(1), match.group(2).lower())
    raise BadInput(f"{quote_input(cleaned)!r} is not an account: give 32 hex characters, an account identifier "
                   "(tdm1…) or a Diem ID (user@domain)")


def parse_search(text: str) -> SearchTarget:
    """Return where a search box entry leads: a version, an account in any form, or a named page."""
    cleaned = check_length(text, "the search")
    if cleaned.lower() in ("validators", "reserves"):
        return SearchTarget(cleaned.lower(), "")
    if VERSION_PATTERN.match(cleaned):
        return SearchTarget("transaction", str(parse_version(cleaned)))
    try:
        return SearchTarget("account", parse_account_ref(cleaned).text)
    except BadInput:
        raise BadInput(f"nothing matches {quote_input(cleaned)!r}: search for a version (a whole number), an "
                       "address (32 hex characters), an account identifier (tdm1…) or a Diem ID "
                       "(user@domain)") from None


def parse_currency(text: str) -> str:
    """Return a currency code such as XUS (capital letters and digits, at most 8)."""
    cleaned = check_length(text, "the currency")
    if not CURRENCY_CODE_PATTERN.match(cleaned):
        raise BadInput(f"{quote_input(cleaned)!r} is not a currency code: use capital letters such as XUS")
    return cleaned


def parse_amount_micro(text: str) -> int:
    """Return micro-units of an amount a person typed in units (1.5 = 1,500,000 micro-units)."""
    cleaned = check_length(text, "the amount")
    try:
        if not cleaned.isascii():  # int() would read other scripts' digits
            raise AmountError(cleaned)
        return parse_amount(cleaned)
    except AmountError:
        raise BadInput(f"{quote_input(cleaned)!r} is not an amount: use a number such as 1000 or 2.5 "
                       "(at most 6 decimals)") from None


def parse_day(text: str) -> date:
    """Return a calendar day written YYYY-MM-DD."""
    cleaned = check_length(text, "the date")
    try:
        if not DAY_PATTERN.match(cleaned):
            raise ValueError(cleaned)
        return date.fromisoformat(cleaned)
    except ValueError:
        raise BadInput(f"{quote_input(cleaned)!r} is not a date: write it as YYYY-MM-DD") from None


def parse_period(start_text: str, end_text: str) -> tuple[date, date]:
    """Return (first day, last day) of a period; the last day may not come before the first."""
    first, last = parse_day(start_text), parse_day(end_text)
    if last < first:
        raise BadInput(f"the period ends ({last.isoformat()}) before it starts ({first.isoformat()})")
    return first, last


def get_day_start_us(day: date) -> int:
    """Return the first microsecond of a UTC day as Unix microseconds."""
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    return int(start.timestamp()) * MICROS_PER_SECOND
