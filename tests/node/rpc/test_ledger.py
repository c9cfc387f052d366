"""The one ledger reader of the JSON-RPC methods, over a store the runtime committed to."""

from __future__ import annotations

from contracts.vm.status import VMStatusKind
from node.rpc.ledger import StoreLedgerReader
from tests.node.runtime.harness import CHAIN_ID, Cluster, get_ledger_head, make_transfer


def make_committed_cluster():
    cluster = Cluster()
    cluster.start()
    result = cluster.submit(next(iter(cluster.nodes)), make_transfer(0))
    assert cluster.run_until(lambda: cluster.is_committed_everywhere(result.txn_hash))
    return cluster, result


def test_snapshot_matches_the_last_certificate() -> None:
    cluster, _ = make_committed_cluster()
    store = next(iter(cluster.nodes.values())).store
    ledger = StoreLedgerReader(store, CHAIN_ID)
    snapshot = ledger.get_snapshot()
    version, _, accumulator_root = get_ledger_head(store)
    assert (snapshot.chain_id, snapshot.version) == (CHAIN_ID, version)
    assert ledger.get_accumulator_root(version) == accumulator_root
    assert ledger.get_timestamp_usecs(version) == snapshot.timestamp_usecs > 0
    assert ledger.get_timestamp_usecs(0) == 0


def test_transactions_and_events_read_back() -> None:
    cluster, result = make_committed_cluster()
    ledger = StoreLedgerReader(next(iter(cluster.nodes.values())).store, CHAIN_ID)
    sender = make_transfer(0).sender.value
    committed = ledger.get_transaction_by_sequence(sender, 0)
    assert committed is not None and committed.hash == result.txn_hash
    assert committed.status.kind == VMStatusKind.EXECUTED and committed.events
    assert ledger.get_transaction_by_sequence(sender, 1) is None
    page = ledger.get_transactions(0, 1000)
    assert [item.version for item in page] == list(range(len(page)))
    assert page[0].transaction.variant == 1 and page[1].transaction.variant == 2  # genesis, then block metadata
    sent = committed.events[0]
    events = ledger.get_events(sent.key.value, 0, 10)
    assert [(item.event, item.transaction_version) for item in events] == [(sent, committed.version)]
