"""Storage scenarios, run against both LevelStore and MemoryStore."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import plyvel
import pytest

from node.storage import LevelStore, MemoryStore, Store, StoreOpenError
from node.storage import schema
from primitives.errors import InvariantViolation
from tests.node.crash_writer import CRASH_TEST_TRANSACTIONS_PER_BLOCK
from tests.node.storage_fixtures import (
    TRANSACTIONS_PER_BLOCK,
    get_epoch_round,
    make_address,
    make_commit,
    make_event_key,
    make_hash,
)

ROOT = Path(__file__).resolve().parents[2]
CHAIN_ID = 2
GENESIS_HASH = b"\x11" * 32
CRASH_TEST_BLOCKS_BEFORE_KILL = 15
CRASH_TEST_DEADLINE_SECS = 60


@pytest.fixture(params=["memory", "leveldb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Yield an empty store of each kind."""
    if request.param == "memory":
        opened: Store = MemoryStore(chain_id=CHAIN_ID, genesis_hash=GENESIS_HASH)
    else:
        opened = LevelStore(str(tmp_path / "db"), chain_id=CHAIN_ID, genesis_hash=GENESIS_HASH)
    yield opened
    opened.close()


def commit_heights(store: Store, count: int) -> None:
    """Commit the first count blocks with TRANSACTIONS_PER_BLOCK transactions each."""
    for height in range(count):
        store.commit_block(make_commit(height, height * TRANSACTIONS_PER_BLOCK))


def test_fresh_store_is_empty_and_stamped(store: Store) -> None:
    assert store.get_latest_version() is None
    assert store.get_latest_ledger_info() is None
    assert store.get_chain_id() == CHAIN_ID
    assert store.get_genesis_hash() == GENESIS_HASH
    assert store.records.load_safety_data() is None


def test_committed_block_is_readable_by_every_index(store: Store) -> None:
    commit_heights(store, 2)
    # The second block, (epoch 0, round 2), holds versions 3, 4, 5.
    assert store.get_latest_version() == 5
    assert store.get_latest_epoch_round() == (0, 2)
    block = store.get_block(0, 2)
    assert (block.block_id, block.block) == (make_hash("block", 1), b"block-1")
    assert store.get_block_epoch_round(make_hash("block", 1)) == (0, 2)
    assert store.get_quorum_cert(0, 2) == b"qc-1"
    assert store.get_commit_cert(0, 2) == b"cc-1"
    assert store.get_latest_ledger_info().ledger_info == b"li-5"
    transaction = store.get_transaction(4)
    assert (transaction.transaction, transaction.info) == (b"txn-4", b"info-4")
    assert (transaction.sender, transaction.sequence_number) == (make_address(0), 2)
    assert store.get_account_transaction(make_address(0), 2) == transaction
    assert store.get_transaction_info(4) == b"info-4"
    assert [event.event for event in store.get_events_by_version(4)] == [b"sent-4", b"received-4"]
    assert store.get_state_node(make_hash("node", 1)) == b"node-1"
    assert store.get_accumulator_node(5) == make_hash("acc", 5)
    assert store.get_transaction(6) is None
    assert store.get_block(0, 3) is None


def test_range_scans_start_where_asked_and_respect_limits(store: Store) -> None:
    commit_heights(store, 3)  # versions 0..8
    assert [record.version for record in store.get_transactions(2, 4)] == [2, 3, 4, 5]
    assert [record.version for record in store.get_transactions(7, 100)] == [7, 8]
    # Sender 1 sent the odd versions with sequence numbers 0..3.
    account = store.get_account_transactions(make_address(1), 1, 2)
    assert [(record.version, record.sequence_number) for record in account] == [(3, 1), (5, 2)]
    assert store.get_account_transactions(make_address(7), 0, 10) == []
    events = store.get_events_by_key(make_event_key(2), 6, 10)
    assert [(event.sequence_number, event.event) for event in events] == [
        (6, b"received-6"), (7, b"received-7"), (8, b"received-8"),
    ]
    assert [(block.epoch, block.round_number) for block in store.get_blocks(0, 2, 5)] == [(0, 2), (0, 3)]


