"""The consensus core: step(state, event) -> (state, effects), deterministic and free of I/O."""

from __future__ import annotations

from consensus import events as ev
from consensus.commit import process_block_executed, process_commit_vote
from consensus.election import compute_failed_authors
from consensus.epoch import make_genesis_epoch_state, process_epoch_change_proof, process_epoch_retrieval
from consensus.equivocation import check_proposal, check_vote
from consensus.ordering import send_for_execution
from consensus.pacemaker import compute_round_timeout_ms
from consensus.recovery import recover
from consensus.retrieval import process_block_retrieval
from consensus.rounds import advance_round, enter_epoch_round, request_payload_if_leader
from consensus.safety import Refusal
from consensus.state import CoreConfig, CoreState, Work, make_initial_state
from consensus.sync import insert_block, insert_qc, insert_tc, process_retrieved_blocks, process_sync_info
from consensus.types import (
    Block,
    CommitVoteMsg,
    ProposalMsg,
    SignedTimeout,
    SyncInfo,
    SyncInfoMsg,
    Timeout,
    TimeoutCertificate,
    TimeoutMsg,
    VoteMsg,
)
from primitives.certified.blocks import BlockData, QuorumCertificate, VoteData

# Back-pressure: past this many ordered-but-uncommitted rounds, leaders propose empty blocks.
MAX_UNCOMMITTED_ORDERED_ROUNDS = 20

__all__ = ["CoreConfig", "CoreState", "make_initial_state", "make_genesis_epoch_state", "recover", "step"]


def step(state: CoreState, event: ev.Event) -> tuple[CoreState, tuple[ev.Effect, ...]]:
    """Apply one event to a copy of state; return the new state and the effects, in order."""
    work = Work(state.copy())
    handler = _HANDLERS.get(type(event))
    if handler is not None:
        handler(work, event)
    work.persist_sync_info_if_changed()
    return work.state, tuple(work.effects)


# --- local events -----------------------------------------------------------------------------


def on_start(work: Work, event: ev.Start) -> None:
    """Replay known certificates (after recovery), re-send ordered blocks, and enter the round."""
    state = work.state
    work.emit(ev.PersistSafety(state.safety))  # recovery may have reset it for a newer epoch
    for block in sorted(state.tree.blocks.values(), key=lambda candidate: candidate.round):
        if block.quorum_cert is not None:
            insert_qc(work, block.quorum_cert, state.config.author)
    process_sync_info(work, state.get_sync_info(), state.config.author)
    send_for_execution(work)
    state.proposed_round = min(state.proposed_round, state.safety.last_voted_round)
    round_before = max(state.current_round, 1)
    state.current_round = round_before
    advance_round(work)
    if state.current_round == round_before:
        enter_epoch_round(work)  # advance_round did not (re-)enter the round: arm its timer now


def on_payload_ready(work: Work, event: ev.PayloadReady) -> None:
    """[PROPOSE-1] As leader of the current round, propose a block on our highest QC."""
    state = work.state
    if (event.epoch, event.round) != (state.epoch_state.epoch, state.current_round):
        return
    if state.get_leader(event.round) != state.config.author or not state.is_validator():
        return
    parent = state.highest_qc.certified_block
    timestamp_usecs = max(event.timestamp_usecs, parent.timestamp_usecs + 1)
    payload = event.payload if is_payload_allowed(state) else ()
    failed_authors = compute_failed_authors(state.get_leader, state.highest_qc.round, event.round)
    data = BlockData(state.epoch_state.epoch, event.round, timestamp_usecs, state.config.author, parent.id,
                     state.highest_qc, payload, failed_authors)
    block = state.config.safety_rules.sign_proposal(state.safety, data, state.get_signing_context())
    if isinstance(block, Refusal) or not state.tree.is_insertable(block):
        return
    insert_block(work, block)
    # [PROPOSE-3] the leader votes for its own block (persisting) before the proposal leaves; a
    # block its own rules refuse to vote for is never sent.
    vote_msg = _vote_for(work, block)
    if vote_msg is None:
        return
    work.emit(ev.Broadcast(ProposalMsg(block, state.get_sync_info())))
    _broadcast_vote(work, vote_msg)


def is_payload_allowed(state: CoreState) -> bool:
    """[PROPOSE-5] Propose empty blocks once the epoch is known to end, or when commits lag far behind."""
    if any(info.is_epoch_ending() for info in state.executed.values()):
        return False  # blocks after the reconfiguration are discarded anyway
    backlog_rounds = state.tree.get_ordered().round - state.tree.get_root().round
    return backlog_rounds <= MAX_UNCOMMITTED_ORDERED_ROUNDS


