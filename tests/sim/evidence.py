"""Equivocation evidence in the simulator: a report becomes a payload transaction, checked as the framework does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from consensus.events import ReportEquivocation
from contracts.framework.evidence import KIND_DOUBLE_PROPOSAL, KIND_DOUBLE_VOTE, read_proposal, read_vote
from contracts.framework.staking import BPS_DENOMINATOR, StakingParams
from contracts.vm.errors import MoveAbort
from primitives.certified.blocks import BlockData, compute_block_header
from primitives.certified.plain import to_plain
from primitives.certified.validators import ValidatorSet
from primitives.codec import pack, unpack
from primitives.errors import DecodeError
from primitives.keys import is_valid_signature

# A payload transaction that starts with this carries evidence (the stand-in for the node's
# StakingScripts::submit_equivocation_evidence transaction).
EVIDENCE_TRANSACTION_PREFIX = b"sim-evidence:"
EVIDENCE_FIELDS = 6
# The framework's default share of a slashed validator's stake that is burned.
SLASH_BPS = StakingParams().slash_bps


@dataclass(frozen=True, slots=True)
class Evidence:
    """The arguments of submit_equivocation_evidence: kind, author, both msgpack halves and signatures."""

    kind: int
    author: bytes
    data_a: bytes
    signature_a: bytes
    data_b: bytes
    signature_b: bytes


@dataclass(frozen=True, slots=True)
class Slash:
    """A verified equivocation executed in a block: who, where, and the stake burned."""

    author: bytes
    epoch: int
    round: int
    kind: int
    amount: int
    block_id: bytes


def encode_evidence_transaction(report: ReportEquivocation) -> bytes:
    """Return the payload transaction for a core's report: both halves as canonical msgpack, as a node sends them."""
    plain = [report.kind, report.author, encode_signed_half(report.first), report.first_signature,
             encode_signed_half(report.second), report.second_signature]
    return EVIDENCE_TRANSACTION_PREFIX + pack(plain)


def encode_signed_half(value: object) -> bytes:
    """Return canonical msgpack of what was signed: VoteData, or a block header (the block id hashes it)."""
    if isinstance(value, BlockData):
        value = compute_block_header(value)  # a report may carry the whole block; the framework reads its header
    return pack(to_plain(value))


def decode_evidence_transaction(transaction: bytes) -> Evidence | None:
    """Return the evidence a payload transaction carries, or None for any other (or malformed) transaction."""
    if not transaction.startswith(EVIDENCE_TRANSACTION_PREFIX):
        return None
    try:
        plain = unpack(transaction[len(EVIDENCE_TRANSACTION_PREFIX):])
    except DecodeError:
        return None
    if not (isinstance(plain, list) and len(plain) == EVIDENCE_FIELDS and type(plain[0]) is int
            and all(isinstance(field, bytes) for field in plain[1:])):
        return None
    return Evidence(*plain)


def verify_evidence(evidence: Evidence, chain_id: int,
                    validators_of_epoch: Mapping[int, ValidatorSet]) -> tuple[int, int] | None:
    """Return (epoch, round) when the framework would accept the evidence: conflicting, one round, both signed."""
    try:
        if evidence.kind == KIND_DOUBLE_VOTE:
            epoch_a, round_a, message_a = read_vote(evidence.data_a, chain_id)
            epoch_b, round_b, message_b = read_vote(evidence.data_b, chain_id)
            is_authors_match = True  # a vote names no author: the key below binds it
        elif evidence.kind == KIND_DOUBLE_PROPOSAL:
            epoch_a, round_a, author_a, message_a = read_proposal(evidence.data_a, chain_id)
            epoch_b, round_b, author_b, message_b = read_proposal(evidence.data_b, chain_id)
            is_authors_match = author_a == author_b == evidence.author
        else:
            return None
    except MoveAbort:
        return None  # EMALFORMED
    if evidence.data_a == evidence.data_b or (epoch_a, round_a) != (epoch_b, round_b) or not is_authors_match:
        return None  # ENOT_CONFLICTING
    validators = validators_of_epoch.get(epoch_a)
    member = validators.get_member(evidence.author) if validators is not None else None
    if member is None:
        return None  # ENOT_A_VALIDATOR (or an epoch this chain never had)
    key = member.consensus_public_key
    if not (is_valid_signature(key, message_a, evidence.signature_a)
            and is_valid_signature(key, message_b, evidence.signature_b)):
        return None  # EINVALID_SIGNATURE: strict Ed25519, so fake test signatures never pass
    return epoch_a, round_a


def compute_slash_amount(stake: int) -> int:
    """Return the stake burned for one equivocation (rounded down, as the framework does)."""
    return stake * SLASH_BPS // BPS_DENOMINATOR
