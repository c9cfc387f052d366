"""Scenario helpers: a genesis with staked validators, operators holding XUS, and decoded staking events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.executor import execute_block
from contracts.framework import DIEM_ROOT, account, currency, staking
from contracts.framework import staking_epoch, staking_scripts, system, transaction_fee  # noqa: F401 (registers)
from contracts.genesis import DealerConfig, GenesisConfig, ValidatorConfig, build_genesis
from contracts.outputs import BlockOutput, TransactionOutput, is_retry
from contracts.vm.storage import InMemoryStateView
from contracts.vm.values import ADDRESS, BOOL, BYTES, U8, U64, FieldType
from primitives.keys import PrivateKey
from primitives.types.ledger_transactions import BlockMetadata
from primitives.types.names import AccountAddress
from primitives.types.transactions import TransactionPayload
from tests.contracts.framework.compliance.helpers import (
    DD, DD_KEY, DR_KEY, TC_KEY, Chain, call, key_for, p2p, u64, vec,
)

XUS = currency.tag_of_code(b"XUS")
DD_BALANCE = 10**15
BLOCK_US = 1_000_000
PARAMS = staking.StakingParams(
    min_stake_micro=1_000, max_stake_micro=10**12, power_cap_bps=3_333, epoch_blocks=10, epoch_duration_us=10**12,
    unbonding_us=50 * BLOCK_US, max_evidence_age_us=40 * BLOCK_US, slash_bps=1_000, fee_proposal_share_bps=5_000,
)
OUTSIDER = b"\x77" * 16  # a proposer that is no validator (blocks that count no proposal)
GENESIS_STAKES = (4_000_000, 3_000_000, 2_000_000, 1_000_000)


def consensus_key(name: str) -> PrivateKey:
    """The consensus key of a named validator."""
    return key_for(f"{name}-consensus")


def network_key(name: str) -> PrivateKey:
    """The network key of a named validator."""
    return key_for(f"{name}-network")


def staking_call(function: str, *args: bytes) -> TransactionPayload:
    """A StakingScripts payload."""
    return call("StakingScripts", function, list(args))


@dataclass
class StakingChain(Chain):
    """The compliance Chain with a chosen proposer per block and the staking state readers."""

    proposer: bytes = OUTSIDER
    validators: dict[str, tuple[PrivateKey, bytes]] = field(default_factory=dict)
    retried: int = 0

    def run(self, *txns, advance_us: int = BLOCK_US) -> BlockOutput:  # noqa: ANN002
        """Execute one block proposed by self.proposer."""
        self.time_us += advance_us
        self.round += 1
        metadata = BlockMetadata(bytes(32), self.round, self.time_us, (), AccountAddress(self.proposer))
        output = execute_block(self.state, metadata, list(txns))
        self.state.apply(output.write_set)
        return output

    def submit(self, key: PrivateKey, payload: TransactionPayload, sender: bytes | None = None,
               advance_us: int = BLOCK_US, price: int = 0) -> TransactionOutput:
        """Run one transaction in its own block; a Retry (its block ended the epoch) runs again in the next block."""
        address = sender or key.public_key().address()
        txn = self.sign(key, payload, sender, price)
        out = self.run(txn, advance_us=advance_us).transactions[1]
        while is_retry(out):  # what the node does: back to the mempool, then into a later block
            self.retried += 1
            out = self.run(txn).transactions[1]
        if not out.keep:
            self.seqs[address] -= 1
        return out

    def op(self, key: PrivateKey, function: str, *args: bytes) -> TransactionOutput:
        """Send a StakingScripts call signed by key."""
        return self.submit(key, staking_call(function, *args))

    def gov(self, function: str, *args: bytes, key: PrivateKey = DR_KEY, sender: bytes = DIEM_ROOT) -> TransactionOutput:
        """Send a StakingScripts call from Diem root (or another governor)."""
        return self.submit(key, staking_call(function, *args), sender=sender)

    def pool(self, address: bytes):  # noqa: ANN201
        """Return the stake pool at address."""
        return staking.get_pool(self.ctx(), address)

    def state_(self):  # noqa: ANN201
        """Return the staking state."""
        return staking.get_state(self.ctx())

    def system_set(self) -> list[tuple[bytes, int]]:
        """Return DiemConfig's validator set as (address, voting power)."""
        found = self.ctx().borrow(system.VALIDATOR_SET, DIEM_ROOT)
        return [(info.addr, info.stake) for info in found.validators]

    def epoch(self) -> int:
        """Return the staking epoch."""
        return self.state_().epoch

    def fees(self) -> int:
        """Return the undistributed fees."""
        return transaction_fee.get_collected(self.ctx(), XUS)

    def next_epoch(self) -> BlockOutput:
        """Run empty blocks until the epoch changes; return the block that changed it."""
        start = self.epoch()
        for _ in range(PARAMS.epoch_blocks + 2):
            out = self.run()
            if self.epoch() != start:
                return out
        raise AssertionError("no epoch change")

    def new_operator(self, name: str, balance: int = 100_000_000) -> tuple[PrivateKey, bytes]:
        """A parent VASP funded with XUS and allowlisted by Diem root."""
        key, address = self.create_parent(name)
        if balance:
            self.fund(address, balance)
        out = self.gov("allow_validator_operator", address)
        assert out.status.is_executed(), out.status
        return key, address

    def register(self, key: PrivateKey, name: str) -> TransactionOutput:
        """Register key's pool with the named consensus and network keys."""
        return self.op(key, "register_validator", vec(consensus_key(name).public_key().data),
                       vec(network_key(name).public_key().data), vec(name.encode()))

    def total_xus(self, operators: list[bytes]) -> dict[str, int]:
        """Return the XUS held by operators (balances), pools (stake, rewards) and the fee pool, and the supply."""
        ctx = self.ctx()
        state = staking.get_state(ctx)
        stake = rewards = 0
        for address in state.pools:
            pool = staking.get_pool(ctx, address)
            stake += staking.get_total_stake(pool)
            rewards += pool.rewards.value
        balances = sum(account.get_balance(ctx, a, XUS) or 0 for a in operators)
        return {"stake": stake, "rewards": rewards, "balances": balances, "fees": self.fees(),
                "supply": currency.get_currency_info(ctx, XUS).total_value}


