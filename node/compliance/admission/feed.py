"""Feed committed payments from the ledger into the transfer tracker: at start-up (the last window) and per commit."""

from __future__ import annotations

from node.compliance.admission.view import InMemoryTransferTracker
from node.rpc.ledger import LedgerReader
from primitives.types.transactions import SignedTransaction

FEED_PAGE_TRANSACTIONS = 1_000
# Start-up replay stops after this many transactions even if the window reaches further back.
WARM_UP_TRANSACTIONS_MAX = 500_000


class TransferFeed:
    """Reads committed transactions after the last one seen, so transfers sent through other nodes count too."""

    def __init__(self, ledger: LedgerReader, tracker: InMemoryTransferTracker) -> None:
        self.ledger = ledger
        self.tracker = tracker
        self.next_version = 0

    def warm_up(self) -> None:
        """Replay the committed payments of the last retention window (start-up)."""
        latest = self.ledger.get_snapshot().version
        horizon_us = self.ledger.get_timestamp_usecs(latest) - self.tracker.retention_us
        start = latest + 1
        # Walk back a page at a time until a page starts before the window (its extra transactions are pruned).
        while start > 0 and latest + 1 - start < WARM_UP_TRANSACTIONS_MAX:
            start = max(0, start - FEED_PAGE_TRANSACTIONS)
            if self.ledger.get_timestamp_usecs(start) < horizon_us:
                break
        self.next_version = start
        self.catch_up()

    def catch_up(self) -> None:
        """Record every payment committed since the last call, at its block time, then prune."""
        latest = self.ledger.get_snapshot().version
        while self.next_version <= latest:
            limit = min(FEED_PAGE_TRANSACTIONS, latest - self.next_version + 1)
            page = self.ledger.get_transactions(self.next_version, limit)
            if not page:
                break
            for committed in page:
                value = committed.transaction.value
                if isinstance(value, SignedTransaction):
                    self.tracker.on_committed_transactions([value], self.ledger.get_timestamp_usecs(committed.version))
            self.next_version = page[-1].version + 1
        self.tracker.prune(self.ledger.get_timestamp_usecs(latest))
