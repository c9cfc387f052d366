"""Scenarios at epoch boundaries: joins, leaves, stake changes, unbonding, key rotation, fees and the power cap."""

from __future__ import annotations

import pytest

from contracts.framework import staking, staking_epoch
from tests.contracts.framework.staking.helpers import (
    BLOCK_US, DD, PARAMS, abort_of, assert_executed, consensus_key, make_staking_chain, p2p, staking_call,
    staking_events, u64,
)


@pytest.fixture()
def chain():
    return make_staking_chain()


@pytest.fixture()
def joiner(chain):
    key, address = chain.new_operator("op-j")
    assert_executed(chain.register(key, "op-j"))
    assert_executed(chain.op(key, "add_stake", u64(2_500_000)))
    return key, address


def members(chain) -> list[bytes]:
    return [address for address, _ in chain.system_set()]


def test_join_takes_effect_at_the_next_epoch_which_starts_at_the_next_block(chain, joiner):
    key, address = joiner
    epoch = chain.epoch()
    assert_executed(chain.op(key, "join_validator_set"))
    assert address not in members(chain) and chain.epoch() == epoch  # the join's own block changes nothing
    out = chain.run()
    assert chain.epoch() == epoch + 1 and address in members(chain)
    pool = chain.pool(address)
    assert (pool.is_active, pool.active.value, pool.pending_active.value) == (True, 2_500_000, 0)
    assert dict(chain.system_set())[address] == pool.voting_power > 0
    events = staking_events(out)
    assert ("Staking::PoolEpochUpdateEvent", {"validator": address, "epoch": epoch + 1, "active": 2_500_000,
                                              "activated": 2_500_000, "unbonding": 0, "unlock_us": 0,
                                              "keys_rotated": False}) in events
    assert ("Staking::ValidatorSetChangeEvent", {"validator": address, "joined": True, "reason": 0,
                                                 "epoch": epoch + 1}) in events
    assert events[-2:] == [("Staking::NewStakingEpochEvent", {"epoch": epoch + 1, "validators": 5,
                                                              "total_power": sum(p for _, p in chain.system_set())}),
                           ("DiemConfig::NewEpochEvent", {"epoch": epoch})]


def test_added_stake_of_a_validator_counts_only_after_the_scheduled_boundary(chain):
    key, address = chain.validators["v3"]
    before = dict(chain.system_set())[address]
    pool_before = chain.pool(address).active.value
    # A second operator joins; the genesis validator v3 must keep its power across the boundary.
    op_key, op = chain.new_operator("op-s")
    assert_executed(chain.register(op_key, "op-s"))
    assert_executed(chain.op(op_key, "add_stake", u64(1_500_000)))
    assert_executed(chain.op(op_key, "join_validator_set"))
    chain.run()
    power = chain.pool(op).voting_power
    assert_executed(chain.op(op_key, "add_stake", u64(500_000)))
    start = chain.epoch()
    for _ in range(PARAMS.epoch_blocks - 2):
        chain.run()
        assert chain.epoch() == start and chain.pool(op).voting_power == power  # mid-epoch: nothing moves
    chain.next_epoch()
    assert chain.pool(op).voting_power == 2_000_000 and chain.pool(op).active.value == 2_000_000
    assert dict(chain.system_set())[address] == before and chain.pool(address).active.value == pool_before


def test_the_epoch_also_ends_after_its_duration():
    params = staking.StakingParams(PARAMS.min_stake_micro, PARAMS.max_stake_micro, PARAMS.power_cap_bps, 10**6,
                                   10 * BLOCK_US, PARAMS.unbonding_us, PARAMS.max_evidence_age_us, PARAMS.slash_bps,
                                   PARAMS.fee_proposal_share_bps)
    chain = make_staking_chain(params)  # the first epoch's clock starts at the first block (genesis has none)
    chain.run()
    first = chain.time_us
    assert chain.state_().epoch_started_at_us == first
    while chain.time_us + BLOCK_US < first + 10 * BLOCK_US:
        chain.run()
        assert chain.epoch() == 1 and not staking_epoch.is_epoch_due(chain.ctx())
    chain.run()
    assert (chain.epoch(), chain.state_().epoch_started_at_us) == (2, first + 10 * BLOCK_US)


