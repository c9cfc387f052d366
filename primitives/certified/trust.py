"""Trust that moves forward: following epoch-change proofs from a waypoint or a known validator set."""

from __future__ import annotations

from dataclasses import dataclass

from primitives.certified.ledger_info import (
    GENESIS_LEDGER_INFO_EPOCH,
    MAX_EPOCH_PROOF_LENGTH,
    EpochChangeProof,
    LedgerInfo,
    LedgerInfoWithSignatures,
    check_ledger_info_signatures,
    compute_genesis_hash,
)
from primitives.certified.rejections import CertificateFault, CertificateRejection
from primitives.certified.signatures import DEFAULT_SCHEME, SignatureScheme
from primitives.certified.validators import ValidatorSet
from primitives.errors import DecodeError
from primitives.hashing import HASH_LENGTH


@dataclass(frozen=True, slots=True)
class EpochChange:
    """Where an epoch-change proof leads: the epoch reached, its validator set, and the ending infos verified."""

    epoch: int
    validators: ValidatorSet
    verified: tuple[LedgerInfo, ...]


def follow_epoch_change_proof(proof: EpochChangeProof, epoch: int, validators: ValidatorSet | None,
                              scheme: SignatureScheme, chain_id: int,
                              genesis_hash: bytes | None = None) -> EpochChange | CertificateRejection:
    """[EPOCH-4] Follow proof from (epoch, validators); without validators its first link must hash to genesis_hash."""
    if len(proof.ledger_infos) > MAX_EPOCH_PROOF_LENGTH:
        return CertificateRejection(CertificateFault.PROOF_TOO_LONG, "epoch change proof too long")
    verified = []
    for certificate in proof.ledger_infos:
        info = certificate.ledger_info
        if info.epoch < epoch:
            continue  # already trusted history; skipping it keeps the proof reusable
        if info.epoch > epoch:
            return CertificateRejection(CertificateFault.EPOCH_GAP,
                                        f"epoch change proof skips from epoch {epoch} to {info.epoch}")
        if info.next_validator_set is None:
            return CertificateRejection(CertificateFault.NOT_EPOCH_ENDING,
                                        f"epoch change proof holds a ledger info of epoch {epoch} that ends nothing")
        rejection = _check_link(certificate, validators, scheme, chain_id, genesis_hash)
        if rejection is not None:
            return rejection
        epoch, validators = epoch + 1, info.next_validator_set
        verified.append(info)
    if validators is None:
        return CertificateRejection(CertificateFault.NO_GENESIS,
                                    "the epoch change proof does not start with the genesis ledger info")
    return EpochChange(epoch, validators, tuple(verified))


def _check_link(certificate: LedgerInfoWithSignatures, validators: ValidatorSet | None, scheme: SignatureScheme,
                chain_id: int, genesis_hash: bytes | None) -> CertificateRejection | None:
    """Check one epoch-ending link: signed by the trusted set, or (trusting no set yet) the genesis itself."""
    if validators is not None:
        return check_ledger_info_signatures(certificate, validators, scheme, chain_id)
    if genesis_hash is None or compute_genesis_hash(certificate) != genesis_hash:
        return CertificateRejection(CertificateFault.WRONG_GENESIS,
                                    "the genesis ledger info does not match the trusted waypoint")
    return None


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A trust anchor: the genesis hash of the chain (compute_genesis_hash)."""

    genesis_hash: bytes

    @classmethod
    def from_hex(cls, text: str) -> Waypoint:
        """Parse a 64-hex-character genesis hash; raise DecodeError otherwise."""
        try:
            value = bytes.fromhex(text.strip().lower().removeprefix("0x"))
        except ValueError:
            raise DecodeError(f"waypoint {text!r} is not hex") from None
        if len(value) != HASH_LENGTH:
            raise DecodeError(f"waypoint must be {HASH_LENGTH} bytes")
        return cls(value)


@dataclass(frozen=True, slots=True)
class TrustedState:
    """What a client trusts: the epoch, its validator set, and the newest verified ledger info."""

    chain_id: int
    epoch: int
    validators: ValidatorSet | None  # None until the genesis ledger info matched the waypoint
    waypoint: Waypoint | None
    latest: LedgerInfo | None
    verified: frozenset[LedgerInfo] = frozenset()  # epoch-ending infos already proven (genesis included)

    @classmethod
    def from_waypoint(cls, waypoint: Waypoint, chain_id: int) -> TrustedState:
        """Trust only the genesis hash; the first epoch-change proof must start with the genesis info."""
        return cls(chain_id, GENESIS_LEDGER_INFO_EPOCH, None, waypoint, None)

    @classmethod
    def from_validators(cls, epoch: int, validators: ValidatorSet, chain_id: int) -> TrustedState:
        """Trust a validator set for epoch (e.g. the genesis set read from the genesis file)."""
        return cls(chain_id, epoch, validators, None, None)

    def verify_and_ratchet(self, proof: EpochChangeProof, certificate: LedgerInfoWithSignatures,
                           scheme: SignatureScheme = DEFAULT_SCHEME) -> TrustedState | CertificateRejection:
        """Follow proof, verify certificate in the epoch it reaches; return the new trusted state or why not."""
        info = certificate.ledger_info
        if self.validators is None and info.epoch == GENESIS_LEDGER_INFO_EPOCH and not proof.ledger_infos:
            proof = EpochChangeProof((certificate,), False)  # a fresh chain: the latest info is the genesis one
        genesis_hash = None if self.waypoint is None else self.waypoint.genesis_hash
        change = follow_epoch_change_proof(proof, self.epoch, self.validators, scheme, self.chain_id, genesis_hash)
        if isinstance(change, CertificateRejection):
            return change
        verified = self.verified | frozenset(change.verified)
        if info not in verified:
            if info.epoch != change.epoch:
                return CertificateRejection(CertificateFault.WRONG_EPOCH, f"ledger info of epoch {info.epoch} "
                                            f"while the proofs reach epoch {change.epoch}")
            rejection = check_ledger_info_signatures(certificate, change.validators, scheme, self.chain_id)
            if rejection is not None:
                return rejection
        latest = info if self.latest is None or info.version >= self.latest.version else self.latest
        return TrustedState(self.chain_id, change.epoch, change.validators, self.waypoint, latest, verified)
