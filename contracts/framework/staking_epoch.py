"""Staking at epoch boundaries: genesis pools, capped voting power, fee rewards, pending changes, next set."""

from __future__ import annotations

from collections.abc import Sequence

from contracts.framework import DIEM_ROOT, block, currency, roles, staking, system, transaction_fee
from contracts.framework.staking import BPS_DENOMINATOR, STAKE_CURRENCY, StakePool, StakingParams, emit
from contracts.vm.context import Context
from contracts.vm.structs import Signer
from contracts.vm.values import ADDRESS, BOOL, U8, U64, encode_values

ADDRESS_BYTES = 16
KEY_BYTES = 32
MEMBER_BYTES = ADDRESS_BYTES + KEY_BYTES
MAX_HISTORY_EPOCHS = 32  # evidence about an older epoch is refused even if younger than the max age
MAX_UNBONDING_ENTRIES = 64  # beyond this the newest entry absorbs the next one (later unlock: never earlier)
MAX_USED_EVIDENCE = 4096
# ValidatorSetChangeEvent reasons.
REASON_REQUESTED = 0
REASON_BELOW_MIN_STAKE = 1
REASON_NOT_ALLOWLISTED = 2
REASON_SLASHED = 3
REASON_ABOVE_MAX_STAKE = 4
REASON_SET_FULL = 5

# (address, voting power, consensus key, network key, name, network addresses)
ValidatorEntry = tuple[bytes, int, bytes, bytes, bytes, tuple[bytes, ...]]


# ------------------------------------------------------------------ voting power
def _is_within_cap(threshold: int, stakes: Sequence[int], cap_bps: int) -> bool:
    return threshold * BPS_DENOMINATOR <= cap_bps * sum(min(stake, threshold) for stake in stakes)


def compute_capped_powers(stakes: Sequence[int], cap_bps: int) -> list[int]:
    """Return power_i = min(stake_i, T) with the largest integer T keeping every share <= cap_bps / 10000.

    When fewer than 10000 / cap_bps validators exist no T > 0 fits, and every validator gets the smallest
    stake as power (equal shares: the closest the set can get to the cap).
    """
    if not stakes:
        return []
    top = max(stakes)
    if _is_within_cap(top, stakes, cap_bps):
        return list(stakes)
    low, high = 0, top  # the feasible thresholds form [0, T*]: the constraint is concave in T
    while high - low > 1:
        middle = (low + high) // 2
        if _is_within_cap(middle, stakes, cap_bps):
            low = middle
        else:
            high = middle
    if low == 0:
        return [min(stakes)] * len(stakes)
    return [min(stake, low) for stake in stakes]


# ------------------------------------------------------------------ genesis
def initialize(ctx: Context, dr: Signer, tc: Signer, params: StakingParams, validators: Sequence) -> tuple:
    """Publish staking, mint each genesis validator's stake into its active pool; return system.set_validators entries.

    `validators` are genesis ValidatorConfig values (address, stake, consensus/network keys, human_name);
    every genesis validator is allowlisted and active in epoch 1.
    """
    roles.assert_treasury_compliance(ctx, tc)
    staking.publish_state(ctx, dr, params, tuple(v.address for v in validators))
    for validator in sorted(validators, key=lambda v: v.address):
        pool = staking.new_pool(validator.consensus_public_key, validator.network_public_key, validator.human_name,
                                tuple(validator.network_addresses))
        if validator.stake:
            cap = currency.borrow_mint_capability(ctx, tc, STAKE_CURRENCY)
            currency.deposit(ctx, pool.active, currency.mint_with_capability(ctx, cap, STAKE_CURRENCY, validator.stake))
        pool.is_active = validator.stake > 0
        staking.publish_pool(ctx, validator.address, pool)
    members = [v.address for v in validators if v.stake > 0]  # the genesis order, as DiemConfig had it
    entries = _install_powers(ctx, members, params)
    state = staking.borrow_state_mut(ctx)
    state.validators = tuple(members)
    _push_history(ctx, state, staking.GENESIS_EPOCH, entries, params)
    return entries


# ------------------------------------------------------------------ block prologue
def on_block(ctx: Context, proposer: bytes) -> None:
    """Count a proposal for the block's proposer (DiemBlock's prologue calls this; nil blocks count nothing)."""
    state = staking.get_state(ctx)
    if state.epoch_started_at_us == 0:  # genesis has no clock: the first epoch's time starts at the first block
        staking.borrow_state_mut(ctx).epoch_started_at_us = get_now_us(ctx)
    if proposer in state.validators:
        staking.borrow_pool_mut(ctx, proposer).proposals += 1


def get_block_height(ctx: Context) -> int:
    """Return DiemBlock's height (0 before the first block)."""
    found = ctx.get(block.BLOCK, DIEM_ROOT)
    return 0 if found is None else found.height


def get_now_us(ctx: Context) -> int:
    """Return the block clock (the prologue's context still carries the previous block's time)."""
    return block.now_microseconds(ctx)


