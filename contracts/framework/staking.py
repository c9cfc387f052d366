"""Staking: operator allowlist, stake pools in XUS, and requests that take effect at the next epoch."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from contracts.framework import DIEM_ROOT, account, currency, roles
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import KEY, Module, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BOOL, BYTES, U64, StructField, Vector, encode_values
from primitives.keys import is_valid_public_key
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("Staking")
_W = MODULE.claim()
STAKE_CURRENCY = currency.tag_of_code(b"XUS")
GENESIS_EPOCH = 1  # consensus numbers the first epoch 1 (consensus.epoch.GENESIS_EPOCH)
BPS_DENOMINATOR = 10_000
PUBLIC_KEY_LENGTH = 32
MAX_VALIDATORS = 256
MAX_POOLS = 1024
MAX_HUMAN_NAME_BYTES = 128
NO_KEY = b""

ERRORS = ErrorTable(MODULE, {
    "EGOVERNANCE": (1, " The signer is neither Diem root nor treasury compliance"),
    "ENOT_ALLOWLISTED": (2, " The operator is not on the validator allowlist"),
    "EALREADY_REGISTERED": (3, " A stake pool is already registered at this address"),
    "ENOT_REGISTERED": (4, " No stake pool is registered at this address"),
    "EINVALID_KEY": (5, " The public key is malformed"),
    "ESTAKE_TOO_LOW": (6, " The stake for the next epoch is below the minimum"),
    "ESTAKE_TOO_HIGH": (7, " The stake for the next epoch would exceed the maximum"),
    "EZERO_AMOUNT": (8, " The amount must be positive"),
    "EINSUFFICIENT_STAKE": (9, " The pool does not hold that much unlockable stake"),
    "EALREADY_ACTIVE": (10, " The validator is already in, or joining, the validator set"),
    "ENOT_ACTIVE": (11, " The validator is not in the validator set"),
    "ELAST_VALIDATOR": (12, " The last validator cannot leave the validator set"),
    "ETOMBSTONED": (13, " The validator was slashed for equivocation and cannot rejoin"),
    "ENOTHING_TO_WITHDRAW": (14, " No unbonded stake or rewards can be withdrawn yet"),
    "EINVALID_CONFIG": (15, " The staking configuration is inconsistent"),
    "ENOT_INITIALIZED": (16, " Staking is not initialized"),
    "EALLOWLIST": (17, " The operator is already on, or absent from, the allowlist"),
    "ETOO_MANY_VALIDATORS": (18, " The validator set or the pool registry is full"),
    "EINVALID_NAME": (19, " The human name is too long"),
    "EINVALID_NETWORK_ADDRESS": (20, " A network address is malformed (HOST:PORT), repeated, or there are too many"),
})


@dataclass(frozen=True, slots=True)
class StakingParams:
    """Governed staking parameters (amounts in micro-XUS, shares in basis points, times in microseconds)."""

    min_stake_micro: int = 1_000_000
    max_stake_micro: int = 10_000_000_000_000
    power_cap_bps: int = 3_333
    epoch_blocks: int = 1_000
    epoch_duration_us: int = 3_600_000_000
    unbonding_us: int = 7 * 86_400_000_000
    max_evidence_age_us: int = 7 * 86_400_000_000
    slash_bps: int = 500
    fee_proposal_share_bps: int = 5_000

    def is_valid(self) -> bool:
        """Return True iff the parameters are consistent (unbonding covers the evidence age, shares in range)."""
        return (
            0 < self.min_stake_micro <= self.max_stake_micro and 0 < self.power_cap_bps <= BPS_DENOMINATOR
            and self.epoch_blocks > 0 and self.epoch_duration_us > 0
            and self.unbonding_us >= self.max_evidence_age_us > 0
            and 0 <= self.slash_bps <= BPS_DENOMINATOR and 0 <= self.fee_proposal_share_bps <= BPS_DENOMINATOR
        )


@struct(MODULE, KEY)
class StakingConfig(Struct):
    """The governed parameters (at Diem root); see StakingParams."""

    __slots__ = ()
    FIELDS = (
        ("min_stake_micro", U64), ("max_stake_micro", U64), ("power_cap_bps", U64), ("epoch_blocks", U64),
        ("epoch_duration_us", U64), ("unbonding_us", U64), ("max_evidence_age_us", U64), ("slash_bps", U64),
        ("fee_proposal_share_bps", U64),
    )


@struct(MODULE, KEY)
class StakingState(Struct):
    """Epoch bookkeeping, allowlist, registry, current set, key history for evidence, and the event stream."""

    __slots__ = ()
    FIELDS = (
        ("epoch", U64), ("epoch_started_at_us", U64), ("epoch_start_height", U64), ("reconfigure_pending", BOOL),
        ("allowlist", Vector(ADDRESS)), ("pools", Vector(ADDRESS)), ("validators", Vector(ADDRESS)),
        # One entry per remembered epoch: its number, start time and members as addr16 || consensus key32.
        ("history_epochs", Vector(U64)), ("history_started_us", Vector(U64)), ("history_members", Vector(BYTES)),
        ("used_evidence", Vector(BYTES)), ("used_evidence_epochs", Vector(U64)),
        ("events", StructField(EventHandle)),
    )


@struct(MODULE, KEY, type_params=1)
class StakePool(Struct):
    """A validator's pool at its address: coins by state, keys, pending requests and this epoch's figures."""

    __slots__ = ()
    FIELDS = (
        ("active", StructField(currency.Coin, inherit_type_args=True)),
        ("pending_active", StructField(currency.Coin, inherit_type_args=True)),
        ("unbonding", StructField(currency.Coin, inherit_type_args=True)),
        ("rewards", StructField(currency.Coin, inherit_type_args=True)),
        ("pending_inactive_micro", U64),
        ("unbonding_amounts", Vector(U64)), ("unbonding_unlock_us", Vector(U64)),
        ("consensus_public_key", BYTES), ("network_public_key", BYTES), ("human_name", BYTES),
        ("pending_consensus_key", BYTES), ("pending_network_key", BYTES),
        ("network_addresses", Vector(BYTES)), ("pending_network_addresses", Vector(BYTES)),
        ("is_active", BOOL), ("pending_join", BOOL), ("pending_leave", BOOL), ("tombstoned", BOOL),
        ("voting_power", U64), ("proposals", U64),
    )


CONFIG = StakingConfig.rtype()
STATE = StakingState.rtype()
POOL = StakePool.of(STAKE_CURRENCY)


@lru_cache(maxsize=None)
def event_tag(module: str, name: str) -> StructTag:
    """Return the StructTag 0x1::module::name of an event."""
    return StructTag(AccountAddress.CORE_CODE, module, name, ())


def emit(ctx: Context, name: str, payload: bytes, module: str = "Staking") -> None:
    """Emit an event on the staking stream (Diem root); evidence uses it with module="Evidence"."""
    ctx.emit(ctx.borrow_mut(_W, STATE, DIEM_ROOT).events, event_tag(module, name), payload)


# ------------------------------------------------------------------ reads
def is_initialized(ctx: Context) -> bool:
    """Return True iff staking was initialized at genesis."""
    return ctx.exists(STATE, DIEM_ROOT)


def get_params(ctx: Context) -> StakingParams:
    """Return the current parameters (aborts ENOT_INITIALIZED before genesis set them)."""
    found = ctx.get(CONFIG, DIEM_ROOT)
    if found is None:
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ENOT_INITIALIZED")
    return StakingParams(*(getattr(found, name) for name, _ in StakingConfig.FIELDS))


def get_state(ctx: Context) -> StakingState:
    """Return the read-only staking state."""
    found = ctx.get(STATE, DIEM_ROOT)
    if found is None:
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ENOT_INITIALIZED")
    return found


def get_pool(ctx: Context, address: bytes) -> StakePool | None:
    """Return the read-only pool at address, or None."""
    return ctx.get(POOL, address)


def is_allowlisted(ctx: Context, address: bytes) -> bool:
    """Return True iff address may operate a validator."""
    return address in get_state(ctx).allowlist


def get_next_epoch_stake(pool: StakePool) -> int:
    """Return the stake that will be active after the next boundary."""
    return pool.active.value + pool.pending_active.value - pool.pending_inactive_micro


def get_total_stake(pool: StakePool) -> int:
    """Return every staked coin still in the pool and slashable (active, pending, unbonding)."""
    return pool.active.value + pool.pending_active.value + pool.unbonding.value


def borrow_pool_mut(ctx: Context, address: bytes) -> StakePool:
    """Return the mutable pool (staking modules only), aborting ENOT_REGISTERED when absent."""
    if not ctx.exists(POOL, address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ENOT_REGISTERED")
    return ctx.borrow_mut(_W, POOL, address)


def borrow_state_mut(ctx: Context) -> StakingState:
    """Return the mutable staking state (staking modules only)."""
    if not ctx.exists(STATE, DIEM_ROOT):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ENOT_INITIALIZED")
    return ctx.borrow_mut(_W, STATE, DIEM_ROOT)


# ------------------------------------------------------------------ governance
def assert_governance(ctx: Context, signer: Signer) -> None:
    """Abort EGOVERNANCE unless the signer is Diem root or treasury compliance."""
    role = roles.get_role_id(ctx, signer.address)
    if role not in (roles.ROLE_DIEM_ROOT, roles.ROLE_TREASURY_COMPLIANCE):
        raise ERRORS.abort(Category.REQUIRES_ROLE, "EGOVERNANCE")


def _write_params(ctx: Context, params: StakingParams) -> None:
    if not params.is_valid():
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_CONFIG")
    values = {name: getattr(params, name) for name, _ in StakingConfig.FIELDS}
    if ctx.exists(CONFIG, DIEM_ROOT):
        config = ctx.borrow_mut(_W, CONFIG, DIEM_ROOT)
        for name, value in values.items():
            setattr(config, name, value)
    else:
        ctx.move_to_address(_W, DIEM_ROOT, StakingConfig(_W, **values))


def set_params(ctx: Context, governor: Signer, params: StakingParams) -> None:
    """Replace the parameters (governance); they apply from the next epoch boundary on."""
    assert_governance(ctx, governor)
    get_state(ctx)
    _write_params(ctx, params)
    payload = encode_values(*((U64, getattr(params, name)) for name, _ in StakingConfig.FIELDS))
    emit(ctx, "StakingConfigUpdateEvent", payload)


def set_allowed(ctx: Context, governor: Signer, operator: bytes, allowed: bool) -> None:
    """Add or remove an operator; a removed active validator leaves at the next epoch (governance)."""
    assert_governance(ctx, governor)
    state = borrow_state_mut(ctx)
    if (operator in state.allowlist) == allowed:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EALLOWLIST")
    if allowed:
        state.allowlist = tuple(sorted(state.allowlist + (operator,)))
    else:
        state.allowlist = tuple(a for a in state.allowlist if a != operator)
        if operator in state.validators:
            state.reconfigure_pending = True
    payload = encode_values((ADDRESS, operator), (BOOL, allowed), (ADDRESS, governor.address))
    emit(ctx, "OperatorAllowlistEvent", payload)


# ------------------------------------------------------------------ operators
def _check_key(key: bytes) -> None:
    if len(key) != PUBLIC_KEY_LENGTH or not is_valid_public_key(key):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_KEY")


def new_pool(consensus_key: bytes, network_key: bytes, name: bytes, addresses: tuple[bytes, ...] = ()) -> StakePool:
    """Return an empty, inactive pool value (staking modules only publish it)."""
    zero = currency.new_stored_zero
    return POOL.pack(
        _W, active=zero(STAKE_CURRENCY), pending_active=zero(STAKE_CURRENCY), unbonding=zero(STAKE_CURRENCY),
        rewards=zero(STAKE_CURRENCY), pending_inactive_micro=0, unbonding_amounts=(), unbonding_unlock_us=(),
        consensus_public_key=consensus_key, network_public_key=network_key, human_name=name,
        pending_consensus_key=NO_KEY, pending_network_key=NO_KEY, network_addresses=tuple(addresses),
        pending_network_addresses=(), is_active=False, pending_join=False, pending_leave=False, tombstoned=False,
        voting_power=0, proposals=0)


def register(ctx: Context, operator: Signer, consensus_key: bytes, network_key: bytes, name: bytes) -> None:
    """Publish an empty stake pool at the operator's address (allowlisted operators only)."""
    address = operator.address
    state = get_state(ctx)
    if address not in state.allowlist:
        raise ERRORS.abort(Category.REQUIRES_ROLE, "ENOT_ALLOWLISTED")
    if ctx.exists(POOL, address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EALREADY_REGISTERED")
    if len(state.pools) >= MAX_POOLS:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "ETOO_MANY_VALIDATORS")
    if len(name) > MAX_HUMAN_NAME_BYTES:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_NAME")
    _check_key(consensus_key)
    _check_key(network_key)
    ctx.move_to(_W, operator, new_pool(consensus_key, network_key, name))
    mutable = borrow_state_mut(ctx)
    mutable.pools = tuple(sorted(mutable.pools + (address,)))
    payload = encode_values((ADDRESS, address), (BYTES, consensus_key), (BYTES, network_key), (BYTES, name))
    emit(ctx, "RegisterValidatorEvent", payload)


