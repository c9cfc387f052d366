"""The explorer's view of a node: every read goes through the wallet SDK's verifying client."""

# The reader trusts one waypoint (the genesis hash). Given with --waypoint it is pinned; without it the
# reader takes the genesis ledger info the node serves at first use, and every page says so. Verified
# transactions never change, so they are kept in a bounded cache and each poll proves only new versions.

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from contracts.framework import DIEM_ROOT, TREASURY_COMPLIANCE, block, currency, diem_id
from explorer.decode import (
    compute_block_row,
    compute_transaction_detail,
    compute_transaction_row,
    decode_event_values,
    get_block_metadata,
)
from explorer.inputs import AccountRef, NotFound
from explorer.models import BlockRow, Recent, TransactionDetail, TransactionRow, Trust
from primitives.certified.ledger_info import compute_genesis_hash
from primitives.errors import DecodeError
from primitives.types.events import ContractEvent
from wallet.client import Client
from wallet.errors import VerificationError
from wallet.models import Transaction
from wallet.proof_api import ProofApi
from wallet.verifying_client import VerifyingClient

TRANSACTION_CACHE_MAX = 8_192
SCAN_PAGE_VERSIONS = 100  # the node's page limit for proofs
RECENT_SCAN_VERSIONS_MAX = 1_000  # how far back the home page looks for user transactions
RECENT_ROWS = 10
BLOCK_SCAN_VERSIONS_MAX = 200  # how far back a transaction page looks for its block
EVENT_PAGE = 100
DIEM_ID_EVENTS_MAX = 1_000
CURRENCY_CODE_BYTES_MAX = 8
CLOCK_CACHE_MAX = 4_096

Proven = tuple[Transaction, tuple[ContractEvent, ...]]


async def fetch_genesis_waypoint(client: Client) -> str:
    """Return the hash of the genesis ledger info the node serves (trust on first use)."""
    certificate, proof, _consistency = await ProofApi(client).get_state_proof(0)
    genesis = proof.ledger_infos[0] if proof.ledger_infos else certificate
    if genesis.ledger_info.epoch != 0:
        raise VerificationError("the node's epoch-change proof does not start at genesis")
    return compute_genesis_hash(genesis).hex()


