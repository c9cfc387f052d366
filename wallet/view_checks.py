"""Checks that a node's JSON views show exactly what the certified bytes say (transactions and events)."""

from __future__ import annotations

from typing import Any

from contracts.events import ReceivedPaymentEvent, SentPaymentEvent, decode_event
from primitives.errors import DecodeError
from primitives.types.events import ContractEvent
from primitives.types.ledger_transactions import Transaction as TransactionEnvelope
from primitives.types.scripts import Script, ScriptFunction
from primitives.types.transactions import Ed25519Authenticator, SignedTransaction
from wallet.errors import VerificationError
from wallet.models import Event, Transaction

PAYMENT_EVENT_TYPES = ("sentpayment", "receivedpayment")
ADDRESS_LENGTH = 16
USER_FIELDS = ("sender", "sequence_number", "chain_id", "max_gas_amount", "gas_unit_price", "gas_currency",
               "expiration_timestamp_secs", "public_key", "signature")
OPTIONAL_FIELDS = ("script.amount",)  # Diem fills the legacy payment fields only for peer_to_peer_with_metadata
SCRIPT_FIELDS = ("module_name", "function_name", "arguments_bcs", "code", "amount")


def check_view_hash(view: Transaction) -> bytes:
    """Return the hash of the view's BCS bytes, which must equal its claimed hash and match its fields."""
    envelope = decode_envelope(view)
    computed = envelope.hash()
    if computed.hex() != view.hash.lower():
        raise VerificationError(f"version {view.version}: the bytes hash to {computed.hex()}, not {view.hash}")
    inner = envelope.value
    if isinstance(inner, SignedTransaction) != (view.transaction.type == "user"):
        raise VerificationError(f"version {view.version}: the JSON type {view.transaction.type!r} differs from the bytes")
    if isinstance(inner, SignedTransaction):
        shown, actual = compute_user_fields(view.transaction.raw), compute_user_fields_of(inner)
        for name, value in actual.items():
            if name in OPTIONAL_FIELDS and name not in shown:
                continue  # Diem fills the legacy payment fields only for peer_to_peer_with_metadata
            if shown.get(name) != value:
                raise VerificationError(f"version {view.version}: the JSON {name} {shown.get(name)!r} differs from "
                                        f"the signed bytes ({value!r})")
    return computed


def compute_user_fields(data: dict) -> dict[str, Any]:
    """Return the JSON fields of a user transaction that the signed bytes determine."""
    fields = {name: data.get(name) for name in USER_FIELDS}
    script = data.get("script") or {}
    for name in SCRIPT_FIELDS:
        if name in script:
            fields["script." + name] = script[name]
    return fields


def compute_user_fields_of(signed: SignedTransaction) -> dict[str, Any]:
    """Return what the JSON view must show for a signed transaction (diem-compat §1.5)."""
    raw = signed.raw_txn
    fields: dict[str, Any] = {"sender": raw.sender.value.hex(), "sequence_number": raw.sequence_number,
                              "chain_id": raw.chain_id.value, "max_gas_amount": raw.max_gas_amount,
                              "gas_unit_price": raw.gas_unit_price, "gas_currency": raw.gas_currency_code,
                              "expiration_timestamp_secs": raw.expiration_timestamp_secs}
    authenticator = signed.authenticator.value
    if isinstance(authenticator, Ed25519Authenticator):
        fields.update(public_key=authenticator.public_key.hex(), signature=authenticator.signature.hex())
    payload = raw.payload.value
    if isinstance(payload, ScriptFunction):
        fields.update({"script.module_name": payload.module.name, "script.function_name": payload.function,
                       "script.arguments_bcs": [arg.hex() for arg in payload.args]})
    elif isinstance(payload, Script):
        fields["script.code"] = payload.code.hex()
        values = [arg.value for arg in payload.args]
        if len(values) >= 2 and isinstance(values[1], int) and not isinstance(values[1], bool):
            fields["script.amount"] = values[1]  # peer_to_peer_with_metadata(payee, amount, ...)
    return fields


def decode_envelope(view: Transaction) -> TransactionEnvelope:
    try:
        return TransactionEnvelope.from_bcs(bytes.fromhex(view.bytes))
    except (ValueError, DecodeError) as error:
        raise VerificationError(f"version {view.version}: unreadable transaction bytes: {error}") from None


def check_event_views(view: Transaction, events: tuple[ContractEvent, ...]) -> None:
    """Raise unless the JSON events are the proven events: same streams, sequence numbers and payments."""
    if len(view.events) != len(events):
        raise VerificationError(f"version {view.version}: {len(view.events)} events shown, {len(events)} certified")
    for shown, proven in zip(view.events, events):
        check_event_view(shown, proven, view.version)


def check_event_view(shown: Event, proven: ContractEvent, version: int) -> None:
    """Raise unless one JSON event is the proven event of version (key, sequence, payment fields)."""
    if (shown.key, shown.sequence_number, shown.transaction_version) != (
            proven.key.hex(), proven.sequence_number, version):
        raise VerificationError(f"version {version}: event {shown.key}#{shown.sequence_number} "
                                "is not the certified one")
    if shown.data.type in PAYMENT_EVENT_TYPES:
        amount, code, counterparty, metadata = _get_certified_payment(shown, proven, version)
        claimed = (shown.data.amount.amount if shown.data.amount else None,
                   shown.data.amount.currency if shown.data.amount else None,
                   shown.data.receiver if shown.data.type == "sentpayment" else shown.data.sender,
                   shown.data.metadata or "")
        if claimed != (amount, code, counterparty, metadata):
            raise VerificationError(f"version {version}: payment event {shown.key}#{shown.sequence_number} "
                                    f"shows {claimed}, the certified event holds {(amount, code, counterparty, metadata)}")


def _get_certified_payment(shown: Event, proven: ContractEvent, version: int) -> tuple[int, str, str, str]:
    """Return (amount, currency, counterparty hex, metadata hex) of the certified payment event shown."""
    typed = decode_event(proven)
    if shown.data.type == "sentpayment" and isinstance(typed, SentPaymentEvent):
        return typed.amount_micro, typed.currency, typed.payee.hex(), typed.metadata.hex()
    if shown.data.type == "receivedpayment" and isinstance(typed, ReceivedPaymentEvent):
        return typed.amount_micro, typed.currency, typed.payer.hex(), typed.metadata.hex()
    raise VerificationError(f"version {version}: payment event {shown.key}#{shown.sequence_number} is shown as "
                            f"{shown.data.type}, the certified event is not one")
