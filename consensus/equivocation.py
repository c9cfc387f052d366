"""[EVIDENCE-1] Detect a validator that signed two different votes or proposals for one round of our epoch."""

from __future__ import annotations

from consensus.events import EQUIVOCATION_KIND_PROPOSAL, EQUIVOCATION_KIND_VOTE, ReportEquivocation
from consensus.state import Work
from consensus.types import Block
from primitives.certified.blocks import BlockData, VoteData

# First signed proposals are remembered for rounds this far either side of the current round; with one
# entry per (round, author) the memory is bounded by (2 * window + 1) * validators blocks.
EVIDENCE_ROUND_WINDOW = 32


def check_vote(work: Work, vote_data: VoteData, author: bytes, signature: bytes) -> bool:
    """Return True iff author already has a different counted vote in this round; report it once."""
    state = work.state
    round_ = vote_data.proposed.round
    for data, votes in state.votes.items():
        if data.proposed.round == round_ and data != vote_data and author in votes:
            _report(work, EQUIVOCATION_KIND_VOTE, author, round_, (data, votes[author]), (vote_data, signature))
            return True
    return False


def check_proposal(work: Work, block: Block) -> None:
    """Remember the first signed block per (round, author) near our round; report a second, different one."""
    state = work.state
    if block.is_genesis() or block.epoch != state.epoch_state.epoch:
        return
    if abs(block.round - state.current_round) > EVIDENCE_ROUND_WINDOW:
        return
    key = (block.round, block.author)
    first = state.first_proposals.get(key)
    if first is None:
        _forget_old_rounds(work)
        state.first_proposals[key] = block
    elif first.id != block.id:
        _report(work, EQUIVOCATION_KIND_PROPOSAL, block.author, block.round,
                (first.data, first.signature), (block.data, block.signature))


def _forget_old_rounds(work: Work) -> None:
    state = work.state
    oldest = state.current_round - EVIDENCE_ROUND_WINDOW
    if any(round_ < oldest for round_, _ in state.first_proposals):
        state.first_proposals = {key: block for key, block in state.first_proposals.items() if key[0] >= oldest}
    if any(round_ < oldest for _, round_, _ in state.reported_equivocations):
        state.reported_equivocations = frozenset(
            entry for entry in state.reported_equivocations if entry[1] >= oldest)


def _report(work: Work, kind: int, author: bytes, round_: int, first: tuple[VoteData | BlockData, bytes],
            second: tuple[VoteData | BlockData, bytes]) -> None:
    """Emit ReportEquivocation once per (kind, round, author) of the epoch; both halves are verified."""
    state = work.state
    key = (kind, round_, author)
    if key in state.reported_equivocations:
        return
    _forget_old_rounds(work)
    state.reported_equivocations = state.reported_equivocations | {key}
    work.emit(ReportEquivocation(kind, author, state.epoch_state.epoch, round_, first[0], first[1],
                                 second[0], second[1]))
