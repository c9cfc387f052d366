"""Staking wired into the real chain: genesis (default and configured), the block prologue, Retry, the node's view."""

from __future__ import annotations

import dataclasses

import pytest

from contracts import scripts
from contracts.framework import DIEM_ROOT, TREASURY_COMPLIANCE, evidence, staking, system
from contracts.genesis import NO_PERIODIC_EPOCHS, STAKING_WITHOUT_PERIODIC_EPOCHS, GenesisConfig, build_genesis
from contracts.outputs import is_retry
from contracts.vm.context import EventHandleGenerator
from node.genesis import GenesisFileError, decode_genesis_config, encode_genesis_config
from node.runtime.application import ContractsApplication
from tests.contracts.framework.staking.evidence_helpers import evidence_payload, signed_vote
from tests.contracts.framework.staking.helpers import (
    DD, DD_KEY, DR_KEY, GENESIS_STAKES, PARAMS, TC_KEY, XUS, abort_of, assert_executed, consensus_key,
    make_staking_chain, p2p, staking_call, staking_events, u64,
)

APP = ContractsApplication()
VALIDATOR_SET_KEY = system.VALIDATOR_SET.state_key(DIEM_ROOT)
UNEQUAL_STAKES = (3_000_000_000, 1_000_000_000, 1_000_000_000)  # 60 %: a 33.33 % cap would change the powers


def set_of(chain) -> dict[bytes, int]:
    return dict(chain.system_set())


def joined_operator(chain, name: str, stake: int):  # noqa: ANN201
    key, address = chain.new_operator(name, balance=stake + 10_000_000)
    assert_executed(chain.register(key, name))
    assert_executed(chain.op(key, "add_stake", u64(stake)))
    assert_executed(chain.op(key, "join_validator_set"))
    return key, address