def test_state_value_reads_the_latest_write_at_or_before_a_version(store: Store) -> None:
    commit_heights(store, 2)  # sender 0's balance key is written at versions 0, 2, 4
    key = make_hash("balance", 0)
    assert store.get_state_value(key, 0) == b"0"
    assert store.get_state_value(key, 3) == b"2"
    assert store.get_state_value(key, 100) == b"4"
    assert store.get_state_value(make_hash("absent"), 100) is None


def test_a_deleted_state_value_reads_as_absent(store: Store) -> None:
    from dataclasses import replace

    from node.storage import StateValueWrite

    commit = make_commit(0, 0)
    key = make_hash("balance", 0)
    store.commit_block(replace(commit, state_values=(StateValueWrite(key, 1, None),)))
    assert store.get_state_value(key, 2) is None


def test_epoch_ending_ledger_infos_are_indexed_by_epoch(store: Store) -> None:
    commit_heights(store, 8)  # heights 3 and 7 (round 4 of epochs 0 and 1) end the epochs
    assert store.get_epoch_ending_ledger_info(0).version == 3 * TRANSACTIONS_PER_BLOCK + 2
    assert store.get_epoch_ending_ledger_info(1).epoch == 1
    assert store.get_epoch_ending_ledger_info(2) is None


def test_non_contiguous_versions_or_rounds_are_refused_without_writing(store: Store) -> None:
    commit_heights(store, 1)
    with pytest.raises(InvariantViolation):
        store.commit_block(make_commit(1, 5))  # versions 3 and 4 are missing
    with pytest.raises(InvariantViolation):
        store.commit_block(make_commit(0, 3))  # (epoch 0, round 1) again
    with pytest.raises(InvariantViolation):
        store.commit_blocks([make_commit(1, 3), make_commit(3, 7)])  # version 6 is missing
    assert store.get_latest_version() == 2
    assert store.get_transaction(3) is None and store.get_transaction(5) is None


def test_rounds_restart_in_a_new_epoch(store: Store) -> None:
    commit_heights(store, 6)  # epoch 0: rounds 1-4; epoch 1: rounds 1-2
    assert get_epoch_round(5) == (1, 2)
    assert store.get_latest_epoch_round() == (1, 2)
    assert store.get_block(1, 1).block == b"block-4" and store.get_block(0, 1).block == b"block-0"
    assert [block.block for block in store.get_blocks(0, 4, 3)] == [b"block-3", b"block-4", b"block-5"]


def test_a_chain_of_blocks_under_one_certificate_commits_in_one_batch(store: Store) -> None:
    from dataclasses import replace

    commit_heights(store, 1)
    parent, child = make_commit(1, 3), make_commit(2, 6)
    # The parent carries its descendant's certificate, which covers versions up to 8.
    parent = replace(parent, ledger_info=child.ledger_info, commit_cert=b"")
    store.commit_blocks([parent, child])
    assert store.get_latest_version() == 8
    assert store.get_latest_epoch_round() == (0, 3)
    assert store.get_block(0, 2).block == b"block-1"
    assert store.get_ledger_info(8).ledger_info == b"li-8"
    assert [record.version for record in store.get_transactions(3, 10)] == [3, 4, 5, 6, 7, 8]


def test_a_batch_whose_last_certificate_does_not_end_it_is_refused(store: Store) -> None:
    from dataclasses import replace

    parent, child = make_commit(0, 0), make_commit(1, 3)
    with pytest.raises(InvariantViolation):
        store.commit_blocks([replace(parent, ledger_info=child.ledger_info), replace(child, ledger_info=parent.ledger_info)])
    assert store.get_latest_version() is None


