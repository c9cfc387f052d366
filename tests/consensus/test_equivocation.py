"""[EVIDENCE-1] Scenarios: a core that sees two signed votes or proposals of one round by one author reports it once."""

from __future__ import annotations

from dataclasses import replace

from consensus import events as ev
from consensus.core import make_initial_state, step
from consensus.election import get_weighted_leader
from consensus.epoch import _reset_to_epoch, make_genesis_epoch_state
from consensus.equivocation import EVIDENCE_ROUND_WINDOW
from consensus.state import CoreConfig, Work
from consensus.types import (
    Block,
    BlockRetrievalResponse,
    ProposalMsg,
    SyncInfo,
    TimeoutMsg,
    Vote,
    VoteMsg,
    make_genesis_qc,
)
from consensus.verify import Rejection, verify_message
from contracts.framework import evidence as framework_evidence
from primitives.certified.blocks import compute_block_header, compute_block_id
from primitives.certified.domains import PROPOSAL_DOMAIN, VOTE_DOMAIN, compute_signing_bytes
from primitives.certified.plain import to_plain
from primitives.certified.signatures import Ed25519Scheme, Ed25519Signer
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.codec import pack
from primitives.keys import PrivateKey, is_valid_signature
from tests.consensus.builders import Chain
from tests.consensus.harness import CHAIN_ID, Cluster, make_address

KEYS = [PrivateKey.from_seed_material(f"equivocation-test-{index}".encode()) for index in range(4)]


class Ed25519Chain(Chain):
    """The builders' chain, signed with real Ed25519 keys (the only scheme the framework accepts)."""

    def __init__(self) -> None:
        super().__init__([1, 1, 1, 1])
        self.validators = ValidatorSet.create([
            ValidatorInfo(make_address(i), key.public_key().data, key.public_key().data, 1) for i, key in enumerate(KEYS)])
        self.epoch_state = make_genesis_epoch_state(self.validators)
        self.genesis = self.epoch_state.genesis_block
        self.genesis_qc = make_genesis_qc(self.genesis)

    def signer(self, index: int) -> Ed25519Signer:  # type: ignore[override]
        return Ed25519Signer(KEYS[index])

    def vote(self, index: int, block: Block) -> Vote:
        """Return validator index's signed vote for block."""
        qc = self.make_qc(block, [index])
        return Vote(qc.vote_data, make_address(index), qc.signatures[0][1])

    def leader(self, round_: int) -> int:
        return [make_address(i) for i in range(4)].index(get_weighted_leader(self.validators, self.epoch, round_))


def make_core(chain: Ed25519Chain, index: int):
    config = CoreConfig(make_address(index), Ed25519Signer(KEYS[index]), Ed25519Scheme(), CHAIN_ID)
    state, _ = step(make_initial_state(config, chain.epoch_state), ev.Start())
    return state


def deliver(state, message, sender: int):
    """Verify at the edge as the runtime does, then step the core; return (state, effects)."""
    verified = verify_message(message, make_address(sender), state.get_verify_context())
    assert not isinstance(verified, Rejection), verified
    return step(state, verified)


def reports(effects) -> list[ev.ReportEquivocation]:
    return [effect for effect in effects if isinstance(effect, ev.ReportEquivocation)]


def genesis_sync(chain: Chain) -> SyncInfo:
    return SyncInfo(chain.genesis_qc, None, None, None)


def two_blocks(chain: Ed25519Chain, round_: int = 1) -> tuple[Block, Block]:
    author = chain.leader(round_)
    return (chain.make_block(round_, chain.genesis_qc, author, (b"a",)),
            chain.make_block(round_, chain.genesis_qc, author, (b"b",)))


def voter_other_than(chain: Ed25519Chain, *excluded: int) -> int:
    return next(i for i in range(4) if i not in excluded)


# --- votes ---------------------------------------------------------------------------------------


def test_a_double_vote_is_reported_once_with_both_signed_halves_and_counts_once():
    chain = Ed25519Chain()
    state = make_core(chain, 0)
    block_a, block_b = two_blocks(chain)
    voter = voter_other_than(chain, 0)
    first, second = chain.vote(voter, block_a), chain.vote(voter, block_b)
    state, effects = deliver(state, VoteMsg(first, genesis_sync(chain)), voter)
    assert reports(effects) == []
    state, effects = deliver(state, VoteMsg(second, genesis_sync(chain)), voter)
    assert reports(effects) == [ev.ReportEquivocation(ev.EQUIVOCATION_KIND_VOTE, make_address(voter), chain.epoch, 1,
                                                      first.vote_data, first.signature,
                                                      second.vote_data, second.signature)]
    assert make_address(voter) not in state.votes.get(second.vote_data, {})  # the second vote still does not count
    third = chain.vote(voter, chain.make_block(1, chain.genesis_qc, chain.leader(1), (b"c",)))
    for again in (second, third):
        state, effects = deliver(state, VoteMsg(again, genesis_sync(chain)), voter)
        assert reports(effects) == []  # one report per (epoch, round, author)


