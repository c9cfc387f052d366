"""Scenarios for every StakingScripts entry an operator or governance sends: pre-state, call, post-state, events."""

from __future__ import annotations

import pytest

from contracts.framework import DIEM_ROOT, TREASURY_COMPLIANCE, staking
from tests.contracts.framework.staking.helpers import (
    PARAMS, TC_KEY, XUS, abort_of, assert_executed, consensus_key, events_of, make_staking_chain, network_key,
    staking_events, u64, vec,
)


@pytest.fixture()
def chain():
    return make_staking_chain()


@pytest.fixture()
def operator(chain):
    key, address = chain.new_operator("op-a")
    return key, address


@pytest.fixture()
def registered(chain, operator):
    assert_executed(chain.register(operator[0], "op-a"))
    return operator


# ------------------------------------------------------------------ allowlist (governance)
def test_diem_root_allowlists_an_operator_with_an_event(chain):
    _, address = chain.create_parent("op-b")
    out = chain.gov("allow_validator_operator", address)
    assert_executed(out)
    assert staking.is_allowlisted(chain.ctx(), address)
    assert staking_events(out) == [("Staking::OperatorAllowlistEvent",
                                    {"operator": address, "allowed": True, "initiator": DIEM_ROOT})]


def test_treasury_compliance_may_govern_the_allowlist(chain):
    _, address = chain.create_parent("op-b")
    assert_executed(chain.gov("allow_validator_operator", address, key=TC_KEY, sender=TREASURY_COMPLIANCE))
    assert_executed(chain.gov("remove_validator_operator", address, key=TC_KEY, sender=TREASURY_COMPLIANCE))
    assert not staking.is_allowlisted(chain.ctx(), address)


def test_an_operator_cannot_allowlist_itself(chain):
    key, address = chain.create_parent("op-b")
    assert abort_of(chain.op(key, "allow_validator_operator", address)) == ("Staking", 3 + 1 * 256)  # EGOVERNANCE


def test_allowlisting_twice_or_removing_an_absent_operator_aborts(chain, operator):
    assert abort_of(chain.gov("allow_validator_operator", operator[1])) == ("Staking", 7 + 17 * 256)
    assert abort_of(chain.gov("remove_validator_operator", b"\x55" * 16)) == ("Staking", 7 + 17 * 256)


def test_governance_updates_the_config_and_refuses_an_unbonding_shorter_than_the_evidence_age(chain):
    values = [u64(v) for v in (5, 10**9, 2_500, 20, 10**9, 100, 100, 250, 0)]
    out = chain.gov("update_staking_config", *values)
    assert_executed(out)
    assert staking.get_params(chain.ctx()) == staking.StakingParams(5, 10**9, 2_500, 20, 10**9, 100, 100, 250, 0)
    assert staking_events(out)[0][0] == "Staking::StakingConfigUpdateEvent"
    bad = [u64(v) for v in (5, 10**9, 2_500, 20, 10**9, 99, 100, 250, 0)]
    assert abort_of(chain.gov("update_staking_config", *bad)) == ("Staking", 7 + 15 * 256)  # EINVALID_CONFIG


# ------------------------------------------------------------------ register
def test_register_publishes_an_empty_inactive_pool(chain, operator):
    key, address = operator
    out = chain.register(key, "op-a")
    assert_executed(out)
    pool = chain.pool(address)
    assert (pool.active.value, pool.pending_active.value, pool.is_active, pool.voting_power) == (0, 0, False, 0)
    assert pool.consensus_public_key == consensus_key("op-a").public_key().data
    assert address in chain.state_().pools and address not in chain.state_().validators
    assert staking_events(out) == [("Staking::RegisterValidatorEvent", {
        "validator": address, "consensus_key": consensus_key("op-a").public_key().data,
        "network_key": network_key("op-a").public_key().data, "human_name": b"op-a"})]


