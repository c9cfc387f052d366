"""The admission pipeline: hooks in order, each within a time budget, failing closed, rejections logged."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from typing import Protocol

from contracts.payments import decode_payment
from node.compliance.admission.codes import ACCEPT, Accept, AdmissionCode, Decision, Reject
from node.compliance.admission.view import InMemoryTransferTracker, LedgerView
from node.rpc.jsonrpc import JsonObject
from node.runtime.submit import SubmitResult
from primitives.types.transactions import SignedTransaction

# The mempool path behind admission (the runtime's submit_signed, through the service).
Submit = Callable[[SignedTransaction], SubmitResult]

DEFAULT_HOOK_BUDGET_MS = 100
DEFAULT_REJECTION_LOG_ENTRIES_MAX = 10_000
# Worker threads for isolated hooks; a hook stuck past its budget keeps one busy, and when all are
# busy the next transactions time out and are rejected (fail closed) rather than queued without bound.
ADMISSION_WORKERS_MAX = 4
REJECTION_PAGE_MAX = 1_000
MS_PER_SEC = 1_000


class AdmissionHook(Protocol):
    """A policy run before the mempool: `check` returns Accept or Reject(code, reason); it must not write."""

    name: str

    def check(self, transaction: SignedTransaction, view: LedgerView) -> Decision: ...


@dataclass(frozen=True, slots=True)
class RejectionRecord:
    """One refused submission, as the regulator API reports it."""

    id: int
    time_ms: int
    ledger_version: int
    sender: str
    sequence_number: int
    txn_hash: str
    hook: str
    code: int
    code_name: str
    reason: str
    payee: str | None
    amount_micro: int | None
    currency: str | None

    def to_json(self) -> JsonObject:
        """Return the record as a JSON object."""
        return {name: getattr(self, name) for name in self.__slots__}


class RejectionLog:
    """The latest rejections (bounded); ids keep counting so a reader sees how many were evicted."""

    def __init__(self, entries_max: int = DEFAULT_REJECTION_LOG_ENTRIES_MAX) -> None:
        self._records: deque[RejectionRecord] = deque(maxlen=entries_max)
        self._next_id = 0
        self._lock = threading.Lock()

    def append(self, transaction: SignedTransaction, rejection: Reject, version: int, time_ms: int) -> RejectionRecord:
        """Record one rejection and return it."""
        payment = decode_payment(transaction)
        with self._lock:
            record = RejectionRecord(
                self._next_id, time_ms, version, transaction.sender.value.hex(), transaction.sequence_number,
                transaction.hash().hex(), rejection.hook, int(rejection.code), rejection.code.name, rejection.reason,
                None if payment is None else payment.payee.hex(), None if payment is None else payment.amount_micro,
                None if payment is None else payment.currency,
            )
            self._next_id += 1
            self._records.append(record)
        return record

    def get_page(self, start_id: int, limit: int) -> list[RejectionRecord]:
        """Return up to limit records with id >= start_id, oldest first."""
        with self._lock:
            return [record for record in self._records if record.id >= start_id][:min(limit, REJECTION_PAGE_MAX)]

    @property
    def next_id(self) -> int:
        """The id the next rejection will get (= total rejections so far)."""
        return self._next_id

    @property
    def first_id(self) -> int:
        """The oldest id still held (earlier ones were evicted)."""
        with self._lock:
            return self._records[0].id if self._records else self._next_id


class AdmissionPipeline:
    """Runs hooks in order; the first rejection wins; a hook that raises, overruns or answers nonsense rejects."""

    def __init__(self, hooks: Sequence[AdmissionHook], hook_budget_ms: int = DEFAULT_HOOK_BUDGET_MS,
                 rejections: RejectionLog | None = None, isolation: str = "thread",
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000) -> None:
        self.hooks = tuple(hooks)
        self.hook_budget_ms = hook_budget_ms
        self.rejections = rejections if rejections is not None else RejectionLog()
        self.clock = clock
        self.wall_clock_ms = wall_clock_ms
        self._executor = ThreadPoolExecutor(ADMISSION_WORKERS_MAX, "admission") if isolation == "thread" else None
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()

    def close(self) -> None:
        """Stop the worker threads (hooks still running are abandoned)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def admit(self, transaction: SignedTransaction, view: LedgerView) -> Decision:
        """Return the pipeline's decision; every rejection is also appended to the rejection log."""
        decision = self._run(transaction, view)
        if isinstance(decision, Reject):
            self.rejections.append(transaction, decision, view.version, self.wall_clock_ms())
        return decision

    def _run(self, transaction: SignedTransaction, view: LedgerView) -> Decision:
        if not self.hooks:
            return ACCEPT
        progress = _Progress()
        if self._executor is None:
            return run_hooks(self.hooks, transaction, view, self.hook_budget_ms, self.clock, progress)
        with self._in_flight_lock:
            if self._in_flight >= ADMISSION_WORKERS_MAX:
                # Every worker is held by a hook past its budget: refuse at once rather than block the caller.
                return Reject(AdmissionCode.HOOK_TIMED_OUT, "every admission worker is busy with an overrunning hook",
                              "pipeline")
            self._in_flight += 1
        budget_s = self.hook_budget_ms * len(self.hooks) / MS_PER_SEC
        try:
            future = self._executor.submit(self._run_counted, transaction, view, progress)
            return future.result(timeout=budget_s)
        except FutureTimeout:
            future.cancel()
            progress.is_abandoned = True
            name = progress.current or "(queued)"
            return Reject(AdmissionCode.HOOK_TIMED_OUT,
                          f"admission hook {name} did not answer within its {self.hook_budget_ms} ms budget", name)
        except RuntimeError as error:  # the executor was shut down
            self._release()
            return Reject(AdmissionCode.HOOK_FAILED, f"admission is not running: {error}", "pipeline")

    def _run_counted(self, transaction: SignedTransaction, view: LedgerView, progress: _Progress) -> Decision:
        try:
            return run_hooks(self.hooks, transaction, view, self.hook_budget_ms, self.clock, progress)
        finally:
            self._release()

    def _release(self) -> None:
        with self._in_flight_lock:
            self._in_flight -= 1


