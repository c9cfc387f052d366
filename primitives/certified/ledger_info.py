"""Certified ledger points: LedgerInfo, its commit certificate, epoch-change proofs, and their wire bytes."""

from __future__ import annotations

from dataclasses import dataclass

from primitives.certified.domains import COMMIT_VOTE_DOMAIN, GENESIS_LEDGER_INFO_SALT, compute_signing_bytes
from primitives.certified.plain import from_plain, to_plain
from primitives.certified.rejections import CertificateRejection
from primitives.certified.signatures import SignatureScheme
from primitives.certified.validators import ValidatorSet, check_signatures, check_signers
from primitives.codec import pack, unpack
from primitives.hashing import hash_with_salt

# The genesis ledger info ends "epoch 0" (unsigned, trusted by its hash) and announces epoch 1's validators.
GENESIS_LEDGER_INFO_EPOCH = 0
# An epoch-change proof holds at most this many epoch-ending ledger infos (one page of the proof API).
MAX_EPOCH_PROOF_LENGTH = 100
LEDGER_INFO = "ledger info"


@dataclass(frozen=True, slots=True)
class LedgerInfo:
    """An executed, certified ledger point: block identity plus execution results."""

    epoch: int
    round: int
    block_id: bytes
    timestamp_usecs: int
    version: int
    state_root: bytes
    accumulator_root: bytes
    next_validator_set: ValidatorSet | None

    def is_epoch_ending(self) -> bool:
        """Return True iff this ledger info hands over to a new validator set."""
        return self.next_validator_set is not None


@dataclass(frozen=True, slots=True)
class LedgerInfoWithSignatures:
    """A commit certificate: a LedgerInfo signed by more than 2/3 of its epoch's power, sorted by author."""

    ledger_info: LedgerInfo
    signatures: tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class EpochChangeProof:
    """Epoch-ending ledger infos in order; each is signed by the set the previous one announced."""

    ledger_infos: tuple[LedgerInfoWithSignatures, ...]
    more: bool


def compute_commit_signing_bytes(info: LedgerInfo, chain_id: int) -> bytes:
    """Return the 32 bytes each validator signs for a commit vote on info."""
    return compute_signing_bytes(COMMIT_VOTE_DOMAIN, chain_id, info)


def check_ledger_info_signatures(certificate: LedgerInfoWithSignatures, validators: ValidatorSet,
                                 scheme: SignatureScheme, chain_id: int) -> CertificateRejection | None:
    """Return why more than 2/3 of validators' power did not sign the ledger info, or None when they did."""
    rejection = check_signers(validators, [author for author, _ in certificate.signatures], LEDGER_INFO)
    if rejection is not None:
        return rejection
    message = compute_commit_signing_bytes(certificate.ledger_info, chain_id)
    return check_signatures(validators, certificate.signatures, message, scheme, LEDGER_INFO)


def encode_ledger_info(certificate: LedgerInfoWithSignatures) -> bytes:
    """Return the stored and served bytes of a (possibly unsigned) ledger info: canonical msgpack of its plain form."""
    return pack(to_plain(certificate))


def decode_ledger_info(data: bytes) -> LedgerInfoWithSignatures:
    """Rebuild a ledger info with signatures, raising DecodeError on malformed bytes."""
    return from_plain(LedgerInfoWithSignatures, unpack(data))


def encode_epoch_change_proof(proof: EpochChangeProof) -> bytes:
    """Return the served bytes of an epoch-change proof."""
    return pack(to_plain(proof))


def decode_epoch_change_proof(data: bytes) -> EpochChangeProof:
    """Rebuild an epoch-change proof, raising DecodeError on malformed bytes."""
    return from_plain(EpochChangeProof, unpack(data))


def compute_genesis_hash(genesis: LedgerInfoWithSignatures) -> bytes:
    """Return a chain's identity (its waypoint): hash_with_salt("GenesisLedgerInfo", bytes of the genesis info)."""
    return hash_with_salt(GENESIS_LEDGER_INFO_SALT, encode_ledger_info(genesis))
