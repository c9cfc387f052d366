"""Submission: a transaction's way into the mempool, and the typed status it comes to (node/rpc maps it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from consensus import events as ev
from contracts.application import Application
from contracts.vm.storage import StateView
from node.mempool import Mempool, MempoolStatus, is_accepted, verify_transaction
from node.runtime.executor import compute_payload_hash
from primitives.types.names import AccountAddress
from primitives.types.transactions import SignedTransaction

USECS_PER_SEC = 1_000_000


class SubmitStatus(IntEnum):
    """Outcome of a submitted transaction; numbers are stable."""

    ACCEPTED = 0
    MALFORMED = 1
    INVALID_SIGNATURE = 2
    VM_REJECTED = 3
    MEMPOOL_REJECTED = 4


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """What happened to a submitted transaction: our status, the VM code and the mempool status."""

    status: SubmitStatus
    txn_hash: bytes = b""
    vm_status_code: int = 0
    mempool_status: MempoolStatus | None = None

    @property
    def is_accepted(self) -> bool:
        """True when the transaction is in the mempool (new, replaced or already there)."""
        return self.status == SubmitStatus.ACCEPTED


def admit_transaction(signed: SignedTransaction, mempool: Mempool, application: Application, view: StateView,
                      block_time_us: int, now_us: int | None = None) -> SubmitResult:
    """Verify a transaction once, validate it on committed state, and add it to the mempool."""
    txn_hash = signed.hash()
    if mempool.get(txn_hash) is not None:
        return SubmitResult(SubmitStatus.ACCEPTED, txn_hash, 0, MempoolStatus.ALREADY_PRESENT)
    verified = verify_transaction(signed, len(signed.to_bcs()))
    if verified is None:
        return SubmitResult(SubmitStatus.INVALID_SIGNATURE, txn_hash)
    code = application.validate_transaction(view, signed, block_time_us)
    if code != 0:
        return SubmitResult(SubmitStatus.VM_REJECTED, txn_hash, code)
    sequence_number = application.get_sequence_number(view, signed.sender)
    now_secs = None if now_us is None else now_us // USECS_PER_SEC
    status = mempool.add(verified, sequence_number, block_time_us // USECS_PER_SEC, now_secs)
    if not is_accepted(status):
        return SubmitResult(SubmitStatus.MEMPOOL_REJECTED, txn_hash, 0, status)
    return SubmitResult(SubmitStatus.ACCEPTED, txn_hash, 0, status)


def compute_next_sequence_number(address: bytes, mempool: Mempool, application: Application, view: StateView) -> int:
    """Return an account's committed sequence number, past its transactions already waiting in the mempool."""
    sender = AccountAddress(address)
    sequence_number = application.get_sequence_number(view, sender)
    waiting = mempool.get_ready(sender, frozenset())
    if waiting:
        sequence_number = max(sequence_number, waiting[-1].sequence_number + 1)
    return sequence_number


def make_payload(mempool: Mempool, effect: ev.RequestPayload, limits: tuple[int, int],
                 now_usecs: int) -> ev.PayloadReady:
    """Answer RequestPayload from the mempool within (transactions, bytes) limits, without uncommitted blocks' txns."""
    excluded = {compute_payload_hash(entry) for entry in effect.excluded_payload}
    batch = mempool.get_batch(limits[0], limits[1], excluded)
    payload = tuple(txn.transaction.to_bcs() for txn in batch)
    return ev.PayloadReady(effect.epoch, effect.round, payload, now_usecs)
