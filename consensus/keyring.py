"""[EPOCH-6] The consensus key ring: keys added while the node runs, so a rotation applies without a restart."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from consensus.rounds import enter_epoch_round
from consensus.events import Effect
from consensus.state import CoreState, Work
from primitives.certified.signatures import Signer


def get_held_public_keys(state: CoreState) -> tuple[bytes, ...]:
    """Return the public keys of every consensus key the node holds, first-loaded first."""
    return tuple(state.config.signers_by_key)


def is_key_missing(state: CoreState) -> bool:
    """Return True iff the current set lists this node with a consensus key it does not hold."""
    return state.epoch_state.validators.is_member(state.config.author) and not state.is_validator()


def add_signers(state: CoreState, signers: Iterable[Signer]) -> tuple[CoreState, tuple[Effect, ...]]:
    """Return state with signers added to the ring (call it between steps) and the effects that follow."""
    # A key the current set lists makes the node a validator of the round it is in: arm the round's timer and,
    # as its leader, ask for a payload (what entering the round would have done). Held keys change nothing.
    held = state.config.signers_by_key
    added = tuple(signer for signer in signers if signer.get_public_key() not in held)
    if not added:
        return state, ()
    was_validator = state.is_validator()
    work = Work(state.copy())
    work.state.config = replace(state.config, signers=state.config.signers + added)
    if not was_validator and work.state.is_validator() and work.state.current_round >= 1:
        enter_epoch_round(work)
    return work.state, tuple(work.effects)
