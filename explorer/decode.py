"""Turn verified transactions and certified events (BCS) into the rows the pages show."""

# Fields come from the certified bytes, never from the node's JSON: the verifying client has checked the
# JSON of a user transaction against its signed bytes, but only payment fields of events, so events are
# decoded here from the certified ContractEvent bytes the client returns.

from __future__ import annotations

from typing import Any

from contracts.framework import designated_dealer, freezing, pause, reserves, roles
from contracts.vm.values import ADDRESS, BOOL, BYTES, U64, Vector
from explorer.models import BlockRow, EventRow, TransactionDetail, TransactionRow, Transfer
from primitives.errors import DecodeError
from primitives.types.events import ContractEvent
from primitives.types.ledger_transactions import BlockMetadata, Transaction as TransactionEnvelope
from primitives.types.scripts import ScriptFunction
from primitives.types.transactions import Ed25519Authenticator, SignedTransaction
from wallet.models import Transaction

PAYMENT_FIELDS = (("amount", U64), ("currency", BYTES), ("counterparty", ADDRESS), ("metadata", BYTES))
BURN_FIELDS = (("amount", U64), ("currency", BYTES), ("preburn_address", ADDRESS))
# The layouts of the events a person cares about; any other event is shown as its certified bytes.
EVENT_LAYOUTS: dict[str, tuple[tuple[str, Any], ...]] = {
    "SentPaymentEvent": PAYMENT_FIELDS,
    "ReceivedPaymentEvent": PAYMENT_FIELDS,
    "MintEvent": (("amount", U64), ("currency", BYTES)),
    "BurnEvent": BURN_FIELDS,
    "PreburnEvent": BURN_FIELDS,
    "CancelBurnEvent": BURN_FIELDS,
    "NewBlockEvent": (("round", U64), ("proposer", ADDRESS), ("previous_block_votes", Vector(ADDRESS)),
                      ("proposed_time", U64)),
    "DiemIdDomainEvent": (("removed", BOOL), ("domain", BYTES), ("address", ADDRESS)),
    "ReceivedMintEvent": designated_dealer.ReceivedMintEvent.FIELDS,
    "FreezeAccountEvent": freezing.FreezeAccountEvent.FIELDS,
    "UnfreezeAccountEvent": freezing.UnfreezeAccountEvent.FIELDS,
    "WipeEvent": freezing.WipeEvent.FIELDS,
    "PauseEvent": pause.PauseEvent.FIELDS,
    "UnpauseEvent": pause.UnpauseEvent.FIELDS,
    "ReserveAttestationEvent": reserves.ReserveAttestationEvent.FIELDS,
}
TEXT_FIELDS = frozenset({"currency", "currency_code", "domain", "human_name"})
ROLE_NAMES = {
    roles.ROLE_DIEM_ROOT: "Diem root", roles.ROLE_TREASURY_COMPLIANCE: "treasury compliance",
    roles.ROLE_DESIGNATED_DEALER: "designated dealer", roles.ROLE_VALIDATOR: "validator",
    roles.ROLE_VALIDATOR_OPERATOR: "validator operator", roles.ROLE_PARENT_VASP: "parent VASP",
    roles.ROLE_CHILD_VASP: "child VASP", roles.ROLE_RESERVE_AUDITOR: "reserve auditor",
}
EVENT_KEY_COUNTER_BYTES = 8


def get_event_name(event: ContractEvent) -> str:
    """Return the event's struct name (SentPaymentEvent), or its type tag's text when it is not a struct."""
    struct_tag = event.type_tag.struct
    return struct_tag.name if struct_tag is not None else str(event.type_tag)


def decode_event_values(event: ContractEvent) -> dict[str, Any] | None:
    """Return the event's fields by name, or None when its layout is unknown or its bytes do not decode."""
    layout = EVENT_LAYOUTS.get(get_event_name(event))
    if layout is None:
        return None
    values, position, data = {}, 0, event.event_data
    try:
        for name, field_type in layout:
            values[name], position = field_type.decode(data, position)
    except (DecodeError, ValueError, IndexError):
        return None
    return values if position == len(data) else None