# ------------------------------------------------------------------ genesis without, and with change-only, staking
def test_a_genesis_without_a_staking_section_has_no_staking_and_a_fixed_set():
    chain = make_staking_chain(params=None, stakes=UNEQUAL_STAKES)
    assert not staking.is_initialized(chain.ctx())
    assert chain.system_set() == [(chain.validators[f"v{i}"][1], stake) for i, stake in enumerate(UNEQUAL_STAKES)]
    key, address = chain.validators["v0"]
    assert chain.balance(address) is None  # exactly the genesis of a chain before staking
    module, code = abort_of(chain.op(key, "join_validator_set"))
    assert (module, code % 256, code // 256) == ("Staking", 5, 16)  # NOT_PUBLISHED, ENOT_INITIALIZED
    chain.proposer = address
    for _ in range(5):
        out = chain.run(advance_us=10**10)
        assert VALIDATOR_SET_KEY not in out.write_set and APP.get_next_validator_set(out) is None


def test_change_only_staking_keeps_the_set_powers_and_counters_and_appends_its_handle_last():
    bare = make_staking_chain(params=None, stakes=UNEQUAL_STAKES)
    chain = make_staking_chain(params=STAKING_WITHOUT_PERIODIC_EPOCHS, stakes=UNEQUAL_STAKES)
    ctx = chain.ctx()
    assert chain.state.get(VALIDATOR_SET_KEY) == bare.state.get(VALIDATOR_SET_KEY)  # same set, order and powers
    changed = {key for key, value in bare.state.values.items() if chain.state.get(key) != value}
    generator = EventHandleGenerator.rtype().state_key(DIEM_ROOT)
    assert changed == {generator, staking.currency.CurrencyInfo.of(XUS).state_key(DIEM_ROOT)}  # + minted stake
    config = ctx.borrow(system.CONFIGURATION, DIEM_ROOT)
    assert (config.epoch, config.events.guid[:8]) == (0, (4).to_bytes(8, "little"))  # diem-compat §3.7
    counter = ctx.borrow(EventHandleGenerator.rtype(), DIEM_ROOT).counter
    assert staking.get_state(ctx).events.guid == (counter - 1).to_bytes(8, "little") + DIEM_ROOT
    assert counter - 1 == bare.ctx().borrow(EventHandleGenerator.rtype(), DIEM_ROOT).counter  # the one new handle
    for _, address in chain.validators.values():
        assert chain.balance(address) == 0  # validators hold XUS (request 6)


def test_change_only_staking_has_no_periodic_epochs():
    chain = make_staking_chain(params=STAKING_WITHOUT_PERIODIC_EPOCHS)
    chain.proposer = chain.validators["v0"][1]
    for _ in range(30):
        out = chain.run(advance_us=10**10)  # 30 blocks, over three days of block time
        assert VALIDATOR_SET_KEY not in out.write_set and APP.get_next_validator_set(out) is None
    assert (chain.epoch(), staking.get_params(chain.ctx()).epoch_blocks) == (1, NO_PERIODIC_EPOCHS)
    assert chain.pool(chain.validators["v0"][1]).proposals == 30


def test_change_only_staking_ends_an_epoch_only_after_a_set_change_and_does_not_cap():
    chain = make_staking_chain(params=STAKING_WITHOUT_PERIODIC_EPOCHS)
    _, address = joined_operator(chain, "op-big", 50_000_000)
    assert address not in set_of(chain)
    boundary = chain.run()
    assert set_of(chain)[address] == 50_000_000  # no cap: the power is the stake
    assert APP.get_next_validator_set(boundary).get_member(address).voting_power == 50_000_000
    assert chain.epoch() == 2 and APP.get_next_validator_set(chain.run(advance_us=10**10)) is None


def test_genesis_validators_can_be_paid_stake_more_and_withdraw_their_rewards():
    chain = make_staking_chain()
    key, address = chain.validators["v3"]
    chain.fund(address, 5_000_000)
    assert_executed(chain.op(key, "add_stake", u64(2_000_000)))
    assert_executed(chain.submit(DD_KEY, p2p(DD, 1), sender=DD, price=50))  # a fee for the epoch's validators
    chain.next_epoch()
    assert (chain.pool(address).active.value, chain.balance(address)) == (GENESIS_STAKES[3] + 2_000_000, 3_000_000)
    rewards = chain.pool(address).rewards.value
    assert rewards > 0
    assert_executed(chain.op(key, "withdraw_stake"))
    assert chain.balance(address) == 3_000_000 + rewards


# ------------------------------------------------------------------ configured staking through the real chain
def test_join_leave_slash_and_fees_change_the_set_only_at_boundaries():
    chain = make_staking_chain()
    v0 = chain.proposer = chain.validators["v0"][1]
    _, whale = joined_operator(chain, "whale", 40_000_000)
    boundary = chain.run()
    powers = set_of(chain)
    total = sum(powers.values())
    assert 0 < powers[whale] < 40_000_000 and powers[whale] * 10_000 <= PARAMS.power_cap_bps * total  # capped
    assert {m.address: m.voting_power for m in APP.get_next_validator_set(boundary).members} == powers
    # Mid-epoch (one block): a leave, a slash and fees are recorded but nothing reaches the set.
    leaver_key, leaver = chain.validators["v2"]
    offender = chain.validators["v1"][1]
    first, second = (signed_vote(consensus_key("v1"), chain.epoch(), 3, block_id)
                     for block_id in (b"\xaa" * 32, b"\xbb" * 32))
    mid = chain.run(chain.sign(leaver_key, staking_call("leave_validator_set")),
                    chain.sign(DD_KEY, evidence_payload(evidence.KIND_DOUBLE_VOTE, offender, first, second),
                               sender=DD, price=20))
    assert all(t.status.is_executed() for t in mid.transactions[1:]) and chain.fees() > 0
    assert VALIDATOR_SET_KEY not in mid.write_set and set_of(chain) == powers
    assert chain.pool(offender).active.value < GENESIS_STAKES[1]  # burned at once; membership waits
    # The next block ends the epoch (changes are pending): fees paid, leaver and offender out.
    fees = chain.fees()
    boundary = chain.run()
    assert set(set_of(chain)) == set(powers) - {leaver, offender}
    names = [name for name, _ in staking_events(boundary)]
    assert names[-2:] == ["Staking::NewStakingEpochEvent", "DiemConfig::NewEpochEvent"]
    paid = sum(f["amount"] for n, f in staking_events(boundary) if n == "Staking::DistributeRewardsEvent")
    assert 0 < paid <= fees and chain.fees() == fees - paid
    assert chain.pool(v0).rewards.value > 0
    assert system.get_epoch(chain.ctx()) == chain.epoch() - 1  # DiemConfig counts reconfigurations from 0


def test_periodic_boundary_pays_fees_and_keeps_the_set():
    chain = make_staking_chain()
    chain.proposer = chain.validators["v0"][1]
    assert_executed(chain.submit(DD_KEY, p2p(DD, 1), sender=DD, price=30))
    before, fees = set_of(chain), chain.fees()
    out = chain.next_epoch()
    assert set_of(chain) == before and VALIDATOR_SET_KEY in out.write_set  # a new epoch, the same members
    assert chain.fees() < fees
    assert chain.state_().epoch_start_height == PARAMS.epoch_blocks  # one boundary every epoch_blocks blocks


# ------------------------------------------------------------------ Retry
def test_transactions_after_a_new_epoch_event_are_retried_not_kept_nor_discarded():
    chain = make_staking_chain()
    key, address = chain.new_operator("op-r")
    assert_executed(chain.register(key, "op-r"))
    assert_executed(chain.op(key, "add_stake", u64(2_000_000)))
    assert_executed(chain.op(key, "join_validator_set"))
    seq = chain.seqs[DD]
    txns = [chain.sign(DD_KEY, p2p(DD, 1), sender=DD), chain.sign(key, staking_call("leave_validator_set"))]
    balance = chain.balance(DD)
    out = chain.run(*txns)  # its prologue ends the epoch
    assert staking_events(out.transactions[0])[-1][0] == "DiemConfig::NewEpochEvent"
    assert all(is_retry(t) and (t.keep, t.discard_status, t.write_set, t.events) == (False, None, {}, ())
               for t in out.transactions[1:])
    assert chain.balance(DD) == balance and chain.pool(address).is_active and not chain.pool(address).pending_leave
    again = chain.run(*txns)  # what the node does: back to the mempool, into a later block of the new epoch
    assert all(t.status.is_executed() and not is_retry(t) for t in again.transactions[1:])
    assert chain.seqs[DD] == seq + 1 and chain.pool(address).pending_leave


def test_a_discarded_transaction_is_not_a_retry():
    chain = make_staking_chain()
    good = chain.sign(DD_KEY, p2p(DD, 1), sender=DD)
    chain.seqs[DD] += 5
    too_new = chain.sign(DD_KEY, p2p(DD, 1), sender=DD)  # a sequence-number gap: discarded with a status
    out = chain.run(good, too_new)
    assert out.transactions[1].status.is_executed()
    assert not out.transactions[2].keep and out.transactions[2].discard_status is not None
    assert not is_retry(out.transactions[2])


# ------------------------------------------------------------------ scripts and the genesis file
def test_staking_scripts_are_core_script_functions():
    assert "contracts.framework.staking_scripts" in scripts.CORE_SCRIPT_MODULES
    assert scripts.get_spec("StakingScripts", "submit_equivocation_evidence") is not None


def test_the_genesis_file_carries_an_optional_staking_section():
    base = GenesisConfig(DR_KEY.public_key().data, TC_KEY.public_key().data)
    assert b'"staking"' not in encode_genesis_config(base)  # files written before staking: no section, no staking
    assert decode_genesis_config(encode_genesis_config(base)).staking is None
    configured = dataclasses.replace(base, staking=PARAMS)
    decoded = decode_genesis_config(encode_genesis_config(configured))
    assert decoded == configured
    assert build_genesis(decoded).get_hash() == build_genesis(configured).get_hash() != build_genesis(base).get_hash()
    broken = encode_genesis_config(dataclasses.replace(base, staking=dataclasses.replace(
        PARAMS, unbonding_us=PARAMS.max_evidence_age_us - 1)))
    with pytest.raises(GenesisFileError, match="staking"):
        decode_genesis_config(broken)
