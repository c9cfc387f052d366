"""Items 11 and 13, from a peer holding a validator key: far-future rounds and epochs move nothing, and every
failure in handling a message is contained to that message (dropped, counted, its sender penalised)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consensus import events as ev
from consensus.core import step
from consensus.types import BlockRetrievalResponse, SignedTimeout, SyncInfo, Timeout, TimeoutMsg, VoteMsg, encode_message, make_genesis_qc
from consensus.verify import FUTURE_ROUND_WINDOW, RejectReason, Rejection, verify_message
from node.runtime.catchup import CatchUpRequest
from node.runtime.catchup_limits import CATCHUP_RESPONSE_CACHE_ENTRIES, CatchUpServeLimiter
from node.runtime.containment import PEER_FAILURES_MAX, PEER_PENALTY_USECS, PEER_REFUSALS_PER_WINDOW_MAX
from node.runtime.wire import CHANNEL_CONSENSUS, encode_envelope
from primitives.errors import InvariantViolation
from tests.consensus.harness import make_address
from tests.consensus.test_equivocation import Ed25519Chain, make_core
from tests.node.runtime.harness import Cluster, make_transfer

U64_MAX = 2**64 - 1


def test_a_vote_or_timeout_beyond_the_round_window_is_rejected_before_it_is_stored() -> None:
    chain = Ed25519Chain()
    state = make_core(chain, 0)
    sync = SyncInfo(chain.genesis_qc, None, None, None)
    author = 1
    for round_, expected in ((1, None), (FUTURE_ROUND_WINDOW, None), (FUTURE_ROUND_WINDOW + 1, RejectReason.UNJUSTIFIED_ROUND),
                            (10**6, RejectReason.UNJUSTIFIED_ROUND)):
        block = chain.make_block(round_, chain.genesis_qc, author)
        vote = verify_message(VoteMsg(chain.vote(author, block), sync), make_address(author), state.get_verify_context())
        timeout = verify_message(TimeoutMsg(chain.make_timeout(author, round_, chain.genesis_qc), sync),
                                 make_address(author), state.get_verify_context())
        for verified in (vote, timeout):
            assert (verified.reason if isinstance(verified, Rejection) else None) == expected, round_


def test_a_claimed_epoch_of_2_64_minus_1_never_convinces_a_node_it_is_behind() -> None:
    cluster = Cluster()
    cluster.start()
    addresses = list(cluster.nodes)
    target, mallory = cluster.get_runtime(addresses[0]), addresses[1]
    # A timeout claiming the last epoch: refused FUTURE_EPOCH before any signature is checked.
    genesis_qc = make_genesis_qc(target.state.epoch_state.genesis_block)
    timeout = TimeoutMsg(SignedTimeout(Timeout(U64_MAX, 5, genesis_qc), mallory, b"\x00" * 64),
                         SyncInfo(genesis_qc, None, None, None))
    assert target.process_peer_data(mallory, encode_envelope(CHANNEL_CONSENSUS, encode_message(timeout))) == []
    position = target.get_committed_position()
    assert target.catchup.highest_seen_commit is None or target.catchup.highest_seen_commit[0] < U64_MAX
    assert not target.catchup.is_behind(position) and not target.catchup.is_far_behind(position)
    result = cluster.submit(addresses[2], make_transfer(0))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(result.txn_hash)), "block retrieval still works"


def test_a_failure_in_handling_one_message_is_contained_counted_and_penalised() -> None:
    cluster = Cluster()
    cluster.start()
    addresses = list(cluster.nodes)
    target, mallory = cluster.get_runtime(addresses[0]), addresses[1]
    handle = target.process_consensus_message
    calls = {"count": 0}

    def failing(sender: bytes, message: object) -> list:
        calls["count"] += 1
        if sender == mallory:
            raise KeyError("a bug this message reaches")
        return handle(sender, message)

    target.process_consensus_message = failing  # type: ignore[method-assign]
    vote_like = make_vote_bytes(cluster, addresses)
    rejected = target.rejected_messages
    for _ in range(PEER_FAILURES_MAX):
        assert target.process_peer_data(mallory, vote_like) == []
    assert target.peer_guard.failed_messages == PEER_FAILURES_MAX and target.rejected_messages == rejected + PEER_FAILURES_MAX
    assert target.peer_guard.is_penalised(mallory), "a sender whose messages keep failing is ignored for a while"
    count = calls["count"]
    target.process_peer_data(mallory, vote_like)
    assert calls["count"] == count, "while penalised its messages are dropped unread"
    cluster.clock.now_usecs += PEER_PENALTY_USECS
    assert not target.peer_guard.is_penalised(mallory)
    target.process_consensus_message = handle  # type: ignore[method-assign]
    result = cluster.submit(addresses[2], make_transfer(0))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(result.txn_hash)), "the node never stopped"


def test_a_broken_bft_assumption_still_stops_the_node() -> None:
    cluster = Cluster()
    cluster.start()
    addresses = list(cluster.nodes)
    target = cluster.get_runtime(addresses[0])

    def broken(sender: bytes, message: object) -> list:
        raise InvariantViolation("conflicting blocks ordered")

    target.process_consensus_message = broken  # type: ignore[method-assign]
    with pytest.raises(InvariantViolation):
        target.process_peer_data(addresses[1], make_vote_bytes(cluster, addresses))


def make_vote_bytes(cluster: Cluster, addresses: list[bytes]) -> bytes:
    """Bytes of a well-formed consensus message (a timeout of round 1) that decode fine."""
    target = cluster.get_runtime(addresses[0])
    genesis_qc = make_genesis_qc(target.state.epoch_state.genesis_block)
    timeout = TimeoutMsg(SignedTimeout(Timeout(target.state.epoch_state.epoch, 1, genesis_qc), addresses[1], b"\x00" * 64),
                         SyncInfo(genesis_qc, None, None, None))
    return encode_envelope(CHANNEL_CONSENSUS, encode_message(timeout))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_consensus_messages_never_fail_verification_or_the_core_step(data: st.DataObject) -> None:
    cluster = FUZZ_CLUSTER.get()
    addresses = list(cluster.nodes)
    target = cluster.get_runtime(addresses[0])
    original = bytearray(make_vote_bytes(cluster, addresses))
    for _ in range(data.draw(st.integers(1, 8))):
        index = data.draw(st.integers(0, len(original) - 1))
        original[index] = data.draw(st.integers(0, 255))
    failed = target.peer_guard.failed_messages
    target.process_peer_data(addresses[1], bytes(original))
    assert target.peer_guard.failed_messages == failed, "decoding, verification and the step answer, never raise"


class _LazyCluster:
    def __init__(self) -> None:
        self.cluster: Cluster | None = None

    def get(self) -> Cluster:
        if self.cluster is None:
            self.cluster = Cluster()
            self.cluster.start()
        return self.cluster


FUZZ_CLUSTER = _LazyCluster()


def test_an_unsolicited_block_retrieval_response_persists_nothing_and_a_requested_one_is_inserted() -> None:
    chain = Ed25519Chain()
    leader = chain.leader(1)
    receiver = next(index for index in range(4) if index != leader)
    state = make_core(chain, receiver)
    block = chain.make_block(1, chain.genesis_qc, leader)
    response = BlockRetrievalResponse(0, (block,))
    verified = verify_message(response, make_address(leader), state.get_verify_context())
    after, effects = step(state, verified)
    assert not any(isinstance(effect, ev.PersistBlock) for effect in effects) and not after.tree.is_known(block.id)
    state.requested_blocks = frozenset({block.id})  # now we asked for it (a QC named it)
    after, effects = step(state, verified)
    assert any(isinstance(effect, ev.PersistBlock) for effect in effects) and after.tree.is_known(block.id)


def test_catch_up_requests_varying_one_field_are_served_within_a_block_budget_and_repeats_from_the_cache() -> None:
    limiter = CatchUpServeLimiter(blocks_per_s=100, burst_blocks=200)
    mallory, honest = b"\x0b" * 16, b"\x0c" * 16
    now = 1_000_000
    served = []
    for _ in range(6):
        served.append(limiter.is_allowed(mallory, now))
        if served[-1]:
            limiter.charge(mallory, 64, now)  # each fresh response read 64 blocks
    assert served == [True, True, True, True, False, False], "served while in budget, then refused"
    assert limiter.is_allowed(honest, now), "each peer has its own budget"
    assert limiter.is_allowed(mallory, now + 1_000_000), "the budget refills at its rate"
    limiter.keep(("epoch", 1, 64), b"response")
    assert limiter.get_cached(("epoch", 1, 64)) == b"response"
    for index in range(CATCHUP_RESPONSE_CACHE_ENTRIES + 1):
        limiter.keep(index, b"x")
    assert limiter.get_cached(("epoch", 1, 64)) is None, "the cache is bounded"


def test_a_peer_flooding_catch_up_requests_gets_answers_only_within_its_budget() -> None:
    cluster = Cluster()
    cluster.start()
    addresses = list(cluster.nodes)
    result = cluster.submit(addresses[0], make_transfer(0))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(result.txn_hash))
    helper = cluster.get_runtime(addresses[0])
    epoch = helper.state.epoch_state.epoch
    helper.catchup.serve_limits = CatchUpServeLimiter(blocks_per_s=10, burst_blocks=20)
    answered = sum(bool(helper.catchup.process_request(addresses[1], CatchUpRequest(epoch, 0, count), epoch))
                   for count in range(1, 200))
    assert answered < 199 and helper.catchup.serve_limits.refused > 0
    again = helper.catchup.process_request(addresses[2], CatchUpRequest(epoch, 0, 5), epoch)
    assert again, "another peer is still served (from the cache: same request)"


def test_a_peer_flooding_refused_messages_is_ignored_for_a_while_and_others_are_not() -> None:
    cluster = FUZZ_CLUSTER.get()
    addresses = list(cluster.nodes)
    target, mallory, honest = cluster.get_runtime(addresses[0]), addresses[1], addresses[2]
    garbage = encode_envelope(CHANNEL_CONSENSUS, b"\x93\x01")
    for _ in range(PEER_REFUSALS_PER_WINDOW_MAX + 1):
        target.process_peer_data(mallory, garbage)
    assert target.peer_guard.is_penalised(mallory)
    assert not target.peer_guard.is_penalised(honest)
    cluster.clock.now_usecs += PEER_PENALTY_USECS
    assert not target.peer_guard.is_penalised(mallory), "the penalty ends"
