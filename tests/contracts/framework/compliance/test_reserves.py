"""Scenarios: reserve attestations, auditor list, attestation age, mint backing and proof of reserves."""

from __future__ import annotations

import pytest

from contracts.framework import reserves
from tests.contracts.framework.compliance.helpers import (
    AUDITOR, AUDITOR_KEY, BLOCK_INTERVAL_US, DD, DD_BALANCE, DD_KEY, DR, INITIAL_RESERVES, REPORT_HASH, XUS,
    TC, TC_KEY, abort_of, assert_executed, compliance_call, events_of, key_for, make_chain, tc_call, u64, vec,
    xus,
)

HASH_2 = bytes(32 * [7])


@pytest.fixture()
def chain():
    return make_chain()


def _attest(chain, amount, report_hash=HASH_2, attested_at_us=None, key=AUDITOR_KEY, sender=None):
    # By default the auditor attests "now": the time of the block that will hold the transaction.
    when = chain.time_us + BLOCK_INTERVAL_US if attested_at_us is None else attested_at_us
    payload = compliance_call("record_reserve_attestation", [u64(amount), vec(report_hash), u64(when)], xus())
    return chain.submit(key, payload, sender=sender)


# ---------------------------------------------------------------- attestations
def test_genesis_attestation_is_latest(chain):
    latest = reserves.get_latest_attestation(chain.ctx(), XUS)
    assert (latest.sequence, latest.amount, latest.report_hash, latest.attested_at_us) == (
        0, INITIAL_RESERVES, REPORT_HASH, 0)
    assert latest.supply_at_record == 0                         # recorded before genesis funds the DD
    assert reserves.get_auditors(chain.ctx()) == (AUDITOR,)


def test_attestation_is_recorded_with_event(chain):
    out = _attest(chain, 7_000_000_000)
    assert_executed(out)
    assert events_of(out) == [("Reserves::ReserveAttestationEvent", {
        "currency_code": b"XUS", "sequence": 1, "amount": 7_000_000_000, "report_hash": HASH_2,
        "attested_at_us": chain.time_us, "auditor": AUDITOR, "total_supply": DD_BALANCE})]
    proof = reserves.get_proof_of_reserves(chain.ctx(), XUS, chain.time_us)
    assert proof.latest.amount == 7_000_000_000 and proof.attestation_count == 2
    assert [a.amount for a in proof.history] == [INITIAL_RESERVES, 7_000_000_000]
    assert proof.margin == 7_000_000_000 - DD_BALANCE and proof.is_fully_backed and not proof.is_stale


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"report_hash": b"\x01" * 31}, 1287),                     # INVALID_ARGUMENT EINVALID_REPORT_HASH
    ({"attested_at_us": 10**15}, 1543),                       # INVALID_ARGUMENT EATTESTATION_IN_FUTURE
])
def test_attestation_argument_aborts(chain, kwargs, expected):
    assert abort_of(_attest(chain, 1, **kwargs)) == ("Reserves", expected)


def test_attestation_out_of_order_aborts_1799(chain):
    assert_executed(_attest(chain, 10, attested_at_us=chain.time_us))
    chain.run()
    assert abort_of(_attest(chain, 10, attested_at_us=chain.time_us - 3_000_000)) == ("Reserves", 1799)


def test_non_auditor_attestation_aborts_259(chain):
    out = _attest(chain, 10**18, key=DD_KEY, sender=DD)
    assert abort_of(out) == ("Reserves", 259)                 # REQUIRES_ROLE ENOT_AUDITOR
    assert reserves.get_latest_attestation(chain.ctx(), XUS).amount == INITIAL_RESERVES


def test_history_keeps_the_latest_entries_and_counts_all(chain):
    for index in range(reserves.MAX_RESERVE_HISTORY + 3):
        assert_executed(_attest(chain, INITIAL_RESERVES + index))
        chain.run()
    proof = reserves.get_proof_of_reserves(chain.ctx(), XUS, chain.time_us)
    assert len(proof.history) == reserves.MAX_RESERVE_HISTORY
    assert proof.attestation_count == reserves.MAX_RESERVE_HISTORY + 4
    assert proof.history[-1].sequence == reserves.MAX_RESERVE_HISTORY + 3


