"""Each built-in hook, on a real chain: what it accepts, what it rejects and with which stable code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.payments import Payment
from contracts.payments import decode_payment
from contracts.transaction_builder import compose_peer_to_peer
from node.compliance.admission.codes import Accept, AdmissionCode, Reject
from node.compliance.admission.hooks import (
    AmountCap,
    AmountCapsHook,
    KycGateHook,
    SanctionsHook,
    SanctionsListError,
    VelocityHook,
    VelocityWindow,
    parse_sanctions_list,
)
from primitives.types.names import AccountAddress
from primitives.types.scripts import Script, TransactionArgument, TransactionArgumentKind
from primitives.types.transactions import SignedTransaction, TransactionPayload
from primitives.types.type_tags import currency_type_tag
from tests.node.compliance.admission.chain import GENESIS_TIME_US, ComplianceChain, new_account

VECTORS = Path(__file__).resolve().parents[3] / "primitives" / "data" / "diem_vectors.json"
XUS = 1_000_000
THRESHOLD = 1_000 * XUS


def load_p2p_script_code() -> bytes:
    vector = next(v for v in json.loads(VECTORS.read_text())["transactions"] if v["name"] == "p2p legacy script")
    return SignedTransaction.from_bcs(bytes.fromhex(vector["signed_bcs"])).raw_txn.payload.value.code


def compose_legacy_p2p(payee: bytes, amount_micro: int) -> TransactionPayload:
    kind = TransactionArgumentKind
    args = (TransactionArgument(kind.ADDRESS, AccountAddress(payee)), TransactionArgument(kind.U64, amount_micro),
            TransactionArgument(kind.U8_VECTOR, b""), TransactionArgument(kind.U8_VECTOR, b""))
    return TransactionPayload(Script(load_p2p_script_code(), (currency_type_tag("XUS"),), args))


@pytest.fixture(scope="module")
def chain() -> ComplianceChain:
    chain = ComplianceChain()
    chain.alice = chain.create_vasp("alice", 5_000 * XUS, kyc_tier=2)
    chain.bob = chain.create_vasp("bob", 5_000 * XUS)
    chain.carol = chain.create_vasp("carol", 5_000 * XUS, kyc_tier=1)
    # Dave's record expires two blocks after it is set.
    chain.dave = chain.create_vasp("dave", 5_000 * XUS)
    chain.set_kyc(chain.dave.address, 2, chain.view().now_us + 2_500_000)
    chain.advance_blocks(3)
    return chain


def pay(chain: ComplianceChain, sender, payee, amount_micro: int, sequence: int = 0, legacy: bool = False) -> SignedTransaction:
    payload = compose_legacy_p2p(payee.address, amount_micro) if legacy else compose_peer_to_peer(payee.address, amount_micro)
    return sender.sign(payload, sequence, GENESIS_TIME_US // 1_000_000 + 10**6)


# ---------------------------------------------------------------- payments
def test_payments_decode_alike_from_script_functions_and_legacy_scripts(chain: ComplianceChain) -> None:
    expected = Payment(chain.alice.address, chain.bob.address, 7 * XUS, "XUS")
    assert decode_payment(pay(chain, chain.alice, chain.bob, 7 * XUS)) == expected
    assert decode_payment(pay(chain, chain.alice, chain.bob, 7 * XUS, legacy=True)) == expected


def test_transactions_that_move_no_value_have_no_payment(chain: ComplianceChain) -> None:
    from contracts.transaction_builder import compose_rotate_dual_attestation_info

    signed = chain.alice.sign(compose_rotate_dual_attestation_info(b"https://a", bytes(32)), 0, 10**10)
    assert decode_payment(signed) is None


# ---------------------------------------------------------------- sanctions
def write_list(path: Path, lines: list[str], mtime_ns: int) -> None:
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, ns=(mtime_ns, mtime_ns))  # distinct stamps even on coarse-grained file systems


def test_sanctions_reject_a_listed_sender_and_a_listed_payee(chain: ComplianceChain, tmp_path: Path) -> None:
    path = tmp_path / "sanctions.txt"
    write_list(path, ["# OFAC 2026-11-01", "0x" + chain.bob.address.hex() + "  # bob"], 1_000_000_000)
    hook = SanctionsHook(path)
    sent = hook.check(pay(chain, chain.bob, chain.alice, XUS), chain.view())
    received = hook.check(pay(chain, chain.alice, chain.bob, XUS), chain.view())
    assert isinstance(sent, Reject) and sent.code is AdmissionCode.SANCTIONED_SENDER == 1001
    assert isinstance(received, Reject) and received.code is AdmissionCode.SANCTIONED_PAYEE == 1002
    assert chain.bob.address.hex() in received.reason
    assert hook.check(pay(chain, chain.alice, chain.carol, XUS), chain.view()) == Accept()


def test_sanctions_list_reloads_when_the_file_changes_without_restart(chain: ComplianceChain, tmp_path: Path) -> None:
    path = tmp_path / "sanctions.txt"
    write_list(path, [], 1_000_000_000)
    hook = SanctionsHook(path)
    transaction = pay(chain, chain.alice, chain.carol, XUS)
    assert hook.check(transaction, chain.view()) == Accept()
    write_list(path, [chain.carol.address.hex()], 2_000_000_000)
    assert hook.check(transaction, chain.view()).code is AdmissionCode.SANCTIONED_PAYEE
    write_list(path, [], 3_000_000_000)
    assert hook.check(transaction, chain.view()) == Accept()
    assert hook.reload_count == 3


def test_a_missing_or_malformed_sanctions_list_rejects_everything(chain: ComplianceChain, tmp_path: Path) -> None:
    path = tmp_path / "sanctions.txt"
    hook = SanctionsHook(path)
    transaction = pay(chain, chain.alice, chain.carol, XUS)
    assert hook.check(transaction, chain.view()).code is AdmissionCode.SANCTIONS_LIST_UNAVAILABLE == 1003
    write_list(path, ["not-an-address"], 1_000_000_000)
    rejection = hook.check(transaction, chain.view())
    assert rejection.code is AdmissionCode.SANCTIONS_LIST_UNAVAILABLE and "line 1" in rejection.reason
    write_list(path, [], 2_000_000_000)
    assert hook.check(transaction, chain.view()) == Accept()


def test_sanctions_file_format() -> None:
    assert parse_sanctions_list("0x" + "ab" * 16 + "\n\n# c\n" + "CD" * 16) == {b"\xab" * 16, b"\xcd" * 16}
    with pytest.raises(SanctionsListError, match="line 1"):
        parse_sanctions_list("ab" * 15)


# ---------------------------------------------------------------- KYC gate
@pytest.mark.parametrize("legacy", [False, True], ids=["script_function", "legacy_script"])
def test_kyc_gate_stops_large_payments_without_kyc_on_either_side(chain: ComplianceChain, legacy: bool) -> None:
    hook = KycGateHook(min_tier=2, threshold_micro=THRESHOLD)
    view = chain.view()
    assert hook.check(pay(chain, chain.alice, chain.bob, THRESHOLD, legacy=legacy), view) == Accept()
    to_bob = hook.check(pay(chain, chain.alice, chain.bob, THRESHOLD + 1, legacy=legacy), view)
    from_bob = hook.check(pay(chain, chain.bob, chain.alice, THRESHOLD + 1, legacy=legacy), view)
    assert to_bob.code is AdmissionCode.KYC_PAYEE_MISSING == 1111
    assert from_bob.code is AdmissionCode.KYC_SENDER_MISSING == 1101


def test_kyc_gate_stops_low_tiers_and_expired_records(chain: ComplianceChain) -> None:
    hook = KycGateHook(min_tier=2, threshold_micro=THRESHOLD)
    view = chain.view()
    low_sender = hook.check(pay(chain, chain.carol, chain.alice, THRESHOLD + 1), view)
    low_payee = hook.check(pay(chain, chain.alice, chain.carol, THRESHOLD + 1), view)
    expired = hook.check(pay(chain, chain.dave, chain.alice, THRESHOLD + 1), view)
    assert low_sender.code is AdmissionCode.KYC_SENDER_TIER_TOO_LOW == 1103
    assert low_payee.code is AdmissionCode.KYC_PAYEE_TIER_TOO_LOW == 1113
    assert expired.code is AdmissionCode.KYC_SENDER_EXPIRED == 1102
    assert hook.check(pay(chain, chain.alice, chain.alice, THRESHOLD + 1), view) == Accept()


def test_kyc_gate_lets_the_issuer_pay_anyone(chain: ComplianceChain) -> None:
    hook = KycGateHook(min_tier=2, threshold_micro=THRESHOLD)
    assert hook.check(pay(chain, chain.keys["dealer"], chain.bob, THRESHOLD * 2), chain.view()) == Accept()


# ---------------------------------------------------------------- amount caps
def test_amount_caps_follow_the_senders_effective_tier(chain: ComplianceChain) -> None:
    hook = AmountCapsHook([AmountCap(0, 100 * XUS), AmountCap(2, 10_000 * XUS)])
    view = chain.view()
    assert hook.check(pay(chain, chain.bob, chain.alice, 100 * XUS), view) == Accept()
    over = hook.check(pay(chain, chain.bob, chain.alice, 100 * XUS + 1), view)
    assert over.code is AdmissionCode.AMOUNT_CAP_EXCEEDED == 1301 and "tier 0" in over.reason
    assert hook.check(pay(chain, chain.carol, chain.alice, 100 * XUS + 1), view).code is AdmissionCode.AMOUNT_CAP_EXCEEDED
    assert hook.check(pay(chain, chain.alice, chain.bob, 10_000 * XUS), view) == Accept()
    # Dave's tier-2 record expired: he is back to tier 0.
    assert hook.check(pay(chain, chain.dave, chain.bob, 100 * XUS + 1), view).code is AdmissionCode.AMOUNT_CAP_EXCEEDED


# ---------------------------------------------------------------- velocity
def test_velocity_counts_pending_then_committed_transfers_until_the_window_passes() -> None:
    chain = ComplianceChain()
    alice = chain.create_vasp("alice", 100 * XUS)
    bob = chain.create_vasp("bob")
    hook = VelocityHook([VelocityWindow(10 * 1_000_000, max_transfers=2, max_amount_micro=None)])
    first, second, third = (chain.sign(alice, compose_peer_to_peer(bob.address, XUS)) for _ in range(3))
    for transaction in (first, second):
        assert hook.check(transaction, chain.view()) == Accept()
        chain.tracker.add_pending(transaction, chain.view().now_us)
    assert hook.check(first, chain.view()) == Accept(), "a resubmission does not count itself"
    assert hook.check(third, chain.view()).code is AdmissionCode.VELOCITY_COUNT_EXCEEDED == 1201
    for transaction in (first, second):
        assert chain.ledger.submit(transaction).is_accepted
    chain.ledger.commit_block()
    chain.tracker.on_committed_transactions([first, second], chain.view().now_us)
    assert hook.check(third, chain.view()).code is AdmissionCode.VELOCITY_COUNT_EXCEEDED
    chain.advance_blocks(11)
    chain.tracker.prune(chain.view().now_us)
    assert hook.check(third, chain.view()) == Accept()


def test_velocity_sums_amounts_of_committed_transfers_seen_from_other_nodes() -> None:
    chain = ComplianceChain()
    alice = chain.create_vasp("alice", 100 * XUS)
    bob = chain.create_vasp("bob")
    hook = VelocityHook([VelocityWindow(60 * 1_000_000, None, max_amount_micro=10 * XUS)])
    committed = chain.run(alice, compose_peer_to_peer(bob.address, 6 * XUS))
    chain.tracker.on_committed_transactions([committed], chain.view().now_us)
    assert hook.check(chain.sign(alice, compose_peer_to_peer(bob.address, 4 * XUS)), chain.view()) == Accept()
    over = hook.check(chain.sign(alice, compose_peer_to_peer(bob.address, 4 * XUS + 1)), chain.view())
    assert over.code is AdmissionCode.VELOCITY_AMOUNT_EXCEEDED == 1202
    assert hook.check(chain.sign(bob, compose_peer_to_peer(alice.address, 10 * XUS)), chain.view()) == Accept()


def test_expired_pending_transfers_stop_counting() -> None:
    chain = ComplianceChain()
    alice, bob = chain.create_vasp("alice", 100 * XUS), new_account("bob")
    hook = VelocityHook([VelocityWindow(3_600 * 1_000_000, max_transfers=1, max_amount_micro=None)])
    short_lived = alice.sign(compose_peer_to_peer(bob.address, XUS), 0, chain.view().now_us // 1_000_000 + 2)
    chain.tracker.add_pending(short_lived, chain.view().now_us)
    later = alice.sign(compose_peer_to_peer(bob.address, XUS), 1, 10**10)
    assert hook.check(later, chain.view()).code is AdmissionCode.VELOCITY_COUNT_EXCEEDED
    chain.advance_blocks(3)
    chain.tracker.prune(chain.view().now_us)
    assert hook.check(later, chain.view()) == Accept()


@settings(max_examples=30, deadline=None)
@given(payee=st.binary(min_size=16, max_size=16), amount=st.integers(0, 2**64 - 1))
def test_any_payment_decodes_the_same_from_both_payload_kinds(payee: bytes, amount: int) -> None:
    sender = new_account("sender")
    script_function = sender.sign(compose_peer_to_peer(payee, amount), 0, 10**10)
    legacy = sender.sign(compose_legacy_p2p(payee, amount), 0, 10**10)
    assert decode_payment(script_function) == decode_payment(legacy) == Payment(sender.address, payee, amount, "XUS")
