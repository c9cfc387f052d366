"""Mempool scenarios: ordering, gaps, duplicates, replacement, expiry, capacity, fair batches."""

from __future__ import annotations

from dataclasses import dataclass

import hypothesis.strategies as st
from hypothesis import given, settings

from node.mempool import (
    EXPIRATIONS_SLACK_ENTRIES,
    Mempool,
    MempoolLimits,
    MempoolStatus,
    VerifiedTransaction,
    is_accepted,
    verify_transaction,
)

NOW_SECS = 1_000
EXPIRATION_SECS = NOW_SECS + 30
TXN_SIZE_BYTES = 100


def make_txn(
    sender: str, sequence_number: int, gas_unit_price: int = 0,
    expiration_timestamp_secs: int = EXPIRATION_SECS, size_bytes: int = TXN_SIZE_BYTES, salt: int = 0,
) -> VerifiedTransaction:
    """Return a verified transaction whose hash is derived from all its fields."""
    txn_hash = repr((sender, sequence_number, gas_unit_price, expiration_timestamp_secs, salt)).encode()
    return VerifiedTransaction(
        transaction=None, txn_hash=txn_hash, sender=sender, sequence_number=sequence_number,
        gas_unit_price=gas_unit_price, expiration_timestamp_secs=expiration_timestamp_secs,
        size_bytes=size_bytes,
    )


def get_order(batch: list[VerifiedTransaction]) -> list[tuple[str, int]]:
    """Return (sender, sequence number) of each transaction of a batch."""
    return [(txn.sender, txn.sequence_number) for txn in batch]


def test_transactions_are_proposed_in_sequence_order() -> None:
    mempool = Mempool()
    for sequence_number in (2, 0, 1):
        assert mempool.add(make_txn("alice", sequence_number), 0, NOW_SECS) == MempoolStatus.ACCEPTED
    assert get_order(mempool.get_batch(10, 10_000)) == [("alice", 0), ("alice", 1), ("alice", 2)]


def test_a_gap_parks_later_transactions_until_it_is_filled() -> None:
    mempool = Mempool()
    mempool.add(make_txn("alice", 5), 5, NOW_SECS)
    mempool.add(make_txn("alice", 7), 5, NOW_SECS)
    assert get_order(mempool.get_batch(10, 10_000)) == [("alice", 5)]
    mempool.add(make_txn("alice", 6), 5, NOW_SECS)
    assert get_order(mempool.get_batch(10, 10_000)) == [("alice", 5), ("alice", 6), ("alice", 7)]


def test_a_transaction_ahead_of_the_account_is_parked() -> None:
    mempool = Mempool()
    assert mempool.add(make_txn("alice", 3), 1, NOW_SECS) == MempoolStatus.ACCEPTED
    assert mempool.get_batch(10, 10_000) == []


def test_identical_resubmission_is_a_no_op() -> None:
    mempool = Mempool()
    txn = make_txn("alice", 0)
    mempool.add(txn, 0, NOW_SECS)
    assert mempool.add(txn, 0, NOW_SECS) == MempoolStatus.ALREADY_PRESENT
    assert is_accepted(MempoolStatus.ALREADY_PRESENT)
    assert len(mempool) == 1


def test_same_sequence_number_replaces_only_for_a_strictly_higher_gas_price() -> None:
    mempool = Mempool()
    mempool.add(make_txn("alice", 0, gas_unit_price=5), 0, NOW_SECS)
    same_price = make_txn("alice", 0, gas_unit_price=5, salt=1)
    assert mempool.add(same_price, 0, NOW_SECS) == MempoolStatus.INVALID_UPDATE
    assert mempool.add(make_txn("alice", 0, gas_unit_price=4), 0, NOW_SECS) == MempoolStatus.INVALID_UPDATE
    higher = make_txn("alice", 0, gas_unit_price=6)
    assert mempool.add(higher, 0, NOW_SECS) == MempoolStatus.REPLACED
    assert mempool.get_batch(10, 10_000) == [higher]
    assert len(mempool) == 1 and mempool.total_bytes == TXN_SIZE_BYTES


