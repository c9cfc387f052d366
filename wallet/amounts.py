"""Human XUS amounts (6 decimals) to micro-units and back, exactly (no floats)."""

from __future__ import annotations

import re

from primitives.limits import U64_MAX
from wallet.errors import AmountError

XUS_DECIMALS = 6
MICRO_PER_UNIT = 10**XUS_DECIMALS
_AMOUNT_PATTERN = re.compile(r"^(\d+)(?:\.(\d*))?$|^\.(\d+)$")


def parse_amount(text: str) -> int:
    """Return the micro-units of a human amount like "1.5"; AmountError if negative, >6 decimals or > u64."""
    cleaned = text.strip().replace("_", "")
    match = _AMOUNT_PATTERN.match(cleaned)
    if match is None:
        raise AmountError(f"invalid amount {text!r}: expected a non-negative number such as 1.5")
    whole, fraction = (match.group(1), match.group(2) or "") if match.group(3) is None else ("0", match.group(3))
    if len(fraction) > XUS_DECIMALS:
        raise AmountError(f"invalid amount {text!r}: at most {XUS_DECIMALS} decimals")
    micro = int(whole) * MICRO_PER_UNIT + int(fraction.ljust(XUS_DECIMALS, "0") or "0")
    if micro > U64_MAX:
        raise AmountError(f"invalid amount {text!r}: larger than a u64 of micro-units")
    return micro


def format_amount(amount_micro: int) -> str:
    """Return micro-units as a human amount with exactly 6 decimals, e.g. 1500000 -> "1.500000"."""
    whole, fraction = divmod(amount_micro, MICRO_PER_UNIT)
    return f"{whole}.{fraction:0{XUS_DECIMALS}d}"