# ------------------------------------------------------------------- minting
def test_under_reserved_attestation_is_recorded_and_blocks_mints(chain):
    out = _attest(chain, DD_BALANCE - 1)
    assert events_of(out)[0][1]["total_supply"] == DD_BALANCE
    proof = reserves.get_proof_of_reserves(chain.ctx(), XUS, chain.time_us)
    assert proof.margin == -1 and not proof.is_fully_backed
    assert abort_of(chain.tc("tiered_mint", [DD, u64(1), u64(0)], xus())) == ("Reserves", 776)
    # Burning brings supply back under the reserves, after which mints succeed again.
    assert_executed(chain.submit(DD_KEY, tc_call("preburn", [u64(2)], xus()), sender=DD))
    assert_executed(chain.tc("burn_with_amount", [DD, u64(2)], xus()))
    assert_executed(chain.tc("tiered_mint", [DD, u64(1), u64(0)], xus()))


def test_stale_attestation_blocks_mints_until_refreshed():
    chain = make_chain(max_age_us=10_000_000)
    chain.run(advance_us=20_000_000)
    assert abort_of(chain.tc("tiered_mint", [DD, u64(1), u64(0)], xus())) == ("Reserves", 1025)
    assert reserves.get_proof_of_reserves(chain.ctx(), XUS, chain.time_us).is_stale
    assert_executed(_attest(chain, INITIAL_RESERVES))
    assert_executed(chain.tc("tiered_mint", [DD, u64(1), u64(0)], xus()))


def test_mint_without_any_attestation_aborts_513():
    chain = make_chain(initial_reserves=None)
    assert abort_of(chain.tc("tiered_mint", [DD, u64(1), u64(0)], xus())) == ("Reserves", 513)


# ------------------------------------------------------ Diem root administration
def test_add_and_remove_auditor_with_events(chain):
    newcomer = key_for("auditor-2").public_key().address()
    out = chain.dr("add_reserve_auditor", [newcomer])
    assert events_of(out) == [("Reserves::ReserveAuditorChangeEvent",
                               {"auditor": newcomer, "added": True, "initiator_address": DR})]
    assert reserves.get_auditors(chain.ctx()) == (AUDITOR, newcomer)
    assert abort_of(chain.dr("add_reserve_auditor", [newcomer])) == ("Reserves", 2055)
    out = chain.dr("remove_reserve_auditor", [AUDITOR])
    assert events_of(out) == [("Reserves::ReserveAuditorChangeEvent",
                               {"auditor": AUDITOR, "added": False, "initiator_address": DR})]
    assert abort_of(chain.dr("remove_reserve_auditor", [AUDITOR])) == ("Reserves", 2311)
    assert abort_of(_attest(chain, 1)) == ("Reserves", 259)


def test_auditor_list_is_bounded(chain):
    for index in range(reserves.MAX_RESERVE_AUDITORS - 1):
        assert_executed(chain.dr("add_reserve_auditor", [bytes([index + 1]) * 16]))
    assert abort_of(chain.dr("add_reserve_auditor", [b"\xee" * 16])) == ("Reserves", 2824)


def test_set_max_reserve_age_with_event(chain):
    out = chain.dr("set_max_reserve_age", [u64(5)], xus())
    assert events_of(out) == [("Reserves::ReserveConfigUpdateEvent",
                               {"currency_code": b"XUS", "max_attestation_age_us": 5})]
    assert abort_of(chain.tc("tiered_mint", [DD, u64(1), u64(0)], xus())) == ("Reserves", 1025)
    assert abort_of(chain.dr("set_max_reserve_age", [u64(0)], xus())) == ("Reserves", 2567)


def test_auditor_administration_by_tc_aborts(chain):
    out = chain.submit(TC_KEY, compliance_call("add_reserve_auditor", [u64(0), b"\x01" * 16]), sender=TC)
    assert abort_of(out) == ("CoreAddresses", 2)              # REQUIRES_ADDRESS EDIEM_ROOT
