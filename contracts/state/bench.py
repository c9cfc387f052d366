"""Micro-benchmark of the state tree and accumulator: `python -m contracts.state.bench`."""

from __future__ import annotations

import argparse
import hashlib
import time

from contracts.state.accumulator import MerkleAccumulator
from contracts.state.node_store import InMemoryAccumulatorStore, InMemoryNodeStore
from contracts.state.smt import SparseMerkleTree

DEFAULT_STATE_KEYS = 100_000
DEFAULT_BATCH_KEYS = 4_000
DEFAULT_BATCHES = 20
DEFAULT_BLOCK_TRANSACTIONS = 1_000
LOAD_CHUNK_KEYS = 20_000
VALUE_BYTES = 64


def make_key(index: int) -> bytes:
    """Return the 32-byte state key of account number index."""
    return hashlib.sha3_256(index.to_bytes(8, "big")).digest()


def make_value(index: int, round_number: int) -> bytes:
    """Return a deterministic value of VALUE_BYTES bytes."""
    return (index * 1_000_003 + round_number).to_bytes(16, "big") * (VALUE_BYTES // 16)


def load_tree(state_keys: int) -> tuple[SparseMerkleTree, int, float]:
    """Return a tree holding state_keys keys, its next version, and the seconds the load took."""
    tree = SparseMerkleTree(InMemoryNodeStore())
    version = 0
    started = time.perf_counter()
    for first in range(0, state_keys, LOAD_CHUNK_KEYS):
        chunk = range(first, min(first + LOAD_CHUNK_KEYS, state_keys))
        tree.apply(version, {make_key(i): make_value(i, 0) for i in chunk})
        version += 1
    return tree, version, time.perf_counter() - started


def time_batches(tree: SparseMerkleTree, version: int, state_keys: int, batch_keys: int, batches: int) -> list[float]:
    """Apply batches of batch_keys distinct existing keys spread over the key space; return seconds per batch."""
    stride = 7_919  # prime, so consecutive picks land all over the tree
    batch_times = []
    for round_number in range(1, batches + 1):
        start = round_number * batch_keys * stride
        updates = {}
        for j in range(batch_keys):
            index = (start + j * stride) % state_keys
            updates[make_key(index)] = make_value(index, round_number)
        # CPU time, not wall time: the machine is shared, and waiting for a core is not our cost.
        began = time.process_time()
        tree.apply(version, updates)
        batch_times.append(time.process_time() - began)
        version += 1
    return sorted(batch_times)


def time_accumulator(batches: int) -> float:
    """Return the mean seconds to append one block of leaves to the transaction accumulator."""
    accumulator = MerkleAccumulator(InMemoryAccumulatorStore())
    leaves = [make_key(i) for i in range(DEFAULT_BLOCK_TRANSACTIONS)]
    began = time.perf_counter()
    for _ in range(batches):
        accumulator.append(leaves)
    return (time.perf_counter() - began) / batches


def run(state_keys: int, batch_keys: int, batches: int) -> dict[str, float]:
    """Load state_keys keys, then time batches of batch_keys updates and return the figures."""
    tree, version, load_s = load_tree(state_keys)
    batch_times = time_batches(tree, version, state_keys, batch_keys, batches)
    median_s = batch_times[len(batch_times) // 2]
    return {
        "load_s": load_s,
        "batch_ms_median": median_s * 1000,
        "batch_ms_best": batch_times[0] * 1000,
        "updates_per_s": batch_keys / median_s,
        "nodes_stored": float(len(tree.store)),  # type: ignore[arg-type]
        "accumulator_ms_per_1000": time_accumulator(batches) * 1000,
    }


def main() -> None:
    """Parse arguments, run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=DEFAULT_STATE_KEYS)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH_KEYS)
    parser.add_argument("--batches", type=int, default=DEFAULT_BATCHES)
    args = parser.parse_args()
    figures = run(args.keys, args.batch, args.batches)
    print(f"state keys                 {args.keys}")
    print(f"initial load               {figures['load_s']:.2f} s")
    print(f"batch of {args.batch} updates     {figures['batch_ms_median']:.1f} ms median, "
          f"{figures['batch_ms_best']:.1f} ms best (CPU time)")
    print(f"updates/s                  {figures['updates_per_s']:,.0f}")
    print(f"nodes stored               {figures['nodes_stored']:,.0f}")
    print(f"accumulator append of {DEFAULT_BLOCK_TRANSACTIONS}  {figures['accumulator_ms_per_1000']:.2f} ms")


if __name__ == "__main__":
    main()