def test_safety_data_sync_info_and_pending_blocks_round_trip(store: Store) -> None:
    store.records.stage_safety_data(b"safety-1")
    store.records.flush()
    store.records.stage_safety_data(b"safety-2")
    store.records.flush()
    assert store.records.load_safety_data() == b"safety-2"
    assert store.records.load_sync_info() is None
    store.records.stage_sync_info(b"sync-1")
    store.records.flush()
    assert store.records.load_sync_info() == b"sync-1"
    store.records.stage_pending_block(make_hash("block", 0), b"pending-0")
    store.records.flush()
    store.records.stage_pending_block(make_hash("block", 1), b"pending-1")
    store.records.flush()
    commit_heights(store, 1)  # committing the first block drops it from the pending set
    assert store.records.get_pending_blocks() == [(make_hash("block", 1), b"pending-1")]
    store.records.delete_pending_blocks([make_hash("block", 1)])
    assert store.records.get_pending_blocks() == []


def reopen(store: Store) -> Store:
    """Return a new store over the same backend: what a restarted process finds on disk."""
    return Store(store.backend, store.location, CHAIN_ID, GENESIS_HASH)


def test_staged_records_are_read_at_once_and_durable_only_once_flushed(store: Store) -> None:
    store.records.stage_safety_data(b"safety")
    store.records.stage_sync_info(b"sync")
    store.records.stage_pending_block(make_hash("block", 3), b"pending-3")
    assert (store.records.load_safety_data(), store.records.load_sync_info()) == (b"safety", b"sync")
    assert store.records.get_pending_blocks() == [(make_hash("block", 3), b"pending-3")]
    assert reopen(store).records.load_safety_data() is None, "a crash before the flush loses the staged records"
    store.records.flush()
    on_disk = reopen(store).records
    assert (on_disk.load_safety_data(), on_disk.load_sync_info()) == (b"safety", b"sync")
    assert on_disk.get_pending_blocks() == [(make_hash("block", 3), b"pending-3")]
    assert store.records.synced_batches == 1, "three records, one synced batch"


def test_a_commit_batch_carries_the_staged_records_but_never_revives_a_committed_block(store: Store) -> None:
    store.records.stage_safety_data(b"safety")
    store.records.stage_pending_block(make_hash("block", 0), b"pending-0")  # the block committed below
    store.records.stage_pending_block(make_hash("block", 1), b"pending-1")
    commit_heights(store, 1)
    assert not store.records.staged and store.records.synced_batches == 0
    on_disk = reopen(store).records
    assert on_disk.load_safety_data() == b"safety"
    assert on_disk.get_pending_blocks() == [(make_hash("block", 1), b"pending-1")]


def test_a_staged_block_pruned_before_the_flush_is_never_written(store: Store) -> None:
    store.records.stage_pending_block(make_hash("block", 2), b"pending-2")
    store.records.delete_pending_blocks([make_hash("block", 2)])
    store.records.flush()
    assert reopen(store).records.get_pending_blocks() == []


def test_schema_prefixes_never_overlap() -> None:
    for first in schema.ALL_PREFIXES:
        for second in schema.ALL_PREFIXES:
            if first is not second:
                assert not second.startswith(first), (first, second)
    assert len(set(schema.ALL_PREFIXES)) == len(schema.ALL_PREFIXES)


def test_big_endian_keys_sort_numerically() -> None:
    assert schema.transaction_key(255) < schema.transaction_key(256) < schema.transaction_key(2**40)


def test_fixed_width_key_parts_are_enforced() -> None:
    with pytest.raises(InvariantViolation):
        schema.account_transaction_key(b"short", 0)