def add_stake(ctx: Context, operator: Signer, amount: int) -> None:
    """Lock amount of the operator's XUS in its pool as pending stake (active from the next epoch)."""
    if amount == 0:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EZERO_AMOUNT")
    address = operator.address
    pool = borrow_pool_mut(ctx, address)
    if pool.tombstoned:
        raise ERRORS.abort(Category.INVALID_STATE, "ETOMBSTONED")
    if get_next_epoch_stake(pool) + amount > get_params(ctx).max_stake_micro:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "ESTAKE_TOO_HIGH")
    coin = account.withdraw_from(ctx, operator, address, STAKE_CURRENCY, amount, b"stake")
    currency.deposit(ctx, pool.pending_active, coin)
    emit(ctx, "AddStakeEvent", encode_values((ADDRESS, address), (U64, amount), (U64, get_next_epoch_stake(pool))))


def unlock_stake(ctx: Context, operator: Signer, amount: int) -> None:
    """Schedule amount of stake to start unbonding at the next epoch boundary."""
    if amount == 0:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EZERO_AMOUNT")
    address = operator.address
    pool = borrow_pool_mut(ctx, address)
    if amount > get_next_epoch_stake(pool):
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EINSUFFICIENT_STAKE")
    pool.pending_inactive_micro += amount  # the boundary merges pending stake first, so this much is active then
    emit(ctx, "UnlockStakeEvent", encode_values((ADDRESS, address), (U64, amount), (U64, get_next_epoch_stake(pool))))