def test_an_identical_duplicate_vote_is_no_evidence():
    chain = Ed25519Chain()
    state = make_core(chain, 0)
    block_a, _ = two_blocks(chain)
    voter = voter_other_than(chain, 0)
    vote = chain.vote(voter, block_a)
    for _ in range(3):
        state, effects = deliver(state, VoteMsg(vote, genesis_sync(chain)), voter)
        assert reports(effects) == []
    assert state.reported_equivocations == frozenset()


def test_the_reported_vote_halves_verify_under_the_authors_key_and_decode_for_the_framework():
    chain = Ed25519Chain()
    state = make_core(chain, 0)
    block_a, block_b = two_blocks(chain)
    voter = voter_other_than(chain, 0)
    state, _ = deliver(state, VoteMsg(chain.vote(voter, block_a), genesis_sync(chain)), voter)
    _, effects = deliver(state, VoteMsg(chain.vote(voter, block_b), genesis_sync(chain)), voter)
    [report] = reports(effects)
    public_key = KEYS[voter].public_key().data
    for data, signature in ((report.first, report.first_signature), (report.second, report.second_signature)):
        message = compute_signing_bytes(VOTE_DOMAIN, CHAIN_ID, data)
        assert is_valid_signature(public_key, message, signature)
        # The Evidence module re-derives the same signed bytes from the msgpack the node will submit.
        assert framework_evidence.read_vote(pack(to_plain(data)), CHAIN_ID) == (chain.epoch, 1, message)


def test_a_late_second_vote_after_the_qc_formed_is_still_reported():
    chain = Ed25519Chain()
    collector = chain.leader(2)  # the next leader aggregates the round-1 votes
    state = make_core(chain, collector)
    block_a, block_b = two_blocks(chain)
    helper = voter_other_than(chain, collector)
    state.requested_blocks = frozenset({block_a.id})  # the collector asked for block_a ([SYNC-8])
    state, _ = deliver(state, BlockRetrievalResponse(0, (block_a,)), helper)  # the collector knows block_a
    voters = []
    for voter in (i for i in range(4) if i != collector):
        if state.highest_qc.round == 0:
            state, _ = deliver(state, VoteMsg(chain.vote(voter, block_a), genesis_sync(chain)), voter)
            voters.append(voter)
    assert state.highest_qc.round == 1 and state.current_round == 2  # the QC for block_a formed
    late = chain.vote(voters[0], block_b)
    _, effects = deliver(state, VoteMsg(late, genesis_sync(chain)), voters[0])
    assert [(r.kind, r.author, r.round) for r in reports(effects)] == [
        (ev.EQUIVOCATION_KIND_VOTE, make_address(voters[0]), 1)]


# --- timeouts ------------------------------------------------------------------------------------


def test_two_timeouts_for_one_round_with_different_high_qcs_are_no_evidence():
    chain = Ed25519Chain()
    state = make_core(chain, 0)
    block, _ = two_blocks(chain)
    qc1 = chain.make_qc(block)
    author = voter_other_than(chain, 0)

    for high_qc in (chain.genesis_qc, qc1):
        timeout = chain.make_timeout(author, 2, high_qc)
        state, effects = deliver(state, TimeoutMsg(timeout, genesis_sync(chain)), author)
        assert reports(effects) == []
    assert state.reported_equivocations == frozenset()


# --- proposals -----------------------------------------------------------------------------------


