"""Scenarios for the core scripts: pre-state, transaction, post-state, events, abort codes (diem-compat §4)."""

from __future__ import annotations

import pytest

from contracts.framework import DIEM_ROOT, TESTNET_DD, TREASURY_COMPLIANCE, account, diem_id, dual_attestation
from contracts.vm.status import StatusCode
from tests.contracts.vm.helpers import (
    DD_KEY, TC_KEY, XDX, XUS, boolean, create_child, create_parent, key_for, make_chain, p2p, script_function, u64,
    vec, xus,
)

DD = TESTNET_DD


def status_of(out, index: int = 1):
    return out.transactions[index].status


def abort_of(out, index: int = 1) -> tuple[str, int]:
    status = status_of(out, index)
    return status.location.split("::")[-1], status.abort_code


@pytest.fixture()
def chain():
    return make_chain()


def test_p2p_moves_funds_and_emits_sent_then_received(chain) -> None:
    _, alice = create_parent(chain, "alice")
    before = chain.balance(DD)
    out = chain.run(chain.sign(DD_KEY, p2p(alice, 700, b"\x01\x02"), sender=DD))
    assert status_of(out).is_executed()
    assert (chain.balance(DD), chain.balance(alice)) == (before - 700, 700)
    sent, received = out.transactions[1].events
    assert sent.key.value == (4).to_bytes(8, "little") + DD and sent.type_tag.struct.name == "SentPaymentEvent"
    assert sent.event_data == u64(700) + vec(b"XUS") + alice + vec(b"\x01\x02")
    assert received.key.value == (2).to_bytes(8, "little") + alice and received.sequence_number == 0
    assert received.event_data == u64(700) + vec(b"XUS") + DD + vec(b"\x01\x02")


@pytest.mark.parametrize(("amount", "payee_name", "expected"), [
    (10**18, "alice", ("DiemAccount", 1288)),
    (0, "alice", ("DiemAccount", 519)),
    (5, "nobody", ("DiemAccount", 4357)),
])
def test_p2p_aborts(chain, amount, payee_name, expected) -> None:
    _, alice = create_parent(chain, "alice")
    payee = alice if payee_name == "alice" else key_for(payee_name).public_key().address()
    seq_before = account.get_sequence_number(chain.ctx(), DD)
    out = chain.run(chain.sign(DD_KEY, p2p(payee, amount), sender=DD))
    assert abort_of(out) == expected
    assert out.transactions[1].events == () and out.transactions[1].keep
    assert account.get_sequence_number(chain.ctx(), DD) == seq_before + 1


def test_p2p_payee_without_currency_and_payer_without_currency(chain) -> None:
    out = chain.run(chain.sign(DD_KEY, p2p(TREASURY_COMPLIANCE, 5), sender=DD))
    assert abort_of(out) == ("DiemAccount", 4615)
    from primitives.types.type_tags import currency_type_tag
    out = chain.run(chain.sign(DD_KEY, p2p(TREASURY_COMPLIANCE, 5, ty_args=(currency_type_tag("XDX"),)), sender=DD))
    assert abort_of(out) == ("DiemAccount", 4869)


def test_p2p_unknown_currency_type_is_miscellaneous_error(chain) -> None:
    from primitives.types.type_tags import currency_type_tag
    _, alice = create_parent(chain, "alice")
    out = chain.run(chain.sign(DD_KEY, p2p(alice, 5, ty_args=(currency_type_tag("USD"),)), sender=DD))
    assert status_of(out).kind == "miscellaneous_error" and out.transactions[1].keep


def test_dual_attestation_required_between_vasps(chain) -> None:
    alice_key, alice = create_parent(chain, "alice")
    bob_key, bob = create_parent(chain, "bob")
    chain.run(chain.sign(DD_KEY, p2p(alice, 3 * 10**9), sender=DD))
    out = chain.run(chain.sign(alice_key, p2p(bob, 10**9, b"ref", b"\x00" * 10)))
    assert abort_of(out) == ("DualAttestation", 775)
    out = chain.run(chain.sign(alice_key, p2p(bob, 10**9, b"ref", b"\x00" * 64)))
    assert abort_of(out) == ("DualAttestation", 1281)
    compliance = key_for("bob-compliance")
    rotate = script_function("AccountAdministrationScripts", "rotate_dual_attestation_info",
                             [vec(b"https://bob"), vec(compliance.public_key().data)])
    assert status_of(chain.run(chain.sign(bob_key, rotate))).is_executed()
    out = chain.run(chain.sign(alice_key, p2p(bob, 10**9, b"ref", b"\x00" * 64)))
    assert abort_of(out) == ("DualAttestation", 1031)
    message = dual_attestation.get_dual_attestation_message(alice, b"ref", 10**9)
    out = chain.run(chain.sign(alice_key, p2p(bob, 10**9, b"ref", compliance.sign(message))))
    assert status_of(out).is_executed() and chain.balance(bob) == 10**9
    assert status_of(chain.run(chain.sign(alice_key, p2p(bob, 10**9 - 1)))).is_executed()


