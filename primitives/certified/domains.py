"""Every signing and hashing domain of certified values, and the two rules that apply them."""

from __future__ import annotations

from primitives.certified.plain import to_plain
from primitives.codec import pack, signing_bytes
from primitives.hashing import hash_with_salt, sha3_256

# Every signed or hashed certified value is salted with its own domain (never reused across types).
DOMAIN_PREFIX = "stablechain::consensus::"
# Signed values: the salt is DOMAIN_PREFIX + "sign::" + one of these.
VOTE_DOMAIN = "Vote"
TIMEOUT_DOMAIN = "Timeout"
PROPOSAL_DOMAIN = "Proposal"
COMMIT_VOTE_DOMAIN = "CommitVote"
# Hashed values: the salt is DOMAIN_PREFIX + one of these. The block header is small and of constant size
# whatever the payload and the validator count, so two signed proposals fit in an evidence transaction.
BLOCK_ID_DOMAIN = "Block"
BLOCK_QUORUM_CERT_DOMAIN = "BlockQuorumCert"
BLOCK_PAYLOAD_DOMAIN = "BlockPayload"
BLOCK_FAILED_AUTHORS_DOMAIN = "BlockFailedAuthors"
# A chain's identity (its waypoint) hashes the genesis ledger info under this salt, without DOMAIN_PREFIX.
GENESIS_LEDGER_INFO_SALT = "GenesisLedgerInfo"


def compute_hash(domain: str, value: object) -> bytes:
    """Return sha3(salt(domain) || canonical msgpack(value)), the id of a certified value."""
    return hash_with_salt(DOMAIN_PREFIX + domain, pack(to_plain(value)))


def compute_signing_bytes(domain: str, chain_id: int, value: object) -> bytes:
    """Return the 32 bytes a validator signs: sha3 of salt(domain) || chain id || canonical msgpack."""
    return sha3_256(signing_bytes(DOMAIN_PREFIX + "sign::" + domain, chain_id, to_plain(value)))