def make_staking_chain(params: staking.StakingParams | None = PARAMS,
                       stakes: tuple[int, ...] = GENESIS_STAKES) -> StakingChain:
    """Genesis with len(stakes) validators (v0, v1, ...), a funded dealer, and staking (None: the default section)."""
    validators = []
    names = {}
    for index, stake in enumerate(stakes):
        name = f"v{index}"
        account_key = key_for(f"{name}-account")
        address = account_key.public_key().address()
        names[name] = (account_key, address)
        validators.append(ValidatorConfig(address, stake, consensus_key(name).public_key().data,
                                          network_key(name).public_key().data, account_key.public_key().data,
                                          name.encode()))
    config = GenesisConfig(
        DR_KEY.public_key().data, TC_KEY.public_key().data, validators=tuple(validators),
        dealers=(DealerConfig(DD, DD_KEY.public_key().data, initial_balance=DD_BALANCE),), staking=params,
    )
    chain = StakingChain(InMemoryStateView(build_genesis(config).write_set))
    chain.validators = names
    return chain


# ------------------------------------------------------------------ events
EVENT_LAYOUTS: dict[str, tuple[tuple[str, FieldType], ...]] = {
    "Staking::OperatorAllowlistEvent": (("operator", ADDRESS), ("allowed", BOOL), ("initiator", ADDRESS)),
    "Staking::RegisterValidatorEvent": (("validator", ADDRESS), ("consensus_key", BYTES), ("network_key", BYTES),
                                        ("human_name", BYTES)),
    "Staking::AddStakeEvent": (("validator", ADDRESS), ("amount", U64), ("next_epoch_stake", U64)),
    "Staking::UnlockStakeEvent": (("validator", ADDRESS), ("amount", U64), ("next_epoch_stake", U64)),
    "Staking::WithdrawStakeEvent": (("validator", ADDRESS), ("stake", U64), ("rewards", U64)),
    "Staking::JoinValidatorSetEvent": (("validator", ADDRESS), ("stake", U64)),
    "Staking::LeaveValidatorSetEvent": (("validator", ADDRESS),),
    "Staking::RotateConsensusKeyEvent": (("validator", ADDRESS), ("new_key", BYTES)),
    "Staking::RotateNetworkKeyEvent": (("validator", ADDRESS), ("new_key", BYTES)),
    "Staking::StakingConfigUpdateEvent": tuple((name, U64) for name, _ in staking.StakingConfig.FIELDS),
    "Staking::DistributeRewardsEvent": (("validator", ADDRESS), ("epoch", U64), ("amount", U64), ("proposals", U64)),
    "Staking::PoolEpochUpdateEvent": (("validator", ADDRESS), ("epoch", U64), ("active", U64), ("activated", U64),
                                      ("unbonding", U64), ("unlock_us", U64), ("keys_rotated", BOOL)),
    "Staking::ValidatorSetChangeEvent": (("validator", ADDRESS), ("joined", BOOL), ("reason", U8), ("epoch", U64)),
    "Staking::NewStakingEpochEvent": (("epoch", U64), ("validators", U64), ("total_power", U64)),
    "Evidence::EquivocationEvidenceEvent": (("validator", ADDRESS), ("kind", U8), ("epoch", U64), ("round", U64),
                                            ("submitter", ADDRESS)),
    "Evidence::SlashEvent": (("validator", ADDRESS), ("amount", U64), ("epoch", U64)),
    "DiemConfig::NewEpochEvent": (("epoch", U64),),
    "DiemAccount::SentPaymentEvent": (("amount", U64), ("currency_code", BYTES), ("payee", ADDRESS),
                                      ("metadata", BYTES)),
    "DiemAccount::ReceivedPaymentEvent": (("amount", U64), ("currency_code", BYTES), ("payer", ADDRESS),
                                          ("metadata", BYTES)),
    "Diem::BurnEvent": (("amount", U64), ("currency_code", BYTES), ("preburn_address", ADDRESS)),
    "Diem::PreburnEvent": (("amount", U64), ("currency_code", BYTES), ("preburn_address", ADDRESS)),
    "Diem::MintEvent": (("amount", U64), ("currency_code", BYTES)),
}


