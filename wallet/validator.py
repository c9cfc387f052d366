"""A validator operator's payloads (register, stake, unstake, rotate keys, evidence) and its pool's status."""

from __future__ import annotations

from typing import Any

from contracts.framework import DIEM_ROOT
from contracts.framework.staking import POOL, STATE
from contracts.transaction_builder import compose_script_function, encode_bytes, encode_u64
from primitives.types.transactions import TransactionPayload
from wallet.client import Client

STAKING_SCRIPTS = "StakingScripts"
MICROS_PER_XUS = 1_000_000

# -------------------------------------------------------------- payloads
def _call(function: str, *args: bytes) -> TransactionPayload:
    return compose_script_function(STAKING_SCRIPTS, function, (), tuple(args))


def compose_register(consensus_key: bytes, network_key: bytes, human_name: bytes) -> TransactionPayload:
    """StakingScripts::register_validator(consensus_key, network_key, human_name)."""
    return _call("register_validator", encode_bytes(consensus_key), encode_bytes(network_key), encode_bytes(human_name))


def compose_add_stake(amount_micro: int) -> TransactionPayload:
    """StakingScripts::add_stake(amount)."""
    return _call("add_stake", encode_u64(amount_micro))


def compose_unlock_stake(amount_micro: int) -> TransactionPayload:
    """StakingScripts::unlock_stake(amount)."""
    return _call("unlock_stake", encode_u64(amount_micro))


def compose_simple(function: str) -> TransactionPayload:
    """A StakingScripts call without arguments (join/leave_validator_set, withdraw_stake)."""
    return _call(function)


def compose_rotate(new_key: bytes, *, consensus: bool) -> TransactionPayload:
    """StakingScripts::rotate_consensus_key / rotate_network_key(new_key)."""
    return _call("rotate_consensus_key" if consensus else "rotate_network_key", encode_bytes(new_key))


def compose_set_address(addresses: tuple[bytes, ...]) -> TransactionPayload:
    """StakingScripts::set_network_addresses(comma-separated HOST:PORT): where peers dial from the next epoch."""
    return _call("set_network_addresses", encode_bytes(b",".join(addresses)))


def compose_equivocation_evidence(kind: int, author: bytes, data_a: bytes, signature_a: bytes, data_b: bytes,
                                  signature_b: bytes) -> TransactionPayload:
    """StakingScripts::submit_equivocation_evidence: kind 0 = two msgpack VoteData, 1 = two msgpack BlockHeader."""
    return _call("submit_equivocation_evidence", bytes([kind]), author, encode_bytes(data_a), encode_bytes(signature_a),
                 encode_bytes(data_b), encode_bytes(signature_b))


# -------------------------------------------------------------- status
async def fetch_status(url: str, address: bytes) -> dict[str, Any]:
    """Read the operator's pool and the staking epoch through get_account_state_with_proof."""
    async with Client(url) as client:
        pool_state = await client.execute("get_account_state_with_proof",
                                          [address.hex(), None, None, [POOL.tag_bytes.hex()]])
        staking_state = await client.execute("get_account_state_with_proof",
                                             [DIEM_ROOT.hex(), None, None, [STATE.tag_bytes.hex()]])
    pool_hex = pool_state["resources"][0]["value"]
    state_hex = staking_state["resources"][0]["value"]
    state = STATE.decode(bytes.fromhex(state_hex)) if state_hex else None
    pool = POOL.decode(bytes.fromhex(pool_hex)) if pool_hex else None
    return describe_status(address, pool, state)


def describe_status(address: bytes, pool: Any, state: Any) -> dict[str, Any]:
    """Return the operator's view: epoch, membership, stake by state, power, pending requests, unbonding."""
    summary: dict[str, Any] = {"address": address.hex(), "registered": pool is not None}
    if state is not None:
        summary |= {"epoch": state.epoch, "allowlisted": address in state.allowlist,
                    "in_validator_set": address in state.validators}
    if pool is None:
        return summary
    return summary | {
        "active_micro": pool.active.value, "pending_active_micro": pool.pending_active.value,
        "pending_inactive_micro": pool.pending_inactive_micro, "unbonding_micro": pool.unbonding.value,
        "unbonding_schedule": [{"amount_micro": a, "unlock_us": t}
                               for a, t in zip(pool.unbonding_amounts, pool.unbonding_unlock_us)],
        "rewards_micro": pool.rewards.value, "voting_power": pool.voting_power, "proposals": pool.proposals,
        "consensus_public_key": pool.consensus_public_key.hex(), "network_public_key": pool.network_public_key.hex(),
        "pending_consensus_key": pool.pending_consensus_key.hex() or None,
        "pending_network_key": pool.pending_network_key.hex() or None,
        "network_addresses": [bytes(a).decode("ascii", errors="replace") for a in pool.network_addresses],
        "pending_network_addresses": [bytes(a).decode("ascii", errors="replace")
                                      for a in pool.pending_network_addresses] or None,
        "pending_join": pool.pending_join, "pending_leave": pool.pending_leave, "slashed": pool.tombstoned,
    }