def join(ctx: Context, operator: Signer) -> None:
    """Ask to enter the validator set at the next epoch (allowlisted, not slashed, stake within bounds)."""
    address = operator.address
    state = get_state(ctx)
    pool = borrow_pool_mut(ctx, address)
    if address not in state.allowlist:
        raise ERRORS.abort(Category.REQUIRES_ROLE, "ENOT_ALLOWLISTED")
    if pool.tombstoned:
        raise ERRORS.abort(Category.INVALID_STATE, "ETOMBSTONED")
    if (pool.is_active and not pool.pending_leave) or pool.pending_join:
        raise ERRORS.abort(Category.INVALID_STATE, "EALREADY_ACTIVE")
    params = get_params(ctx)
    stake = get_next_epoch_stake(pool)
    if stake < params.min_stake_micro:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ESTAKE_TOO_LOW")
    if stake > params.max_stake_micro:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "ESTAKE_TOO_HIGH")
    if len(state.validators) >= MAX_VALIDATORS and not pool.is_active:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "ETOO_MANY_VALIDATORS")
    if pool.pending_leave:
        pool.pending_leave = False
    else:
        pool.pending_join = True
    borrow_state_mut(ctx).reconfigure_pending = True
    emit(ctx, "JoinValidatorSetEvent", encode_values((ADDRESS, address), (U64, stake)))