def test_register_aborts(chain, registered):
    key, _ = registered
    assert abort_of(chain.register(key, "op-a")) == ("Staking", 6 + 3 * 256)  # EALREADY_REGISTERED
    outsider, _ = chain.create_parent("outsider")
    assert abort_of(chain.register(outsider, "x")) == ("Staking", 3 + 2 * 256)  # ENOT_ALLOWLISTED
    other, _ = chain.new_operator("op-c")
    bad_key = chain.op(other, "register_validator", vec(b"\x01" * 31), vec(network_key("c").public_key().data),
                       vec(b"c"))
    assert abort_of(bad_key) == ("Staking", 7 + 5 * 256)  # EINVALID_KEY
    long_name = chain.op(other, "register_validator", vec(consensus_key("c").public_key().data),
                         vec(network_key("c").public_key().data), vec(b"n" * 129))
    assert abort_of(long_name) == ("Staking", 7 + 19 * 256)  # EINVALID_NAME


# ------------------------------------------------------------------ add stake
def test_add_stake_moves_coins_from_the_balance_into_pending_stake(chain, registered):
    key, address = registered
    before = chain.balance(address)
    out = chain.op(key, "add_stake", u64(5_000))
    assert_executed(out)
    pool = chain.pool(address)
    assert chain.balance(address) == before - 5_000
    assert (pool.active.value, pool.pending_active.value, pool.voting_power) == (0, 5_000, 0)
    names = [name for name, _ in events_of(out)]
    assert names == ["DiemAccount::SentPaymentEvent", "Staking::AddStakeEvent"]
    assert staking_events(out) == [("Staking::AddStakeEvent",
                                    {"validator": address, "amount": 5_000, "next_epoch_stake": 5_000})]


def test_add_stake_aborts(chain, registered):
    key, address = registered
    assert abort_of(chain.op(key, "add_stake", u64(0))) == ("Staking", 7 + 8 * 256)  # EZERO_AMOUNT
    assert abort_of(chain.op(key, "add_stake", u64(PARAMS.max_stake_micro + 1))) == ("Staking", 8 + 7 * 256)
    assert abort_of(chain.op(key, "add_stake", u64(10**10))) == ("DiemAccount", 1288)  # EINSUFFICIENT_BALANCE
    stranger, _ = chain.create_parent("stranger")
    assert abort_of(chain.op(stranger, "add_stake", u64(5))) == ("Staking", 5 + 4 * 256)  # ENOT_REGISTERED


# ------------------------------------------------------------------ join / leave
def test_join_requires_enough_stake_and_allowlisting(chain, registered):
    key, address = registered
    assert abort_of(chain.op(key, "join_validator_set")) == ("Staking", 7 + 6 * 256)  # ESTAKE_TOO_LOW
    assert_executed(chain.op(key, "add_stake", u64(PARAMS.min_stake_micro)))
    out = chain.op(key, "join_validator_set")
    assert_executed(out)
    assert staking_events(out) == [("Staking::JoinValidatorSetEvent",
                                    {"validator": address, "stake": PARAMS.min_stake_micro})]
    assert chain.pool(address).pending_join and chain.state_().reconfigure_pending
    assert abort_of(chain.op(key, "join_validator_set")) == ("Staking", 1 + 10 * 256)  # EALREADY_ACTIVE


def test_join_after_removal_from_the_allowlist_aborts(chain, registered):
    key, address = registered
    assert_executed(chain.op(key, "add_stake", u64(PARAMS.min_stake_micro)))
    assert_executed(chain.gov("remove_validator_operator", address))
    assert abort_of(chain.op(key, "join_validator_set")) == ("Staking", 3 + 2 * 256)


def test_leave_aborts_for_a_non_member_and_for_the_last_validator():
    chain = make_staking_chain(stakes=(5_000,))
    (key, address), = chain.validators.values()
    assert abort_of(chain.op(key, "leave_validator_set")) == ("Staking", 1 + 12 * 256)  # ELAST_VALIDATOR
    other, _ = chain.new_operator("op-z")
    assert_executed(chain.register(other, "op-z"))
    assert abort_of(chain.op(other, "leave_validator_set")) == ("Staking", 1 + 11 * 256)  # ENOT_ACTIVE


