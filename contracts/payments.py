"""Is this transaction a payment? Who pays whom, how much of which currency, with what metadata.

One decoder for every reader of the chain: admission hooks, compliance indexes and the RPC views all ask
the same question of the same payload, whether it is a script function or a legacy script.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.scripts import InvalidPayload, resolve
from primitives.errors import DecodeError
from primitives.types.scripts import Script, ScriptFunction
from primitives.types.transactions import SignedTransaction

PEER_TO_PEER = ("PaymentScripts", "peer_to_peer_with_metadata")
CREATE_CHILD_VASP = ("AccountCreationScripts", "create_child_vasp_account")


@dataclass(frozen=True, slots=True)
class PaymentArguments:
    """Where a paying script function takes its payee, amount and (if any) metadata and metadata signature."""

    payee: int
    amount: int
    metadata: int | None = None
    metadata_signature: int | None = None


# The entry functions that move value from the sender to a payee (a child VASP is funded at creation).
PAYMENT_FUNCTIONS: dict[tuple[str, str], PaymentArguments] = {
    PEER_TO_PEER: PaymentArguments(payee=0, amount=1, metadata=2, metadata_signature=3),
    CREATE_CHILD_VASP: PaymentArguments(payee=0, amount=3),
}


@dataclass(frozen=True, slots=True)
class Payment:
    """Value a transaction moves from its sender to a payee, with the payment's metadata (empty when none)."""

    payer: bytes
    payee: bytes
    amount_micro: int
    currency: str
    metadata: bytes = b""
    metadata_signature: bytes = b""
    function: tuple[str, str] = PEER_TO_PEER

    def is_peer_to_peer(self) -> bool:
        """Return True iff the payment is PaymentScripts::peer_to_peer_with_metadata."""
        return self.function == PEER_TO_PEER


def decode_payment(transaction: SignedTransaction) -> Payment | None:
    """Return the payment of a script-function or legacy-script transaction, or None when it moves no value."""
    payload = transaction.raw_txn.payload.value
    if not isinstance(payload, (Script, ScriptFunction)):
        return None
    try:
        spec, ty_args, args = resolve(payload)
    except (InvalidPayload, DecodeError):
        return None  # the VM refuses or fails such a payload itself; no value can move
    function = (spec.module, spec.function)
    where = PAYMENT_FUNCTIONS.get(function)
    if where is None or not ty_args:
        return None
    metadata = b"" if where.metadata is None else args[where.metadata]
    signature = b"" if where.metadata_signature is None else args[where.metadata_signature]
    return Payment(transaction.sender.value, args[where.payee], args[where.amount], ty_args[0].name, metadata,
                   signature, function)
