"""Diem JSON views of events: decode each known event struct's BCS and render its `data` object.

The layouts are the Diem framework's event structs (diem-compat §1.5 EventData table); an event
whose type is not listed, or whose bytes do not decode, renders as `{"type": "unknown", "bytes": …}`.
"""

from __future__ import annotations

from collections.abc import Callable

from node.rpc.jsonrpc import JsonObject
from primitives.bcs import Deserializer
from primitives.errors import DecodeError
from primitives.types.events import ContractEvent
from primitives.types.type_tags import TypeTagKind

ADDRESS_LENGTH = 16
FIXED_POINT_32_SCALE = 2**32
CORE_ADDRESS_HEX = "00000000000000000000000000000001"

Renderer = Callable[[Deserializer, ContractEvent], JsonObject]


def _currency(de: Deserializer) -> str:
    return de.bytes().decode("utf-8", errors="replace")


def _address(de: Deserializer) -> str:
    return de.fixed_bytes(ADDRESS_LENGTH).hex()


def _creator(event: ContractEvent) -> str:
    return event.key.get_creator_address().hex()


def _amount(value: int, currency: str) -> JsonObject:
    return {"amount": value, "currency": currency}


def render_sent_payment(de: Deserializer, event: ContractEvent) -> JsonObject:
    """SentPaymentEvent{amount, currency_code, payee, metadata}."""
    amount, currency, payee, metadata = de.u64(), _currency(de), _address(de), de.bytes()
    return {"type": "sentpayment", "amount": _amount(amount, currency), "receiver": payee,
            "sender": _creator(event), "metadata": metadata.hex()}


def render_received_payment(de: Deserializer, event: ContractEvent) -> JsonObject:
    """ReceivedPaymentEvent{amount, currency_code, payer, metadata}."""
    amount, currency, payer, metadata = de.u64(), _currency(de), _address(de), de.bytes()
    return {"type": "receivedpayment", "amount": _amount(amount, currency), "sender": payer,
            "receiver": _creator(event), "metadata": metadata.hex()}


def render_create_account(de: Deserializer, _event: ContractEvent) -> JsonObject:
    """CreateAccountEvent{created, role_id}."""
    return {"type": "createaccount", "created_address": _address(de), "role_id": de.u64()}


def render_mint(de: Deserializer, _event: ContractEvent) -> JsonObject:
    """MintEvent{amount, currency_code}."""
    amount, currency = de.u64(), _currency(de)
    return {"type": "mint", "amount": _amount(amount, currency)}


def _make_burn_renderer(kind: str) -> Renderer:
    def render(de: Deserializer, _event: ContractEvent) -> JsonObject:
        amount, currency, preburn_address = de.u64(), _currency(de), _address(de)
        return {"type": kind, "amount": _amount(amount, currency), "preburn_address": preburn_address}

    render.__doc__ = f"{kind} event {{amount, currency_code, preburn_address}}."
    return render


def render_exchange_rate_update(de: Deserializer, _event: ContractEvent) -> JsonObject:
    """ToXDXExchangeRateUpdateEvent{currency_code, new_to_xdx_exchange_rate: FixedPoint32}."""
    currency, rate_raw = _currency(de), de.u64()
    return {"type": "to_xdx_exchange_rate_update", "currency_code": currency,
            "new_to_xdx_exchange_rate": rate_raw / FIXED_POINT_32_SCALE}


def render_received_mint(de: Deserializer, _event: ContractEvent) -> JsonObject:
    """ReceivedMintEvent{currency_code, destination_address, amount}."""
    currency, destination, amount = _currency(de), _address(de), de.u64()
    return {"type": "receivedmint", "amount": _amount(amount, currency), "destination_address": destination}


def render_compliance_key_rotation(de: Deserializer, _event: ContractEvent) -> JsonObject:
    """ComplianceKeyRotationEvent{new_compliance_public_key, time_rotated_seconds}."""
    key, seconds = de.bytes(), de.u64()
    return {"type": "compliancekeyrotation", "new_compliance_public_key": key.hex(), "time_rotated_seconds": seconds}