def test_a_double_proposal_is_reported_once_and_its_halves_verify():
    chain = Ed25519Chain()
    leader = chain.leader(1)
    state = make_core(chain, voter_other_than(chain, leader))
    block_a, block_b = two_blocks(chain)
    state, effects = deliver(state, ProposalMsg(block_a, genesis_sync(chain)), leader)
    assert reports(effects) == []
    state, effects = deliver(state, ProposalMsg(block_b, genesis_sync(chain)), leader)
    assert reports(effects) == [ev.ReportEquivocation(ev.EQUIVOCATION_KIND_PROPOSAL, make_address(leader), chain.epoch,
                                                      1, block_a.data, block_a.signature,
                                                      block_b.data, block_b.signature)]
    [report] = reports(effects)
    for data, signature in ((report.first, report.first_signature), (report.second, report.second_signature)):
        message = compute_signing_bytes(PROPOSAL_DOMAIN, CHAIN_ID, compute_block_id(data))
        assert is_valid_signature(KEYS[leader].public_key().data, message, signature)
        # The node submits the header (QC and payload as digests); the Evidence module re-derives the signed id.
        assert framework_evidence.read_proposal(pack(to_plain(compute_block_header(data))), CHAIN_ID) == (
            chain.epoch, 1, make_address(leader), message)
    block_c = chain.make_block(1, chain.genesis_qc, leader, (b"c",))
    for again in (block_a, block_b, block_c):
        state, effects = deliver(state, ProposalMsg(again, genesis_sync(chain)), leader)
        assert reports(effects) == []


def test_the_same_proposal_twice_is_no_evidence():
    chain = Ed25519Chain()
    leader = chain.leader(1)
    state = make_core(chain, voter_other_than(chain, leader))
    block_a, _ = two_blocks(chain)
    for _ in range(2):
        state, effects = deliver(state, ProposalMsg(block_a, genesis_sync(chain)), leader)
        assert reports(effects) == []


def test_a_conflicting_block_in_a_retrieval_response_is_reported():
    chain = Ed25519Chain()
    leader = chain.leader(1)
    peer = voter_other_than(chain, leader)
    state = make_core(chain, voter_other_than(chain, leader, peer))
    block_a, block_b = two_blocks(chain)
    state, _ = deliver(state, ProposalMsg(block_a, genesis_sync(chain)), leader)
    _, effects = deliver(state, BlockRetrievalResponse(0, (block_b,)), peer)
    assert [(r.kind, r.author, r.second) for r in reports(effects)] == [
        (ev.EQUIVOCATION_KIND_PROPOSAL, make_address(leader), block_b.data)]


def test_a_block_with_a_forged_signature_never_reaches_the_detector():
    chain = Ed25519Chain()
    leader = chain.leader(1)
    state = make_core(chain, voter_other_than(chain, leader))
    block_a, block_b = two_blocks(chain)
    state, _ = deliver(state, ProposalMsg(block_a, genesis_sync(chain)), leader)
    forged = replace(block_b, signature=block_a.signature)
    assert isinstance(verify_message(ProposalMsg(forged, genesis_sync(chain)), make_address(leader),
                                     state.get_verify_context()), Rejection)


# --- bounds and honest runs ------------------------------------------------------------------------


def test_an_honest_cluster_reports_nothing_and_remembers_a_bounded_window(monkeypatch):
    from tests.consensus import harness

    seen: list = []

    def recording_step(state, event):  # noqa: ANN001
        new_state, effects = step(state, event)
        seen.extend(reports(effects))
        return new_state, effects

    monkeypatch.setattr(harness, "step", recording_step)
    cluster = Cluster([1, 1, 1, 1])
    cluster.start()
    cluster.run(max_messages=3_000)
    for _ in range(3):  # timeouts re-sign rounds: still no evidence
        cluster.fire_timeouts()
        cluster.run(max_messages=300)
    assert seen == []
    for node in cluster.nodes:
        assert node.state.current_round > 2 * EVIDENCE_ROUND_WINDOW
        rounds = {round_ for round_, _ in node.state.first_proposals}
        # pruned lazily at each insertion: at most 2 * window + 1 consecutive rounds, one block per (round, author)
        assert rounds and max(rounds) - min(rounds) <= 2 * EVIDENCE_ROUND_WINDOW
        assert len(node.state.first_proposals) <= (2 * EVIDENCE_ROUND_WINDOW + 1) * len(cluster.nodes)


def test_a_new_epoch_forgets_what_it_remembered():
    chain = Ed25519Chain()
    leader = chain.leader(1)
    state = make_core(chain, voter_other_than(chain, leader))
    block_a, block_b = two_blocks(chain)
    state, _ = deliver(state, ProposalMsg(block_a, genesis_sync(chain)), leader)
    state, _ = deliver(state, ProposalMsg(block_b, genesis_sync(chain)), leader)
    assert state.first_proposals and state.reported_equivocations
    work = Work(state.copy())
    _reset_to_epoch(work, replace(chain.epoch_state, epoch=chain.epoch + 1))
    assert work.state.first_proposals == {} and work.state.reported_equivocations == frozenset()
    assert state.first_proposals  # step() and copy() never change their input

