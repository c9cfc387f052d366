"""Rough throughput of the node-prep components: `python -m tests.node.bench_components`."""

from __future__ import annotations

import asyncio
import tempfile
import time

from node.mempool import Mempool, VerifiedTransaction
from node.network import Network, TransportConfig, PeerInfo, generate_key_pair
from node.storage import LevelStore
from tests.node.storage_fixtures import make_commit

BENCH_BLOCKS = 50
BENCH_TXNS_PER_BLOCK = 1000
BENCH_MESSAGES = 20_000
BENCH_MESSAGE_BYTES = 1024
BENCH_SENDERS = 2000
BENCH_TXNS_PER_SENDER = 10
BENCH_STATE_READS = 20_000


def bench_storage() -> None:
    """Measure synced block commits per second and transactions written per second."""
    with tempfile.TemporaryDirectory() as directory, LevelStore(directory) as store:
        commits = [make_commit(r, r * BENCH_TXNS_PER_BLOCK, BENCH_TXNS_PER_BLOCK) for r in range(BENCH_BLOCKS)]
        started = time.perf_counter()
        for commit in commits:
            store.commit_block(commit)
        elapsed = time.perf_counter() - started
    print(f"storage: {BENCH_BLOCKS / elapsed:.1f} synced blocks/s of {BENCH_TXNS_PER_BLOCK} txns "
          f"= {BENCH_BLOCKS * BENCH_TXNS_PER_BLOCK / elapsed:,.0f} txns/s")


def bench_state_reads() -> None:
    """Measure state reads at the latest version, through the cache and straight from LevelDB."""
    with tempfile.TemporaryDirectory() as directory, LevelStore(directory) as store:
        for r in range(BENCH_BLOCKS):
            store.commit_block(make_commit(r, r * BENCH_TXNS_PER_BLOCK, BENCH_TXNS_PER_BLOCK))
        latest = BENCH_BLOCKS * BENCH_TXNS_PER_BLOCK - 1
        keys = [write.state_key_hash for write in make_commit(0, 0, 2).state_values]
        for label, clear in (("cached", False), ("uncached", True)):
            started = time.perf_counter()
            for index in range(BENCH_STATE_READS):
                if clear:
                    store.state_cache.entries.clear()
                store.get_state_value(keys[index % len(keys)], latest)
            elapsed = time.perf_counter() - started
            print(f"state reads ({label}): {elapsed / BENCH_STATE_READS * 1e6:.1f} µs per read at the latest version")


def bench_mempool() -> None:
    """Measure admissions per second and the cost of building a 2,000-transaction batch."""
    mempool = Mempool()
    txns = [
        VerifiedTransaction(None, b"%d/%d" % (s, q), s, q, 0, 2**40, 300)
        for q in range(BENCH_TXNS_PER_SENDER) for s in range(BENCH_SENDERS)
    ]
    started = time.perf_counter()
    for txn in txns:
        mempool.add(txn, 0, 0)
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    batch = mempool.get_batch(2000, 2**30)
    batch_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    mempool.commit((txn.sender, txn.sequence_number) for txn in batch)
    commit_ms = (time.perf_counter() - started) * 1000
    print(f"mempool: {len(txns) / elapsed:,.0f} adds/s; get_batch(2000) over {len(mempool):,} txns "
          f"{batch_ms:.1f} ms; commit(2000) {commit_ms:.1f} ms")


async def bench_network() -> None:
    """Measure one-way encrypted messages per second between two local validators."""
    networks = [Network(TransportConfig(bytes([i]) * 16, generate_key_pair())) for i in (1, 2)]
    try:
        for network in networks:
            await network.start()
        peers = [
            PeerInfo(n.config.peer_id, n.config.key_pair.public_key, "127.0.0.1", n.listen_port)
            for n in networks
        ]
        for network in networks:
            network.update_peers(peers)
        sender, receiver = networks
        await sender.wait_connected([receiver.config.peer_id])
        payload = b"x" * BENCH_MESSAGE_BYTES
        started = time.perf_counter()
        received = 0
        while received < BENCH_MESSAGES:
            while sender.send(receiver.config.peer_id, payload) and received < BENCH_MESSAGES:
                if receiver.inbound.qsize() > 500:
                    break
            await receiver.inbound.get()
            received += 1
            while not receiver.inbound.empty() and received < BENCH_MESSAGES:
                receiver.inbound.get_nowait()
                received += 1
        elapsed = time.perf_counter() - started
        print(f"network: {BENCH_MESSAGES / elapsed:,.0f} msgs/s of {BENCH_MESSAGE_BYTES} bytes "
              f"({BENCH_MESSAGES * BENCH_MESSAGE_BYTES / elapsed / 1e6:.1f} MB/s)")
    finally:
        for network in networks:
            await network.close()


if __name__ == "__main__":
    bench_storage()
    bench_state_reads()
    bench_mempool()
    asyncio.run(bench_network())
