"""KYC policy for the travel-rule exchange: how the service judges a counterparty's KYC data.

The service publishes four sample records (`GET /kyc_sample`, the MiniWallet convention) so that a
counterparty can exercise each outcome: `minimum` passes, `reject` is refused, `soft_match` asks for
additional data and then passes, `soft_reject` asks and then is refused. Any other record passes if it
identifies a person (given name and surname) or an entity (legal entity name), and is refused if not.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

SAMPLE_NAMES = ("minimum", "reject", "soft_match", "soft_reject")


class Verdict(str, Enum):
    """The outcome of evaluating KYC data."""

    ACCEPT = "accept"
    REJECT = "reject"
    SOFT_MATCH = "soft_match"


def compute_samples(service_name: str) -> dict[str, dict[str, Any]]:
    """Return the four sample records of this service (distinct surnames per service)."""
    return {name: {"payload_version": 1, "type": "individual", "given_name": f"{name}-kyc", "surname": service_name}
            for name in SAMPLE_NAMES}


def is_sample_match(sample: dict[str, Any], kyc_data: dict[str, Any] | None) -> bool:
    """Return True iff every field the sample sets has the same value in kyc_data."""
    return kyc_data is not None and all(kyc_data.get(name) == value for name, value in sample.items())


def is_identifying(kyc_data: dict[str, Any]) -> bool:
    """Return True iff the record names its person or entity."""
    if kyc_data.get("type") == "entity":
        return bool(kyc_data.get("legal_entity_name"))
    return bool(kyc_data.get("given_name")) and bool(kyc_data.get("surname"))


def evaluate(samples: dict[str, dict[str, Any]], kyc_data: dict[str, Any] | None) -> Verdict:
    """Judge a counterparty's KYC data on first sight."""
    if kyc_data is None or is_sample_match(samples["reject"], kyc_data):
        return Verdict.REJECT
    if is_sample_match(samples["soft_match"], kyc_data) or is_sample_match(samples["soft_reject"], kyc_data):
        return Verdict.SOFT_MATCH
    return Verdict.ACCEPT if is_identifying(kyc_data) else Verdict.REJECT


def review(samples: dict[str, dict[str, Any]], kyc_data: dict[str, Any] | None) -> Verdict:
    """Judge KYC data again after a soft match, now with the additional data the counterparty sent."""
    if kyc_data is None or is_sample_match(samples["soft_reject"], kyc_data):
        return Verdict.REJECT
    return Verdict.ACCEPT
