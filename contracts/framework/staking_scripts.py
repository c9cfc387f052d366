"""StakingScripts: the entry functions of operators, governance and evidence submitters."""

from __future__ import annotations

from contracts.framework import evidence, staking
from contracts.scripts import ArgType, script_function
from contracts.vm.context import Context
from contracts.vm.errors import Category
from contracts.vm.structs import Signer
from contracts.vm.values import ADDRESS, BYTES, encode_values
from primitives.network_address import is_valid_address_list

MODULE_NAME = "StakingScripts"
_U64, _ADDR, _BYTES, _U8 = ArgType.U64, ArgType.ADDRESS, ArgType.VECTOR_U8, ArgType.U8


@script_function(MODULE_NAME, "allow_validator_operator", 0, (_ADDR,))
def allow_validator_operator(ctx: Context, signer: Signer, ty_args: tuple, operator: bytes) -> None:
    """Governance (Diem root or treasury compliance) adds an operator to the allowlist."""
    staking.set_allowed(ctx, signer, operator, True)


@script_function(MODULE_NAME, "remove_validator_operator", 0, (_ADDR,))
def remove_validator_operator(ctx: Context, signer: Signer, ty_args: tuple, operator: bytes) -> None:
    """Governance removes an operator; an active validator leaves at the next epoch."""
    staking.set_allowed(ctx, signer, operator, False)


@script_function(MODULE_NAME, "update_staking_config", 0, (_U64,) * 9)
def update_staking_config(ctx: Context, signer: Signer, ty_args: tuple, *values: int) -> None:
    """Governance replaces every staking parameter (order of StakingParams)."""
    staking.set_params(ctx, signer, staking.StakingParams(*values))


@script_function(MODULE_NAME, "register_validator", 0, (_BYTES, _BYTES, _BYTES))
def register_validator(ctx: Context, signer: Signer, ty_args: tuple, consensus_key: bytes, network_key: bytes,
                       human_name: bytes) -> None:
    """An allowlisted operator publishes its (empty) stake pool with its keys."""
    staking.register(ctx, signer, consensus_key, network_key, human_name)


@script_function(MODULE_NAME, "add_stake", 0, (_U64,))
def add_stake(ctx: Context, signer: Signer, ty_args: tuple, amount: int) -> None:
    """Lock XUS from the operator's balance; it counts from the next epoch."""
    staking.add_stake(ctx, signer, amount)


@script_function(MODULE_NAME, "unlock_stake", 0, (_U64,))
def unlock_stake(ctx: Context, signer: Signer, ty_args: tuple, amount: int) -> None:
    """Start unbonding amount at the next epoch."""
    staking.unlock_stake(ctx, signer, amount)


@script_function(MODULE_NAME, "withdraw_stake", 0, ())
def withdraw_stake(ctx: Context, signer: Signer, ty_args: tuple) -> None:
    """Pay the operator its unbonded stake and fee rewards."""
    staking.withdraw(ctx, signer)


@script_function(MODULE_NAME, "join_validator_set", 0, ())
def join_validator_set(ctx: Context, signer: Signer, ty_args: tuple) -> None:
    """Enter the validator set at the next epoch."""
    staking.join(ctx, signer)


@script_function(MODULE_NAME, "leave_validator_set", 0, ())
def leave_validator_set(ctx: Context, signer: Signer, ty_args: tuple) -> None:
    """Leave the validator set at the next epoch."""
    staking.leave(ctx, signer)


@script_function(MODULE_NAME, "rotate_consensus_key", 0, (_BYTES,))
def rotate_consensus_key(ctx: Context, signer: Signer, ty_args: tuple, new_key: bytes) -> None:
    """Replace the consensus key at the next epoch."""
    staking.rotate_key(ctx, signer, new_key, consensus=True)


@script_function(MODULE_NAME, "rotate_network_key", 0, (_BYTES,))
def rotate_network_key(ctx: Context, signer: Signer, ty_args: tuple, new_key: bytes) -> None:
    """Replace the network key at the next epoch."""
    staking.rotate_key(ctx, signer, new_key, consensus=False)


@script_function(MODULE_NAME, "set_network_addresses", 0, (_BYTES,))
def set_network_addresses(ctx: Context, signer: Signer, ty_args: tuple, addresses: bytes) -> None:
    """Replace where peers reach the validator (comma-separated `HOST:PORT`), from the next epoch."""
    set_pool_addresses(ctx, signer, tuple(addresses.split(b",")) if addresses else ())


@script_function(MODULE_NAME, "submit_equivocation_evidence", 0, (_U8, _ADDR, _BYTES, _BYTES, _BYTES, _BYTES))
def submit_equivocation_evidence(ctx: Context, signer: Signer, ty_args: tuple, kind: int, author: bytes,
                                 data_a: bytes, signature_a: bytes, data_b: bytes, signature_b: bytes) -> None:
    """Anyone submits two conflicting signed votes (kind 0) or proposals (kind 1) of one round by author."""
    evidence.submit(ctx, signer, kind, author, data_a, signature_a, data_b, signature_b)


def set_pool_addresses(ctx: Context, operator: Signer, addresses: tuple[bytes, ...]) -> None:
    """Record where peers reach the operator's validator: from the next epoch, which this request brings about."""
    if not is_valid_address_list(addresses):
        raise staking.ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_NETWORK_ADDRESS")
    pool = staking.borrow_pool_mut(ctx, operator.address)
    if pool.is_active:
        # Peers dial what the certified set lists, so a member's move waits for the next set: end the epoch soon.
        pool.pending_network_addresses = tuple(addresses)
        staking.borrow_state_mut(ctx).reconfigure_pending = True
    else:
        pool.network_addresses = tuple(addresses)  # not in the set: nobody dials it yet
    payload = encode_values((ADDRESS, operator.address), (BYTES, b",".join(addresses)))
    staking.emit(ctx, "SetNetworkAddressesEvent", payload)
