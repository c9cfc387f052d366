"""The block id rule: a block id hashes a header that commits to the QC and the payload through digests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from consensus.wire import DOMAIN_PREFIX, compute_hash
from primitives.hashing import hash_with_salt, sha3_256

if TYPE_CHECKING:  # consensus.types imports this module; the values are only read by attribute
    from consensus.types import BlockData, QuorumCertificate

# Each hash has its own domain (after consensus.wire.DOMAIN_PREFIX). The header is small and of constant size
# whatever the payload and the validator count, so two signed proposals fit in an evidence transaction.
BLOCK_ID_DOMAIN = "Block"
BLOCK_QUORUM_CERT_DOMAIN = "BlockQuorumCert"
BLOCK_PAYLOAD_DOMAIN = "BlockPayload"
BLOCK_FAILED_AUTHORS_DOMAIN = "BlockFailedAuthors"


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