def test_reopened_level_store_keeps_everything(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with LevelStore(path, chain_id=CHAIN_ID, genesis_hash=GENESIS_HASH) as store:
        commit_heights(store, 2)
        store.records.stage_safety_data(b"safety")
        store.records.flush()
    with LevelStore(path, chain_id=CHAIN_ID, genesis_hash=GENESIS_HASH) as store:
        assert store.get_latest_version() == 5
        assert store.records.load_safety_data() == b"safety"


def test_opening_a_database_of_another_schema_version_fails_clearly(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    LevelStore(path).close()
    db = plyvel.DB(path)
    db.put(schema.SCHEMA_VERSION_KEY, schema.encode_u64(schema.SCHEMA_VERSION + 1))
    db.close()
    with pytest.raises(StoreOpenError, match="schema version 2, this node reads version 1"):
        LevelStore(path)


def test_opening_a_foreign_database_fails_clearly(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    db = plyvel.DB(path, create_if_missing=True)
    db.put(b"something", b"else")
    db.close()
    with pytest.raises(StoreOpenError, match="not a stablechain database"):
        LevelStore(path)


def test_opening_with_another_chain_id_or_genesis_fails_clearly(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    LevelStore(path, chain_id=CHAIN_ID, genesis_hash=GENESIS_HASH).close()
    with pytest.raises(StoreOpenError, match="chain id"):
        LevelStore(path, chain_id=CHAIN_ID + 1, genesis_hash=GENESIS_HASH)
    with pytest.raises(StoreOpenError, match="genesis hash"):
        LevelStore(path, chain_id=CHAIN_ID, genesis_hash=b"\x22" * 32)
    # A refused open releases the LevelDB lock, so the right configuration still opens.
    LevelStore(path, chain_id=CHAIN_ID, genesis_hash=GENESIS_HASH).close()


def read_heights_until(process: subprocess.Popen[str], count: int) -> int:
    """Read committed heights from the child until it reports `count` blocks; return the last."""
    deadline = time.monotonic() + CRASH_TEST_DEADLINE_SECS
    last = -1
    while last + 1 < count:
        if time.monotonic() > deadline:
            raise TimeoutError("the crash writer is too slow")
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"crash writer exited: {process.stderr.read()}")
        last = int(line)
    return last


# Kill delays after a reported commit, spread so that kills land inside batch writes too.
CRASH_TEST_KILL_DELAYS_SECS = (0.0, 0.002, 0.005, 0.009, 0.014, 0.02)


@pytest.mark.timeout(CRASH_TEST_DEADLINE_SECS * 2)
def test_kill_minus_9_leaves_every_batch_whole_or_absent(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    # Each run resumes on the database the previous kill left behind.
    for attempt, delay_secs in enumerate(CRASH_TEST_KILL_DELAYS_SECS):
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.node.crash_writer", path],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            last_reported = read_heights_until(process, CRASH_TEST_BLOCKS_BEFORE_KILL * (attempt + 1))
            time.sleep(delay_secs)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.kill()
            process.wait(timeout=CRASH_TEST_DEADLINE_SECS)
            process.stdout.close()
            process.stderr.close()
        with LevelStore(path, chain_id=CHAIN_ID, genesis_hash=GENESIS_HASH) as store:
            latest_height = (store.get_latest_version() + 1) // CRASH_TEST_TRANSACTIONS_PER_BLOCK - 1
            # Everything reported was synced; later batches may have landed, but only whole.
            assert latest_height >= last_reported
            assert store.get_latest_epoch_round() == get_epoch_round(latest_height)
            assert_blocks_whole(store, latest_height)


def assert_blocks_whole(store: Store, latest_height: int) -> None:
    """Check every committed block is complete and nothing of the next block exists."""
    per_block = CRASH_TEST_TRANSACTIONS_PER_BLOCK
    for height in range(latest_height + 1):
        last_version = (height + 1) * per_block - 1
        assert store.get_block(*get_epoch_round(height)) is not None
        assert store.get_ledger_info(last_version) is not None
        assert len(store.get_transactions(height * per_block, per_block)) == per_block
        assert len(store.get_events_by_version(last_version)) == 2
    next_height = latest_height + 1
    assert store.get_block(*get_epoch_round(next_height)) is None
    assert store.get_transaction(next_height * per_block) is None
    assert store.get_events_by_version(next_height * per_block) == []
