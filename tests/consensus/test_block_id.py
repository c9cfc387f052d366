"""The block id rule: an id hashes a header that commits to the QC and payload by digest ([EVIDENCE-1], ADR 0006)."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensus.election import get_weighted_leader
from consensus.types import ProposalMsg, SyncInfo, make_genesis_block
from consensus.verify import RejectReason, Rejection, VerifyContext, verify_message
from contracts.framework import evidence as framework_evidence
from primitives.certified.blocks import (
    BlockData,
    BlockHeader,
    BlockInfo,
    QuorumCertificate,
    VoteData,
    compute_block_header,
    compute_block_id,
    compute_header_id,
)
from primitives.certified.domains import PROPOSAL_DOMAIN, compute_signing_bytes
from primitives.certified.plain import from_plain, to_plain
from primitives.certified.signatures import InsecureHashScheme
from primitives.codec import pack, unpack
from tests.consensus.builders import Chain
from tests.consensus.harness import CHAIN_ID, make_address

# The rule restated with hashlib and msgpack only (as a wallet or another implementation would write it).
GENESIS_EPOCH_1_BLOCK_ID_HEX = "e7c0553ff7f72e5f9d7da7c2093e0bee516b35784d97a81f01019560eb9bd2e5"
HEADER_MAX_BYTES = 200  # 3 u64 + 16-byte author + four 32-byte hashes, in msgpack


def sha3(*parts: bytes) -> bytes:
    return hashlib.sha3_256(b"".join(parts)).digest()


def salt(domain: str) -> bytes:
    return sha3(b"DIEM::stablechain::consensus::" + domain.encode())


def restate_block_id(data: BlockData) -> bytes:
    payload_digest = sha3(salt("BlockPayload"), *(sha3(entry) for entry in data.payload))
    qc_digest = sha3(salt("BlockQuorumCert"), msgpack.packb(to_plain(data.quorum_cert), use_bin_type=True))
    failed = [[round_, author] for round_, author in data.failed_authors]
    failed_digest = sha3(salt("BlockFailedAuthors"), msgpack.packb(failed, use_bin_type=True))
    header = [data.epoch, data.round, data.timestamp_usecs, data.author, data.parent_id, qc_digest, payload_digest,
              failed_digest]
    return sha3(salt("Block"), msgpack.packb(header, use_bin_type=True))


U64 = st.integers(0, 2**64 - 1)
HASHES = st.binary(min_size=32, max_size=32)
BLOCK_INFOS = st.builds(BlockInfo, U64, U64, HASHES, U64)
QCS = st.builds(QuorumCertificate, st.builds(VoteData, BLOCK_INFOS, BLOCK_INFOS),
                st.lists(st.tuples(st.binary(min_size=16, max_size=16), st.binary(min_size=64, max_size=64)),
                         max_size=8).map(tuple))
FAILED_AUTHORS = st.lists(st.tuples(U64, st.binary(min_size=16, max_size=16)), max_size=10).map(tuple)
BLOCK_DATAS = st.builds(BlockData, U64, U64, U64, st.binary(min_size=16, max_size=16), HASHES, st.none() | QCS,
                        st.lists(st.binary(max_size=64), max_size=12).map(tuple), FAILED_AUTHORS)


@settings(max_examples=150, deadline=None)
@given(data=BLOCK_DATAS, chain_id=st.integers(0, 255))
def test_the_framework_recomputes_consensus_block_id_from_the_header(data, chain_id):
    # Pre-state: any block data. Action: encode its header as the node does, read it as the Evidence module does.
    header_bytes = pack(to_plain(compute_block_header(data)))
    # Post-state: the framework's signed message is exactly what the leader signed for this block id.
    signed = compute_signing_bytes(PROPOSAL_DOMAIN, chain_id, compute_block_id(data))
    assert framework_evidence.read_proposal(header_bytes, chain_id) == (data.epoch, data.round, data.author, signed)
    assert compute_header_id(from_plain(BlockHeader, unpack(header_bytes))) == compute_block_id(data)
    assert compute_block_id(data) == restate_block_id(data)
    assert len(header_bytes) <= HEADER_MAX_BYTES


@settings(max_examples=100, deadline=None)
@given(first=BLOCK_DATAS, second=BLOCK_DATAS)
def test_different_block_data_have_different_ids_and_headers(first, second):
    if first != second:
        assert compute_block_id(first) != compute_block_id(second)
        assert compute_block_header(first) != compute_block_header(second)


BASE = BlockData(2, 5, 7_000, b"\x01" * 16, b"\x02" * 32,
                 QuorumCertificate(VoteData(BlockInfo(2, 4, b"\x02" * 32, 6_000), BlockInfo(2, 3, b"\x03" * 32, 5_000)),
                                   ((b"\x04" * 16, b"\x05" * 64),)),
                 (b"ab", b"c"))
CHANGES = {
    "epoch": {"epoch": 3},
    "round": {"round": 6},
    "timestamp": {"timestamp_usecs": 7_001},
    "author": {"author": b"\x09" * 16},
    "parent": {"parent_id": b"\x09" * 32},
    "qc_signature": {"quorum_cert": replace(BASE.quorum_cert, signatures=((b"\x04" * 16, b"\x06" * 64),))},
    "no_qc": {"quorum_cert": None},
    "entry_split": {"payload": (b"a", b"b", b"c")},
    "entries_joined": {"payload": (b"abc",)},
    "entries_reordered": {"payload": (b"c", b"ab")},
    "entry_dropped": {"payload": (b"ab",)},
    "empty_entry_added": {"payload": (b"ab", b"c", b"")},
    "no_payload": {"payload": ()},
    "failed_author_added": {"failed_authors": ((4, b"\x09" * 16),)},
}


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_every_field_and_every_payload_entry_is_bound_by_the_id(field):
    changed = replace(BASE, **CHANGES[field])
    assert compute_block_id(changed) != compute_block_id(BASE)
    assert compute_block_id(changed) == restate_block_id(changed)


def test_the_header_is_small_whatever_the_payload_and_the_qc():
    info = BlockInfo(2**63, 2**63, b"\x07" * 32, 2**63)
    big_qc = QuorumCertificate(VoteData(info, info), tuple((bytes([i]) * 16, b"\x08" * 64) for i in range(100)))
    big = replace(BASE, quorum_cert=big_qc, payload=tuple(b"%04d" % i * 100 for i in range(500)))
    assert len(pack(to_plain(big))) > 200_000
    assert len(pack(to_plain(compute_block_header(big)))) <= HEADER_MAX_BYTES


def test_the_genesis_block_id_is_pinned():
    genesis = make_genesis_block(1)
    assert genesis.id.hex() == GENESIS_EPOCH_1_BLOCK_ID_HEX == restate_block_id(genesis.data).hex()


def test_a_block_whose_qc_was_swapped_after_signing_is_refused_at_the_edge():
    chain = Chain()
    context = VerifyContext(chain.epoch_state, InsecureHashScheme(), CHAIN_ID)
    author = [make_address(i) for i in range(4)].index(get_weighted_leader(chain.validators, chain.epoch, 1))
    block = chain.make_block(1, chain.genesis_qc, author)
    sync = SyncInfo(chain.genesis_qc, None, None, None)
    assert not isinstance(verify_message(ProposalMsg(block, sync), make_address(author), context), Rejection)
    other_qc = replace(chain.genesis_qc, signatures=((make_address(0), b"\x00" * 32),))
    swapped = replace(block, data=replace(block.data, quorum_cert=other_qc))  # same id and signature
    rejection = verify_message(ProposalMsg(swapped, sync), make_address(author), context)
    assert isinstance(rejection, Rejection) and rejection.reason == RejectReason.BAD_BLOCK_ID