def test_status_codes_are_stable() -> None:
    assert [(status.name, int(status)) for status in MempoolStatus] == [
        ("ACCEPTED", 0), ("ALREADY_PRESENT", 1), ("REPLACED", 2), ("SEQUENCE_NUMBER_TOO_OLD", 3),
        ("MEMPOOL_FULL", 4), ("TOO_MANY_TRANSACTIONS_FOR_ACCOUNT", 5), ("INVALID_UPDATE", 6),
        ("EXPIRED", 7), ("TRANSACTION_TOO_LARGE", 8), ("SEQUENCE_NUMBER_TOO_NEW", 9), ("EXPIRATION_TOO_FAR", 10),
    ]


def test_old_sequence_numbers_and_expired_transactions_are_refused() -> None:
    mempool = Mempool()
    assert mempool.add(make_txn("alice", 2), 3, NOW_SECS) == MempoolStatus.SEQUENCE_NUMBER_TOO_OLD
    expired = make_txn("alice", 3, expiration_timestamp_secs=NOW_SECS)
    assert mempool.add(expired, 3, NOW_SECS) == MempoolStatus.EXPIRED
    assert mempool.add(make_txn("alice", 3, size_bytes=5000), 3, NOW_SECS) == (
        MempoolStatus.TRANSACTION_TOO_LARGE
    )
    assert len(mempool) == 0 and mempool.accounts == {}


def test_capacity_per_account_and_in_total_is_enforced() -> None:
    mempool = Mempool(MempoolLimits(capacity_txns=3, capacity_bytes=10_000, capacity_per_account_txns=2))
    mempool.add(make_txn("alice", 0), 0, NOW_SECS)
    mempool.add(make_txn("alice", 1), 0, NOW_SECS)
    assert mempool.add(make_txn("alice", 2), 0, NOW_SECS) == MempoolStatus.TOO_MANY_TRANSACTIONS_FOR_ACCOUNT
    assert mempool.add(make_txn("bob", 0), 0, NOW_SECS) == MempoolStatus.ACCEPTED
    assert mempool.add(make_txn("carol", 0), 0, NOW_SECS) == MempoolStatus.MEMPOOL_FULL
    assert "carol" not in mempool.accounts
    # A replacement does not grow the pool, so it is allowed when full.
    assert mempool.add(make_txn("bob", 0, gas_unit_price=1), 0, NOW_SECS) == MempoolStatus.REPLACED


def test_byte_capacity_is_enforced() -> None:
    mempool = Mempool(MempoolLimits(capacity_txns=10, capacity_bytes=250, capacity_per_account_txns=10))
    mempool.add(make_txn("alice", 0), 0, NOW_SECS)
    mempool.add(make_txn("alice", 1), 0, NOW_SECS)
    assert mempool.add(make_txn("alice", 2), 0, NOW_SECS) == MempoolStatus.MEMPOOL_FULL


def test_gc_drops_transactions_expired_by_block_time() -> None:
    mempool = Mempool()
    mempool.add(make_txn("alice", 0, expiration_timestamp_secs=NOW_SECS + 10), 0, NOW_SECS)
    mempool.add(make_txn("alice", 1, expiration_timestamp_secs=NOW_SECS + 20), 0, NOW_SECS)
    assert mempool.gc(NOW_SECS + 9) == 0
    assert mempool.gc(NOW_SECS + 10) == 1
    # Sequence 1 is now behind a gap: parked, not proposable.
    assert mempool.get_batch(10, 10_000) == []
    assert mempool.gc(NOW_SECS + 20) == 1
    assert len(mempool) == 0 and mempool.total_bytes == 0 and mempool.accounts == {}


