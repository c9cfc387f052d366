"""The mempool: verified transactions per sender, ordered by sequence number, proposable in order."""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from primitives.errors import invariant
from primitives.limits import MAX_TRANSACTION_SIZE_BYTES
from primitives.types.transactions import SignedTransaction

# Defaults sized for one validator on a small machine; Diem's own per-account default is 100.
MEMPOOL_CAPACITY_TXNS = 100_000
MEMPOOL_CAPACITY_BYTES = 128 * 1024 * 1024
MEMPOOL_CAPACITY_PER_ACCOUNT_TXNS = 100
# A sender may park transactions at most this far ahead of its on-chain sequence number (Diem's window is 100).
MEMPOOL_SEQUENCE_WINDOW = 100
# Expirations further than this past the node's clock are refused: nothing may pin a slot for years.
MEMPOOL_EXPIRATION_HORIZON_S = 7 * 24 * 3600
# A parked transaction (behind a gap) is dropped after this long (Diem's system_transaction_timeout).
MEMPOOL_PARKED_TTL_S = 600
# Parked transactions are swept at most this often (a sweep visits every sender).
MEMPOOL_PARKED_SWEEP_INTERVAL_S = 10
# The expiry heap keeps a committed transaction's entry until its expiry; past this size it is rebuilt.
EXPIRATIONS_SLACK_FACTOR = 2
EXPIRATIONS_SLACK_ENTRIES = 10_000

invariant(MEMPOOL_CAPACITY_PER_ACCOUNT_TXNS <= MEMPOOL_CAPACITY_TXNS, "account cap within total cap")
invariant(MAX_TRANSACTION_SIZE_BYTES <= MEMPOOL_CAPACITY_BYTES, "one transaction fits the mempool")


class MempoolStatus(IntEnum):
    """Outcome of an admission; the numbers are stable and never reused."""

    ACCEPTED = 0
    ALREADY_PRESENT = 1
    REPLACED = 2
    SEQUENCE_NUMBER_TOO_OLD = 3
    MEMPOOL_FULL = 4
    TOO_MANY_TRANSACTIONS_FOR_ACCOUNT = 5
    INVALID_UPDATE = 6
    EXPIRED = 7
    TRANSACTION_TOO_LARGE = 8
    SEQUENCE_NUMBER_TOO_NEW = 9
    EXPIRATION_TOO_FAR = 10


def is_accepted(status: MempoolStatus) -> bool:
    """Return whether the transaction is in the mempool after the admission."""
    return status in (MempoolStatus.ACCEPTED, MempoolStatus.ALREADY_PRESENT, MempoolStatus.REPLACED)


@dataclass(frozen=True, slots=True)
class VerifiedTransaction:
    """A transaction whose signature this node has checked; only these enter the mempool."""

    transaction: SignedTransaction
    txn_hash: bytes
    sender: Hashable
    sequence_number: int
    gas_unit_price: int
    expiration_timestamp_secs: int
    size_bytes: int


def verify_transaction(transaction: SignedTransaction, size_bytes: int) -> VerifiedTransaction | None:
    """Check a SignedTransaction's signature once; return it wrapped, or None when it is invalid."""
    if not transaction.is_signature_valid():
        return None
    raw = transaction.raw_txn
    return VerifiedTransaction(
        transaction=transaction,
        txn_hash=transaction.hash(),
        sender=raw.sender,
        sequence_number=raw.sequence_number,
        gas_unit_price=raw.gas_unit_price,
        expiration_timestamp_secs=raw.expiration_timestamp_secs,
        size_bytes=size_bytes,
    )


@dataclass(frozen=True, slots=True)
class MempoolLimits:
    """Capacity limits of one mempool."""

    capacity_txns: int = MEMPOOL_CAPACITY_TXNS
    capacity_bytes: int = MEMPOOL_CAPACITY_BYTES
    capacity_per_account_txns: int = MEMPOOL_CAPACITY_PER_ACCOUNT_TXNS
    sequence_window: int = MEMPOOL_SEQUENCE_WINDOW
    expiration_horizon_s: int = MEMPOOL_EXPIRATION_HORIZON_S
    parked_ttl_s: int = MEMPOOL_PARKED_TTL_S


