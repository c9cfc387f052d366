"""Scenarios: KYC records (TC and parent VASPs), tier limits, and their enforcement on payments."""

from __future__ import annotations

import pytest

from contracts.framework import kyc
from tests.contracts.framework.compliance.helpers import (
    DD, DD_KEY, TC, abort_of, assert_executed, compliance_call, events_of, make_chain, p2p, u64, vec, xus,
)

FAR_FUTURE_US = 10**15
WINDOW_US = 10_000_000
BIG = 10**12


@pytest.fixture()
def world():
    chain = make_chain()
    p_key, parent = chain.create_parent("kyc-parent")
    c_key, child = chain.create_child(p_key, "kyc-child")
    q_key, other = chain.create_parent("kyc-other")
    for address in (parent, child, other):
        chain.fund(address, 1_000)
    return chain, (p_key, parent), (c_key, child), (q_key, other)


def _set(chain, address, tier, expiration_us=FAR_FUTURE_US, provider=b"acme-kyc"):
    return chain.tc("set_kyc_record", [address, u64(tier), u64(expiration_us), vec(provider)])


def _limits(chain, tier, per_transfer=BIG, inflow=BIG, outflow=BIG, holding=BIG, window_us=WINDOW_US):
    args = [u64(tier), u64(per_transfer), u64(inflow), u64(outflow), u64(holding), u64(window_us)]
    return chain.tc("set_kyc_tier_limits", args, xus())


def _set_child(chain, parent_key, child, tier, expiration_us=FAR_FUTURE_US):
    payload = compliance_call("set_child_kyc_record", [child, u64(tier), u64(expiration_us), vec(b"vasp-kyc")])
    return chain.submit(parent_key, payload)


# -------------------------------------------------------------------- records
def test_tc_sets_record_with_event(world):
    chain, (_, parent), _, _ = world
    out = _set(chain, parent, 2)
    assert events_of(out) == [("KYC::KycRecordUpdateEvent", {
        "address": parent, "tier": 2, "expiration_us": FAR_FUTURE_US, "provider": b"acme-kyc", "set_by": TC,
        "removed": False})]
    record = kyc.get_record(chain.ctx(), parent)
    assert (record.tier, record.provider, record.set_by) == (2, b"acme-kyc", TC)
    assert kyc.get_effective_tier(chain.ctx(), parent) == 2


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"tier": kyc.MAX_KYC_TIER + 1}, 263),                  # INVALID_ARGUMENT EINVALID_TIER
    ({"tier": 1, "expiration_us": 1}, 3335),                # INVALID_ARGUMENT EEXPIRATION_IN_PAST
    ({"tier": 1, "provider": b"p" * 65}, 3591),             # INVALID_ARGUMENT EPROVIDER_TOO_LONG
])
def test_record_argument_aborts(world, kwargs, expected):
    chain, (_, parent), _, _ = world
    assert abort_of(_set(chain, parent, **kwargs)) == ("KYC", expected)
    assert kyc.get_record(chain.ctx(), parent) is None


def test_record_on_dealer_aborts_3079(world):
    chain = world[0]
    assert abort_of(_set(chain, DD, 1)) == ("KYC", 3079)     # INVALID_ARGUMENT ENOT_KYC_SUBJECT


def test_parent_sets_child_record_up_to_its_own_tier(world):
    chain, (p_key, parent), (_, child), _ = world
    assert_executed(_set(chain, parent, 3))
    out = _set_child(chain, p_key, child, 3)
    assert events_of(out)[0][1]["set_by"] == parent
    assert kyc.get_effective_tier(chain.ctx(), child) == 3
    assert abort_of(_set_child(chain, p_key, child, 4)) == ("KYC", 775)   # ETIER_ABOVE_PARENT


def test_parent_cannot_set_records_outside_its_children(world):
    chain, (p_key, parent), _, (_, other) = world
    assert abort_of(_set_child(chain, p_key, other, 0)) == ("KYC", 519)   # ENOT_CHILD_OF_SENDER
    assert abort_of(_set_child(chain, p_key, parent, 0)) == ("KYC", 519)


def test_child_cannot_set_records(world):
    chain, _, (c_key, child), _ = world
    assert abort_of(_set_child(chain, c_key, child, 0)) == ("Roles", 771)


def test_revoke_record_with_event(world):
    chain, (_, parent), _, _ = world
    assert_executed(_set(chain, parent, 2))
    out = chain.tc("revoke_kyc_record", [parent])
    assert events_of(out) == [("KYC::KycRecordUpdateEvent", {
        "address": parent, "tier": 0, "expiration_us": 0, "provider": b"", "set_by": TC, "removed": True})]
    assert kyc.get_record(chain.ctx(), parent) is None
    assert abort_of(chain.tc("revoke_kyc_record", [parent])) == ("KYC", 5)  # NOT_PUBLISHED EKYC_RECORD


