"""This node's standing in an epoch's validator set: voting, waiting to join, or listed with a key it lacks."""

from __future__ import annotations

from collections.abc import Collection
from enum import IntEnum

from node.logging import get_logger
from primitives.certified.validators import ValidatorSet

log = get_logger("stablechain.node")


class Membership(IntEnum):
    """This node's standing in a validator set; numbers are stable (logs)."""

    VALIDATOR = 0
    NOT_A_MEMBER = 1
    KEY_MISMATCH = 2  # the set lists our address with a consensus key we do not hold: the core signs nothing


def get_membership(validators: ValidatorSet, address: bytes, held_keys: Collection[bytes]) -> Membership:
    """Return whether this node votes in validators: listed, and holding the consensus key listed for it."""
    member = validators.get_member(address)
    if member is None:
        return Membership.NOT_A_MEMBER
    return Membership.VALIDATOR if member.consensus_public_key in held_keys else Membership.KEY_MISMATCH


def log_membership(epoch: int, validators: ValidatorSet, address: bytes, held_keys: Collection[bytes]) -> Membership:
    """Log this node's standing in the epoch's validator set."""
    membership = get_membership(validators, address, held_keys)
    fields = {"epoch": epoch, "address": address.hex(), "validators": len(validators.members)}
    if membership == Membership.VALIDATOR:
        log.info("validator in this epoch", **fields)
    elif membership == Membership.NOT_A_MEMBER:
        # The set's validators accept our connections (and serve catch-up) only once we are in it.
        log.info("not a validator in this epoch: waiting to be in the set", **fields)
    else:  # the runtime logs the registered and held keys (Runtime.check_consensus_keys)
        log.warning("in the validator set, without the consensus key it lists for us: signing nothing", **fields)
    return membership