def test_create_parent_vasp_publishes_resources_and_event(chain) -> None:
    key = key_for("carol")
    address = key.public_key().address()
    payload = script_function("AccountCreationScripts", "create_parent_vasp_account",
                              [u64(0), address, vec(key.public_key().auth_key()[:16]), vec(b"carol"), boolean(True)],
                              xus())
    out = chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE))
    (event,) = out.transactions[1].events
    assert event.key.value == bytes(8) + DIEM_ROOT and event.event_data == address + u64(5)
    ctx = chain.ctx()
    acct = ctx.borrow(account.ACCOUNT, address)
    assert acct.authentication_key == key.public_key().auth_key()
    assert acct.received_events.guid[:8] == (2).to_bytes(8, "little")
    assert acct.sent_events.guid[:8] == (3).to_bytes(8, "little")
    assert account.get_balance(ctx, address, XUS) == 0 and account.get_balance(ctx, address, XDX) == 0
    assert diem_id.get_domains(ctx, address) == ()


@pytest.mark.parametrize(("address", "prefix", "expected"), [
    (bytes(16), bytes(16), ("DiemAccount", 2567)),
    (b"\x00" * 15 + b"\x01", bytes(16), ("DiemAccount", 6151)),
    (b"\x55" * 16, bytes(8), ("DiemAccount", 2055)),
    (TESTNET_DD, bytes(16), ("Roles", 6)),
])
def test_create_child_aborts(chain, address, prefix, expected) -> None:
    parent_key, _ = create_parent(chain, "alice")
    payload = script_function("AccountCreationScripts", "create_child_vasp_account",
                              [address, vec(prefix), boolean(False), u64(0)], xus())
    assert abort_of(chain.run(chain.sign(parent_key, payload))) == expected


def test_create_child_by_non_parent_aborts_771(chain) -> None:
    payload = script_function("AccountCreationScripts", "create_child_vasp_account",
                              [b"\x55" * 16, vec(bytes(16)), boolean(False), u64(0)], xus())
    assert abort_of(chain.run(chain.sign(DD_KEY, payload, sender=DD))) == ("Roles", 771)


def test_child_with_initial_balance_emits_three_events(chain) -> None:
    parent_key, parent = create_parent(chain, "alice")
    chain.run(chain.sign(DD_KEY, p2p(parent, 1000), sender=DD))
    _, child = create_child(chain, parent_key, "alice-1", 250)
    created, sent, received = chain.last.transactions[1].events
    assert created.event_data == child + u64(6)
    assert received.key.value == bytes(8) + child
    assert (chain.balance(parent), chain.balance(child)) == (750, 250)


def test_non_tc_cannot_create_parent_or_dealer(chain) -> None:
    for function in ("create_parent_vasp_account", "create_designated_dealer"):
        payload = script_function("AccountCreationScripts", function,
                                  [u64(0), b"\x66" * 16, vec(bytes(16)), vec(b"x"), boolean(False)], xus())
        assert abort_of(chain.run(chain.sign(DD_KEY, payload, sender=DD))) == ("CoreAddresses", 258)


def test_sliding_nonce_rejects_reuse(chain) -> None:
    def create(nonce: int, name: str):
        key = key_for(name)
        payload = script_function("AccountCreationScripts", "create_parent_vasp_account",
                                  [u64(nonce), key.public_key().address(), vec(bytes(16)), vec(b"n"), boolean(False)],
                                  xus())
        return chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE))

    assert status_of(create(5, "n1")).is_executed()
    assert abort_of(create(5, "n2")) == ("SlidingNonce", 775)
    assert abort_of(create(5 + 20_000, "n3")) == ("SlidingNonce", 519)
    # A nonce past the 128-bit window slides it: nonces below its new minimum are too old, never re-usable.
    assert status_of(create(5 + 128 + 10, "n4")).is_executed()
    assert abort_of(create(6, "n5")) == ("SlidingNonce", 263)


