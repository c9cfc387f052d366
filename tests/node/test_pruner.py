"""Pruning (ADR 0018): history below the retention windows goes in bounded steps; what is kept reads the same."""

from __future__ import annotations

import pytest

from contracts.state.smt import SparseMerkleTree
from node.storage import schema
from node.storage.pruner import PruneConfig, PruneProgress, prune_step, sweep_state_values_step
from node.storage.records import PrunedVersionError
from node.storage.views import LayeredNodeStore
from tests.node.runtime.harness import Cluster, get_ledger_head, is_committed, make_transfer

RETENTION_VERSIONS = 10


def make_busy_store():
    """A store of a validator that committed a few dozen transfers, and the snapshot of its state to compare."""
    cluster = Cluster()
    addresses = list(cluster.nodes)
    cluster.start()
    for sequence_number in range(30):
        result = cluster.submit(addresses[0], make_transfer(sequence_number))
        assert cluster.run_until(lambda: is_committed(cluster.nodes[addresses[0]].store, result.txn_hash))
    return cluster.nodes[addresses[0]].store


def read_tree(store, version: int, keys: list[bytes]) -> list:
    tree = SparseMerkleTree(LayeredNodeStore(store.get_state_node), store.get_latest_version())
    return [tree.get_with_proof(key, version) for key in keys]


def count_rows(store, prefix: bytes) -> int:
    return sum(1 for _ in store.backend.scan(prefix, prefix, False))


def test_pruning_deletes_old_history_and_keeps_what_the_windows_cover() -> None:
    store = make_busy_store()
    latest = store.get_latest_version()
    floor = latest + 1 - RETENTION_VERSIONS
    keys = sorted({key[len(schema.STATE_VALUE_PREFIX):][:32] for key, _ in store.backend.scan(
        schema.STATE_VALUE_PREFIX, schema.STATE_VALUE_PREFIX, False)})
    kept_reads = [read_tree(store, version, keys) for version in (floor, latest)]
    kept_values = [[store.get_state_value(key, version) for key in keys] for version in (floor, latest)]
    kept_transactions = store.get_transactions(floor, 100)
    rows_before = {prefix: count_rows(store, prefix) for prefix in (
        schema.TRANSACTION_PREFIX, schema.STATE_VALUE_PREFIX, schema.STATE_NODE_PREFIX)}
    head = get_ledger_head(store)
    config = PruneConfig(RETENTION_VERSIONS, RETENTION_VERSIONS, batch_versions=7, retention_versions_min=1)
    progress = PruneProgress()
    steps = 0
    while prune_step(store, config, progress):
        steps += 1
    assert steps > 1  # bounded batches, not one sweep
    assert store.oldest_ledger_version == floor and store.oldest_state_version == floor
    # Old history is gone, and asking for it says so.
    with pytest.raises(PrunedVersionError):
        store.get_transaction(floor - 1)
    with pytest.raises(PrunedVersionError):
        store.get_state_value(keys[0], floor - 1)
    assert count_rows(store, schema.TRANSACTION_PREFIX) == RETENTION_VERSIONS < rows_before[schema.TRANSACTION_PREFIX]
    assert count_rows(store, schema.STATE_VALUE_PREFIX) < rows_before[schema.STATE_VALUE_PREFIX]
    assert count_rows(store, schema.STATE_NODE_PREFIX) < rows_before[schema.STATE_NODE_PREFIX]
    # What the windows cover reads exactly as before, proofs included.
    store.state_cache.entries.clear()  # read the database, not the cache
    assert [read_tree(store, version, keys) for version in (floor, latest)] == kept_reads
    assert [[store.get_state_value(key, version) for key in keys] for version in (floor, latest)] == kept_values
    assert store.get_transactions(floor, 100) == kept_transactions
    assert get_ledger_head(store) == head


def test_a_pruned_range_is_served_without_outputs_and_pruned_blocks_take_their_write_sets() -> None:
    from dataclasses import replace

    from node.runtime.catchup_wire import CatchUpRequest, get_certified_blocks

    store = make_busy_store()
    request = CatchUpRequest(1, 0, 256)
    blocks_before, _, outputs_before = get_certified_blocks(store, request, 1)
    assert len(outputs_before) == len(blocks_before) > 0
    config = PruneConfig(RETENTION_VERSIONS, RETENTION_VERSIONS, batch_versions=7, retention_versions_min=1)
    progress = PruneProgress()
    while prune_step(store, config, progress):
        pass
    # The last rounds' blocks stay, but their transactions below the floor are gone: re-execution, not outputs.
    blocks, certificate, outputs = get_certified_blocks(store, request, 1)
    assert blocks == blocks_before and certificate is not None and outputs == []
    write_sets_before = count_rows(store, schema.BLOCK_WRITE_SET_PREFIX)
    while prune_step(store, replace(config, rounds_kept_min=1), progress):
        pass
    remaining = [key[len(schema.BLOCK_WRITE_SET_PREFIX):] for key, _ in store.backend.scan(
        schema.BLOCK_WRITE_SET_PREFIX, schema.BLOCK_WRITE_SET_PREFIX, False)]
    assert len(remaining) < write_sets_before
    assert all(store.backend.get(schema.BLOCK_PREFIX + position) is not None for position in remaining)


def test_a_new_sweep_pass_waits_until_the_floor_moved_by_its_gap() -> None:
    store = make_busy_store()
    first_floor, gap_versions = store.get_latest_version() // 3, 10
    progress = PruneProgress()
    assert sweep_state_values_step(store, first_floor, progress, gap_versions) > 0
    assert progress.sweep_cursor == schema.STATE_VALUE_PREFIX, "the small store is swept in one step"
    rows = count_rows(store, schema.STATE_VALUE_PREFIX)
    # Superseded rows lie below first_floor + gap - 1, but a pass right after the last one would walk every row again.
    assert sweep_state_values_step(store, first_floor + gap_versions - 1, progress, gap_versions) == 0
    assert count_rows(store, schema.STATE_VALUE_PREFIX) == rows
    assert sweep_state_values_step(store, first_floor + gap_versions, progress, gap_versions) > 0
    assert count_rows(store, schema.STATE_VALUE_PREFIX) < rows


def test_stale_tree_nodes_are_pruned_in_small_steps_from_where_the_last_one_stopped(monkeypatch) -> None:  # noqa: ANN001
    from node.storage import pruner

    monkeypatch.setattr(pruner, "STALE_NODES_PER_STEP", 3)
    store = make_busy_store()
    floor = store.get_latest_version() + 1 - RETENTION_VERSIONS
    config = PruneConfig(RETENTION_VERSIONS, RETENTION_VERSIONS, batch_versions=7, retention_versions_min=1)
    progress = PruneProgress()
    steps = 0
    while prune_step(store, config, progress):
        steps += 1
    prefix = schema.STALE_STATE_NODE_PREFIX
    versions_left = [schema.decode_u64(key[len(prefix):len(prefix) + schema.U64_LENGTH_BYTES])
                     for key, _ in store.backend.scan(prefix, prefix, False)]
    assert progress.tree_nodes > 3 * 2 and steps > 2, "the nodes went in several steps"
    assert versions_left and min(versions_left) > floor, "every node stale at or below the floor is gone"
    assert progress.tree_cursor > prefix
