"""The validators page from proven staking state: every registered pool, its stake, power and proposals."""

from __future__ import annotations

from typing import Any

from contracts.framework import DIEM_ROOT, staking
from explorer.chain import ChainReader
from explorer.models import ValidatorRow, ValidatorSetView

BPS_DENOMINATOR = 10_000
POOLS_SHOWN_MAX = staking.MAX_POOLS


async def get_validator_set(reader: ChainReader) -> ValidatorSetView:
    """Return the epoch and every registered stake pool, proven, with the voting power the certificate used."""
    _version, (state,) = await reader.get_resources(DIEM_ROOT, [staking.STATE])
    if state is None:
        return await get_certified_set(reader)
    addresses = [bytes(address) for address in state.pools[:POOLS_SHOWN_MAX]]
    pools = [(await reader.get_resources(address, [staking.POOL]))[1][0] for address in addresses]
    certified = await get_certified_powers(reader)
    active = set(bytes(address) for address in state.validators)
    total_power = sum(pool.voting_power for address, pool in zip(addresses, pools) if pool and address in active)
    rows = [compute_validator_row(address, pool, address in active, certified.get(address), total_power)
            for address, pool in zip(addresses, pools) if pool is not None]
    rows.sort(key=lambda row: (row.status != "active", -row.voting_power, row.address))
    return ValidatorSetView(state.epoch, state.epoch_started_at_us, tuple(rows), total_power,
                            await reader.get_trust())


async def get_certified_set(reader: ChainReader) -> ValidatorSetView:
    """Return the validator set the certificate was checked against (a chain without staking has only that)."""
    certified = await get_certified_powers(reader)
    total_power = sum(certified.values())
    rows = tuple(ValidatorRow(address.hex(), "", "active", None, power, power,
                              power * BPS_DENOMINATOR // total_power if total_power else 0, None)
                 for address, power in sorted(certified.items()))
    trust = await reader.get_trust()
    return ValidatorSetView(trust.epoch, None, rows, total_power, trust)


async def get_certified_powers(reader: ChainReader) -> dict[bytes, int]:
    """Return the voting power per validator of the set the verifying client checked signatures against."""
    verifying = await reader.get_verifying()
    validators = verifying.trusted.validators
    return {} if validators is None else {member.address: member.voting_power for member in validators.members}


def get_pool_status(pool: Any, is_in_set: bool) -> str:
    """Return a pool's status: active, joining, leaving, tombstoned or inactive."""
    if pool.tombstoned:
        return "tombstoned"
    if is_in_set:
        return "leaving" if pool.pending_leave else "active"
    return "joining" if pool.pending_join else "inactive"


def compute_validator_row(address: bytes, pool: Any, is_in_set: bool, certified_power: int | None,
                          total_power: int) -> ValidatorRow:
    """Return one pool as a row; its share is of the active set's total voting power."""
    power = pool.voting_power if is_in_set else 0
    share = power * BPS_DENOMINATOR // total_power if total_power else 0
    return ValidatorRow(
        address=address.hex(), name=bytes(pool.human_name).decode("utf-8", errors="replace"),
        status=get_pool_status(pool, is_in_set), stake_micro=pool.active.value, voting_power=power,
        certified_power=certified_power, power_share_bps=share, proposals=pool.proposals,
    )
