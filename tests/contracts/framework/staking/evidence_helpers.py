"""Real consensus messages (signed with consensus's own signing bytes) to build evidence from."""

from __future__ import annotations

from consensus.types import TimeoutSigningRepr
from primitives.certified.blocks import (
    BlockData,
    BlockInfo,
    QuorumCertificate,
    VoteData,
    compute_block_header,
    compute_block_id,
)
from primitives.certified.domains import PROPOSAL_DOMAIN, TIMEOUT_DOMAIN, VOTE_DOMAIN, compute_signing_bytes
from primitives.certified.plain import to_plain
from primitives.codec import pack
from primitives.keys import PrivateKey
from primitives.types.transactions import TransactionPayload
from wallet.validator import compose_equivocation_evidence

CHAIN_ID = 2


def signed_vote(key: PrivateKey, epoch: int, round_number: int, block_id: bytes,
                chain_id: int = CHAIN_ID) -> tuple[bytes, bytes]:
    """Return (msgpack VoteData, signature) for a vote on block_id at (epoch, round)."""
    data = VoteData(BlockInfo(epoch, round_number, block_id, 1_000 + round_number),
                    BlockInfo(epoch, round_number - 1, b"\x00" * 32, 999 + round_number))
    return pack(to_plain(data)), key.sign(compute_signing_bytes(VOTE_DOMAIN, chain_id, data))


def make_block_data(author: bytes, epoch: int, round_number: int, payload: tuple[bytes, ...],
                    quorum_cert: QuorumCertificate | None = None) -> BlockData:
    """Return the data of a proposal at (epoch, round) by author."""
    return BlockData(epoch, round_number, 5_000 + round_number, author, b"\x11" * 32, quorum_cert, payload)


def sign_block_data(key: PrivateKey, data: BlockData, chain_id: int = CHAIN_ID) -> bytes:
    """Return key's proposal signature over the id of data, as consensus signs it."""
    return key.sign(compute_signing_bytes(PROPOSAL_DOMAIN, chain_id, compute_block_id(data)))


def encode_header(data: BlockData) -> bytes:
    """Return the evidence form of a proposal: the canonical msgpack of its block header."""
    return pack(to_plain(compute_block_header(data)))


def signed_proposal(key: PrivateKey, author: bytes, epoch: int, round_number: int, payload: tuple[bytes, ...],
                    quorum_cert: QuorumCertificate | None = None) -> tuple[bytes, bytes]:
    """Return (msgpack BlockHeader, signature over its block id) for a proposal at (epoch, round)."""
    data = make_block_data(author, epoch, round_number, payload, quorum_cert)
    return encode_header(data), sign_block_data(key, data)


def signed_timeout(key: PrivateKey, epoch: int, round_number: int, hqc_round: int) -> tuple[bytes, bytes]:
    """Return (msgpack TimeoutSigningRepr, signature) of a timeout."""
    repr_ = TimeoutSigningRepr(epoch, round_number, hqc_round)
    return pack(to_plain(repr_)), key.sign(compute_signing_bytes(TIMEOUT_DOMAIN, CHAIN_ID, repr_))


def evidence_payload(kind: int, author: bytes, first: tuple[bytes, bytes], second: tuple[bytes, bytes]) -> TransactionPayload:
    """A submit_equivocation_evidence payload (built by the operator SDK, as a node's detector would)."""
    return compose_equivocation_evidence(kind, author, first[0], first[1], second[0], second[1])
