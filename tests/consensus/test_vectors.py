"""Pinned encodings: signing bytes and ids must not drift (wallets re-implement them without consensus)."""

from __future__ import annotations

from consensus.types import make_genesis_block
from primitives.certified.domains import COMMIT_VOTE_DOMAIN, compute_signing_bytes
from primitives.certified.ledger_info import LedgerInfo
from tests.consensus.harness import make_validators

# sha3(salt("stablechain::consensus::sign::CommitVote") || chain_id u8 || msgpack(plain ledger info)); the set's
# members carry their network addresses since ADR 0013.
COMMIT_VOTE_SIGNING_BYTES_HEX = "4b88fdf3891fde4fe72d7d76a793a93029eb26f13e9d43663985a94253f63068"
GENESIS_EPOCH_1_BLOCK_ID_HEX = "e7c0553ff7f72e5f9d7da7c2093e0bee516b35784d97a81f01019560eb9bd2e5"


def test_commit_vote_signing_bytes_are_pinned():
    info = LedgerInfo(1, 7, b"\x11" * 32, 123456, 42, b"\x22" * 32, b"\x33" * 32, make_validators([1, 2]))
    assert compute_signing_bytes(COMMIT_VOTE_DOMAIN, 2, info).hex() == COMMIT_VOTE_SIGNING_BYTES_HEX
    assert compute_signing_bytes(COMMIT_VOTE_DOMAIN, 3, info).hex() != COMMIT_VOTE_SIGNING_BYTES_HEX


def test_genesis_block_id_is_pinned():
    assert make_genesis_block(1).id.hex() == GENESIS_EPOCH_1_BLOCK_ID_HEX