def test_committed_transactions_do_not_keep_their_expiry_entries_for_long() -> None:
    mempool = Mempool()
    senders = [f"sender-{index}" for index in range(EXPIRATIONS_SLACK_ENTRIES // 50)]
    for round_number in range(60):  # far more committed transactions than the slack
        for sender in senders:
            mempool.add(make_txn(sender, round_number), round_number, NOW_SECS)
        mempool.commit([(sender, round_number) for sender in senders])
        mempool.gc(NOW_SECS)  # nothing has expired yet
    assert len(mempool) == 0
    assert len(mempool.expirations) <= EXPIRATIONS_SLACK_ENTRIES


def test_a_replaced_transaction_does_not_expire_its_successor() -> None:
    mempool = Mempool()
    mempool.add(make_txn("alice", 0, expiration_timestamp_secs=NOW_SECS + 10), 0, NOW_SECS)
    successor = make_txn("alice", 0, gas_unit_price=1, expiration_timestamp_secs=NOW_SECS + 50)
    mempool.add(successor, 0, NOW_SECS)
    assert mempool.gc(NOW_SECS + 10) == 0
    assert mempool.get(successor.txn_hash) == successor


def test_commit_removes_committed_and_stale_transactions_and_advances() -> None:
    mempool = Mempool()
    for sequence_number in range(4):
        mempool.add(make_txn("alice", sequence_number), 0, NOW_SECS)
    mempool.add(make_txn("bob", 0), 0, NOW_SECS)
    mempool.commit([("alice", 0), ("alice", 1)])
    assert get_order(mempool.get_batch(10, 10_000)) == [("alice", 2), ("bob", 0), ("alice", 3)]
    mempool.commit([("alice", 3), ("bob", 0)])  # alice's 2 was replaced on chain by another txn
    assert len(mempool) == 0 and mempool.accounts == {}


def test_a_newer_account_sequence_number_drops_what_it_made_stale() -> None:
    mempool = Mempool()
    for sequence_number in range(3):
        mempool.add(make_txn("alice", sequence_number), 0, NOW_SECS)
    # The chain moved on (another node's block committed 0 and 1): admission learns it.
    assert mempool.add(make_txn("alice", 3), 2, NOW_SECS) == MempoolStatus.ACCEPTED
    assert get_order(mempool.get_batch(10, 10_000)) == [("alice", 2), ("alice", 3)]
    assert len(mempool) == 2 and mempool.total_bytes == 2 * TXN_SIZE_BYTES


def test_batch_rotates_fairly_across_senders() -> None:
    mempool = Mempool()
    for sender in ("alice", "bob", "carol"):
        for sequence_number in range(3):
            mempool.add(make_txn(sender, sequence_number), 0, NOW_SECS)
    assert get_order(mempool.get_batch(5, 10_000)) == [
        ("alice", 0), ("bob", 0), ("carol", 0), ("alice", 1), ("bob", 1),
    ]


def test_batch_respects_bytes_without_leaving_gaps() -> None:
    mempool = Mempool()
    mempool.add(make_txn("alice", 0, size_bytes=100), 0, NOW_SECS)
    mempool.add(make_txn("alice", 1, size_bytes=300), 0, NOW_SECS)
    mempool.add(make_txn("alice", 2, size_bytes=10), 0, NOW_SECS)
    mempool.add(make_txn("bob", 0, size_bytes=50), 0, NOW_SECS)
    assert get_order(mempool.get_batch(10, 200)) == [("alice", 0), ("bob", 0)]


def test_excluded_transactions_are_skipped_but_close_the_gap() -> None:
    mempool = Mempool()
    first = make_txn("alice", 0)
    mempool.add(first, 0, NOW_SECS)
    mempool.add(make_txn("alice", 1), 0, NOW_SECS)
    assert get_order(mempool.get_batch(10, 10_000, exclude={first.txn_hash})) == [("alice", 1)]


@dataclass
class FakeRawTransaction:
    """The fields the mempool reads from a raw transaction."""

    sender: bytes
    sequence_number: int
    gas_unit_price: int
    expiration_timestamp_secs: int


@dataclass
class FakeSignedTransaction:
    """A signed transaction that counts its signature checks."""

    raw_txn: FakeRawTransaction
    valid: bool
    checks: int = 0

    def is_signature_valid(self) -> bool:
        self.checks += 1
        return self.valid

    def hash(self) -> bytes:
        return b"hash-%d" % self.raw_txn.sequence_number


def test_signature_is_verified_once_and_never_again() -> None:
    mempool = Mempool()
    signed = FakeSignedTransaction(FakeRawTransaction(b"\x01" * 16, 0, 0, EXPIRATION_SECS), valid=True)
    verified = verify_transaction(signed, TXN_SIZE_BYTES)
    assert verified is not None and signed.checks == 1
    mempool.add(verified, 0, NOW_SECS)
    mempool.add(verified, 0, NOW_SECS)
    batch = mempool.get_batch(10, 10_000)
    assert batch[0].transaction is signed and mempool.is_verified(signed.hash())
    assert signed.checks == 1
    forged = FakeSignedTransaction(FakeRawTransaction(b"\x01" * 16, 1, 0, EXPIRATION_SECS), valid=False)
    assert verify_transaction(forged, TXN_SIZE_BYTES) is None


SENDERS = ("alice", "bob", "carol")
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(SENDERS), st.integers(0, 4), st.integers(0, 3),
                  st.integers(NOW_SECS, NOW_SECS + 20), st.integers(1, 300)),
        st.tuples(st.just("commit"), st.sampled_from(SENDERS), st.integers(0, 3)),
        st.tuples(st.just("gc"), st.integers(NOW_SECS, NOW_SECS + 20)),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(operations, st.integers(0, 12), st.integers(0, 600), st.sets(st.integers(0, 30), max_size=6))
def test_ready_batch_is_gap_free_per_sender_and_within_caps(
    ops: list, max_txns: int, max_bytes: int, excluded_positions: set[int]
) -> None:
    limits = MempoolLimits(capacity_txns=12, capacity_bytes=2_000, capacity_per_account_txns=5)
    mempool = Mempool(limits)
    on_chain = {sender: 0 for sender in SENDERS}
    for op in ops:
        if op[0] == "add":
            _, sender, sequence_number, price, expiration, size = op
            # Sequence numbers relative to the account keep most of them near the ready prefix.
            txn = make_txn(sender, on_chain[sender] + sequence_number, price, expiration + 1, size)
            mempool.add(txn, on_chain[sender], NOW_SECS)
        elif op[0] == "commit":
            committed = on_chain[op[1]] + op[2]
            on_chain[op[1]] = committed + 1
            mempool.commit([(op[1], committed)])
        elif op[0] == "gc":
            mempool.gc(op[1])
        assert len(mempool) <= limits.capacity_txns and mempool.total_bytes <= limits.capacity_bytes
        assert mempool.total_bytes == sum(txn.size_bytes for txn in mempool.by_hash.values())
        for queue in mempool.accounts.values():
            assert 0 < len(queue.by_sequence_number) <= limits.capacity_per_account_txns
    # Transactions already in uncommitted blocks are excluded, but still count as present.
    held = sorted(mempool.by_hash)
    exclude = {held[position] for position in excluded_positions if position < len(held)}
    batch = mempool.get_batch(max_txns, max_bytes, exclude)
    assert len(batch) <= max_txns and sum(txn.size_bytes for txn in batch) <= max_bytes
    assert len({txn.txn_hash for txn in batch}) == len(batch)
    assert not exclude & {txn.txn_hash for txn in batch}
    for sender in SENDERS:
        in_batch = sorted(txn.sequence_number for txn in batch if txn.sender == sender)
        in_flight = {mempool.by_hash[h].sequence_number for h in exclude if mempool.by_hash[h].sender == sender}
        if in_batch:
            assert set(range(on_chain[sender], in_batch[-1] + 1)) <= set(in_batch) | in_flight


pools = st.dictionaries(
    st.sampled_from(SENDERS),
    st.lists(st.tuples(st.booleans(), st.integers(1, 300)), max_size=6),  # (present, size) by sequence
)


@settings(max_examples=300, deadline=None)
@given(pools, st.integers(0, 12), st.integers(0, 900))
def test_any_pool_yields_a_gap_free_batch_within_caps(pool: dict, max_txns: int, max_bytes: int) -> None:
    mempool = Mempool()
    for sender, slots in pool.items():
        for sequence_number, (is_present, size) in enumerate(slots):
            if is_present:
                mempool.add(make_txn(sender, sequence_number, size_bytes=size), 0, NOW_SECS)
    batch = mempool.get_batch(max_txns, max_bytes)
    assert len(batch) <= max_txns and sum(txn.size_bytes for txn in batch) <= max_bytes
    for sender in SENDERS:
        sequence_numbers = [txn.sequence_number for txn in batch if txn.sender == sender]
        assert sequence_numbers == list(range(len(sequence_numbers)))
    # Nothing that fits is left out: the batch is full, or every sender is blocked.
    if len(batch) < max_txns:
        remaining_bytes = max_bytes - sum(txn.size_bytes for txn in batch)
        for sender in SENDERS:
            ready = mempool.get_ready(sender, frozenset())
            taken = sum(1 for txn in batch if txn.sender == sender)
            assert taken == len(ready) or ready[taken].size_bytes > remaining_bytes
