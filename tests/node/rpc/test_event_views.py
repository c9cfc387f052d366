"""Event views: each Diem event type renders its JSON fields; anything else shows raw bytes."""

from __future__ import annotations

from hypothesis import given, strategies as st

from node.rpc.events import compute_event_view
from primitives.bcs import Serializer
from primitives.types.events import ContractEvent, EventKey
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag, TypeTag

SENDER = AccountAddress.from_hex("e52999d653b418b73c002e3e43bc7ca9")
RECEIVER = AccountAddress.from_hex("47e71f8d3c713fd25766b7eff1385500")
METADATA = bytes.fromhex("0100010801020304050607080000")


def event_tag(module: str, name: str) -> TypeTag:
    return TypeTag.struct_of(StructTag(AccountAddress.CORE_CODE, module, name, ()))


def make_event(key: EventKey, module: str, name: str, write) -> ContractEvent:  # noqa: ANN001
    ser = Serializer()
    write(ser)
    return ContractEvent(key, 0, event_tag(module, name), ser.output())


def write_payment(counterparty: AccountAddress):  # noqa: ANN201
    def write(ser: Serializer) -> None:
        ser.u64(1_234_567)
        ser.bytes(b"XUS")
        ser.fixed_bytes(counterparty.value)
        ser.bytes(METADATA)
    return write


def test_payment_events_match_the_worked_example() -> None:
    sent = make_event(EventKey.from_parts(1, SENDER), "DiemAccount", "SentPaymentEvent", write_payment(RECEIVER))
    received = make_event(EventKey.from_parts(0, RECEIVER), "DiemAccount", "ReceivedPaymentEvent", write_payment(SENDER))
    assert compute_event_view(sent, 1234) == {
        "key": "0100000000000000e52999d653b418b73c002e3e43bc7ca9", "sequence_number": 0, "transaction_version": 1234,
        "data": {"type": "sentpayment", "amount": {"amount": 1234567, "currency": "XUS"},
                 "receiver": "47e71f8d3c713fd25766b7eff1385500", "sender": "e52999d653b418b73c002e3e43bc7ca9",
                 "metadata": "0100010801020304050607080000"},
    }
    assert compute_event_view(received, 1234)["data"] == {
        "type": "receivedpayment", "amount": {"amount": 1234567, "currency": "XUS"},
        "sender": "e52999d653b418b73c002e3e43bc7ca9", "receiver": "47e71f8d3c713fd25766b7eff1385500",
        "metadata": "0100010801020304050607080000",
    }


def test_admin_and_block_events_render_their_fields() -> None:
    key = EventKey.from_parts(0, AccountAddress.DIEM_ROOT)

    def write_created(ser: Serializer) -> None:
        ser.fixed_bytes(SENDER.value)
        ser.u64(6)

    def write_block(ser: Serializer) -> None:
        ser.u64(9)
        ser.fixed_bytes(RECEIVER.value)
        ser.sequence([SENDER.value], lambda inner, item: inner.fixed_bytes(item))
        ser.u64(1_700_000_000_000_000)

    def write_rate(ser: Serializer) -> None:
        ser.bytes(b"XUS")
        ser.u64(2**30)

    def write_domain(ser: Serializer) -> None:
        ser.bool(True)
        ser.bytes(b"example.com")
        ser.fixed_bytes(SENDER.value)

    created = compute_event_view(make_event(key, "DiemAccount", "CreateAccountEvent", write_created), 3)["data"]
    assert created == {"type": "createaccount", "created_address": SENDER.hex(), "role_id": 6}
    block = compute_event_view(make_event(key, "DiemBlock", "NewBlockEvent", write_block), 3)["data"]
    assert block == {"type": "newblock", "round": 9, "proposer": RECEIVER.hex(), "proposed_time": 1_700_000_000_000_000}
    rate = compute_event_view(make_event(key, "Diem", "ToXDXExchangeRateUpdateEvent", write_rate), 3)["data"]
    assert rate == {"type": "to_xdx_exchange_rate_update", "currency_code": "XUS", "new_to_xdx_exchange_rate": 0.25}
    domain = compute_event_view(make_event(key, "DiemId", "DiemIdDomainEvent", write_domain), 3)["data"]
    assert domain == {"type": "diemiddomain", "removed": True, "domain": "example.com", "address": SENDER.hex()}


def test_unknown_types_and_truncated_bytes_render_as_unknown() -> None:
    key = EventKey.from_parts(0, SENDER)
    foreign = ContractEvent(key, 0, event_tag("Reserves", "AttestationEvent"), b"\x01\x02")
    assert compute_event_view(foreign, 1)["data"] == {"type": "unknown", "bytes": "0102"}
    truncated = ContractEvent(key, 0, event_tag("DiemAccount", "SentPaymentEvent"), b"\x01")
    assert compute_event_view(truncated, 1)["data"] == {"type": "unknown", "bytes": "01"}
    trailing = make_event(key, "DiemConfig", "NewEpochEvent", lambda ser: (ser.u64(1), ser.u8(0)))
    assert compute_event_view(trailing, 1)["data"]["type"] == "unknown"


@given(st.binary(max_size=200), st.sampled_from(["SentPaymentEvent", "ReceivedPaymentEvent", "CreateAccountEvent",
                                                   "NewBlockEvent", "BaseUrlRotationEvent", "DiemIdDomainEvent"]))
def test_arbitrary_event_bytes_never_crash_the_view(data: bytes, name: str) -> None:
    module = {"NewBlockEvent": "DiemBlock", "BaseUrlRotationEvent": "DualAttestation", "DiemIdDomainEvent": "DiemId"}
    event = ContractEvent(EventKey.from_parts(0, SENDER), 0, event_tag(module.get(name, "DiemAccount"), name), data)
    assert "type" in compute_event_view(event, 0)["data"]
