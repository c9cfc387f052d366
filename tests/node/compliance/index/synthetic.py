"""Synthetic indexed chains (deterministic or from hypothesis), written with the production key layout."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator

from node.compliance.index.events import Activity, ActivityKind
from node.compliance.index.writes import IndexedTransaction, compute_transaction_writes
from node.storage import schema

K = ActivityKind
CURRENCIES = ("XUS", "XDX")
BLOCK_INTERVAL_US = 1_000_000
GENESIS_TIME_US = 1_700_000_000_000_000


def make_address(number: int) -> bytes:
    """Return the 16-byte address of an account number."""
    return number.to_bytes(16, "big")


def compute_time_writes(txns: list[IndexedTransaction]) -> list[tuple[bytes, bytes]]:
    """Return the time-index entries of transactions grouped into blocks by timestamp."""
    blocks: dict[int, list[int]] = {}
    for txn in txns:
        blocks.setdefault(txn.timestamp_us, []).append(txn.version)
    return [(schema.index_time_key(ts, min(versions)), schema.encode_u64(max(versions)))
            for ts, versions in blocks.items()]


def write_transactions(store: object, txns: list[IndexedTransaction]) -> None:
    """Write the index entries of txns (no chain data: the queries read only the indexes)."""
    puts = [put for txn in txns for put in compute_transaction_writes(txn)] + compute_time_writes(txns)
    store.backend.write(puts, [], sync=False)  # type: ignore[attr-defined]


def make_transfer(version: int, timestamp_us: int, payer: bytes, payee: bytes, amount: int, currency: str,
                  is_travel_rule: bool = False) -> IndexedTransaction:
    """Return an executed peer-to-peer payment."""
    details: dict = {"travel_rule": True, "metadata_signature": b"\x01" * 64} if is_travel_rule else {}
    payment = Activity(0, K.PAYMENT, payer, payee, currency, amount, None, details)
    return IndexedTransaction(version, timestamp_us, "executed", payer, version, "PaymentScripts::peer_to_peer_with_metadata",
                              (payment,))


def generate_transfers(count: int, accounts: int, seed: int, start_version: int = 1,
                       transactions_per_block: int = 100) -> Iterator[IndexedTransaction]:
    """Yield count deterministic transfers among accounts (log-uniform amounts, 1 in 1000 travel-rule)."""
    rng = random.Random(seed)
    for offset in range(count):
        version = start_version + offset
        timestamp_us = GENESIS_TIME_US + (offset // transactions_per_block) * BLOCK_INTERVAL_US
        payer, payee = rng.randrange(accounts), rng.randrange(accounts)
        amount = int(10 ** rng.uniform(0, 12)) or 1
        yield make_transfer(version, timestamp_us, make_address(payer + 1), make_address(payee + 1), amount,
                            CURRENCIES[offset % 10 == 9], rng.random() < 0.001)


def chunked(items: Iterable[IndexedTransaction], size: int) -> Iterator[list[IndexedTransaction]]:
    """Yield lists of at most size items."""
    chunk: list[IndexedTransaction] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
