"""Why a certificate does not verify: a stable fault code and a message naming what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class CertificateFault(IntEnum):
    """Why a certificate or an epoch-change proof was refused; codes are stable and never reused."""

    UNSORTED_SIGNERS = 1
    NOT_A_MEMBER = 2
    NO_QUORUM = 3
    BAD_SIGNATURE = 4
    PROOF_TOO_LONG = 5
    EPOCH_GAP = 6
    NOT_EPOCH_ENDING = 7
    NO_GENESIS = 8
    WRONG_GENESIS = 9
    WRONG_EPOCH = 10


@dataclass(frozen=True, slots=True)
class CertificateRejection:
    """A refused certificate: the fault and a message for people (callers map the fault to their own codes)."""

    fault: CertificateFault
    message: str
