"""Rounds: enter the round after the highest certificate, arm its timer, and ask for a payload as its leader."""

from __future__ import annotations

from consensus import events as ev
from consensus.pacemaker import compute_next_round, compute_round_timeout_ms
from consensus.state import CoreState, Work
from consensus.types import Block


def advance_round(work: Work) -> None:
    """[PACE-1] Enter the round after the highest QC or TC, once; arm its timer; propose if leader."""
    state = work.state
    tc_round = state.highest_tc.round if state.highest_tc is not None else 0
    next_round = compute_next_round(state.highest_qc.round, tc_round)
    if next_round > state.current_round:
        state.current_round = next_round
        state.votes = {data: votes for data, votes in state.votes.items() if data.proposed.round >= next_round - 1}
        state.timeouts = {round_: votes for round_, votes in state.timeouts.items() if round_ >= next_round}
        enter_epoch_round(work)


def enter_epoch_round(work: Work) -> None:
    """Arm the timer for the current round and ask for a payload if we lead it."""
    state = work.state
    if state.current_round == 0:
        state.current_round = 1
    if not state.is_validator():
        return
    duration_ms = compute_round_timeout_ms(state.config.pacemaker, state.current_round,
                                           state.tree.get_ordered().round)
    work.persist_sync_info_if_changed()
    work.emit(ev.ScheduleTimeout(state.epoch_state.epoch, state.current_round, duration_ms))
    request_payload_if_leader(work)


def request_payload_if_leader(work: Work) -> None:
    """[PROPOSE-1] Ask the runtime for a payload once per round we lead, when our QC can justify a block."""
    state = work.state
    round_ = state.current_round
    if state.get_leader(round_) != state.config.author or state.proposed_round >= round_:
        return
    tc = state.highest_tc
    if tc is not None and tc.round == round_ - 1 and state.highest_qc.round < tc.get_highest_hqc_round():
        return  # the TC reports a QC whose block we are still fetching; retried when it arrives
    state.proposed_round = round_
    excluded = tuple(txn for block in _get_uncommitted_path(state) for txn in block.payload)
    work.emit(ev.RequestPayload(state.epoch_state.epoch, round_, excluded))


def _get_uncommitted_path(state: CoreState) -> list[Block]:
    return state.tree.get_path(state.tree.root_id, state.highest_qc.certified_block.id) or []
