"""Benchmark: compliance queries over 1,000,000 committed transfers in a LevelStore (p50/p95 per query).

Run: `cd /work/main && .venv/bin/python -m tests.node.compliance.index.bench_queries [--transfers N] [--repeats R]`.
The store holds the index entries the queries read (written with the production key layout and values, in
large batches, generated deterministically); no chain data, since the queries never read it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable

from node.compliance.index.queries import ComplianceIndex, TransactionFilter
from node.compliance.index.writes import compute_index_writes
from node.storage import LevelStore
from tests.node.compliance.index.synthetic import (
    BLOCK_INTERVAL_US,
    GENESIS_TIME_US,
    chunked,
    generate_transfers,
    make_address,
    write_transactions,
)

DEFAULT_TRANSFERS = 1_000_000
DEFAULT_ACCOUNTS = 10_000
DEFAULT_REPEATS = 200
WRITE_BATCH_TRANSACTIONS = 20_000
SEED = 20261123
PAGE_SIZE = 100
LARGE_TRANSFER_THRESHOLD = 10**11  # 100,000 XUS: about 1 transfer in 12 of the log-uniform amounts
TARGET_P50_MS = 100.0
TRANSACTIONS_PER_BLOCK = 100
COMMIT_BENCH_PAYMENTS = 200
HOUR_US = 3_600 * 10**6


def fill(store: LevelStore, transfers: int, accounts: int) -> float:
    """Write the index entries of transfers; return the seconds it took."""
    started = time.perf_counter()
    for batch in chunked(generate_transfers(transfers, accounts, SEED), WRITE_BATCH_TRANSACTIONS):
        write_transactions(store, batch)
    return time.perf_counter() - started


def measure(name: str, query: Callable[[int], int], repeats: int) -> dict[str, float]:
    """Run query(i) repeats times; print and return p50/p95 in milliseconds and the mean item count."""
    timings, counts = [], []
    for i in range(repeats):
        started = time.perf_counter()
        counts.append(query(i))
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    result = {"p50_ms": statistics.median(timings), "p95_ms": timings[int(len(timings) * 0.95) - 1],
              "max_ms": timings[-1], "items": statistics.mean(counts)}
    print(f"{name:<44} p50 {result['p50_ms']:7.2f} ms  p95 {result['p95_ms']:7.2f} ms  "
          f"max {result['max_ms']:7.2f} ms  items/page {result['items']:.0f}")
    return result


def get_hour(index: ComplianceIndex, start_block: int, latest: int) -> tuple[int, int] | None:
    """Return the versions of one hour of blocks from a block number on (one block per second)."""
    start_us = GENESIS_TIME_US + start_block * BLOCK_INTERVAL_US
    return index.resolve_range(None, None, start_us, start_us + HOUR_US, latest)


def run(transfers: int, accounts: int, repeats: int) -> dict[str, dict[str, float]]:
    """Fill a temporary LevelStore and measure each query."""
    rng = random.Random(SEED + 1)
    latest = transfers
    with tempfile.TemporaryDirectory(prefix="bench-compliance-") as folder, LevelStore(folder) as store:
        seconds = fill(store, transfers, accounts)
        print(f"filled {transfers:,} transfers among {accounts:,} accounts in {seconds:.1f} s ({folder})")
        index = ComplianceIndex(store)
        everything = (0, latest)
        blocks = transfers // TRANSACTIONS_PER_BLOCK
        results = {
            "account_history_page": measure("account history, first page (100)", lambda i: len(
                index.get_account_history(make_address(rng.randrange(accounts) + 1), everything,
                                          limit=PAGE_SIZE).items), repeats),
            "account_history_newest": measure("account history, newest first (100)", lambda i: len(
                index.get_account_history(make_address(rng.randrange(accounts) + 1), everything, limit=PAGE_SIZE,
                                          descending=True).items), repeats),
            "large_transfers": measure("large transfers >= 100,000 XUS (100)", lambda i: len(
                index.get_large_transfers("XUS", LARGE_TRANSFER_THRESHOLD, everything,
                                          cursor=rng.randrange(latest), limit=PAGE_SIZE).items), repeats),
            "large_transfers_window": measure("large transfers, one-hour window (100)", lambda i: len(
                index.get_large_transfers("XUS", LARGE_TRANSFER_THRESHOLD, get_hour(index, rng.randrange(blocks), latest),
                                          limit=PAGE_SIZE).items), repeats),
            "search_address_amount": measure("search address, amount >= 1 XUS (100)", lambda i: len(
                index.search_transactions(TransactionFilter(make_address(rng.randrange(accounts) + 1),
                                                            min_amount=10**6), everything,
                                          limit=PAGE_SIZE).items), repeats),
            "travel_rule": measure("travel-rule records (100)", lambda i: len(
                index.get_travel_rule_records(everything, limit=PAGE_SIZE).items), repeats),
        }
    return results


def measure_commit_cost(payments: int = COMMIT_BENCH_PAYMENTS, repeats: int = 20) -> float:
    """Return the microseconds compute_index_writes spends per payment of a real committed block."""
    from contracts.transaction_builder import compose_peer_to_peer
    from tests.node.compliance.index.chain import IndexedChain

    chain = IndexedChain()
    alice = chain.create_vasp("alice", 0)
    for _ in range(payments):
        assert chain.ledger.submit(chain.sign(chain.keys["dealer"], compose_peer_to_peer(alice.address, 1))).is_accepted
    chain.ledger.commit_block()
    commit = chain.commits[-1]
    started = time.perf_counter()
    for _ in range(repeats):
        compute_index_writes(commit)
    micros = (time.perf_counter() - started) / repeats / payments * 1e6
    print(f"commit path: compute_index_writes {micros:.0f} us per payment ({payments} payments per block)")
    return micros


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=DEFAULT_TRANSFERS)
    parser.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS)
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    args = parser.parse_args()
    measure_commit_cost()
    results = run(args.transfers, args.accounts, args.repeats)
    slow = [name for name in ("account_history_page", "large_transfers")
            if results[name]["p50_ms"] >= TARGET_P50_MS]
    print("target p50 < 100 ms:", "met" if not slow else f"MISSED by {', '.join(slow)}")


if __name__ == "__main__":
    main()