def test_leave_records_a_request_and_an_event(chain):
    key, address = chain.validators["v0"]
    out = chain.op(key, "leave_validator_set")
    assert_executed(out)
    assert staking_events(out) == [("Staking::LeaveValidatorSetEvent", {"validator": address})]
    assert chain.pool(address).pending_leave and chain.pool(address).is_active


# ------------------------------------------------------------------ unlock / withdraw / keys
def test_unlock_aborts_beyond_the_next_epoch_stake(chain, registered):
    key, _ = registered
    assert_executed(chain.op(key, "add_stake", u64(3_000)))
    assert abort_of(chain.op(key, "unlock_stake", u64(3_001))) == ("Staking", 8 + 9 * 256)  # EINSUFFICIENT_STAKE
    assert abort_of(chain.op(key, "unlock_stake", u64(0))) == ("Staking", 7 + 8 * 256)
    out = chain.op(key, "unlock_stake", u64(1_000))
    assert_executed(out)
    assert staking_events(out)[0][1]["next_epoch_stake"] == 2_000


def test_withdraw_with_nothing_unbonded_aborts(chain, registered):
    assert abort_of(chain.op(registered[0], "withdraw_stake")) == ("Staking", 1 + 14 * 256)


@pytest.mark.parametrize(("function", "field", "event"), [
    ("rotate_consensus_key", "pending_consensus_key", "Staking::RotateConsensusKeyEvent"),
    ("rotate_network_key", "pending_network_key", "Staking::RotateNetworkKeyEvent"),
])
def test_key_rotation_is_recorded_as_pending(chain, registered, function, field, event):
    key, address = registered
    new_key = consensus_key("rotated").public_key().data
    out = chain.op(key, function, vec(new_key))
    assert_executed(out)
    assert getattr(chain.pool(address), field) == new_key
    assert staking_events(out) == [(event, {"validator": address, "new_key": new_key})]
    assert abort_of(chain.op(key, function, vec(b"\x00" * 32))) == ("Staking", 7 + 5 * 256)  # small-order key


def test_stake_is_in_xus():
    assert staking.STAKE_CURRENCY == XUS


def test_removal_from_the_allowlist_emits_an_event_and_marks_a_member_for_the_boundary(chain):
    _, address = chain.validators["v0"]
    out = chain.gov("remove_validator_operator", address)
    assert_executed(out)
    assert staking_events(out) == [("Staking::OperatorAllowlistEvent",
                                    {"operator": address, "allowed": False, "initiator": DIEM_ROOT})]
    assert chain.state_().reconfigure_pending


def test_only_governance_updates_the_config(chain, operator):
    values = [u64(v) for v in (5, 10**9, 2_500, 20, 10**9, 100, 100, 250, 0)]
    assert abort_of(chain.op(operator[0], "update_staking_config", *values)) == ("Staking", 3 + 1 * 256)


def test_a_full_registry_refuses_new_pools(chain, operator, monkeypatch):
    monkeypatch.setattr(staking, "MAX_POOLS", len(chain.state_().pools))
    assert abort_of(chain.register(operator[0], "op-a")) == ("Staking", 8 + 18 * 256)  # ETOO_MANY_VALIDATORS


def test_a_slashed_pool_can_neither_stake_nor_join(chain):
    from tests.contracts.framework.staking.evidence_helpers import evidence_payload, signed_vote
    from tests.contracts.framework.staking.helpers import DD, DD_KEY

    key, address = chain.new_operator("op-t")
    assert_executed(chain.register(key, "op-t"))
    assert_executed(chain.op(key, "add_stake", u64(PARAMS.min_stake_micro)))
    assert_executed(chain.op(key, "join_validator_set"))
    chain.run()
    first = signed_vote(consensus_key("op-t"), chain.epoch(), 5, b"\x01" * 32)
    second = signed_vote(consensus_key("op-t"), chain.epoch(), 5, b"\x02" * 32)
    assert_executed(chain.submit(DD_KEY, evidence_payload(0, address, first, second), sender=DD))
    chain.run()
    assert abort_of(chain.op(key, "add_stake", u64(5))) == ("Staking", 1 + 13 * 256)  # ETOMBSTONED
    assert abort_of(chain.op(key, "join_validator_set")) == ("Staking", 1 + 13 * 256)
