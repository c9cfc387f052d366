"""Garbage from an authenticated peer is counted and dropped; the node keeps committing."""

from __future__ import annotations

from consensus.types import CommitVote, CommitVoteMsg, to_wire
from node.runtime.catchup import CatchUpRequest, CatchUpResponse, encode_request, encode_response
from node.runtime.wire import (
    CHANNEL_CATCHUP_REQUEST,
    CHANNEL_CATCHUP_RESPONSE,
    CHANNEL_CONSENSUS,
    CHANNEL_TRANSACTION,
    encode_envelope,
)
from primitives.certified.ledger_info import LedgerInfo
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.codec import pack
from tests.node.runtime.harness import Cluster, make_transfer


def make_invariant_breaking_message() -> bytes:
    """A commit vote whose next validator set repeats one member (ValidatorSet refuses to exist)."""
    member = ValidatorInfo(b"\x01" * 16, b"\x02" * 32, b"\x03" * 32, 1)
    info = LedgerInfo(1, 1, b"\x00" * 32, 1, 1, b"\x00" * 32, b"\x00" * 32, ValidatorSet((member,)))
    plain = to_wire(CommitVoteMsg(CommitVote(info, b"\x01" * 16, b"\x00" * 64)))
    members = plain[1][0][0][7][0]
    members.append(list(members[0]))
    return pack(plain)


GARBAGE = [
    b"",
    b"\xff\x00garbage",
    encode_envelope(99, b"x"),
    encode_envelope(CHANNEL_CONSENSUS, b"\x93\x01"),
    encode_envelope(CHANNEL_CONSENSUS, pack([1, [1, 2, 3]])),
    encode_envelope(CHANNEL_CONSENSUS, make_invariant_breaking_message()),
    encode_envelope(CHANNEL_TRANSACTION, b"\x00\x01"),
    encode_envelope(CHANNEL_CATCHUP_RESPONSE, b"\xc0"),
    encode_envelope(CHANNEL_CATCHUP_REQUEST, encode_request(CatchUpRequest(1, 2**64 - 1, 10))),
    encode_envelope(CHANNEL_CATCHUP_RESPONSE, encode_response(CatchUpResponse((), None))),
]


def test_garbage_is_dropped_and_the_chain_goes_on() -> None:
    cluster = Cluster()
    cluster.start()
    addresses = list(cluster.nodes)
    target = cluster.get_runtime(addresses[0])
    for data in GARBAGE:
        assert target.process_peer_data(addresses[1], data) == []
    assert target.rejected_messages >= len(GARBAGE) - 4  # empty responses, bad txns, bad requests: silence
    result = cluster.submit(addresses[2], make_transfer(0))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(result.txn_hash))
