"""A black-box checker: over JSON-RPC only, do all nodes agree, and does the supply add up?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.framework.staking import POOL, STATE
from devnet.launcher import call_rpc
from primitives.types.events import EventKey
from primitives.types.names import AccountAddress

PAGE_SIZE = 1000
RECENT_TRANSACTIONS = 200
ACCOUNT_CREATION_COUNTER = 0
STAKE_CURRENCY_CODE = "XUS"  # contracts.framework.staking.STAKE_CURRENCY
WELL_KNOWN_ADDRESSES = (AccountAddress.DIEM_ROOT, AccountAddress.TREASURY_COMPLIANCE, AccountAddress.TESTNET_DD)


class CheckFailed(AssertionError):
    """A devnet invariant does not hold; the message says which and where."""


@dataclass
class CheckReport:
    """What the checker looked at."""

    common_version: int = 0
    versions: list[int] = field(default_factory=list)
    accounts: int = 0
    supply_micro: dict[str, int] = field(default_factory=dict)
    held_micro: dict[str, int] = field(default_factory=dict)
    staked_micro: int = 0  # in stake pools (active, pending, unbonding, rewards): part of held_micro


def get_result(url: str, method: str, params: list[Any]) -> Any:
    """Call a method and return its result, failing loudly on a JSON-RPC error."""
    response = call_rpc(url, method, params)
    if "error" in response:
        raise CheckFailed(f"{url} {method}{params}: {response['error']}")
    return response["result"]


def check_agreement(urls: list[str], report: CheckReport) -> None:
    """All nodes have the same accumulator root at the highest version they all reached."""
    report.versions = [get_result(url, "get_metadata", [])["version"] for url in urls]
    common = min(report.versions)
    report.common_version = common
    roots = {url: get_result(url, "get_metadata", [common])["accumulator_root_hash"] for url in urls}
    if len(set(roots.values())) != 1:
        raise CheckFailed(f"accumulator roots differ at version {common}: {roots}")
    start = max(0, common - RECENT_TRANSACTIONS + 1)
    hashes = {url: [t["hash"] for t in get_result(url, "get_transactions", [start, common - start + 1, False])] for url in urls}
    if len({tuple(h) for h in hashes.values()}) != 1:
        raise CheckFailed(f"transaction hashes differ in versions {start}..{common}")


def get_all_events(url: str, key: str) -> list[dict[str, Any]]:
    """Return every event of a stream, paging through it."""
    events: list[dict[str, Any]] = []
    while True:
        page = get_result(url, "get_events", [key, len(events), PAGE_SIZE])
        events.extend(page)
        if len(page) < PAGE_SIZE:
            return events


def get_known_addresses(url: str) -> set[str]:
    """Return every account address: the well-known ones and every CreateAccountEvent's."""
    creation_key = EventKey.from_parts(ACCOUNT_CREATION_COUNTER, AccountAddress.DIEM_ROOT).hex()
    created = {event["data"]["created_address"] for event in get_all_events(url, creation_key)
               if event["data"]["type"] == "createaccount"}
    return created | {address.hex() for address in WELL_KNOWN_ADDRESSES}


def sum_event_amounts(url: str, key: str) -> int:
    """Return the total amount of a mint or burn event stream."""
    return sum(event["data"]["amount"]["amount"] for event in get_all_events(url, key))


def get_resource(url: str, address: bytes, tag_bytes: bytes) -> bytes | None:
    """Return one resource's BCS bytes at the latest version, None when absent."""
    state = get_result(url, "get_account_state_with_proof", [address.hex(), None, None, [tag_bytes.hex()]])
    value = state["resources"][0]["value"]
    return bytes.fromhex(value) if value else None


def get_staked_micro(url: str) -> int:
    """Return the coins held in stake pools (active, pending, unbonding, rewards); 0 on a chain without staking."""
    state_bytes = get_resource(url, AccountAddress.DIEM_ROOT.value, STATE.tag_bytes)
    if state_bytes is None:
        return 0
    total = 0
    for address in STATE.decode(state_bytes).pools:
        pool_bytes = get_resource(url, address, POOL.tag_bytes)
        if pool_bytes is not None:
            pool = POOL.decode(pool_bytes)
            total += pool.active.value + pool.pending_active.value + pool.unbonding.value + pool.rewards.value
    return total


def check_supply(url: str, report: CheckReport) -> None:
    """Per currency, minted minus burned equals what accounts, preburn queues and stake pools hold."""
    held: dict[str, int] = {}
    addresses = get_known_addresses(url)
    report.accounts = len(addresses)
    for address in sorted(addresses):
        account = get_result(url, "get_account", [address])
        if account is None:
            continue
        for balance in account["balances"]:
            held[balance["currency"]] = held.get(balance["currency"], 0) + balance["amount"]
        for preburn in account["role"].get("preburn_balances") or []:
            held[preburn["currency"]] = held.get(preburn["currency"], 0) + preburn["amount"]
    report.staked_micro = get_staked_micro(url)
    held[STAKE_CURRENCY_CODE] = held.get(STAKE_CURRENCY_CODE, 0) + report.staked_micro
    for info in get_result(url, "get_currencies", []):
        code = info["code"]
        supply = sum_event_amounts(url, info["mint_events_key"]) - sum_event_amounts(url, info["burn_events_key"])
        report.supply_micro[code], report.held_micro[code] = supply, held.get(code, 0)
        # Fees collected at the treasury are the only coins no account view shows.
        if held.get(code, 0) > supply:
            raise CheckFailed(f"{code}: accounts hold {held.get(code, 0)} > minted - burned = {supply}")


def run_checks(urls: list[str]) -> CheckReport:
    """Run every black-box check; CheckFailed explains the first that fails."""
    report = CheckReport()
    check_agreement(urls, report)
    check_supply(urls[0], report)
    return report