# ---------------------------------------------------------------- tier limits
def test_tier_limits_event_and_enforcement_starts_with_tier_zero(world):
    chain, (p_key, _), _, (_, other) = world
    out = _limits(chain, 1, per_transfer=10)
    assert events_of(out) == [("KYC::KycTierLimitsUpdateEvent", {
        "currency_code": b"XUS", "tier": 1, "max_per_transfer": 10, "max_inflow": BIG, "max_outflow": BIG,
        "max_holding": BIG, "window_us": WINDOW_US, "removed": False})]
    assert_executed(chain.submit(p_key, p2p(other, 50)))     # no tier-0 limits yet: not enforced
    assert_executed(_limits(chain, 0, per_transfer=20))
    assert abort_of(chain.submit(p_key, p2p(other, 50))) == ("KYC", 1032)   # EPAYER_TRANSFER_CAP


def test_payee_per_transfer_cap(world):
    chain, (_, parent), _, _ = world
    assert_executed(_limits(chain, 0, per_transfer=20))
    out = chain.submit(DD_KEY, p2p(parent, 21), sender=DD)
    assert abort_of(out) == ("KYC", 1288)                   # EPAYEE_TRANSFER_CAP
    assert chain.balance(parent) == 1_000


def test_outflow_window_limits_and_resets(world):
    chain, (p_key, parent), _, (_, other) = world
    assert_executed(_limits(chain, 0, outflow=150))
    assert_executed(chain.submit(p_key, p2p(other, 100)))
    assert abort_of(chain.submit(p_key, p2p(other, 100))) == ("KYC", 1544)  # EOUTFLOW_LIMIT
    chain.run(advance_us=WINDOW_US + 1)
    assert_executed(chain.submit(p_key, p2p(other, 100)))
    assert chain.balance(parent) == 800


def test_inflow_and_holding_limits(world):
    chain, (_, parent), _, (q_key, other) = world
    assert_executed(_limits(chain, 0, inflow=150, holding=1_120))
    assert_executed(chain.submit(q_key, p2p(parent, 100)))
    assert abort_of(chain.submit(q_key, p2p(parent, 60))) == ("KYC", 1800)      # EINFLOW_LIMIT
    assert abort_of(chain.submit(q_key, p2p(parent, 30))) == ("KYC", 2056)      # EHOLDING_LIMIT (1100 + 30)
    assert_executed(chain.submit(q_key, p2p(parent, 20)))
    assert chain.balance(parent) == 1_120 and chain.balance(other) == 880


def test_higher_tier_gets_its_limits_and_expiry_falls_back_to_tier_zero(world):
    chain, (p_key, parent), _, (_, other) = world
    assert_executed(_limits(chain, 0, per_transfer=10))
    assert_executed(_limits(chain, 1, per_transfer=500))
    assert_executed(_set(chain, other, 1))
    expiry = chain.time_us + 3_000_000
    assert_executed(_set(chain, parent, 5, expiration_us=expiry))     # tier 5 uses tier 1's limits
    assert_executed(chain.submit(p_key, p2p(other, 400)))
    chain.run(advance_us=5_000_000)
    assert abort_of(chain.submit(p_key, p2p(other, 400))) == ("KYC", 1032)


def test_intra_vasp_payments_count_and_self_payments_do_not(world):
    chain, (p_key, parent), (_, child), _ = world
    assert_executed(_limits(chain, 0, per_transfer=10))
    assert abort_of(chain.submit(p_key, p2p(child, 11))) == ("KYC", 1032)
    assert_executed(chain.submit(p_key, p2p(parent, 11)))


def test_removing_tier_zero_turns_enforcement_off(world):
    chain, (p_key, _), _, (_, other) = world
    assert_executed(_limits(chain, 0, per_transfer=10))
    out = chain.tc("remove_kyc_tier_limits", [u64(0)], xus())
    assert events_of(out)[0][1]["removed"] is True
    assert_executed(chain.submit(p_key, p2p(other, 50)))
    assert abort_of(chain.tc("remove_kyc_tier_limits", [u64(0)], xus())) == ("KYC", 263)


def test_tier_limits_need_a_window(world):
    chain = world[0]
    assert abort_of(_limits(chain, 0, window_us=0)) == ("KYC", 2567)   # EINVALID_TIER_LIMITS


def test_dealer_payments_are_exempt_on_the_dealer_side(world):
    chain, (_, parent), _, _ = world
    assert_executed(_limits(chain, 0, per_transfer=10_000, outflow=1))
    assert_executed(chain.submit(DD_KEY, p2p(parent, 5_000), sender=DD))