def test_leave_removes_the_validator_at_the_next_epoch(chain):
    key, address = chain.validators["v1"]
    assert_executed(chain.op(key, "leave_validator_set"))
    assert address in members(chain)
    out = chain.run()
    assert address not in members(chain) and not chain.pool(address).is_active
    assert ("Staking::ValidatorSetChangeEvent", {"validator": address, "joined": False, "reason": 0,
                                                 "epoch": chain.epoch()}) in staking_events(out)
    assert chain.pool(address).active.value == 3_000_000  # leaving does not unbond: the operator unlocks separately


def test_removal_from_the_allowlist_drops_an_active_validator(chain):
    _, address = chain.validators["v2"]
    assert_executed(chain.gov("remove_validator_operator", address))
    out = chain.run()
    assert address not in members(chain)
    assert ("Staking::ValidatorSetChangeEvent", {"validator": address, "joined": False, "reason": 2,
                                                 "epoch": chain.epoch()}) in staking_events(out)


def test_unlock_unbonds_at_the_boundary_and_withdraw_pays_after_the_unbonding_period(chain, joiner):
    key, address = joiner
    assert_executed(chain.op(key, "join_validator_set"))
    chain.run()
    balance = chain.balance(address)
    assert_executed(chain.op(key, "unlock_stake", u64(2_000_000)))
    assert chain.pool(address).active.value == 2_500_000  # unchanged until the boundary
    out = chain.next_epoch()
    pool = chain.pool(address)
    assert (pool.active.value, pool.unbonding.value) == (500_000, 2_000_000)
    assert pool.unbonding_unlock_us == (chain.time_us + PARAMS.unbonding_us,)
    assert ("Staking::PoolEpochUpdateEvent", {"validator": address, "epoch": chain.epoch(), "active": 500_000,
                                              "activated": 0, "unbonding": 2_000_000,
                                              "unlock_us": chain.time_us + PARAMS.unbonding_us,
                                              "keys_rotated": False}) in staking_events(out)
    assert abort_of(chain.op(key, "withdraw_stake")) == ("Staking", 1 + 14 * 256)  # still unbonding
    chain.run(advance_us=PARAMS.unbonding_us)
    out = chain.op(key, "withdraw_stake")
    assert_executed(out)
    assert chain.balance(address) == balance + 2_000_000 and chain.pool(address).unbonding.value == 0
    assert ("Staking::WithdrawStakeEvent", {"validator": address, "stake": 2_000_000, "rewards": 0}) \
        in staking_events(out)


def test_a_validator_below_the_minimum_stake_is_dropped(chain, joiner):
    key, address = joiner
    assert_executed(chain.op(key, "join_validator_set"))
    chain.run()
    assert_executed(chain.op(key, "unlock_stake", u64(2_500_000 - PARAMS.min_stake_micro + 1)))
    out = chain.next_epoch()
    assert address not in members(chain)
    assert ("Staking::ValidatorSetChangeEvent", {"validator": address, "joined": False, "reason": 1,
                                                 "epoch": chain.epoch()}) in staking_events(out)


def test_key_rotation_reaches_the_validator_set_only_at_the_boundary(chain, joiner):
    key, address = joiner
    assert_executed(chain.op(key, "join_validator_set"))
    chain.run()
    new_key = consensus_key("op-j-2").public_key().data
    assert_executed(chain.op(key, "rotate_consensus_key", u64(0)[:0] + bytes([32]) + new_key))
    info = chain.ctx().borrow(staking_epoch.system.VALIDATOR_SET, staking.DIEM_ROOT)
    assert next(v for v in info.validators if v.addr == address).consensus_public_key != new_key
    chain.next_epoch()
    info = chain.ctx().borrow(staking_epoch.system.VALIDATOR_SET, staking.DIEM_ROOT)
    assert next(v for v in info.validators if v.addr == address).consensus_public_key == new_key
    assert chain.pool(address).pending_consensus_key == b""


