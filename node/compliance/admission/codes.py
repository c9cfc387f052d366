"""Admission decisions and their stable numeric codes (documented in docs/compliance.md; never reused)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class AdmissionCode(IntEnum):
    """Why admission refused a transaction: 1xxx per hook family, 19xx for hook failures."""

    SANCTIONED_SENDER = 1001
    SANCTIONED_PAYEE = 1002
    SANCTIONS_LIST_UNAVAILABLE = 1003
    KYC_SENDER_MISSING = 1101
    KYC_SENDER_EXPIRED = 1102
    KYC_SENDER_TIER_TOO_LOW = 1103
    KYC_PAYEE_MISSING = 1111
    KYC_PAYEE_EXPIRED = 1112
    KYC_PAYEE_TIER_TOO_LOW = 1113
    VELOCITY_COUNT_EXCEEDED = 1201
    VELOCITY_AMOUNT_EXCEEDED = 1202
    AMOUNT_CAP_EXCEEDED = 1301
    HOOK_FAILED = 1901
    HOOK_TIMED_OUT = 1902
    HOOK_INVALID_ANSWER = 1903


@dataclass(frozen=True, slots=True)
class Accept:
    """The hook lets the transaction through."""


@dataclass(frozen=True, slots=True)
class Reject:
    """The hook refuses the transaction; the pipeline fills in `hook` with the refusing hook's name."""

    code: AdmissionCode
    reason: str
    hook: str = ""


Decision = Accept | Reject
ACCEPT = Accept()