class ChainReader:
    """Verified reads of one node for the explorer's pages, with a cache of verified transactions."""

    def __init__(self, rpc_url: str, waypoint: str | None = None, client: Client | None = None) -> None:
        self.client = client or Client(rpc_url)
        self.waypoint = waypoint
        self.is_waypoint_pinned = waypoint is not None
        self._verifying: VerifyingClient | None = None
        self._connect_lock = asyncio.Lock()
        self._scan_lock = asyncio.Lock()
        self._transactions: OrderedDict[int, Proven] = OrderedDict()
        self._clock_by_version: dict[int, int] = {}

    async def close(self) -> None:
        """Close the HTTP session to the node."""
        await self.client.close()

    async def get_verifying(self) -> VerifyingClient:
        """Return the verifying client, created at first use from the waypoint (or the node's genesis)."""
        async with self._connect_lock:
            if self._verifying is None:
                chain_id = (await self.client.get_metadata()).chain_id
                waypoint = self.waypoint or await fetch_genesis_waypoint(self.client)
                self._verifying = VerifyingClient.from_waypoint(self.client, waypoint, chain_id)
                self.waypoint = waypoint
            return self._verifying

    async def get_trust(self) -> Trust:
        """Return the newest certified ledger info, verified now."""
        verifying = await self.get_verifying()
        info = await verifying.sync()
        validators = verifying.trusted.validators
        count = 0 if validators is None else len(validators.members)
        return Trust(info.version, info.epoch, info.timestamp_usecs, count, self.waypoint or "",
                     self.is_waypoint_pinned)

    async def get_resources(self, address: bytes, rtypes: list[Any], version: int | None = None
                            ) -> tuple[int, list[Any]]:
        """Return (proven version, decoded resources or None) of address, proven by the SDK."""
        verifying = await self.get_verifying()
        proven_version, values = await verifying.get_resources(address, rtypes, version)
        decoded = []
        for rtype, value in zip(rtypes, values):
            try:
                decoded.append(None if value is None else rtype.decode(value))
            except (DecodeError, ValueError, IndexError) as error:  # a proven value that does not decode
                raise VerificationError(f"proven {rtype} of {address.hex()} does not decode: {error}") from None
        return proven_version, decoded

    async def get_registered_codes(self) -> tuple[str, ...]:
        """Return the proven currency codes in registration order."""
        _version, (registry,) = await self.get_resources(DIEM_ROOT, [currency.REGISTERED])
        if registry is None:
            return ()
        return tuple(code.decode("ascii", errors="replace") for code in registry.currency_codes
                     if 0 < len(code) <= CURRENCY_CODE_BYTES_MAX)

    async def get_block_time_us(self, version: int) -> int:
        """Return the proven on-chain time at the last block end at or before version."""
        if version not in self._clock_by_version:
            _proven, (clock,) = await self.get_resources(DIEM_ROOT, [block.CLOCK], version)
            if len(self._clock_by_version) >= CLOCK_CACHE_MAX:
                self._clock_by_version.pop(next(iter(self._clock_by_version)))
            self._clock_by_version[version] = 0 if clock is None else clock.microseconds
        return self._clock_by_version[version]

    # ---- transactions ------------------------------------------------------------------------------

    async def get_proven_range(self, start: int, end: int) -> list[Proven]:
        """Return the verified transactions of versions start..end (inclusive), proving only uncached ones."""
        verifying = await self.get_verifying()
        missing = [version for version in range(start, end + 1) if version not in self._transactions]
        for first in range(missing[0] if missing else end + 1, end + 1, SCAN_PAGE_VERSIONS):
            count = min(SCAN_PAGE_VERSIONS, end + 1 - first)
            for view, events in await verifying.get_proven_transactions(first, count, include_events=True):
                self._remember(view.version, (view, events))
        return [self._transactions[version] for version in range(start, end + 1) if version in self._transactions]

    def _remember(self, version: int, proven: Proven) -> None:
        self._transactions[version] = proven
        self._transactions.move_to_end(version)
        while len(self._transactions) > TRANSACTION_CACHE_MAX:
            self._transactions.popitem(last=False)

    async def get_recent(self) -> Recent:
        """Return the latest blocks and user transactions, scanning back at most RECENT_SCAN_VERSIONS_MAX."""
        async with self._scan_lock:
            trust = await self.get_trust()
            first = max(0, trust.version - RECENT_SCAN_VERSIONS_MAX + 1)
            scanned_from = trust.version + 1
            proven: list[Proven] = []
            while scanned_from > first and sum(_is_user(view) for view, _ in proven) < RECENT_ROWS:
                start = max(first, scanned_from - SCAN_PAGE_VERSIONS)
                proven = await self.get_proven_range(start, scanned_from - 1) + proven
                scanned_from = start
        blocks, transactions = compute_recent_rows(proven)
        return Recent(tuple(blocks[-RECENT_ROWS:][::-1]), tuple(transactions[-RECENT_ROWS:][::-1]), scanned_from, trust)

    async def get_transaction(self, version: int) -> TransactionDetail:
        """Return one verified transaction with its certified events and the block it belongs to."""
        trust = await self.get_trust()
        if version > trust.version:
            raise NotFound(f"version {version} is not committed yet: the ledger is at version {trust.version}")
        start = max(0, version - BLOCK_SCAN_VERSIONS_MAX)
        proven = await self.get_proven_range(start, version)
        if not proven or proven[-1][0].version != version:
            raise VerificationError(f"the node did not return version {version}, which the certificate covers")
        block = find_block(proven)
        view, events = proven[-1]
        row = compute_transaction_row(view, events, None if block is None else block.timestamp_us)
        return compute_transaction_detail(view, events, row, block)

    # ---- accounts by Diem ID ----------------------------------------------------------------------

    async def resolve_diem_id(self, ref: AccountRef) -> bytes:
        """Return the parent VASP holding ref's Diem ID domain, confirmed by its proven domain list."""
        domain = (ref.diem_id_domain or "").encode("ascii")
        _version, (manager,) = await self.get_resources(TREASURY_COMPLIANCE, [diem_id.MANAGER])
        handle = None if manager is None else manager.diem_id_domain_events
        holder = None if handle is None else await self.find_domain_holder(bytes(handle.guid).hex(),
                                                                            handle.counter, domain)
        if holder is not None:
            _version, (domains,) = await self.get_resources(holder, [diem_id.DOMAINS])
            if domains is not None and any(entry.domain == domain for entry in domains.domains):
                return holder
        raise NotFound(f"no VASP holds the Diem ID domain {ref.diem_id_domain!r}")

    async def find_domain_holder(self, key: str, counter: int, domain: bytes) -> bytes | None:
        """Return the address the latest certified domain event gives domain to (None: removed or never added)."""
        verifying = await self.get_verifying()
        stop, end = max(0, counter - DIEM_ID_EVENTS_MAX), counter
        while end > stop:
            start = max(stop, end - EVENT_PAGE)
            for item in reversed(await verifying.get_proven_events(key, start, end - start)):
                values = decode_event_values(item.event)
                if values is not None and values["domain"] == domain:
                    return None if values["removed"] else values["address"]
            end = start
        return None


def _is_user(view: Transaction) -> bool:
    return view.transaction.type == "user"


def compute_recent_rows(proven: list[Proven]) -> tuple[list[BlockRow], list[TransactionRow]]:
    """Return the blocks (with their user-transaction counts) and user transactions of a verified range."""
    blocks: list[BlockRow] = []
    transactions: list[TransactionRow] = []
    block_time: int | None = None
    counts: dict[int, int] = {}
    for view, events in proven:
        metadata = get_block_metadata(view)
        if metadata is not None:
            block_time = metadata.timestamp_usecs
            counts[view.version] = 0
        elif _is_user(view):
            transactions.append(compute_transaction_row(view, events, block_time))
            if counts:
                counts[next(reversed(counts))] += 1
    for view, _events in proven:
        if view.version in counts:
            row = compute_block_row(view, counts[view.version])
            if row is not None:
                blocks.append(row)
    return blocks, transactions


def find_block(proven: list[Proven]) -> BlockRow | None:
    """Return the block the last transaction of a verified range belongs to (the last metadata at or before it)."""
    for index in range(len(proven) - 1, -1, -1):
        view = proven[index][0]
        if get_block_metadata(view) is not None:
            count = sum(_is_user(later) for later, _ in proven[index + 1:])
            return compute_block_row(view, count)
    return None