def format_field(name: str, value: Any) -> str:
    """Return one decoded field as text: addresses and bytes as hex, codes and domains as text."""
    if isinstance(value, bytes):
        if name in TEXT_FIELDS:
            return value.decode("ascii", errors="replace")
        return value.hex()
    if isinstance(value, tuple):
        return ", ".join(format_field(name, item) for item in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def compute_event_row(event: ContractEvent) -> EventRow:
    """Return one certified event as a row of decoded fields (or its BCS bytes when the layout is unknown)."""
    values = decode_event_values(event)
    fields = (("data (BCS)", event.event_data.hex()),) if values is None else tuple(
        (name, format_field(name, value)) for name, value in values.items())
    return EventRow(event.key.hex(), event.sequence_number, get_event_name(event), fields)


def get_transfer(events: tuple[ContractEvent, ...]) -> Transfer | None:
    """Return the first payment a transaction made (from its certified SentPaymentEvent), if any."""
    for event in events:
        if get_event_name(event) != "SentPaymentEvent":
            continue
        values = decode_event_values(event)
        if values is not None:
            sender = event.key.value[EVENT_KEY_COUNTER_BYTES:].hex()
            return Transfer(sender, values["counterparty"].hex(), values["amount"],
                            format_field("currency", values["currency"]), values["metadata"].hex())
    return None


def decode_envelope(view: Transaction) -> TransactionEnvelope:
    """Return the transaction the view's (verified) bytes hold."""
    return TransactionEnvelope.from_bcs(bytes.fromhex(view.bytes))


def get_block_metadata(view: Transaction) -> BlockMetadata | None:
    """Return the block metadata a verified transaction carries, or None for any other kind."""
    value = decode_envelope(view).value
    return value if isinstance(value, BlockMetadata) else None


def get_function_name(view: Transaction) -> str | None:
    """Return Module::function of a script-function transaction (checked against its signed bytes)."""
    script = view.transaction.script
    if "module_name" in script and "function_name" in script:
        return f"{script['module_name']}::{script['function_name']}"
    return "script" if view.transaction.type == "user" else None


def compute_transaction_row(view: Transaction, events: tuple[ContractEvent, ...],
                            timestamp_us: int | None) -> TransactionRow:
    """Return a verified transaction as a list row; a block's own time replaces timestamp_us."""
    block = get_block_metadata(view)
    value = decode_envelope(view).value
    is_user = isinstance(value, SignedTransaction)
    return TransactionRow(
        version=view.version, hash=view.hash, kind=view.transaction.type,
        sender=value.raw_txn.sender.value.hex() if is_user else None,
        sequence_number=value.raw_txn.sequence_number if is_user else None,
        function=get_function_name(view), status=view.vm_status.describe(), is_executed=view.vm_status.is_executed(),
        timestamp_us=block.timestamp_usecs if block is not None else timestamp_us, transfer=get_transfer(events),
    )


def compute_block_row(view: Transaction, transaction_count: int) -> BlockRow | None:
    """Return a block-metadata transaction as a block row, or None for any other kind."""
    block = get_block_metadata(view)
    if block is None:
        return None
    return BlockRow(view.version, block.round, block.proposer.value.hex(), block.timestamp_usecs, transaction_count)


def get_role_name(role_id: int | None) -> str:
    """Return the name of a role id (an account without RoleId has none)."""
    if role_id is None:
        return "none"
    return ROLE_NAMES.get(role_id, f"role {role_id}")


def compute_transaction_detail(view: Transaction, events: tuple[ContractEvent, ...], row: TransactionRow,
                               block: BlockRow | None) -> TransactionDetail:
    """Return a transaction page from its verified bytes and certified events."""
    value = decode_envelope(view).value
    raw = value.raw_txn if isinstance(value, SignedTransaction) else None
    payload = None if raw is None else raw.payload.value
    is_function = isinstance(payload, ScriptFunction)
    authenticator = None if not isinstance(value, SignedTransaction) else value.authenticator.value
    return TransactionDetail(
        row=row, gas_used=view.gas_used,
        gas_unit_price=None if raw is None else raw.gas_unit_price,
        max_gas_amount=None if raw is None else raw.max_gas_amount,
        gas_currency=None if raw is None else raw.gas_currency_code,
        expiration_timestamp_secs=None if raw is None else raw.expiration_timestamp_secs,
        public_key=authenticator.public_key.hex() if isinstance(authenticator, Ed25519Authenticator) else None,
        type_arguments=tuple(str(tag) for tag in payload.ty_args) if is_function else (),
        arguments=tuple(arg.hex() for arg in payload.args) if is_function else (),
        events=tuple(compute_event_row(event) for event in events), block=block,
    )