class _Progress:
    """Which hook a worker is running, so a timed-out caller can name it."""

    __slots__ = ("current", "is_abandoned")

    def __init__(self) -> None:
        self.current: str | None = None
        self.is_abandoned = False


def run_hooks(hooks: Sequence[AdmissionHook], transaction: SignedTransaction, view: LedgerView, budget_ms: int,
              clock: Callable[[], float], progress: _Progress | None = None) -> Decision:
    """Run hooks in order and return the first rejection (named after its hook), or Accept."""
    for hook in hooks:
        name = getattr(hook, "name", type(hook).__name__)
        if progress is not None:
            if progress.is_abandoned:
                break
            progress.current = name
        started = clock()
        try:
            decision = hook.check(transaction, view)
        except Exception as error:  # noqa: BLE001 - any failure of a policy must refuse, never admit
            return Reject(AdmissionCode.HOOK_FAILED, f"admission hook {name} failed: {type(error).__name__}: {error}",
                          name)
        elapsed_ms = (clock() - started) * MS_PER_SEC
        if elapsed_ms > budget_ms:
            return Reject(AdmissionCode.HOOK_TIMED_OUT,
                          f"admission hook {name} took {elapsed_ms:.0f} ms, over its {budget_ms} ms budget", name)
        if isinstance(decision, Reject) and isinstance(decision.code, AdmissionCode):
            return replace(decision, hook=name)
        if not isinstance(decision, Accept):
            return Reject(AdmissionCode.HOOK_INVALID_ANSWER,
                          f"admission hook {name} answered {type(decision).__name__}, not Accept or Reject", name)
    return ACCEPT


def make_admitting_submit(pipeline: AdmissionPipeline, get_view: Callable[[], LedgerView], submit: Submit,
                          tracker: InMemoryTransferTracker | None = None) -> Callable[[SignedTransaction], SubmitResult | Reject]:
    """Wrap the RPC's submit: run admission first (a rejection is the answer), then the mempool path."""

    def admitted_submit(transaction: SignedTransaction) -> SubmitResult | Reject:
        view = get_view()
        decision = pipeline.admit(transaction, view)
        if isinstance(decision, Reject):
            return decision  # node.rpc.submit maps it to JSON-RPC error -32050
        result = submit(transaction)
        if tracker is not None and result.is_accepted:
            tracker.add_pending(transaction, view.now_us)
        return result

    return admitted_submit