@dataclass(slots=True)
class AccountQueue:
    """One sender's transactions by sequence number, and the next sequence number on chain."""

    account_sequence_number: int
    by_sequence_number: dict[int, VerifiedTransaction] = field(default_factory=dict)
    # When each transaction arrived (node clock, seconds), for the parked TTL.
    arrival_secs: dict[int, int] = field(default_factory=dict)

    def get_ready_count(self) -> int:
        """Return how many transactions are contiguous from the on-chain sequence number."""
        count = 0
        while self.account_sequence_number + count in self.by_sequence_number:
            count += 1
        return count


class Mempool:
    """Verified transactions waiting for a block; no I/O, no clock, no re-verification."""

    def __init__(self, limits: MempoolLimits = MempoolLimits()) -> None:
        self.limits = limits
        self.by_hash: dict[bytes, VerifiedTransaction] = {}
        # Insertion order of senders is the round-robin order of proposals.
        self.accounts: dict[Hashable, AccountQueue] = {}
        self.total_bytes = 0
        # (expiration, hash) with lazy deletion: entries already gone are skipped on pop.
        self.expirations: list[tuple[int, bytes]] = []
        self.parked_swept_secs = 0

    def __len__(self) -> int:
        return len(self.by_hash)

    def get(self, txn_hash: bytes) -> VerifiedTransaction | None:
        """Return the verified transaction with this hash, if the mempool holds it."""
        return self.by_hash.get(txn_hash)

    def is_verified(self, txn_hash: bytes) -> bool:
        """Return whether this node already checked the signature of the transaction."""
        return txn_hash in self.by_hash

    def add(
        self, txn: VerifiedTransaction, account_sequence_number: int, block_time_secs: int, now_secs: int | None = None
    ) -> MempoolStatus:
        """Admit a verified transaction, given its sender's on-chain sequence number, block time and the node's clock."""
        now_secs = block_time_secs if now_secs is None else max(now_secs, block_time_secs)
        status = self._check_stateless(txn, block_time_secs, now_secs)
        if status is not None:
            return status
        queue = self._get_queue(txn.sender, account_sequence_number)
        if txn.sequence_number < queue.account_sequence_number:
            self._drop_empty(txn.sender)
            return MempoolStatus.SEQUENCE_NUMBER_TOO_OLD
        if txn.sequence_number >= queue.account_sequence_number + self.limits.sequence_window:
            self._drop_empty(txn.sender)
            return MempoolStatus.SEQUENCE_NUMBER_TOO_NEW
        existing = queue.by_sequence_number.get(txn.sequence_number)
        if existing is not None:
            return self._replace(existing, txn)
        if len(queue.by_sequence_number) >= self.limits.capacity_per_account_txns:
            return MempoolStatus.TOO_MANY_TRANSACTIONS_FOR_ACCOUNT
        if not self._make_room(txn, queue):
            self._drop_empty(txn.sender)
            return MempoolStatus.MEMPOOL_FULL
        self._insert(queue, txn, now_secs)
        return MempoolStatus.ACCEPTED

    def _check_stateless(self, txn: VerifiedTransaction, block_time_secs: int, now_secs: int) -> MempoolStatus | None:
        if txn.txn_hash in self.by_hash:
            return MempoolStatus.ALREADY_PRESENT
        if txn.size_bytes > MAX_TRANSACTION_SIZE_BYTES:
            return MempoolStatus.TRANSACTION_TOO_LARGE
        # Diem keeps a transaction only while block time < expiration.
        if txn.expiration_timestamp_secs <= block_time_secs:
            return MempoolStatus.EXPIRED
        if txn.expiration_timestamp_secs > now_secs + self.limits.expiration_horizon_s:
            return MempoolStatus.EXPIRATION_TOO_FAR
        return None

    def _is_full_for(self, txn: VerifiedTransaction) -> bool:
        return len(self.by_hash) >= self.limits.capacity_txns or (
            self.total_bytes + txn.size_bytes > self.limits.capacity_bytes)

    def _make_room(self, txn: VerifiedTransaction, queue: AccountQueue) -> bool:
        """Evict parked transactions (newest sequence numbers first) for a ready one; False when it cannot fit."""
        if not self._is_full_for(txn):
            return True
        is_ready = txn.sequence_number == queue.account_sequence_number + queue.get_ready_count()
        while is_ready and self._is_full_for(txn):
            victim = self._find_parked()
            if victim is None:
                return False
            self._remove(victim)
            self._drop_empty(victim.sender)
        return not self._is_full_for(txn)

    def _find_parked(self) -> VerifiedTransaction | None:
        """Return the highest parked transaction of the first sender holding any (only runs when full)."""
        for queue in self.accounts.values():
            if len(queue.by_sequence_number) > queue.get_ready_count():
                return queue.by_sequence_number[max(queue.by_sequence_number)]
        return None

    def _get_queue(self, sender: Hashable, account_sequence_number: int) -> AccountQueue:
        """Return the sender's queue, created if new, with stale sequence numbers dropped."""
        queue = self.accounts.get(sender)
        if queue is None:
            queue = self.accounts[sender] = AccountQueue(account_sequence_number)
        elif account_sequence_number > queue.account_sequence_number:
            self._advance(queue, account_sequence_number)
        return queue

    def _replace(self, existing: VerifiedTransaction, txn: VerifiedTransaction) -> MempoolStatus:
        """Replace the same (sender, sequence number) only for a strictly higher gas price."""
        if txn.gas_unit_price <= existing.gas_unit_price:
            return MempoolStatus.INVALID_UPDATE
        if self.total_bytes - existing.size_bytes + txn.size_bytes > self.limits.capacity_bytes:
            return MempoolStatus.MEMPOOL_FULL
        queue = self.accounts[txn.sender]
        arrival_secs = queue.arrival_secs.get(existing.sequence_number, 0)
        self._remove(existing)
        self._insert(queue, txn, arrival_secs)
        return MempoolStatus.REPLACED

    def _insert(self, queue: AccountQueue, txn: VerifiedTransaction, arrival_secs: int) -> None:
        """Store txn in every index."""
        queue.by_sequence_number[txn.sequence_number] = txn
        queue.arrival_secs[txn.sequence_number] = arrival_secs
        self.by_hash[txn.txn_hash] = txn
        self.total_bytes += txn.size_bytes
        heapq.heappush(self.expirations, (txn.expiration_timestamp_secs, txn.txn_hash))

    def _remove(self, txn: VerifiedTransaction) -> None:
        """Remove txn from every index but the expiration heap (cleaned lazily)."""
        del self.by_hash[txn.txn_hash]
        queue = self.accounts[txn.sender]
        del queue.by_sequence_number[txn.sequence_number]
        queue.arrival_secs.pop(txn.sequence_number, None)
        self.total_bytes -= txn.size_bytes

    def _drop_empty(self, sender: Hashable) -> None:
        """Forget a sender without transactions so that the account map stays bounded."""
        queue = self.accounts.get(sender)
        if queue is not None and not queue.by_sequence_number:
            del self.accounts[sender]

    def _advance(self, queue: AccountQueue, account_sequence_number: int) -> None:
        """Move a sender's on-chain sequence number forward, dropping what it made stale."""
        queue.account_sequence_number = account_sequence_number
        for sequence_number in [s for s in queue.by_sequence_number if s < account_sequence_number]:
            self._remove(queue.by_sequence_number[sequence_number])

    def commit(self, committed: Iterable[tuple[Hashable, int]]) -> None:
        """Forget committed (sender, sequence number) pairs and everything they made stale."""
        for sender, sequence_number in committed:
            queue = self.accounts.get(sender)
            if queue is not None and sequence_number >= queue.account_sequence_number:
                self._advance(queue, sequence_number + 1)
                self._drop_empty(sender)

    def remove(self, txn_hashes: Iterable[bytes]) -> None:
        """Forget transactions by hash (for instance ones a block discarded at execution)."""
        for txn_hash in txn_hashes:
            txn = self.by_hash.get(txn_hash)
            if txn is not None:
                self._remove(txn)
                self._drop_empty(txn.sender)

    def gc(self, block_time_secs: int) -> int:
        """Drop every transaction with expiration <= block_time_secs, and parked ones past their TTL; return how many."""
        if len(self.expirations) > EXPIRATIONS_SLACK_FACTOR * len(self.by_hash) + EXPIRATIONS_SLACK_ENTRIES:
            # Committed transactions leave their entries behind until they would have expired: rebuild.
            self.expirations = [(txn.expiration_timestamp_secs, txn.txn_hash) for txn in self.by_hash.values()]
            heapq.heapify(self.expirations)
        dropped = self._drop_stale_parked(block_time_secs)
        while self.expirations and self.expirations[0][0] <= block_time_secs:
            _, txn_hash = heapq.heappop(self.expirations)
            txn = self.by_hash.get(txn_hash)
            if txn is not None and txn.expiration_timestamp_secs <= block_time_secs:
                self._remove(txn)
                self._drop_empty(txn.sender)
                dropped += 1
        return dropped

    def _drop_stale_parked(self, now_secs: int) -> int:
        """Drop parked transactions that arrived more than the parked TTL ago."""
        if now_secs < self.parked_swept_secs + MEMPOOL_PARKED_SWEEP_INTERVAL_S:
            return 0
        self.parked_swept_secs = now_secs
        stale = []
        for queue in self.accounts.values():
            ready_end = queue.account_sequence_number + queue.get_ready_count()
            stale.extend(txn for sequence_number, txn in queue.by_sequence_number.items()
                         if sequence_number > ready_end
                         and queue.arrival_secs.get(sequence_number, now_secs) + self.limits.parked_ttl_s <= now_secs)
        for txn in stale:
            self._remove(txn)
            self._drop_empty(txn.sender)
        return len(stale)

    def get_ready(self, sender: Hashable, exclude: frozenset[bytes] | set[bytes]) -> list[VerifiedTransaction]:
        """Return a sender's proposable prefix: contiguous from its sequence number, minus excluded."""
        queue = self.accounts.get(sender)
        if queue is None:
            return []
        ready = []
        sequence_number = queue.account_sequence_number
        # Excluded transactions (already in uncommitted blocks) still close the gap behind them.
        while (txn := queue.by_sequence_number.get(sequence_number)) is not None:
            if txn.txn_hash not in exclude:
                ready.append(txn)
            sequence_number += 1
        return ready

    def get_batch(
        self, max_txns: int, max_bytes: int, exclude: frozenset[bytes] | set[bytes] = frozenset()
    ) -> list[VerifiedTransaction]:
        """Return up to max_txns ready transactions within max_bytes, one sender at a time in turn."""
        queues = [self.get_ready(sender, exclude) for sender in self.accounts]
        positions = [0] * len(queues)
        batch: list[VerifiedTransaction] = []
        remaining_bytes = max_bytes
        active = [index for index, queue in enumerate(queues) if queue]
        while active and len(batch) < max_txns:
            still_active = []
            for index in active:
                if len(batch) >= max_txns:
                    break
                txn = queues[index][positions[index]]
                # A sender whose next transaction does not fit stops: skipping it would leave a gap.
                if txn.size_bytes > remaining_bytes:
                    continue
                batch.append(txn)
                remaining_bytes -= txn.size_bytes
                positions[index] += 1
                if positions[index] < len(queues[index]):
                    still_active.append(index)
            active = still_active
        return batch
