"""Diem JSON views of events: the typed value contracts.events decodes, rendered as the event's `data` object.

An event whose type is not a known framework event, or whose bytes do not decode, renders as
`{"type": "unknown", "bytes": …}` (diem-compat §1.5 EventData table).
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.events import (
    AdminTransactionEvent,
    BaseUrlRotationEvent,
    BurnEvent,
    ComplianceKeyRotationEvent,
    CreateAccountEvent,
    DiemIdDomainEvent,
    ExchangeRateUpdateEvent,
    FrameworkEvent,
    MintEvent,
    NewBlockEvent,
    NewEpochEvent,
    ReceivedMintEvent,
    ReceivedPaymentEvent,
    SentPaymentEvent,
    decode_event,
)
from node.rpc.jsonrpc import JsonObject
from primitives.types.events import ContractEvent


def _amount(value: int, currency: str) -> JsonObject:
    return {"amount": value, "currency": currency}


def render_sent_payment(event: SentPaymentEvent) -> JsonObject:
    """SentPaymentEvent{amount, currency_code, payee, metadata} on the payer's stream."""
    return {"type": "sentpayment", "amount": _amount(event.amount_micro, event.currency), "receiver": event.payee.hex(),
            "sender": event.payer.hex(), "metadata": event.metadata.hex()}


def render_received_payment(event: ReceivedPaymentEvent) -> JsonObject:
    """ReceivedPaymentEvent{amount, currency_code, payer, metadata} on the payee's stream."""
    return {"type": "receivedpayment", "amount": _amount(event.amount_micro, event.currency),
            "sender": event.payer.hex(), "receiver": event.payee.hex(), "metadata": event.metadata.hex()}


def render_create_account(event: CreateAccountEvent) -> JsonObject:
    """CreateAccountEvent{created, role_id}."""
    return {"type": "createaccount", "created_address": event.created_address.hex(), "role_id": event.role_id}


def render_mint(event: MintEvent) -> JsonObject:
    """MintEvent{amount, currency_code}."""
    return {"type": "mint", "amount": _amount(event.amount_micro, event.currency)}


def render_burn(event: BurnEvent) -> JsonObject:
    """BurnEvent, PreburnEvent, CancelBurnEvent{amount, currency_code, preburn_address}."""
    return {"type": event.kind, "amount": _amount(event.amount_micro, event.currency),
            "preburn_address": event.preburn_address.hex()}


def render_exchange_rate_update(event: ExchangeRateUpdateEvent) -> JsonObject:
    """ToXDXExchangeRateUpdateEvent{currency_code, new_to_xdx_exchange_rate: FixedPoint32}."""
    return {"type": "to_xdx_exchange_rate_update", "currency_code": event.currency,
            "new_to_xdx_exchange_rate": event.get_rate()}


def render_received_mint(event: ReceivedMintEvent) -> JsonObject:
    """ReceivedMintEvent{currency_code, destination_address, amount}."""
    return {"type": "receivedmint", "amount": _amount(event.amount_micro, event.currency),
            "destination_address": event.destination_address.hex()}


def render_compliance_key_rotation(event: ComplianceKeyRotationEvent) -> JsonObject:
    """ComplianceKeyRotationEvent{new_compliance_public_key, time_rotated_seconds}."""
    return {"type": "compliancekeyrotation", "new_compliance_public_key": event.new_compliance_public_key.hex(),
            "time_rotated_seconds": event.time_rotated_seconds}


def render_base_url_rotation(event: BaseUrlRotationEvent) -> JsonObject:
    """BaseUrlRotationEvent{new_base_url, time_rotated_seconds}."""
    return {"type": "baseurlrotation", "new_base_url": event.new_base_url,
            "time_rotated_seconds": event.time_rotated_seconds}


def render_diem_id_domain(event: DiemIdDomainEvent) -> JsonObject:
    """DiemIdDomainEvent{removed, domain: DiemIdDomain{domain}, address}."""
    return {"type": "diemiddomain", "removed": event.removed, "domain": event.domain, "address": event.address.hex()}


def render_new_block(event: NewBlockEvent) -> JsonObject:
    """NewBlockEvent{round, proposer, previous_block_votes, time_microseconds}."""
    return {"type": "newblock", "round": event.round, "proposer": event.proposer.hex(),
            "proposed_time": event.time_microseconds}


def render_new_epoch(event: NewEpochEvent) -> JsonObject:
    """NewEpochEvent{epoch}."""
    return {"type": "newepoch", "epoch": event.epoch}


def render_admin_transaction(event: AdminTransactionEvent) -> JsonObject:
    """AdminTransactionEvent{committed_timestamp_secs}."""
    return {"type": "admintransaction", "committed_timestamp_secs": event.committed_timestamp_secs}


RENDERERS: dict[type, Callable[..., JsonObject]] = {
    SentPaymentEvent: render_sent_payment,
    ReceivedPaymentEvent: render_received_payment,
    CreateAccountEvent: render_create_account,
    AdminTransactionEvent: render_admin_transaction,
    MintEvent: render_mint,
    BurnEvent: render_burn,
    ExchangeRateUpdateEvent: render_exchange_rate_update,
    ReceivedMintEvent: render_received_mint,
    ComplianceKeyRotationEvent: render_compliance_key_rotation,
    BaseUrlRotationEvent: render_base_url_rotation,
    DiemIdDomainEvent: render_diem_id_domain,
    NewBlockEvent: render_new_block,
    NewEpochEvent: render_new_epoch,
}


def render_framework_event(value: FrameworkEvent) -> JsonObject:
    """Return the `data` object of a decoded framework event."""
    return RENDERERS[type(value)](value)


def compute_event_data_view(event: ContractEvent) -> JsonObject:
    """Return the `data` object of an event; unknown or undecodable events show their bytes."""
    value = decode_event(event)
    if value is None:
        return {"type": "unknown", "bytes": event.event_data.hex()}
    return render_framework_event(value)


def compute_event_view(event: ContractEvent, transaction_version: int) -> JsonObject:
    """Return the full `Event` view."""
    return {
        "key": event.key.hex(),
        "sequence_number": event.sequence_number,
        "transaction_version": transaction_version,
        "data": compute_event_data_view(event),
    }
