"""The PaymentCommand state machine of DIP-1: which state a payment object is in, who wrote it, what may follow.

S_* states are written by the sender's VASP and R_* states by the receiver's. A state is recognised
from the two actors' statuses plus the fields it requires (or forbids); an object that matches a
state's statuses but lacks a required field is a `missing_field` command error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Actor(str, Enum):
    """The two sides of a payment."""

    SENDER = "sender"
    RECEIVER = "receiver"


class State(str, Enum):
    """The nine DIP-1 payment states."""

    S_INIT = "S_INIT"
    R_SEND = "R_SEND"
    R_ABORT = "R_ABORT"
    R_SOFT = "R_SOFT"
    S_SOFT_SEND = "S_SOFT_SEND"
    S_ABORT = "S_ABORT"
    S_SOFT = "S_SOFT"
    R_SOFT_SEND = "R_SOFT_SEND"
    READY = "READY"


class FollowUp(str, Enum):
    """What the VASP whose turn it is does next."""

    EVALUATE_KYC_DATA = "evaluate_kyc_data"
    CLEAR_SOFT_MATCH = "clear_soft_match"
    REVIEW_KYC_DATA = "review_kyc_data"
    SUBMIT_TRANSACTION = "submit_transaction"


@dataclass(frozen=True)
class StateRule:
    """A state: the two statuses, fields that must be set, and fields that must not be."""

    sender_status: str | None
    receiver_status: str | None
    required: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()


# Order matters: the abort states match on one status alone and so are tried after the others.
STATE_RULES: dict[State, StateRule] = {
    State.S_INIT: StateRule("needs_kyc_data", "none", required=("sender.kyc_data",)),
    State.R_SEND: StateRule("needs_kyc_data", "ready_for_settlement",
                            required=("receiver.kyc_data", "recipient_signature")),
    State.R_SOFT: StateRule("needs_kyc_data", "soft_match", forbidden=("sender.additional_kyc_data",)),
    State.S_SOFT_SEND: StateRule("needs_kyc_data", "soft_match", required=("sender.additional_kyc_data",)),
    State.S_SOFT: StateRule("soft_match", "ready_for_settlement", forbidden=("receiver.additional_kyc_data",)),
    State.R_SOFT_SEND: StateRule("soft_match", "ready_for_settlement", required=("receiver.additional_kyc_data",)),
    State.READY: StateRule("ready_for_settlement", "ready_for_settlement"),
    State.R_ABORT: StateRule(None, "abort"),
    State.S_ABORT: StateRule("abort", None),
}

TRANSITIONS: frozenset[tuple[State, State]] = frozenset({
    (State.S_INIT, State.R_SEND), (State.S_INIT, State.R_ABORT), (State.S_INIT, State.R_SOFT),
    (State.R_SEND, State.READY), (State.R_SEND, State.S_ABORT), (State.R_SEND, State.S_SOFT),
    (State.R_SOFT, State.S_SOFT_SEND), (State.R_SOFT, State.S_ABORT),
    (State.S_SOFT_SEND, State.R_ABORT), (State.S_SOFT_SEND, State.R_SEND),
    (State.S_SOFT, State.R_SOFT_SEND), (State.S_SOFT, State.R_ABORT),
    (State.R_SOFT_SEND, State.S_ABORT), (State.R_SOFT_SEND, State.READY),
})
RECEIVER_STATES = frozenset({State.R_SEND, State.R_ABORT, State.R_SOFT, State.R_SOFT_SEND})
TERMINAL_STATES = frozenset({State.R_ABORT, State.S_ABORT, State.READY})
FOLLOW_UPS: dict[State, tuple[Actor, FollowUp]] = {
    State.S_INIT: (Actor.RECEIVER, FollowUp.EVALUATE_KYC_DATA),
    State.R_SEND: (Actor.SENDER, FollowUp.EVALUATE_KYC_DATA),
    State.R_SOFT: (Actor.SENDER, FollowUp.CLEAR_SOFT_MATCH),
    State.S_SOFT: (Actor.RECEIVER, FollowUp.CLEAR_SOFT_MATCH),
    State.S_SOFT_SEND: (Actor.RECEIVER, FollowUp.REVIEW_KYC_DATA),
    State.R_SOFT_SEND: (Actor.SENDER, FollowUp.REVIEW_KYC_DATA),
    State.READY: (Actor.SENDER, FollowUp.SUBMIT_TRANSACTION),
}


class MissingStateField(ValueError):
    """The statuses name a state whose required fields are absent."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(f"payment object is missing {', '.join(fields)}")
        self.fields = fields


def get_path(payment: dict[str, Any], path: str) -> Any:
    """Return the value at a dotted path of a payment object (None if absent)."""
    value: Any = payment
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value


def is_status_match(rule: StateRule, payment: dict[str, Any]) -> bool:
    """Return True iff the actors' statuses are those of rule."""
    sender = get_path(payment, "sender.status.status")
    receiver = get_path(payment, "receiver.status.status")
    return ((rule.sender_status is None or sender == rule.sender_status)
            and (rule.receiver_status is None or receiver == rule.receiver_status))


def compute_state(payment: dict[str, Any]) -> State | None:
    """Return the state of a payment object, None if no state has its statuses; MissingStateField if incomplete."""
    missing: list[str] = []
    for state, rule in STATE_RULES.items():
        if not is_status_match(rule, payment):
            continue
        if any(get_path(payment, path) is not None for path in rule.forbidden):
            continue
        absent = [path for path in rule.required if get_path(payment, path) is None]
        if not absent:
            return state
        missing = missing or absent
    if missing:
        raise MissingStateField(missing)
    return None


def get_writer(state: State) -> Actor:
    """Return the actor who produces a payment object in state."""
    return Actor.RECEIVER if state in RECEIVER_STATES else Actor.SENDER


def is_valid_transition(prior: State, new: State) -> bool:
    """Return True iff DIP-1 allows prior → new."""
    return (prior, new) in TRANSITIONS


def get_follow_up(actor: Actor, state: State) -> FollowUp | None:
    """Return what actor must do next in state, or None when it is the other side's turn or finished."""
    entry = FOLLOW_UPS.get(state)
    if entry is None or entry[0] is not actor:
        return None
    return entry[1]