def test_fees_are_paid_by_power_and_proposals_and_the_dust_stays(chain, joiner):
    key, address = joiner
    assert_executed(chain.op(key, "join_validator_set"))
    chain.run()
    payer, _ = chain.new_operator("payer")
    v0 = chain.validators["v0"][1]
    chain.proposer = v0
    for _ in range(3):
        assert_executed(chain.submit(payer, p2p(DD, 1), price=7))
    collected = chain.fees()
    assert collected > 0
    powers = {pool_address: chain.pool(pool_address).voting_power for pool_address in chain.state_().validators}
    proposals = {a: chain.pool(a).proposals for a in powers}
    out = chain.next_epoch()
    total_power, total_proposals = sum(powers.values()), sum(proposals.values())
    by_proposals = collected * PARAMS.fee_proposal_share_bps // 10_000
    expected = {a: (collected - by_proposals) * powers[a] // total_power + by_proposals * proposals[a] // total_proposals
                for a in powers}
    paid = {f["validator"]: f["amount"] for n, f in staking_events(out) if n == "Staking::DistributeRewardsEvent"}
    assert paid == {a: amount for a, amount in expected.items() if amount}
    assert proposals[v0] == total_proposals > 0  # every block of the epoch so far was proposed by v0
    assert chain.fees() == collected - sum(paid.values())
    assert chain.pool(address).rewards.value == paid[address]
    before = chain.balance(address)
    assert_executed(chain.op(key, "withdraw_stake"))
    assert chain.balance(address) == before + paid[address]


def test_power_is_capped_when_a_large_stake_joins(chain):
    key, address = chain.new_operator("whale", balance=500_000_000)
    assert_executed(chain.register(key, "whale"))
    assert_executed(chain.op(key, "add_stake", u64(400_000_000)))
    assert_executed(chain.op(key, "join_validator_set"))
    chain.run()
    powers = dict(chain.system_set())
    total = sum(powers.values())
    assert powers[address] < 400_000_000
    assert all(power * 10_000 <= PARAMS.power_cap_bps * total for power in powers.values())


def test_only_the_epoch_ending_block_carries_the_next_validator_set_for_the_node(chain, joiner):
    from node.runtime.application import ContractsApplication

    app = ContractsApplication()
    key, address = joiner
    join_block = chain.run(chain.sign(key, staking_call("join_validator_set")))
    assert join_block.transactions[1].status.is_executed()
    assert app.get_next_validator_set(join_block) is None  # the request commits mid-epoch: no set change
    boundary = chain.run()
    next_set = app.get_next_validator_set(boundary)
    assert next_set is not None and next_set.is_member(address)
    assert [(m.address, m.voting_power) for m in next_set.members] == chain.system_set()
    assert next_set.get_member(address).consensus_public_key == consensus_key("op-j").public_key().data
    assert app.get_next_validator_set(chain.run()) is None


def test_joiners_beyond_the_set_size_limit_wait_outside(chain, monkeypatch):
    monkeypatch.setattr(staking, "MAX_VALIDATORS", 5)
    joined = []
    for name, stake in (("op-small", 1_500_000), ("op-big", 2_500_000)):
        key, address = chain.new_operator(name)
        assert_executed(chain.register(key, name))
        assert_executed(chain.op(key, "add_stake", u64(stake)))
        joined.append((key, address))
    both = chain.run(*(chain.sign(key, staking_call("join_validator_set")) for key, _ in joined))  # one block
    assert all(t.status.is_executed() for t in both.transactions[1:])
    out = chain.run()
    small, big = joined[0][1], joined[1][1]
    assert big in members(chain) and small not in members(chain) and len(members(chain)) == 5
    assert ("Staking::ValidatorSetChangeEvent", {"validator": small, "joined": False, "reason": 5,
                                                 "epoch": chain.epoch()}) in staking_events(out)
    assert not chain.pool(small).is_active