def render_base_url_rotation(de: Deserializer, _event: ContractEvent) -> JsonObject:
    """BaseUrlRotationEvent{new_base_url, time_rotated_seconds}; the URL must be UTF-8."""
    url, seconds = de.bytes(), de.u64()
    try:
        text = url.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("base url is not UTF-8") from None
    return {"type": "baseurlrotation", "new_base_url": text, "time_rotated_seconds": seconds}


def render_diem_id_domain(de: Deserializer, _event: ContractEvent) -> JsonObject:
    """DiemIdDomainEvent{removed, domain: DiemIdDomain{domain}, address}."""
    removed, domain, address = de.bool(), de.bytes(), _address(de)
    return {"type": "diemiddomain", "removed": removed, "domain": domain.decode("utf-8", errors="replace"),
            "address": address}


def render_new_block(de: Deserializer, _event: ContractEvent) -> JsonObject:
    """NewBlockEvent{round, proposer, previous_block_votes, time_microseconds}."""
    round_, proposer = de.u64(), _address(de)
    de.sequence(lambda inner: inner.fixed_bytes(ADDRESS_LENGTH))
    return {"type": "newblock", "round": round_, "proposer": proposer, "proposed_time": de.u64()}


def render_new_epoch(de: Deserializer, _event: ContractEvent) -> JsonObject:
    """NewEpochEvent{epoch}."""
    return {"type": "newepoch", "epoch": de.u64()}


def render_admin_transaction(de: Deserializer, _event: ContractEvent) -> JsonObject:
    """AdminTransactionEvent{committed_timestamp_secs}."""
    return {"type": "admintransaction", "committed_timestamp_secs": de.u64()}


RENDERERS: dict[tuple[str, str], Renderer] = {
    ("DiemAccount", "SentPaymentEvent"): render_sent_payment,
    ("DiemAccount", "ReceivedPaymentEvent"): render_received_payment,
    ("DiemAccount", "CreateAccountEvent"): render_create_account,
    ("DiemAccount", "AdminTransactionEvent"): render_admin_transaction,
    ("Diem", "MintEvent"): render_mint,
    ("Diem", "BurnEvent"): _make_burn_renderer("burn"),
    ("Diem", "PreburnEvent"): _make_burn_renderer("preburn"),
    ("Diem", "CancelBurnEvent"): _make_burn_renderer("cancelburn"),
    ("Diem", "ToXDXExchangeRateUpdateEvent"): render_exchange_rate_update,
    ("DesignatedDealer", "ReceivedMintEvent"): render_received_mint,
    ("DualAttestation", "ComplianceKeyRotationEvent"): render_compliance_key_rotation,
    ("DualAttestation", "BaseUrlRotationEvent"): render_base_url_rotation,
    ("DiemId", "DiemIdDomainEvent"): render_diem_id_domain,
    ("DiemBlock", "NewBlockEvent"): render_new_block,
    ("DiemConfig", "NewEpochEvent"): render_new_epoch,
}


def compute_event_data_view(event: ContractEvent) -> JsonObject:
    """Return the `data` object of an event; unknown or undecodable events show their bytes."""
    tag = event.type_tag
    if tag.kind == TypeTagKind.STRUCT and tag.struct.address.hex() == CORE_ADDRESS_HEX:  # type: ignore[union-attr]
        renderer = RENDERERS.get((tag.struct.module, tag.struct.name))  # type: ignore[union-attr]
        if renderer is not None:
            try:
                de = Deserializer(event.event_data)
                view = renderer(de, event)
                de.finish()
                return view
            except DecodeError:
                pass
    return {"type": "unknown", "bytes": event.event_data.hex()}


def compute_event_view(event: ContractEvent, transaction_version: int) -> JsonObject:
    """Return the full `Event` view."""
    return {
        "key": event.key.hex(),
        "sequence_number": event.sequence_number,
        "transaction_version": transaction_version,
        "data": compute_event_data_view(event),
    }
