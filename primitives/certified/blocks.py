"""What votes and block ids commit to: block info, vote data, quorum certificates, block data and headers.

The block id rule: a block id hashes a header that commits to the QC, the payload and the failed authors
through 32-byte digests, so a header (and the evidence built from two of them) has a constant size.
"""

from __future__ import annotations

from dataclasses import dataclass

from primitives.certified.domains import (
    BLOCK_FAILED_AUTHORS_DOMAIN,
    BLOCK_ID_DOMAIN,
    BLOCK_PAYLOAD_DOMAIN,
    BLOCK_QUORUM_CERT_DOMAIN,
    DOMAIN_PREFIX,
    compute_hash,
)
from primitives.hashing import HASH_LENGTH, hash_with_salt, sha3_256

GENESIS_ROUND = 0
ADDRESS_BYTES = 16


@dataclass(frozen=True, slots=True)
class BlockInfo:
    """The ordering identity of a block: epoch, round, id and proposer timestamp."""

    epoch: int
    round: int
    id: bytes
    timestamp_usecs: int


@dataclass(frozen=True, slots=True)
class VoteData:
    """What a vote certifies: the proposed block and its parent (both ordering-only)."""

    proposed: BlockInfo
    parent: BlockInfo

    def get_ordered_block(self) -> BlockInfo | None:
        """Return the parent when the two rounds are consecutive (2-chain rule [COMMIT-1]), else None."""
        if self.proposed.round > GENESIS_ROUND and self.proposed.round == self.parent.round + 1:
            return self.parent
        return None


@dataclass(frozen=True, slots=True)
class QuorumCertificate:
    """Votes of more than 2/3 of power on one VoteData; signatures sorted by author."""

    vote_data: VoteData
    signatures: tuple[tuple[bytes, bytes], ...]

    @property
    def certified_block(self) -> BlockInfo:
        """Return the block this QC certifies."""
        return self.vote_data.proposed

    @property
    def round(self) -> int:
        """Return the certified block's round."""
        return self.vote_data.proposed.round

    @property
    def epoch(self) -> int:
        """Return the certified block's epoch."""
        return self.vote_data.proposed.epoch


@dataclass(frozen=True, slots=True)
class BlockData:
    """The signed content of a block; parent_id is the previous epoch's last block for genesis."""

    epoch: int
    round: int
    timestamp_usecs: int
    author: bytes
    parent_id: bytes
    quorum_cert: QuorumCertificate | None
    payload: tuple[bytes, ...]
    # [ELECT-4] (round, elected leader) of the rounds skipped between the QC and this block: failed proposals
    failed_authors: tuple[tuple[int, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """What a block id hashes: BlockData with its QC and payload replaced by their 32-byte digests."""

    epoch: int
    round: int
    timestamp_usecs: int
    author: bytes
    parent_id: bytes
    quorum_cert_digest: bytes
    payload_digest: bytes
    failed_authors_digest: bytes

    def is_well_formed(self) -> bool:
        """Return True iff the author is an address and every digest a hash (a block id never hashes less)."""
        digests = (self.parent_id, self.quorum_cert_digest, self.payload_digest, self.failed_authors_digest)
        return len(self.author) == ADDRESS_BYTES and all(len(digest) == HASH_LENGTH for digest in digests)


def compute_payload_digest(payload: tuple[bytes, ...]) -> bytes:
    """Return sha3(salt(BlockPayload) || sha3(entry) for each entry, in order), the payload's commitment."""
    # Fixed-length entry hashes make the concatenation unambiguous: ("ab",) and ("a", "b") differ.
    return hash_with_salt(DOMAIN_PREFIX + BLOCK_PAYLOAD_DOMAIN, b"".join(sha3_256(entry) for entry in payload))


def compute_quorum_cert_digest(quorum_cert: QuorumCertificate | None) -> bytes:
    """Return sha3(salt(BlockQuorumCert) || msgpack(qc)); a missing QC (genesis) is msgpack nil."""
    return compute_hash(BLOCK_QUORUM_CERT_DOMAIN, quorum_cert)


def compute_failed_authors_digest(failed_authors: tuple[tuple[int, bytes], ...]) -> bytes:
    """Return sha3(salt(BlockFailedAuthors) || msgpack(failed_authors)), the commitment to the skipped leaders."""
    return compute_hash(BLOCK_FAILED_AUTHORS_DOMAIN, failed_authors)


def compute_block_header(data: BlockData) -> BlockHeader:
    """Return the header of block data: every field, with the QC, the payload and the failed authors as digests."""
    return BlockHeader(data.epoch, data.round, data.timestamp_usecs, data.author, data.parent_id,
                       compute_quorum_cert_digest(data.quorum_cert), compute_payload_digest(data.payload),
                       compute_failed_authors_digest(data.failed_authors))


def compute_header_id(header: BlockHeader) -> bytes:
    """Return the id of the block a header describes: sha3(salt(Block) || msgpack(header))."""
    return compute_hash(BLOCK_ID_DOMAIN, header)


def compute_block_id(data: BlockData) -> bytes:
    """Return the id of block data: the id of its header."""
    return compute_header_id(compute_block_header(data))
