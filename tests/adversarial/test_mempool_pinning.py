"""Item 3: nobody can pin the mempool: a sequence window per account, an expiration horizon, a TTL for parked
transactions, eviction of parked before ready when full, and per-account caps (all named limits)."""

from __future__ import annotations

from node.mempool import (
    MEMPOOL_EXPIRATION_HORIZON_S,
    MEMPOOL_PARKED_SWEEP_INTERVAL_S,
    MEMPOOL_PARKED_TTL_S,
    MEMPOOL_SEQUENCE_WINDOW,
    Mempool,
    MempoolLimits,
    MempoolStatus,
)
from node.rpc.submit import compose_submit_error
from node.runtime.submit import SubmitResult, SubmitStatus
from tests.node.test_mempool import NOW_SECS, make_txn

FAR_ENOUGH = NOW_SECS + 3_600


def test_a_sequence_number_beyond_the_window_is_refused() -> None:
    mempool = Mempool()
    assert MEMPOOL_SEQUENCE_WINDOW == 100, "Diem's window"
    last_inside = make_txn("mallory", 5 + MEMPOOL_SEQUENCE_WINDOW - 1, expiration_timestamp_secs=FAR_ENOUGH)
    assert mempool.add(last_inside, 5, NOW_SECS) == MempoolStatus.ACCEPTED
    beyond = make_txn("mallory", 5 + MEMPOOL_SEQUENCE_WINDOW, expiration_timestamp_secs=FAR_ENOUGH)
    assert mempool.add(beyond, 5, NOW_SECS) == MempoolStatus.SEQUENCE_NUMBER_TOO_NEW
    error = compose_submit_error(SubmitResult(SubmitStatus.MEMPOOL_REJECTED, b"", 0, MempoolStatus.SEQUENCE_NUMBER_TOO_NEW), 0)
    assert error is not None and error.code == -32007 and "too far ahead" in error.message


def test_an_expiration_past_the_horizon_is_refused() -> None:
    mempool = Mempool()
    at_horizon = make_txn("mallory", 0, expiration_timestamp_secs=NOW_SECS + MEMPOOL_EXPIRATION_HORIZON_S)
    assert mempool.add(at_horizon, 0, NOW_SECS) == MempoolStatus.ACCEPTED
    forever = make_txn("mallory", 1, expiration_timestamp_secs=2**63)
    assert mempool.add(forever, 0, NOW_SECS) == MempoolStatus.EXPIRATION_TOO_FAR
    # The horizon counts from the node's clock, not from a ledger that has not moved since genesis.
    assert mempool.add(make_txn("alice", 0, expiration_timestamp_secs=FAR_ENOUGH), 0, 0, now_secs=NOW_SECS) == \
        MempoolStatus.ACCEPTED


def test_parked_transactions_expire_after_their_ttl_and_ready_ones_stay() -> None:
    mempool = Mempool()
    ready = make_txn("alice", 0, expiration_timestamp_secs=FAR_ENOUGH + MEMPOOL_PARKED_TTL_S)
    parked = make_txn("mallory", 7, expiration_timestamp_secs=FAR_ENOUGH + MEMPOOL_PARKED_TTL_S)
    mempool.add(ready, 0, NOW_SECS)
    mempool.add(parked, 0, NOW_SECS)
    assert mempool.gc(NOW_SECS + MEMPOOL_PARKED_TTL_S - 1) == 0
    assert mempool.gc(NOW_SECS + MEMPOOL_PARKED_TTL_S + MEMPOOL_PARKED_SWEEP_INTERVAL_S) == 1
    assert mempool.get(parked.txn_hash) is None and mempool.get(ready.txn_hash) is not None


def test_a_full_mempool_evicts_parked_transactions_for_ready_ones_but_not_for_parked_ones() -> None:
    mempool = Mempool(MempoolLimits(capacity_txns=3, capacity_per_account_txns=2))
    for sequence_number in (10, 11):
        mempool.add(make_txn("mallory", sequence_number), 0, NOW_SECS)
    mempool.add(make_txn("alice", 0), 0, NOW_SECS)
    assert mempool.add(make_txn("eve", 9), 0, NOW_SECS) == MempoolStatus.MEMPOOL_FULL, "parked never evicts parked"
    assert mempool.add(make_txn("bob", 0), 0, NOW_SECS) == MempoolStatus.ACCEPTED
    assert mempool.add(make_txn("carol", 0), 0, NOW_SECS) == MempoolStatus.ACCEPTED
    assert sorted(txn.sender for txn in mempool.by_hash.values()) == ["alice", "bob", "carol"]
    assert mempool.add(make_txn("dave", 0), 0, NOW_SECS) == MempoolStatus.MEMPOOL_FULL, "ready is never evicted"


def test_one_account_cannot_take_more_than_its_cap() -> None:
    mempool = Mempool(MempoolLimits(capacity_per_account_txns=3))
    statuses = [mempool.add(make_txn("mallory", n), 0, NOW_SECS) for n in range(4)]
    assert statuses[-1] == MempoolStatus.TOO_MANY_TRANSACTIONS_FOR_ACCOUNT
    assert mempool.add(make_txn("alice", 0), 0, NOW_SECS) == MempoolStatus.ACCEPTED
