"""Client-side verification: certificates through the shared certified layer, Merkle proofs against them.

The certificate format, the quorum rule and the trust ratchet are primitives.certified's (ADR 0003, ADR 0011),
the same code consensus runs; this module turns what does not verify into VerificationError.
"""

from __future__ import annotations

from contracts.state import AccountStateProof, TransactionInfoWithProof
from primitives.certified.ledger_info import (
    EpochChangeProof,
    LedgerInfo,
    LedgerInfoWithSignatures,
    decode_epoch_change_proof,
    decode_ledger_info,
)
from primitives.certified.rejections import CertificateRejection
from primitives.certified.trust import TrustedState, Waypoint
from primitives.errors import DecodeError
from wallet.errors import VerificationError


def parse_certificate(data: bytes) -> LedgerInfoWithSignatures:
    """Decode the served bytes of a ledger info with signatures; VerificationError if malformed."""
    try:
        return decode_ledger_info(data)
    except DecodeError as error:
        raise VerificationError(f"malformed certificate bytes: {error}") from None


def parse_epoch_change_proof(data: bytes) -> EpochChangeProof:
    """Decode the served bytes of an epoch-change proof; VerificationError if malformed."""
    try:
        return decode_epoch_change_proof(data)
    except DecodeError as error:
        raise VerificationError(f"malformed certificate bytes: {error}") from None


def parse_waypoint(text: str) -> Waypoint:
    """Parse a 64-hex-character genesis hash; VerificationError otherwise."""
    try:
        return Waypoint.from_hex(text)
    except DecodeError as error:
        raise VerificationError(str(error)) from None


def ratchet(trusted: TrustedState, proof: EpochChangeProof, certificate: LedgerInfoWithSignatures) -> TrustedState:
    """Return trusted moved along proof to certificate; VerificationError when anything does not verify."""
    moved = trusted.verify_and_ratchet(proof, certificate)
    if isinstance(moved, CertificateRejection):
        raise VerificationError(moved.message)
    return moved


# ---- Merkle proofs against a verified ledger info ------------------------------------------------


def verify_transaction_info(info: LedgerInfo, version: int, transaction_hash: bytes,
                            proof: TransactionInfoWithProof) -> None:
    """Raise unless the TransactionInfo of version is in info's accumulator and commits to transaction_hash."""
    if version > info.version:
        raise VerificationError(f"transaction version {version} is after the verified ledger version {info.version}")
    if proof.transaction_info.transaction_hash != transaction_hash:
        raise VerificationError(f"transaction at version {version} has hash {transaction_hash.hex()}, but the "
                                f"certified TransactionInfo commits to {proof.transaction_info.transaction_hash.hex()}")
    if not proof.verify(info.accumulator_root, version, info.version):
        raise VerificationError(f"the TransactionInfo of version {version} is not in the certified accumulator")


def verify_state_value(info: LedgerInfo, version: int, key: bytes, value: bytes | None,
                       proof: AccountStateProof) -> None:
    """Raise unless key holds value (None: absent) in the state at version, certified by info."""
    if version > info.version:
        raise VerificationError(f"state version {version} is after the verified ledger version {info.version}")
    if version == info.version and proof.transaction_info.state_root_hash not in (None, info.state_root):
        raise VerificationError("the state root differs from the certified ledger info's state root")
    if not proof.verify(info.accumulator_root, version, key, value, info.version):
        raise VerificationError(f"the state proof of key {key.hex()} at version {version} does not verify")