def decode_event(event: Any) -> tuple[str, dict[str, Any]]:
    """Return ("Module::Name", fields) of a ContractEvent (unknown layouts give an empty dict)."""
    tag = event.type_tag.struct
    name = f"{tag.module}::{tag.name}"
    layout = EVENT_LAYOUTS.get(name)
    if layout is None:
        return name, {}
    data, pos, fields = event.event_data, 0, {}
    for field_name, ftype in layout:
        fields[field_name], pos = ftype.decode(data, pos)
    assert pos == len(data), f"trailing bytes in {name}"
    return name, fields


def events_of(out: TransactionOutput) -> list[tuple[str, dict[str, Any]]]:
    """Decoded events of one transaction."""
    return [decode_event(event) for event in out.events]


def staking_events(out: TransactionOutput | BlockOutput) -> list[tuple[str, dict[str, Any]]]:
    """Decoded Staking/Evidence/NewEpoch events of a transaction or of a whole block."""
    outs = out.transactions if isinstance(out, BlockOutput) else (out,)
    found = [decode_event(e) for o in outs for e in o.events]
    return [(n, f) for n, f in found if n.split("::")[0] in ("Staking", "Evidence", "DiemConfig")]


def abort_of(out: TransactionOutput) -> tuple[str, int]:
    """Return (module, abort code) of a kept move_abort."""
    assert out.keep and out.status is not None and out.status.kind == "move_abort", out.status
    return out.status.location.split("::")[1], out.status.abort_code


def assert_executed(out: TransactionOutput) -> None:
    """Fail with the status unless executed."""
    assert out.keep and out.status is not None and out.status.is_executed(), out.status


__all__ = ["DD", "DD_KEY", "DR_KEY", "TC_KEY", "p2p", "u64", "vec"]