def leave(ctx: Context, operator: Signer) -> None:
    """Ask to leave the validator set at the next epoch (the last validator cannot leave)."""
    address = operator.address
    pool = borrow_pool_mut(ctx, address)
    if pool.pending_join:
        pool.pending_join = False
    elif not pool.is_active or pool.pending_leave:
        raise ERRORS.abort(Category.INVALID_STATE, "ENOT_ACTIVE")
    else:
        remaining = [a for a in get_state(ctx).validators
                     if a != address and not (get_pool(ctx, a).pending_leave or get_pool(ctx, a).tombstoned)]
        if not remaining:
            raise ERRORS.abort(Category.INVALID_STATE, "ELAST_VALIDATOR")
        pool.pending_leave = True
    borrow_state_mut(ctx).reconfigure_pending = True
    emit(ctx, "LeaveValidatorSetEvent", encode_values((ADDRESS, address),))


def rotate_key(ctx: Context, operator: Signer, new_key: bytes, *, consensus: bool) -> None:
    """Record a new consensus or network key; it replaces the current one at the next epoch."""
    _check_key(new_key)
    pool = borrow_pool_mut(ctx, operator.address)
    if consensus:
        pool.pending_consensus_key = new_key
        name = "RotateConsensusKeyEvent"
    else:
        pool.pending_network_key = new_key
        name = "RotateNetworkKeyEvent"
    emit(ctx, name, encode_values((ADDRESS, operator.address), (BYTES, new_key)))


