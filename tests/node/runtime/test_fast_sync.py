"""Fast sync (ADR 0018): a fresh node installs a verified state snapshot of a certified version, then follows."""

from __future__ import annotations

from dataclasses import replace

from node.runtime.snapshot import (
    SnapshotRequest,
    SnapshotStatus,
    decode_snapshot_response,
    serve_snapshot,
)
from node.runtime.wire import decode_envelope
from node.storage import MemoryStore
from node.storage.store import PrunedVersionError
from tests.node.runtime.harness import CHAIN_ID, Cluster, apply_genesis, get_ledger_head, is_committed, make_transfer

import pytest


def make_synced_cluster(transfers: int = 6):
    """A cluster whose last node lost everything and starts again fresh with fast sync on."""
    cluster = Cluster(reputation=True)
    addresses = list(cluster.nodes)
    laggard = cluster.nodes[addresses[3]]
    cluster.start()
    cluster.crash(laggard.address)
    for sequence_number in range(transfers):
        result = cluster.submit(addresses[0], make_transfer(sequence_number))
        assert cluster.run_until(lambda: is_committed(cluster.nodes[addresses[0]].store, result.txn_hash))
    laggard.store = MemoryStore(chain_id=CHAIN_ID, genesis_hash=cluster.genesis_hash)
    apply_genesis(laggard.store, cluster.genesis_commit)
    cluster.fast_sync_nodes.add(laggard.address)
    return cluster, laggard


def test_a_fresh_node_installs_the_snapshot_and_then_follows_the_chain() -> None:
    cluster, laggard = make_synced_cluster()
    helper = cluster.nodes[list(cluster.nodes)[0]]
    cluster.start(laggard.address)
    assert cluster.run_until(lambda: not laggard.runtime.fast_sync.is_active)
    assert laggard.runtime.fast_sync.last_status == SnapshotStatus.COMPLETE
    synced_version = laggard.store.oldest_state_version
    assert synced_version > 0
    # It follows: a new transfer commits everywhere, the synced node included, with the same roots.
    result = cluster.submit(list(cluster.nodes)[0], make_transfer(6))
    assert cluster.run_until(lambda: is_committed(helper.store, result.txn_hash))
    assert cluster.run_until(lambda: get_ledger_head(laggard.store) == get_ledger_head(helper.store))
    version = laggard.store.get_latest_version()
    assert laggard.store.get_transaction(version) == helper.store.get_transaction(version)
    # History before the snapshot is absent, and says so.
    with pytest.raises(PrunedVersionError):
        laggard.store.get_transaction(1)
    with pytest.raises(PrunedVersionError):
        laggard.store.get_state_value(b"\x00" * 32, synced_version - 1)


def get_first_chunk(cluster: Cluster):
    helper = cluster.nodes[list(cluster.nodes)[0]]
    [outbound] = serve_snapshot(helper.store, b"peer", SnapshotRequest(0, b"", 2))
    return decode_snapshot_response(decode_envelope(outbound.data)[1])


def test_a_forged_certificate_or_a_wrong_accumulator_is_refused() -> None:
    cluster, laggard = make_synced_cluster(transfers=2)
    cluster.start(laggard.address)
    cluster.queue.clear()
    first = get_first_chunk(cluster)
    forged = replace(first, certificate=replace(first.certificate, ledger_info=replace(
        first.certificate.ledger_info, state_root=b"\x01" * 32)))
    fast_sync = laggard.runtime.fast_sync
    assert fast_sync.process_response(b"peer", forged, laggard.runtime.state)[0] == SnapshotStatus.BAD_CERTIFICATE
    wrong = replace(first, frozen_nodes=(b"\x02" * 32,) * len(first.frozen_nodes))
    assert fast_sync.process_response(b"peer", wrong, laggard.runtime.state)[0] == SnapshotStatus.BAD_ACCUMULATOR
    assert laggard.store.get_latest_version() == 0


def test_a_chunk_whose_leaves_miss_the_root_is_not_installed() -> None:
    cluster, laggard = make_synced_cluster(transfers=2)
    cluster.start(laggard.address)
    cluster.queue.clear()
    first = get_first_chunk(cluster)
    tampered = replace(first, values=(b"forged",) + first.values[1:], is_last=True)
    status, _, install = laggard.runtime.fast_sync.process_response(b"peer", tampered, laggard.runtime.state)
    assert status == SnapshotStatus.ROOT_MISMATCH and install is None
    assert laggard.store.get_latest_version() == 0


def test_a_snapshot_of_a_later_epoch_hands_over_to_catch_up() -> None:
    cluster, laggard = make_synced_cluster(transfers=2)
    cluster.start(laggard.address)
    cluster.queue.clear()
    first = get_first_chunk(cluster)
    later = replace(first, certificate=replace(first.certificate, ledger_info=replace(
        first.certificate.ledger_info, epoch=first.certificate.ledger_info.epoch + 1)))
    fast_sync = laggard.runtime.fast_sync
    assert fast_sync.process_response(b"peer", later, laggard.runtime.state)[0] == SnapshotStatus.LATER_EPOCH
    assert not fast_sync.is_active  # catch-up replays the epoch changes from here
    assert laggard.runtime.get_catchup_requests(is_startup=True)


def test_a_version_outside_the_retention_window_is_not_served() -> None:
    cluster, _ = make_synced_cluster(transfers=2)
    helper = cluster.nodes[list(cluster.nodes)[0]]
    latest = helper.store.get_latest_version()
    helper.store.oldest_ledger_version = latest + 1  # as if pruned
    server = cluster.get_runtime(helper.address).snapshot_server
    assert server.process_request(b"peer", SnapshotRequest(latest, b"", 10)) == []
    helper.store.oldest_ledger_version = 0
    helper.store.oldest_state_version = latest + 1
    assert server.process_request(b"peer", SnapshotRequest(latest, b"\x00" * 32, 10)) == []