def on_local_timeout(work: Work, event: ev.LocalTimeout) -> None:
    """[TIMEOUT-6] Time out the current round: sign, persist, broadcast; re-arm to re-broadcast later."""
    state = work.state
    if (event.epoch, event.round) != (state.epoch_state.epoch, state.current_round) or not state.is_validator():
        return
    state.pending_qcs = {}  # lost fetches are retried from the next certificates we see
    state.requested_blocks = frozenset()
    _send_timeout(work, event.round)
    if state.current_round == event.round:
        duration_ms = compute_round_timeout_ms(state.config.pacemaker, event.round, state.tree.get_ordered().round)
        work.emit(ev.ScheduleTimeout(event.epoch, event.round, duration_ms))
    if state.last_commit_vote is not None:
        work.emit(ev.Broadcast(CommitVoteMsg(state.last_commit_vote)))


def _send_timeout(work: Work, round_: int) -> None:
    state = work.state
    tc = state.highest_tc if state.highest_tc is not None and state.highest_tc.round == round_ - 1 else None
    timeout = Timeout(state.epoch_state.epoch, round_, state.highest_qc)
    signed = state.config.safety_rules.sign_timeout(state.safety, timeout, tc, state.get_signing_context())
    if isinstance(signed, Refusal):
        return
    state.safety, signed_timeout = signed
    work.emit(ev.PersistSafety(state.safety))
    work.emit(ev.Broadcast(TimeoutMsg(signed_timeout, state.get_sync_info())))
    _add_timeout(work, signed_timeout)


# --- messages ---------------------------------------------------------------------------------


def on_proposal(work: Work, event: ev.VerifiedProposal) -> None:
    """[VOTE-5] Catch up with the proposal's certificates, then vote if it is for our current round."""
    state = work.state
    block = event.message.block
    check_proposal(work, block)  # [EVIDENCE-1] before the round filter: a late second proposal is evidence too
    _process_sync_and_reply(work, event.message.sync_info, event.sender, block.round)
    if block.round >= state.current_round and not state.tree.is_insertable(block) and not state.tree.is_known(block.id):
        # [SYNC-6] its parent is being fetched (the sync info asked for it): vote once it arrives, or a node
        # that fell behind would fetch one block per round forever and never vote again.
        if state.pending_proposal is None or block.round >= state.pending_proposal.round:
            state.pending_proposal = block
        return
    _vote_for_proposal(work, block)


def _vote_for_proposal(work: Work, block: Block) -> None:
    """[VOTE-5] Insert and vote for a proposal of our current round whose parent we hold."""
    state = work.state
    if block.round != state.current_round or not state.tree.is_insertable(block):
        return
    insert_block(work, block)
    vote_msg = _vote_for(work, block)
    if vote_msg is not None:
        _broadcast_vote(work, vote_msg)


def _vote_for(work: Work, block: Block) -> VoteMsg | None:
    """[PERSIST-1] Ask the safety rules for a vote; persist the new safety data before anything is sent."""
    state = work.state
    if not state.is_validator():
        return None
    tc = state.highest_tc if state.highest_tc is not None and state.highest_tc.round == block.round - 1 else None
    signed = state.config.safety_rules.construct_and_sign_vote(state.safety, block, tc, state.get_signing_context())
    if isinstance(signed, Refusal):
        return None
    state.safety, vote = signed
    work.emit(ev.PersistSafety(state.safety))
    return VoteMsg(vote, state.get_sync_info())


def _broadcast_vote(work: Work, vote_msg: VoteMsg) -> None:
    """[VOTE-6] Votes go to every validator: each forms the QC, so a dead next leader costs only its own round."""
    work.emit(ev.Broadcast(vote_msg))
    _add_vote(work, vote_msg.vote.vote_data, vote_msg.vote.author, vote_msg.vote.signature)


def on_vote(work: Work, event: ev.VerifiedVote) -> None:
    """Aggregate a broadcast vote; a quorum forms a QC and advances the round."""
    vote = event.message.vote
    _process_sync_and_reply(work, event.message.sync_info, event.sender, vote.round)
    state = work.state
    # Only votes that can still form the next QC count, so a peer cannot make us store without bound.
    if vote.round > state.highest_qc.round and vote.round >= state.current_round - 1:
        _add_vote(work, vote.vote_data, vote.author, vote.signature)
    else:
        check_vote(work, vote.vote_data, vote.author, vote.signature)  # [EVIDENCE-1] late, still evidence


