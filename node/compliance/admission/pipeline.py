"""The admission pipeline: hooks in order, each within a time budget, failing closed, rejections logged."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Protocol

from contracts.framework.account import ACCOUNT
from contracts.vm.status import StatusCode
from node.compliance.admission.codes import ACCEPT, Accept, AdmissionCode, Decision, Reject
from node.compliance.admission.rejections import RejectionLog, RejectionRecord
from node.compliance.admission.view import InMemoryTransferTracker, LedgerView
from node.runtime.submit import USECS_PER_SEC, SubmitResult, SubmitStatus
from primitives.limits import MAX_TRANSACTION_SIZE_BYTES
from primitives.types.transactions import SignedTransaction

# The mempool path behind admission (the runtime's submit_signed, through the service).
Submit = Callable[[SignedTransaction], SubmitResult]

DEFAULT_HOOK_BUDGET_MS = 100
# Worker threads for isolated hooks; a hook stuck past its budget keeps one busy, and when all are
# busy the next transactions time out and are rejected (fail closed) rather than queued without bound.
ADMISSION_WORKERS_MAX = 4
MS_PER_SEC = 1_000


__all__ = ["AdmissionHook", "AdmissionPipeline", "RejectionLog", "RejectionRecord", "make_admitting_submit"]


class AdmissionHook(Protocol):
    """A policy run before the mempool: `check` returns Accept or Reject(code, reason); it must not write."""

    name: str

    def check(self, transaction: SignedTransaction, view: LedgerView) -> Decision: ...


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


def check_stateless(transaction: SignedTransaction, chain_id: int | None, now_us: int) -> SubmitResult | None:
    """Return the refusal of a transaction that fails a check needing no state (signature first), or None."""
    if len(transaction.to_bcs()) > MAX_TRANSACTION_SIZE_BYTES:
        return SubmitResult(SubmitStatus.VM_REJECTED, transaction.hash(), int(StatusCode.EXCEEDED_MAX_TRANSACTION_SIZE))
    if not transaction.is_signature_valid():
        return SubmitResult(SubmitStatus.INVALID_SIGNATURE, transaction.hash())
    raw = transaction.raw_txn
    if chain_id is not None and raw.chain_id.value != chain_id:
        return SubmitResult(SubmitStatus.VM_REJECTED, transaction.hash(), int(StatusCode.BAD_CHAIN_ID))
    if raw.expiration_timestamp_secs * USECS_PER_SEC <= now_us:
        return SubmitResult(SubmitStatus.VM_REJECTED, transaction.hash(), int(StatusCode.TRANSACTION_EXPIRED))
    return None


def check_sender_key(transaction: SignedTransaction, view: LedgerView) -> SubmitResult | None:
    """Return the refusal of a transaction not signed with its sender's key (a valid signature by anyone else), or None."""
    sender = view.read(ACCOUNT, transaction.sender.value)
    if sender is None:
        return SubmitResult(SubmitStatus.VM_REJECTED, transaction.hash(), int(StatusCode.SENDING_ACCOUNT_DOES_NOT_EXIST))
    if transaction.authentication_key() != sender.authentication_key:
        return SubmitResult(SubmitStatus.VM_REJECTED, transaction.hash(), int(StatusCode.INVALID_AUTH_KEY))
    return None


def make_admitting_submit(pipeline: AdmissionPipeline, get_view: Callable[[], LedgerView], submit: Submit,
                          tracker: InMemoryTransferTracker | None = None,
                          chain_id: int | None = None) -> Callable[[SignedTransaction], SubmitResult | Reject]:
    """Wrap the RPC's submit: stateless checks, then admission (a rejection is the answer), then the mempool path.

    Hooks run, and rejections are recorded, only for transactions whose sender really signed them: otherwise
    anyone could put an innocent sender into the record regulators read."""

    def admitted_submit(transaction: SignedTransaction) -> SubmitResult | Reject:
        view = get_view()
        refusal = check_stateless(transaction, chain_id, view.now_us) or check_sender_key(transaction, view)
        if refusal is not None:
            return refusal
        decision = pipeline.admit(transaction, view)
        if isinstance(decision, Reject):
            return decision  # node.rpc.submit maps it to JSON-RPC error -32050
        result = submit(transaction)
        if tracker is not None and result.is_accepted:
            tracker.add_pending(transaction, view.now_us)
        return result

    return admitted_submit
