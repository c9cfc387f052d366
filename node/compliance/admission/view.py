"""What a hook may read: committed state, the ledger clock, and an account's recent committed and pending transfers."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from contracts.framework import kyc, roles
from contracts.payments import decode_payment
from contracts.vm.storage import StateView
from contracts.vm.structs import ResourceType
from node.rpc.ledger import LedgerReader
from primitives.types.transactions import SignedTransaction

USECS_PER_SEC = 1_000_000
# One account's remembered transfers; beyond this the oldest are forgotten (windows are meant to be short).
TRANSFERS_PER_ACCOUNT_MAX = 10_000
PENDING_TRANSFERS_MAX = 200_000
ROLE_NAMES = {
    roles.ROLE_DIEM_ROOT: "diem_root", roles.ROLE_TREASURY_COMPLIANCE: "treasury_compliance",
    roles.ROLE_DESIGNATED_DEALER: "designated_dealer", roles.ROLE_VALIDATOR: "validator",
    roles.ROLE_VALIDATOR_OPERATOR: "validator_operator", roles.ROLE_PARENT_VASP: "parent_vasp",
    roles.ROLE_CHILD_VASP: "child_vasp",
}


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """A payment the node knows of: committed (time = block time) or pending (time = admission's ledger time)."""

    txn_hash: bytes
    payer: bytes
    payee: bytes
    amount_micro: int
    currency: str
    time_us: int
    is_pending: bool


class TransferHistory(Protocol):
    """An account's recent outgoing transfers, committed and pending."""

    def get_outgoing(self, address: bytes, since_us: int) -> list[TransferRecord]: ...


@dataclass(frozen=True, slots=True)
class LedgerView:
    """The latest committed state at `version` (ledger clock `now_us`) and the transfer history."""

    state: StateView
    version: int
    now_us: int
    transfers: TransferHistory

    def read(self, rtype: ResourceType, address: bytes) -> Any | None:
        """Return the decoded resource at address, or None when it is not published."""
        data = self.state.get(rtype.state_key(address))
        return None if data is None else rtype.decode(data)

    def get_role_name(self, address: bytes) -> str | None:
        """Return the account's role name (e.g. "parent_vasp"), or None when it has no role."""
        role = self.read(roles.RoleId.rtype(), address)
        return None if role is None else ROLE_NAMES.get(role.role_id, "unknown")

    def get_kyc_record(self, address: bytes) -> kyc.KycRecord | None:
        """Return the account's on-chain KYC record, or None."""
        return self.read(kyc.RECORD, address)


class InMemoryTransferTracker:
    """TransferHistory kept in memory: pending on admission, committed on commit, pruned past the retention."""

    def __init__(self, retention_us: int) -> None:
        self.retention_us = retention_us
        self._committed: dict[bytes, deque[TransferRecord]] = {}
        self._pending: dict[bytes, tuple[TransferRecord, int]] = {}
        self._pending_by_payer: dict[bytes, set[bytes]] = {}
        self._lock = threading.Lock()  # hooks read from worker threads while the event loop writes

    def add_pending(self, transaction: SignedTransaction, now_us: int) -> None:
        """Remember an admitted payment until it commits or expires (no-op for non-payments)."""
        payment = decode_payment(transaction)
        if payment is None:
            return
        record = TransferRecord(transaction.hash(), payment.payer, payment.payee, payment.amount_micro,
                                payment.currency, now_us, True)
        expiration_us = transaction.raw_txn.expiration_timestamp_secs * USECS_PER_SEC
        with self._lock:
            if len(self._pending) < PENDING_TRANSFERS_MAX:
                self._pending[record.txn_hash] = (record, expiration_us)
                self._pending_by_payer.setdefault(record.payer, set()).add(record.txn_hash)

    def _pop_pending(self, txn_hash: bytes) -> TransferRecord | None:
        with self._lock:
            found = self._pending.pop(txn_hash, None)
            if found is None:
                return None
            hashes = self._pending_by_payer.get(found[0].payer)
            if hashes is not None:
                hashes.discard(txn_hash)
                if not hashes:
                    del self._pending_by_payer[found[0].payer]
        return found[0]

    def on_committed_transactions(self, transactions: Iterable[SignedTransaction], timestamp_us: int) -> None:
        """Record committed payments (ours and other nodes') at their block time."""
        for transaction in transactions:
            txn_hash = transaction.hash()
            record = self._pop_pending(txn_hash)
            if record is None:
                payment = decode_payment(transaction)
                if payment is None:
                    continue
                record = TransferRecord(txn_hash, payment.payer, payment.payee, payment.amount_micro, payment.currency,
                                        timestamp_us, False)
            self._add_committed(TransferRecord(record.txn_hash, record.payer, record.payee, record.amount_micro,
                                               record.currency, timestamp_us, False))

    def on_committed_hashes(self, txn_hashes: Iterable[bytes], timestamp_us: int) -> None:
        """Move pending payments whose hashes committed to the committed history (the runtime's CommitNotice)."""
        for txn_hash in txn_hashes:
            record = self._pop_pending(txn_hash)
            if record is not None:
                self._add_committed(TransferRecord(record.txn_hash, record.payer, record.payee, record.amount_micro,
                                                   record.currency, timestamp_us, False))

    def _add_committed(self, record: TransferRecord) -> None:
        with self._lock:
            queue = self._committed.setdefault(record.payer, deque(maxlen=TRANSFERS_PER_ACCOUNT_MAX))
            queue.append(record)

    def prune(self, now_us: int) -> None:
        """Forget committed transfers older than the retention and pending ones past their expiration."""
        horizon = now_us - self.retention_us
        with self._lock:
            for address in list(self._committed):
                queue = self._committed[address]
                while queue and queue[0].time_us < horizon:
                    queue.popleft()
                if not queue:
                    del self._committed[address]
            expired = [h for h, (_, expiration_us) in self._pending.items() if expiration_us <= now_us]
        for txn_hash in expired:
            self._pop_pending(txn_hash)

    def get_outgoing(self, address: bytes, since_us: int) -> list[TransferRecord]:
        """Return the address's committed transfers at or after since_us, then its pending ones."""
        with self._lock:
            committed = [r for r in self._committed.get(address, ()) if r.time_us >= since_us]
            pending = [self._pending[h][0] for h in self._pending_by_payer.get(address, ())]
        return committed + pending


def make_view_provider(ledger: LedgerReader, transfers: TransferHistory) -> Callable[[], LedgerView]:
    """Return a callable building the LedgerView of a node.rpc LedgerReader's latest committed version."""

    def get_view() -> LedgerView:
        snapshot = ledger.get_snapshot()
        return LedgerView(ledger.get_state_view(snapshot.version), snapshot.version, snapshot.timestamp_usecs, transfers)

    return get_view
