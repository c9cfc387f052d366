"""Scenarios for equivocation evidence: genuine double votes and proposals are slashed once; the rest is refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contracts.framework import evidence
from primitives.certified.plain import to_plain
from primitives.certified.blocks import BlockInfo, QuorumCertificate, VoteData, compute_block_header
from primitives.codec import pack, unpack
from primitives.limits import MAX_TRANSACTION_SIZE_BYTES
from tests.contracts.framework.staking.evidence_helpers import (
    encode_header, evidence_payload, make_block_data, sign_block_data, signed_proposal, signed_timeout, signed_vote,
)
from tests.contracts.framework.staking.helpers import (
    DD, DD_KEY, PARAMS, abort_of, assert_executed, consensus_key, events_of, make_staking_chain, staking_events, u64,
    vec,
)

VOTE, PROPOSAL = evidence.KIND_DOUBLE_VOTE, evidence.KIND_DOUBLE_PROPOSAL
STAKE_V1 = 3_000_000


@pytest.fixture()
def chain():
    return make_staking_chain()


def v1(chain):
    return chain.validators["v1"][1], consensus_key("v1")


def double_vote(chain, round_number: int = 7, epoch: int | None = None):
    address, key = v1(chain)
    epoch = chain.epoch() if epoch is None else epoch
    return address, signed_vote(key, epoch, round_number, b"\xaa" * 32), signed_vote(key, epoch, round_number,
                                                                                       b"\xbb" * 32)


def submit(chain, kind, author, first, second):
    return chain.submit(DD_KEY, evidence_payload(kind, author, first, second), sender=DD)


def test_a_double_vote_burns_the_slash_fraction_and_removes_the_validator_next_epoch(chain):
    address, first, second = double_vote(chain)
    supply = chain.total_xus([])["supply"]
    out = submit(chain, VOTE, address, first, second)
    assert_executed(out)
    slashed = STAKE_V1 * PARAMS.slash_bps // 10_000
    pool = chain.pool(address)
    assert (pool.active.value, pool.tombstoned) == (STAKE_V1 - slashed, True)
    assert chain.total_xus([])["supply"] == supply - slashed
    names = [name for name, _ in events_of(out)]
    assert names == ["Diem::PreburnEvent", "Diem::BurnEvent", "Evidence::EquivocationEvidenceEvent",
                     "Evidence::SlashEvent"]
    assert staking_events(out) == [
        ("Evidence::EquivocationEvidenceEvent", {"validator": address, "kind": VOTE, "epoch": chain.epoch(),
                                                 "round": 7, "submitter": DD}),
        ("Evidence::SlashEvent", {"validator": address, "amount": slashed, "epoch": chain.epoch()}),
    ]
    assert address in [a for a, _ in chain.system_set()]  # still a member until the boundary, which is next
    boundary = chain.run()
    assert address not in [a for a, _ in chain.system_set()]
    assert ("Staking::ValidatorSetChangeEvent", {"validator": address, "joined": False, "reason": 3,
                                                 "epoch": chain.epoch()}) in staking_events(boundary)


def test_the_same_equivocation_slashes_only_once_in_any_order(chain):
    epoch = chain.epoch()
    address, first, second = double_vote(chain)
    assert_executed(submit(chain, VOTE, address, first, second))
    assert abort_of(submit(chain, VOTE, address, first, second)) == ("Evidence", 6 + 7 * 256)  # EALREADY_USED
    assert abort_of(submit(chain, VOTE, address, second, first)) == ("Evidence", 6 + 7 * 256)
    _, third, fourth = double_vote(chain, round_number=8, epoch=epoch)
    assert abort_of(submit(chain, VOTE, address, third, fourth)) == ("Evidence", 1 + 9 * 256)  # EALREADY_SLASHED


def test_a_double_proposal_is_evidence(chain):
    address, key = v1(chain)
    first = signed_proposal(key, address, chain.epoch(), 4, (b"tx-a",))
    second = signed_proposal(key, address, chain.epoch(), 4, (b"tx-b",))
    out = submit(chain, PROPOSAL, address, first, second)
    assert_executed(out)
    assert staking_events(out)[0][1]["kind"] == PROPOSAL and chain.pool(address).tombstoned


def make_qc(validators: int) -> QuorumCertificate:
    """A parent QC signed by every one of validators (the framework never opens it: the header has its digest)."""
    info = BlockInfo(1, 3, b"\x22" * 32, 4_003)
    return QuorumCertificate(VoteData(info, info), tuple((bytes([i % 256]) * 16, b"\x33" * 64)
                                                         for i in range(validators)))


def test_a_double_proposal_of_full_blocks_under_a_100_validator_qc_fits_one_transaction_and_slashes(chain):
    address, key = v1(chain)
    qc = make_qc(100)
    first = signed_proposal(key, address, chain.epoch(), 4, tuple(b"a%04d" % i * 60 for i in range(500)), qc)
    second = signed_proposal(key, address, chain.epoch(), 4, tuple(b"b%04d" % i * 60 for i in range(500)), qc)
    payload = evidence_payload(PROPOSAL, address, first, second)
    # Two headers of 182 bytes, whatever the 2 x 150 KB of payload and the 100 signatures of the QC.
    assert len(first[0]) == len(second[0]) < 200 and len(payload.to_bcs()) < MAX_TRANSACTION_SIZE_BYTES // 4
    out = chain.submit(DD_KEY, payload, sender=DD)
    assert_executed(out)
    assert staking_events(out)[0][1] == {"validator": address, "kind": PROPOSAL, "epoch": chain.epoch(), "round": 4,
                                         "submitter": DD}
    assert chain.pool(address).tombstoned


def tamper_header(header: bytes, index: int, value: object) -> bytes:
    plain = unpack(header)
    plain[index] = value
    return pack(plain)


# Each forgery keeps the genuine signature of block B but changes what the header says B is.
FORGED_HEADERS = {
    "other_payload": lambda data, header: encode_header(replace(data, payload=(b"tx-c",))),
    "other_qc": lambda data, header: encode_header(replace(data, quorum_cert=make_qc(4))),
    "other_timestamp": lambda data, header: tamper_header(header, 2, data.timestamp_usecs + 1),
    "other_parent": lambda data, header: tamper_header(header, 4, b"\x12" * 32),
    "digest_swap": lambda data, header: tamper_header(tamper_header(header, 5, unpack(header)[6]), 6,
                                                      unpack(header)[5]),
}
MALFORMED_HEADERS = {
    "whole_block_data": lambda data, header: pack(to_plain(data)),
    "vote_data": lambda data, header: pack(to_plain(VoteData(BlockInfo(1, 4, b"\x00" * 32, 1),
                                                             BlockInfo(1, 3, b"\x00" * 32, 0)))),
    "eight_fields": lambda data, header: pack(unpack(header) + [b""]),
    "six_fields": lambda data, header: pack(unpack(header)[:6]),
    "short_author": lambda data, header: tamper_header(header, 3, data.author[:15]),
    "short_payload_digest": lambda data, header: tamper_header(header, 6, unpack(header)[6][:31]),
    "long_qc_digest": lambda data, header: tamper_header(header, 5, unpack(header)[5] + b"\x00"),
    "short_parent": lambda data, header: tamper_header(header, 4, b"\x11" * 31),
    "bool_round": lambda data, header: tamper_header(header, 1, True),
    "str_author": lambda data, header: tamper_header(header, 3, "a" * 16),
    "payload_list_as_digest": lambda data, header: tamper_header(header, 6, [b"tx-b"]),
    "not_a_list": lambda data, header: pack({"epoch": data.epoch}),
}


@pytest.mark.parametrize("case", sorted(FORGED_HEADERS) + sorted(MALFORMED_HEADERS))
def test_a_header_that_is_not_exactly_what_was_signed_is_refused(chain, case):
    address, key = v1(chain)
    first = signed_proposal(key, address, chain.epoch(), 4, (b"tx-a",))
    data = make_block_data(address, chain.epoch(), 4, (b"tx-b",))
    header, signature = encode_header(data), sign_block_data(key, data)
    forged = (FORGED_HEADERS.get(case) or MALFORMED_HEADERS[case])(data, header)
    assert forged != header
    expected = ("Evidence", 7 + 4 * 256) if case in FORGED_HEADERS else ("Evidence", 7 + 2 * 256)
    assert abort_of(submit(chain, PROPOSAL, address, first, (forged, signature))) == expected
    assert not chain.pool(address).tombstoned
    assert_executed(submit(chain, PROPOSAL, address, first, (header, signature)))  # the genuine header is evidence


def test_the_framework_reads_the_header_consensus_signs():
    data = make_block_data(b"\x07" * 16, 3, 9, (b"x", b"y"), make_qc(4))
    header = compute_block_header(data)
    assert evidence.read_proposal(encode_header(data), 2)[:3] == (3, 9, b"\x07" * 16)
    assert unpack(encode_header(data)) == [3, 9, data.timestamp_usecs, data.author, data.parent_id,
                                           header.quorum_cert_digest, header.payload_digest,
                                           header.failed_authors_digest]


def test_proposals_by_another_author_than_named_are_not_conflicting(chain):
    address, key = v1(chain)
    other = chain.validators["v2"][1]
    first = signed_proposal(key, other, chain.epoch(), 4, (b"a",))
    second = signed_proposal(key, other, chain.epoch(), 4, (b"b",))
    assert abort_of(submit(chain, PROPOSAL, address, first, second)) == ("Evidence", 7 + 3 * 256)


def test_two_timeouts_with_different_highest_qc_rounds_are_not_evidence(chain):
    address, key = v1(chain)
    first, second = signed_timeout(key, chain.epoch(), 9, 5), signed_timeout(key, chain.epoch(), 9, 7)
    assert abort_of(submit(chain, VOTE, address, first, second)) == ("Evidence", 7 + 2 * 256)  # EMALFORMED
    assert abort_of(submit(chain, 2, address, first, second)) == ("Evidence", 7 + 1 * 256)  # EUNKNOWN_KIND
    assert not chain.pool(address).tombstoned


@pytest.mark.parametrize("case", ["forged", "other_chain", "same_vote", "other_round", "not_member", "future",
                                  "malformed"])
def test_fake_evidence_is_refused(chain, case):
    address, key = v1(chain)
    epoch = chain.epoch()
    first = signed_vote(key, epoch, 7, b"\xaa" * 32)
    second = signed_vote(key, epoch, 7, b"\xbb" * 32)
    author = address
    if case == "forged":
        second = signed_vote(consensus_key("v2"), epoch, 7, b"\xbb" * 32)
        expected = ("Evidence", 7 + 4 * 256)
    elif case == "other_chain":
        second = signed_vote(key, epoch, 7, b"\xbb" * 32, chain_id=3)
        expected = ("Evidence", 7 + 4 * 256)
    elif case == "same_vote":
        second = first
        expected = ("Evidence", 7 + 3 * 256)
    elif case == "other_round":
        second = signed_vote(key, epoch, 8, b"\xbb" * 32)
        expected = ("Evidence", 7 + 3 * 256)
    elif case == "not_member":
        author = DD
        expected = ("Evidence", 7 + 6 * 256)
    elif case == "future":
        first, second = signed_vote(key, epoch + 1, 7, b"\xaa" * 32), signed_vote(key, epoch + 1, 7, b"\xbb" * 32)
        expected = ("Evidence", 7 + 8 * 256)
    else:
        first = (first[0] + b"\x00", first[1])
        expected = ("Evidence", 7 + 2 * 256)
    assert abort_of(submit(chain, VOTE, author, first, second)) == expected
    assert not chain.pool(address).tombstoned and chain.pool(address).active.value == STAKE_V1


def test_stale_evidence_is_refused_after_the_maximum_age(chain):
    address, first, second = double_vote(chain)
    chain.next_epoch()  # the offence's epoch ends at this block's time
    ended = chain.time_us
    chain.run(advance_us=PARAMS.max_evidence_age_us)
    assert chain.time_us + 1_000_000 - ended > PARAMS.max_evidence_age_us  # the submission's block is too late
    assert abort_of(submit(chain, VOTE, address, first, second)) == ("Evidence", 1 + 5 * 256)  # EEXPIRED
    assert not chain.pool(address).tombstoned


def test_evidence_about_a_past_epoch_uses_that_epochs_key(chain):
    address, first, second = double_vote(chain)
    key, _ = chain.validators["v1"]
    assert_executed(chain.op(key, "rotate_consensus_key", vec(consensus_key("v1-new").public_key().data)))
    chain.next_epoch()
    assert chain.pool(address).consensus_public_key == consensus_key("v1-new").public_key().data
    assert_executed(submit(chain, VOTE, address, first, second))


def test_unbonding_stake_is_still_slashed_within_the_evidence_age(chain):
    op_key, op = chain.new_operator("op-e")
    assert_executed(chain.register(op_key, "op-e"))
    assert_executed(chain.op(op_key, "add_stake", u64(2_000_000)))
    assert_executed(chain.op(op_key, "join_validator_set"))
    chain.run()
    epoch = chain.epoch()
    first = signed_vote(consensus_key("op-e"), epoch, 3, b"\xaa" * 32)
    second = signed_vote(consensus_key("op-e"), epoch, 3, b"\xbb" * 32)
    assert_executed(chain.op(op_key, "unlock_stake", u64(2_000_000)))
    assert_executed(chain.op(op_key, "leave_validator_set"))
    chain.run()  # the boundary: everything unbonds and the operator is out
    assert chain.pool(op).unbonding.value == 2_000_000 and chain.epoch() == epoch + 1
    chain.run(advance_us=PARAMS.max_evidence_age_us - 2_000_000)
    assert abort_of(chain.op(op_key, "withdraw_stake")) == ("Staking", 1 + 14 * 256)
    out = submit(chain, VOTE, op, first, second)
    assert_executed(out)
    assert chain.pool(op).unbonding.value == 2_000_000 - 200_000 == sum(chain.pool(op).unbonding_amounts)
