"""Typed event decoders: each framework event decodes to its value, and agrees with the RPC's JSON view."""

from __future__ import annotations

import pytest

from contracts.events import (
    BurnEvent,
    CreateAccountEvent,
    MintEvent,
    NewBlockEvent,
    ReceivedMintEvent,
    ReceivedPaymentEvent,
    SentPaymentEvent,
    decode_event,
)
from node.rpc.events import compute_event_data_view
from primitives.types.events import ContractEvent, EventKey
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag, TypeTag
from tests.contracts.framework.compliance.helpers import (
    DD, DD_KEY, PROPOSER, VM_RESERVED, assert_executed, make_chain, p2p, tc_call, u64, xus,
)

XUS_MICRO = 1_000_000


@pytest.fixture()
def chain():
    return make_chain()


def _event_tag(module: str, name: str) -> TypeTag:
    return TypeTag.struct_of(StructTag(AccountAddress.CORE_CODE, module, name, ()))


def _event(module: str, name: str, data: bytes) -> ContractEvent:
    return ContractEvent(EventKey(bytes(8) + DD), 0, _event_tag(module, name), data)


def test_a_payment_decodes_as_sent_on_the_payer_and_received_on_the_payee(chain) -> None:
    _, alice = chain.create_parent("alice")
    out = chain.submit(DD_KEY, p2p(alice, 7 * XUS_MICRO), sender=DD)
    assert_executed(out)
    sent, received = (decode_event(event) for event in out.events)
    assert sent == SentPaymentEvent(DD, 7 * XUS_MICRO, "XUS", alice, b"")
    assert received == ReceivedPaymentEvent(alice, 7 * XUS_MICRO, "XUS", DD, b"")


def test_mint_and_preburn_events_decode_with_their_amounts(chain) -> None:
    minted = chain.tc("tiered_mint", [DD, u64(1_234), u64(3)], xus())
    assert [decode_event(event) for event in minted.events] == [
        ReceivedMintEvent("XUS", DD, 1_234), MintEvent(1_234, "XUS"),
        ReceivedPaymentEvent(DD, 1_234, "XUS", VM_RESERVED, b"")]
    preburned = chain.submit(DD_KEY, tc_call("preburn", [u64(500)], xus()), sender=DD)
    assert decode_event(preburned.events[-1]) == BurnEvent("preburn", 500, "XUS", DD)


def test_every_block_opens_with_its_new_block_event(chain) -> None:
    out = chain.run()
    (block_event,) = (decode_event(event) for event in out.transactions[0].events)
    assert block_event == NewBlockEvent(chain.round, PROPOSER, (), chain.time_us)


def test_an_account_creation_event_names_the_account_and_its_role() -> None:
    data = bytes(range(16)) + (5).to_bytes(8, "little")
    assert decode_event(_event("DiemAccount", "CreateAccountEvent", data)) == CreateAccountEvent(bytes(range(16)), 5)


def test_unknown_types_and_malformed_bytes_decode_to_none() -> None:
    assert decode_event(_event("XUS", "XUS", b"")) is None
    assert decode_event(_event("DiemAccount", "SentPaymentEvent", b"\x01")) is None
    assert decode_event(_event("DiemAccount", "CreateAccountEvent", bytes(25))) is None  # a trailing byte
    foreign = ContractEvent(EventKey(bytes(24)), 0, TypeTag.struct_of(
        StructTag(AccountAddress.from_int(2), "DiemConfig", "NewEpochEvent", ())), (1).to_bytes(8, "little"))
    assert decode_event(foreign) is None


def test_typed_events_agree_with_the_rpc_views(chain) -> None:
    _, alice = chain.create_parent("alice")
    outputs = [chain.submit(DD_KEY, p2p(alice, 3), sender=DD), chain.tc("tiered_mint", [DD, u64(9), u64(0)], xus()),
               chain.submit(DD_KEY, tc_call("preburn", [u64(5)], xus()), sender=DD)]
    events = [event for out in outputs for event in out.events]
    assert len(events) == 7  # sent + received, received mint + mint + received, sent + preburn
    for event in events:
        assert _render(decode_event(event)) == compute_event_data_view(event)


def _render(typed: object) -> dict:
    """The Diem JSON view of a typed payment, mint or burn event (docs/json-rpc.md)."""
    if isinstance(typed, SentPaymentEvent):
        return {"type": "sentpayment", "amount": {"amount": typed.amount_micro, "currency": typed.currency},
                "receiver": typed.payee.hex(), "sender": typed.payer.hex(), "metadata": typed.metadata.hex()}
    if isinstance(typed, ReceivedPaymentEvent):
        return {"type": "receivedpayment", "amount": {"amount": typed.amount_micro, "currency": typed.currency},
                "sender": typed.payer.hex(), "receiver": typed.payee.hex(), "metadata": typed.metadata.hex()}
    if isinstance(typed, MintEvent):
        return {"type": "mint", "amount": {"amount": typed.amount_micro, "currency": typed.currency}}
    if isinstance(typed, BurnEvent):
        return {"type": typed.kind, "amount": {"amount": typed.amount_micro, "currency": typed.currency},
                "preburn_address": typed.preburn_address.hex()}
    assert isinstance(typed, ReceivedMintEvent), typed
    return {"type": "receivedmint", "amount": {"amount": typed.amount_micro, "currency": typed.currency},
            "destination_address": typed.destination_address.hex()}