def is_epoch_due(ctx: Context) -> bool:
    """Return True iff a set change is waiting, or the epoch has lasted its configured blocks or time."""
    if not staking.is_initialized(ctx):
        return False
    state = staking.get_state(ctx)
    params = staking.get_params(ctx)
    return (
        state.reconfigure_pending
        or get_block_height(ctx) - state.epoch_start_height >= params.epoch_blocks
        or get_now_us(ctx) - state.epoch_started_at_us >= params.epoch_duration_us
    )


# ------------------------------------------------------------------ the boundary
def on_new_epoch(ctx: Context) -> tuple[ValidatorEntry, ...]:
    """Pay fees, apply every pending request, compute the next set and install it; return its entries."""
    params = staking.get_params(ctx)
    state = staking.get_state(ctx)
    current = tuple(state.validators)
    next_epoch = state.epoch + 1
    _distribute_fees(ctx, current, params, state.epoch)
    for address in state.pools:
        _apply_pending(ctx, address, params, next_epoch)
    members = [address for address in state.pools if _stays(ctx, address, params, current, next_epoch)]
    members = _limit_size(ctx, members, current, next_epoch)
    if not members:  # never leave the chain without validators: keep whoever still has stake
        members = [a for a in current if staking.get_pool(ctx, a).active.value > 0]
    if not members:
        members = list(current)
    mutable = staking.borrow_state_mut(ctx)
    if not members:  # a chain without validators (test ledgers): restart the clock, keep the epoch number
        mutable.epoch_started_at_us, mutable.reconfigure_pending = get_now_us(ctx), False
        mutable.epoch_start_height = get_block_height(ctx)
        return ()
    entries = _install_powers(ctx, members, params)
    mutable.epoch = next_epoch
    mutable.epoch_started_at_us = get_now_us(ctx)
    mutable.epoch_start_height = get_block_height(ctx)
    mutable.reconfigure_pending = False
    mutable.validators = tuple(members)
    _push_history(ctx, mutable, next_epoch, entries, params)
    total_power = sum(entry[1] for entry in entries)
    emit(ctx, "NewStakingEpochEvent", encode_values((U64, next_epoch), (U64, len(entries)), (U64, total_power)))
    system.reconfigure(ctx, entries)  # DiemConfig installs the set and emits NewEpochEvent
    return entries


def _limit_size(ctx: Context, members: list[bytes], current: Sequence[bytes], next_epoch: int) -> list[bytes]:
    """Keep at most MAX_VALIDATORS: members first, then joiners by stake (larger first), then address."""
    if len(members) <= staking.MAX_VALIDATORS:
        return members
    ranked = sorted(members, key=lambda a: (a not in current, -staking.get_pool(ctx, a).active.value, a))
    kept = set(ranked[:staking.MAX_VALIDATORS])
    for address in members:
        if address not in kept:
            staking.borrow_pool_mut(ctx, address).is_active = False  # a joiner: members never exceed the limit
            emit(ctx, "ValidatorSetChangeEvent", encode_values(
                (ADDRESS, address), (BOOL, False), (U8, REASON_SET_FULL), (U64, next_epoch)))
    return [address for address in members if address in kept]


def _install_powers(ctx: Context, members: Sequence[bytes], params: StakingParams) -> tuple[ValidatorEntry, ...]:
    pools = [staking.borrow_pool_mut(ctx, address) for address in members]
    powers = compute_capped_powers([pool.active.value for pool in pools], params.power_cap_bps)
    entries = []
    for address, pool, power in zip(members, pools, powers):
        pool.voting_power = power
        pool.proposals = 0
        pool.is_active = True
        entries.append((address, power, pool.consensus_public_key, pool.network_public_key, pool.human_name,
                        pool.network_addresses))
    return tuple(entries)


def _distribute_fees(ctx: Context, current: Sequence[bytes], params: StakingParams, epoch: int) -> None:
    """Pay the fee pool to this epoch's validators: a share by voting power, the rest by proposals; dust stays."""
    if not transaction_fee.is_coin_initialized(ctx, STAKE_CURRENCY):
        return
    fees = transaction_fee.withdraw_collected(ctx, STAKE_CURRENCY)
    pools = [(address, staking.borrow_pool_mut(ctx, address)) for address in current]
    total_power = sum(pool.voting_power for _, pool in pools)
    total_proposals = sum(pool.proposals for _, pool in pools)
    amount = fees.value
    by_proposals = amount * params.fee_proposal_share_bps // BPS_DENOMINATOR if total_proposals else 0
    by_power = amount - by_proposals if total_power else 0
    for address, pool in pools:
        share = by_power * pool.voting_power // total_power if total_power else 0
        if total_proposals:
            share += by_proposals * pool.proposals // total_proposals
        if share:
            currency.deposit(ctx, pool.rewards, currency.withdraw(ctx, fees, share))
            emit(ctx, "DistributeRewardsEvent", encode_values(
                (ADDRESS, address), (U64, epoch), (U64, share), (U64, pool.proposals)))
    if fees.value:
        transaction_fee.pay_fee(ctx, fees)  # rounding dust waits for the next epoch
    else:
        currency.destroy_zero(ctx, fees)


