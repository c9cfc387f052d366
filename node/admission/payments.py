"""Decode the payment a transaction makes (payer, payee, amount, currency) from either payload kind."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.scripts import InvalidPayload, resolve
from primitives.errors import DecodeError
from primitives.types.scripts import Script, ScriptFunction
from primitives.types.transactions import SignedTransaction

# (module, function) -> (index of the payee argument, index of the amount argument).
PAYMENT_FUNCTIONS: dict[tuple[str, str], tuple[int, int]] = {
    ("PaymentScripts", "peer_to_peer_with_metadata"): (0, 1),
    ("AccountCreationScripts", "create_child_vasp_account"): (0, 3),
}


@dataclass(frozen=True, slots=True)
class Payment:
    """Value the transaction moves from its sender to a payee."""

    payer: bytes
    payee: bytes
    amount_micro: int
    currency: str


def decode_payment(transaction: SignedTransaction) -> Payment | None:
    """Return the payment of a script-function or legacy-script transaction, or None when it moves no value."""
    payload = transaction.raw_txn.payload.value
    if not isinstance(payload, (Script, ScriptFunction)):
        return None
    try:
        spec, ty_args, args = resolve(payload)
    except (InvalidPayload, DecodeError):
        # The VM refuses or fails such a payload itself; no value can move.
        return None
    indices = PAYMENT_FUNCTIONS.get((spec.module, spec.function))
    if indices is None or not ty_args:
        return None
    payee_index, amount_index = indices
    return Payment(transaction.sender.value, args[payee_index], args[amount_index], ty_args[0].name)