def test_rotate_dual_attestation_info_events_and_aborts(chain) -> None:
    parent_key, parent = create_parent(chain, "alice")
    child_key, _ = create_child(chain, parent_key, "alice-1")
    good = key_for("c").public_key().data
    out = chain.run(chain.sign(parent_key, script_function(
        "AccountAdministrationScripts", "rotate_dual_attestation_info", [vec(b"https://a"), vec(good)])))
    url_event, key_event = out.transactions[1].events
    assert url_event.key.value[:8] == (1).to_bytes(8, "little") and key_event.key.value[:8] == bytes(8)
    assert url_event.event_data == vec(b"https://a") + u64(chain.time_us // 10**6)
    bad = chain.run(chain.sign(parent_key, script_function(
        "AccountAdministrationScripts", "rotate_dual_attestation_info", [vec(b"u"), vec(b"\x01" * 31)])))
    assert abort_of(bad) == ("DualAttestation", 519)
    child = chain.run(chain.sign(child_key, script_function(
        "AccountAdministrationScripts", "rotate_dual_attestation_info", [vec(b"u"), vec(good)])))
    assert abort_of(child) == ("DualAttestation", 5)


def test_diem_id_domains(chain) -> None:
    _, parent = create_parent(chain, "alice")

    def call(function: str, address: bytes, domain: bytes):
        payload = script_function("TreasuryComplianceScripts", function, [address, vec(domain)])
        return chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE))

    out = call("add_diem_id_domain", parent, b"alice")
    (event,) = out.transactions[1].events
    assert event.key.value == bytes(8) + TREASURY_COMPLIANCE
    assert event.event_data == b"\x00" + vec(b"alice") + parent
    assert abort_of(call("add_diem_id_domain", parent, b"alice")) == ("DiemId", 775)
    assert abort_of(call("add_diem_id_domain", parent, b"a" * 64)) == ("DiemId", 1287)
    assert abort_of(call("add_diem_id_domain", TESTNET_DD, b"dd")) == ("DiemId", 1029)
    assert status_of(call("remove_diem_id_domain", parent, b"alice")).is_executed()
    assert abort_of(call("remove_diem_id_domain", parent, b"alice")) == ("DiemId", 519)


def test_add_currency_to_account(chain) -> None:
    parent_key, parent = create_parent(chain, "alice")
    from primitives.types.type_tags import currency_type_tag
    payload = script_function("AccountAdministrationScripts", "add_currency_to_account", [],
                              (currency_type_tag("XDX"),))
    assert status_of(chain.run(chain.sign(parent_key, payload))).is_executed()
    assert chain.balance(parent, XDX) == 0
    assert abort_of(chain.run(chain.sign(parent_key, payload))) == ("DiemAccount", 3846)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"chain_id": 4}, StatusCode.BAD_CHAIN_ID),
    ({"expiration": 1}, StatusCode.TRANSACTION_EXPIRED),
    ({"seq": 99}, StatusCode.SEQUENCE_NUMBER_TOO_NEW),
    ({"max_gas": 5_000_000}, StatusCode.MAX_GAS_UNITS_EXCEEDS_MAX_GAS_UNITS_BOUND),
    ({"max_gas": 10}, StatusCode.MAX_GAS_UNITS_BELOW_MIN_TRANSACTION_GAS_UNITS),
    ({"price": 10_001}, StatusCode.GAS_UNIT_PRICE_ABOVE_MAX_BOUND),
    ({"gas_currency": "USD"}, StatusCode.CURRENCY_INFO_DOES_NOT_EXIST),
    ({"gas_currency": "xus"}, StatusCode.INVALID_GAS_SPECIFIER),
    ({"gas_currency": "XDX", "price": 1}, StatusCode.BAD_TRANSACTION_FEE_CURRENCY),
    ({"price": 10_000, "max_gas": 4_000_000}, StatusCode.ACCEPTED),
    ({"seq": 2**64 - 1}, StatusCode.SEQUENCE_NUMBER_TOO_BIG),
])
def test_prologue_discards(chain, kwargs, expected) -> None:
    out = chain.run(chain.sign(DD_KEY, p2p(TESTNET_DD, 1), sender=DD, **kwargs))
    if expected == StatusCode.ACCEPTED:
        assert out.transactions[1].keep
        return
    assert not out.transactions[1].keep and out.transactions[1].discard_status == expected
    assert out.transactions[1].write_set == {}