def _add_vote(work: Work, vote_data: VoteData, author: bytes, signature: bytes) -> None:
    state = work.state
    if check_vote(work, vote_data, author, signature):
        return  # [EVIDENCE-1] an equivocating voter counts once, for the first block it voted for
    votes = dict(state.votes.get(vote_data, {}))
    votes[author] = signature
    state.votes[vote_data] = votes
    validators = state.epoch_state.validators
    if validators.get_power_of(votes) >= validators.get_quorum_power() and vote_data.proposed.round > state.highest_qc.round:
        qc = QuorumCertificate(vote_data, tuple(sorted(votes.items())))
        insert_qc(work, qc, author)
        advance_round(work)


def on_timeout(work: Work, event: ev.VerifiedTimeout) -> None:
    """Collect timeouts: f+1 power makes us time out too ([TIMEOUT-7]); 2f+1 forms a TC ([TIMEOUT-8])."""
    signed = event.message.timeout
    _process_sync_and_reply(work, event.message.sync_info, event.sender, signed.timeout.round)
    insert_qc(work, signed.timeout.high_qc, event.sender)
    advance_round(work)
    _add_timeout(work, signed)


def _add_timeout(work: Work, signed: SignedTimeout) -> None:
    state = work.state
    round_ = signed.timeout.round
    if round_ < state.current_round:
        return
    round_timeouts = dict(state.timeouts.get(round_, {}))
    round_timeouts[signed.author] = signed
    state.timeouts[round_] = round_timeouts
    validators = state.epoch_state.validators
    power = validators.get_power_of(round_timeouts)
    me = state.config.author
    if power >= validators.get_fault_power() and me not in round_timeouts and state.is_validator():
        if round_ == state.current_round:
            _send_timeout(work, round_)  # re-enters _add_timeout with our own timeout
            return
    if power >= validators.get_quorum_power():
        insert_tc(work, _make_tc(state.epoch_state.epoch, round_, round_timeouts))
        advance_round(work)


def _make_tc(epoch: int, round_: int, round_timeouts: dict[bytes, SignedTimeout]) -> TimeoutCertificate:
    high_qc = max((signed.timeout.high_qc for signed in round_timeouts.values()), key=lambda qc: qc.round)
    signatures = tuple(sorted((author, signed.timeout.high_qc.round, signed.signature)
                              for author, signed in round_timeouts.items()))
    return TimeoutCertificate(epoch, round_, high_qc, signatures)


def on_sync_info(work: Work, event: ev.VerifiedSyncInfo) -> None:
    """Adopt newer certificates from a peer."""
    _process_sync_and_reply(work, event.sync_info, event.sender, None)


def _process_sync_and_reply(work: Work, sync_info: SyncInfo, sender: bytes, message_round: int | None) -> None:
    """[SYNC-1] Catch up from the sender's certificates; [SYNC-5] help a sender that is behind."""
    state = work.state
    process_sync_info(work, sync_info, sender)
    advance_round(work)
    theirs = sync_info.highest_commit_cert.ledger_info.round if sync_info.highest_commit_cert else 0
    ours = state.highest_commit_cert.ledger_info.round if state.highest_commit_cert else 0
    behind = sync_info.get_highest_round() + 1 < state.current_round or theirs < ours
    if behind and message_round is not None and message_round < state.current_round and sender != state.config.author:
        work.emit(ev.Send(sender, SyncInfoMsg(state.get_sync_info())))


def on_blocks(work: Work, event: ev.VerifiedBlocks) -> None:
    """Insert fetched blocks; the certificates they unblock may advance the round or let us propose."""
    process_retrieved_blocks(work, event)
    advance_round(work)
    state = work.state
    pending = state.pending_proposal
    if pending is not None and (pending.round < state.current_round or state.tree.is_insertable(pending)):
        state.pending_proposal = None
        _vote_for_proposal(work, pending)  # [SYNC-6] (a stale one is simply dropped)
    if state.is_validator():
        request_payload_if_leader(work)


_HANDLERS = {
    ev.Start: on_start,
    ev.LocalTimeout: on_local_timeout,
    ev.PayloadReady: on_payload_ready,
    ev.BlockExecuted: process_block_executed,
    ev.VerifiedProposal: on_proposal,
    ev.VerifiedVote: on_vote,
    ev.VerifiedTimeout: on_timeout,
    ev.VerifiedCommitVote: process_commit_vote,
    ev.VerifiedSyncInfo: on_sync_info,
    ev.VerifiedBlockRetrievalRequest: lambda work, event: process_block_retrieval(work, event.sender, event.request),
    ev.VerifiedBlocks: on_blocks,
    ev.VerifiedEpochRetrievalRequest: process_epoch_retrieval,
    ev.VerifiedEpochChangeProof: process_epoch_change_proof,
}
