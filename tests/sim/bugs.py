"""Known safety bugs, injected into copies of the rules, to show that the simulator catches them.

Each bug is a SafetyRules subclass (handed to the unchanged core through CoreConfig) or a wrapper
around step(); nothing in consensus/ is edited.
"""

from __future__ import annotations

from consensus import core
from consensus import events as ev
from consensus.safety import SafetyRules
from consensus.state import CoreState
from consensus.types import TimeoutCertificate


class VoteWithoutLastVotedRound(SafetyRules):
    """Bug 1: [VOTE-3] dropped: votes even in a round it already voted or timed out in."""

    def is_round_increasing(self, round_: int, last_voted_round: int) -> bool:
        return True


class IgnoreTimeoutCertificateHighestQc(SafetyRules):
    """Bug 2: [VOTE-4] weakened: accepts a proposal whose QC is older than the TC's highest QC."""

    def is_safe_to_vote(self, round_: int, qc_round: int, tc: TimeoutCertificate | None) -> bool:
        if round_ == qc_round + 1:
            return True
        return tc is not None and round_ == tc.round + 1


def step_forgetting_to_persist_votes(
    state: CoreState, event: ev.Event
) -> tuple[CoreState, tuple[ev.Effect, ...]]:
    """Bug 3: the core sends a vote without first persisting the safety data that records it."""
    new_state, effects = core.step(state, event)
    old_vote = state.safety.last_vote
    kept = tuple(effect for effect in effects
                 if not (type(effect) is ev.PersistSafety and effect.safety_data.last_vote is not None
                         and effect.safety_data.last_vote != old_vote))
    return new_state, kept


# Name on the command line -> (safety rules, step function).
BUGS = {
    "vote-round": (VoteWithoutLastVotedRound(), None),
    "tc-hqc": (IgnoreTimeoutCertificateHighestQc(), None),
    "no-persist": (None, step_forgetting_to_persist_votes),
}