def test_fee_larger_than_balance_and_oversized_transaction(chain) -> None:
    key, alice = create_parent(chain, "alice")
    chain.run(chain.sign(DD_KEY, p2p(alice, 100), sender=DD))
    out = chain.run(chain.sign(key, p2p(DD, 1), price=1, max_gas=1_000))
    assert out.transactions[1].discard_status == StatusCode.INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE
    out = chain.run(chain.sign(DD_KEY, p2p(alice, 1, b"x" * 5000), sender=DD))
    assert out.transactions[1].discard_status == StatusCode.EXCEEDED_MAX_TRANSACTION_SIZE
    out = chain.run(chain.sign(DD_KEY, p2p(alice, 1), sender=DD, seq=0))
    assert out.transactions[1].discard_status == StatusCode.SEQUENCE_NUMBER_TOO_OLD


def test_wrong_key_and_unknown_sender(chain) -> None:
    out = chain.run(chain.sign(TC_KEY, p2p(TESTNET_DD, 1), sender=DD, seq=0))
    assert out.transactions[1].discard_status == StatusCode.INVALID_AUTH_KEY
    out = chain.run(chain.sign(key_for("ghost"), p2p(TESTNET_DD, 1)))
    assert out.transactions[1].discard_status == StatusCode.SENDING_ACCOUNT_DOES_NOT_EXIST


def test_kept_failure_pays_fee_and_bumps_sequence_only(chain) -> None:
    _, alice = create_parent(chain, "alice")
    before = chain.balance(DD)
    out = chain.run(chain.sign(DD_KEY, p2p(alice, 10**18), sender=DD, price=1))
    result = out.transactions[1]
    assert result.keep and result.status.abort_code == 1288 and result.gas_used > 0
    assert chain.balance(DD) == before - result.gas_used and chain.balance(alice) == 0


def test_out_of_gas_is_kept_and_charges_max_gas(chain) -> None:
    _, alice = create_parent(chain, "alice")
    before = chain.balance(DD)
    out = chain.run(chain.sign(DD_KEY, p2p(alice, 5), sender=DD, price=1, max_gas=601))
    result = out.transactions[1]
    assert result.status.kind == "out_of_gas" and result.gas_used == 601
    assert chain.balance(DD) == before - 601 and chain.balance(alice) == 0


def test_unknown_legacy_script_is_rejected(chain) -> None:
    from primitives.types.scripts import Script
    from primitives.types.transactions import TransactionPayload
    out = chain.run(chain.sign(DD_KEY, TransactionPayload(Script(b"\xa1\x1c\xeb\x0b", (), ())), sender=DD))
    assert out.transactions[1].discard_status == StatusCode.UNKNOWN_SCRIPT


@pytest.mark.parametrize("payload", [
    script_function("PaymentScripts", "no_such_function", []),
    script_function("PaymentScripts", "peer_to_peer_with_metadata", [TESTNET_DD, u64(1)], xus()),
    script_function("PaymentScripts", "peer_to_peer_with_metadata", [TESTNET_DD, u64(1)[:7], vec(b""), vec(b"")], xus()),
    script_function("PaymentScripts", "peer_to_peer_with_metadata", [TESTNET_DD, u64(1), vec(b""), vec(b"")]),
])
def test_unrunnable_script_functions_are_kept_as_miscellaneous_error(chain, payload) -> None:
    out = chain.run(chain.sign(DD_KEY, payload, sender=DD))
    assert out.transactions[1].keep and status_of(out).kind == "miscellaneous_error"
    assert account.get_sequence_number(chain.ctx(), DD) == 1


def test_module_and_write_set_payloads_are_rejected(chain) -> None:
    from primitives.types.scripts import Module
    from primitives.types.transactions import TransactionPayload
    from primitives.types.write_sets import ChangeSet, WriteSet, WriteSetPayload
    out = chain.run(chain.sign(DD_KEY, TransactionPayload(Module(b"\x00")), sender=DD))
    assert out.transactions[1].discard_status == StatusCode.INVALID_MODULE_PUBLISHER
    payload = TransactionPayload(WriteSetPayload(ChangeSet(WriteSet(()), ())))
    out = chain.run(chain.sign(DD_KEY, payload, sender=DD))
    assert out.transactions[1].discard_status == StatusCode.REJECTED_WRITE_SET