def withdraw(ctx: Context, operator: Signer) -> int:
    """Pay the operator its unbonded stake (unlock time passed) and its fee rewards; return the amount."""
    address = operator.address
    pool = borrow_pool_mut(ctx, address)
    now = ctx.now_microseconds()
    released = sum(a for a, t in zip(pool.unbonding_amounts, pool.unbonding_unlock_us) if t < now)
    kept = tuple((a, t) for a, t in zip(pool.unbonding_amounts, pool.unbonding_unlock_us) if t >= now)
    rewards = pool.rewards.value
    if released + rewards == 0:
        raise ERRORS.abort(Category.INVALID_STATE, "ENOTHING_TO_WITHDRAW")
    pool.unbonding_amounts = tuple(a for a, _ in kept)
    pool.unbonding_unlock_us = tuple(t for _, t in kept)
    coin = currency.withdraw(ctx, pool.unbonding, released)
    currency.deposit(ctx, coin, currency.withdraw(ctx, pool.rewards, rewards))
    account.deposit(ctx, address, address, coin, b"", b"")
    emit(ctx, "WithdrawStakeEvent", encode_values((ADDRESS, address), (U64, released), (U64, rewards)))
    return released + rewards


# ------------------------------------------------------------------ publication (genesis, epoch module)
def publish_state(ctx: Context, dr: Signer, params: StakingParams, allowlist: tuple[bytes, ...]) -> None:
    """Publish the config and an empty state at Diem root (genesis; staking_epoch.initialize calls it)."""
    roles.assert_diem_root(ctx, dr)
    _write_params(ctx, params)
    ctx.move_to(_W, dr, StakingState(
        _W, epoch=GENESIS_EPOCH, epoch_started_at_us=ctx.now_microseconds(), epoch_start_height=0,
        reconfigure_pending=False, allowlist=tuple(sorted(set(allowlist))), pools=(), validators=(),
        history_epochs=(), history_started_us=(), history_members=(), used_evidence=(), used_evidence_epochs=(),
        events=ctx.new_event_handle(dr),
    ))


def publish_pool(ctx: Context, address: bytes, pool: StakePool) -> None:
    """Publish a genesis validator's pool at its address and record it in the registry."""
    ctx.move_to_address(_W, address, pool)
    state = borrow_state_mut(ctx)
    state.pools = tuple(sorted(state.pools + (address,)))
