"""DIP-5 payment intents: `diem://<account identifier>?c=<currency>&am=<micro-units>`, parsed and produced.

An intent is what a payment link or QR code carries: who to pay (an account identifier, usually with a
single-use subaddress) and optionally which currency and how much. DIP-5 defines no other parameter,
so an unknown or repeated one is refused rather than silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from primitives.account_identifier import AccountIdentifier
from primitives.errors import DecodeError

INTENT_SCHEME = "diem://"
CURRENCY_PARAMETER = "c"
AMOUNT_PARAMETER = "am"
CURRENCY_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{2}$")
INTENT_LENGTH_MAX = 256
U64_MAX = 2**64 - 1


class IntentError(ValueError):
    """The text is not a valid DIP-5 payment intent."""


@dataclass(frozen=True, slots=True)
class Intent:
    """A request to pay an account identifier, optionally a fixed amount of one currency."""

    account_identifier: str
    currency: str | None = None
    amount_micro: int | None = None

    @property
    def identifier(self) -> AccountIdentifier:
        """The decoded account identifier (address and subaddress)."""
        return AccountIdentifier.decode(self.account_identifier)

    def encode(self) -> str:
        """Return the intent URI, parameters in DIP-5 order (c, then am)."""
        parameters = []
        if self.currency is not None:
            parameters.append((CURRENCY_PARAMETER, self.currency))
        if self.amount_micro is not None:
            parameters.append((AMOUNT_PARAMETER, str(self.amount_micro)))
        query = f"?{urlencode(parameters)}" if parameters else ""
        return f"{INTENT_SCHEME}{self.account_identifier}{query}"


def encode_intent(account_identifier: str, currency: str | None = None, amount_micro: int | None = None) -> str:
    """Return the intent URI of a payment request after checking each part."""
    intent = Intent(account_identifier, currency, amount_micro)
    return decode_intent(intent.encode(), None).encode()


def decode_intent(text: str, expected_hrp: str | None = None) -> Intent:
    """Parse an intent URI; IntentError names what is wrong."""
    if len(text) > INTENT_LENGTH_MAX:
        raise IntentError(f"an intent is at most {INTENT_LENGTH_MAX} characters")
    if not text.lower().startswith(INTENT_SCHEME):
        raise IntentError(f"an intent starts with {INTENT_SCHEME}")
    body = text[len(INTENT_SCHEME):]
    identifier_text, _, query = body.partition("?")
    try:
        AccountIdentifier.decode(identifier_text, expected_hrp)
    except DecodeError as error:
        raise IntentError(f"invalid account identifier: {error}") from None
    parameters = parse_parameters(query)
    currency = parameters.get(CURRENCY_PARAMETER)
    if currency is not None and not CURRENCY_PATTERN.match(currency):
        raise IntentError(f"currency must be a 3-character code like XUS, got {currency!r}")
    amount = parameters.get(AMOUNT_PARAMETER)
    return Intent(identifier_text, currency, None if amount is None else parse_amount_micro(amount))


def parse_parameters(query: str) -> dict[str, str]:
    """Return the c and am parameters of a query string; IntentError on unknown or repeated ones."""
    parameters: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as error:
        raise IntentError(f"malformed intent parameters: {error}") from None
    for name, value in pairs:
        if name not in (CURRENCY_PARAMETER, AMOUNT_PARAMETER):
            raise IntentError(f"unknown intent parameter {name!r} (DIP-5 defines only c and am)")
        if name in parameters:
            raise IntentError(f"intent parameter {name!r} is repeated")
        parameters[name] = value
    return parameters


def parse_amount_micro(text: str) -> int:
    """Return a positive u64 amount in micro-units written as decimal digits."""
    if not text.isdigit() or not text.isascii():
        raise IntentError(f"amount must be a whole number of micro-units, got {text!r}")
    amount = int(text)
    if not 0 < amount <= U64_MAX:
        raise IntentError(f"amount must be between 1 and {U64_MAX} micro-units, got {amount}")
    return amount