def _apply_pending(ctx: Context, address: bytes, params: StakingParams, next_epoch: int) -> None:
    """Activate pending stake, start unbonding the unlocked amount, and swap in rotated keys."""
    pool = staking.borrow_pool_mut(ctx, address)
    activated = pool.pending_active.value
    if activated:
        currency.deposit(ctx, pool.active, currency.withdraw(ctx, pool.pending_active, activated))
    unbonding = min(pool.pending_inactive_micro, pool.active.value)
    unlock_us = get_now_us(ctx) + params.unbonding_us
    if unbonding:
        currency.deposit(ctx, pool.unbonding, currency.withdraw(ctx, pool.active, unbonding))
        _schedule_unbonding(pool, unbonding, unlock_us)
    pool.pending_inactive_micro = 0
    rotated = bool(pool.pending_consensus_key or pool.pending_network_key or pool.pending_network_addresses)
    if pool.pending_consensus_key:
        pool.consensus_public_key, pool.pending_consensus_key = pool.pending_consensus_key, staking.NO_KEY
    if pool.pending_network_key:
        pool.network_public_key, pool.pending_network_key = pool.pending_network_key, staking.NO_KEY
    if pool.pending_network_addresses:
        pool.network_addresses, pool.pending_network_addresses = pool.pending_network_addresses, ()
    if activated or unbonding or rotated:
        emit(ctx, "PoolEpochUpdateEvent", encode_values(
            (ADDRESS, address), (U64, next_epoch), (U64, pool.active.value), (U64, activated), (U64, unbonding),
            (U64, unlock_us if unbonding else 0), (BOOL, rotated)))


def _schedule_unbonding(pool: StakePool, amount: int, unlock_us: int) -> None:
    amounts, unlocks = list(pool.unbonding_amounts), list(pool.unbonding_unlock_us)
    if len(amounts) >= MAX_UNBONDING_ENTRIES:
        amounts[-1] += amount
        unlocks[-1] = max(unlocks[-1], unlock_us)
    else:
        amounts.append(amount)
        unlocks.append(unlock_us)
    pool.unbonding_amounts, pool.unbonding_unlock_us = tuple(amounts), tuple(unlocks)


def _stays(ctx: Context, address: bytes, params: StakingParams, current: Sequence[bytes], next_epoch: int) -> bool:
    """Decide membership in the next epoch, clear the pool's requests and emit a change event."""
    pool = staking.borrow_pool_mut(ctx, address)
    was_member = address in current
    wants = (was_member and not pool.pending_leave) or pool.pending_join
    reason = REASON_REQUESTED
    stake = pool.active.value
    if pool.tombstoned:
        reason = REASON_SLASHED
    elif address not in staking.get_state(ctx).allowlist:
        reason = REASON_NOT_ALLOWLISTED
    elif stake < params.min_stake_micro:
        reason = REASON_BELOW_MIN_STAKE
    elif stake > params.max_stake_micro:
        reason = REASON_ABOVE_MAX_STAKE
    stays = wants and reason == REASON_REQUESTED
    pool.pending_join = pool.pending_leave = False
    pool.is_active = stays
    if not stays:
        pool.voting_power = 0
    if stays != was_member:
        emit(ctx, "ValidatorSetChangeEvent", encode_values(
            (ADDRESS, address), (BOOL, stays), (U8, reason), (U64, next_epoch)))
    return stays


# ------------------------------------------------------------------ history for evidence
def _push_history(ctx: Context, state, epoch: int, entries, params: StakingParams) -> None:  # noqa: ANN001
    now = get_now_us(ctx)
    members = b"".join(entry[0] + entry[2] for entry in entries)
    epochs = list(state.history_epochs) + [epoch]
    starts = list(state.history_started_us) + [now]
    sets = list(state.history_members) + [members]
    # Epoch i ended when epoch i+1 started; keep it while evidence about it may still arrive.
    keep = [i for i in range(len(epochs)) if i == len(epochs) - 1 or starts[i + 1] + params.max_evidence_age_us >= now]
    keep = keep[-MAX_HISTORY_EPOCHS:]
    state.history_epochs = tuple(epochs[i] for i in keep)
    state.history_started_us = tuple(starts[i] for i in keep)
    state.history_members = tuple(sets[i] for i in keep)
    remembered = set(state.history_epochs)
    used = [(e, i) for e, i in zip(state.used_evidence_epochs, state.used_evidence) if e in remembered]
    state.used_evidence_epochs = tuple(e for e, _ in used)
    state.used_evidence = tuple(i for _, i in used)


def get_historical_key(ctx: Context, epoch: int, address: bytes) -> tuple[bytes | None, int | None]:
    """Return (consensus key of address in epoch or None, end time of epoch: None if current or unknown)."""
    state = staking.get_state(ctx)
    if epoch not in state.history_epochs:
        return None, None
    index = state.history_epochs.index(epoch)
    members = state.history_members[index]
    ended = state.history_started_us[index + 1] if index + 1 < len(state.history_epochs) else None
    for offset in range(0, len(members), MEMBER_BYTES):
        if members[offset:offset + ADDRESS_BYTES] == address:
            return members[offset + ADDRESS_BYTES:offset + MEMBER_BYTES], ended
    return None, ended
