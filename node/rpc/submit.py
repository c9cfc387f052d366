"""The JSON-RPC answer to a submission: every typed refusal (admission, VM, mempool) mapped to Diem's errors."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Protocol

from contracts.vm.status import StatusCode
from node.mempool import MempoolStatus
from node.rpc.jsonrpc import (
    ADMISSION_REJECTED,
    INVALID_PARAMS,
    MEMPOOL_INVALID_SEQUENCE_NUMBER,
    MEMPOOL_INVALID_UPDATE,
    MEMPOOL_IS_FULL,
    MEMPOOL_TOO_MANY_TRANSACTIONS,
    MEMPOOL_UNKNOWN_ERROR,
    VM_VALIDATION_ERROR,
    JsonRpcError,
)
from node.runtime.submit import SubmitResult, SubmitStatus
from primitives.types.transactions import SignedTransaction

# JSON-RPC error codes of Diem's submit (diem-compat §1.2), per mempool refusal.
MEMPOOL_ERROR_CODES = {
    MempoolStatus.SEQUENCE_NUMBER_TOO_OLD: MEMPOOL_INVALID_SEQUENCE_NUMBER,
    MempoolStatus.MEMPOOL_FULL: MEMPOOL_IS_FULL,
    MempoolStatus.TOO_MANY_TRANSACTIONS_FOR_ACCOUNT: MEMPOOL_TOO_MANY_TRANSACTIONS,
    MempoolStatus.INVALID_UPDATE: MEMPOOL_INVALID_UPDATE,
    MempoolStatus.EXPIRED: MEMPOOL_UNKNOWN_ERROR,
    MempoolStatus.TRANSACTION_TOO_LARGE: MEMPOOL_UNKNOWN_ERROR,
    MempoolStatus.SEQUENCE_NUMBER_TOO_NEW: MEMPOOL_INVALID_SEQUENCE_NUMBER,
    MempoolStatus.EXPIRATION_TOO_FAR: MEMPOOL_UNKNOWN_ERROR,
}


class AdmissionRefusal(Protocol):
    """A refusal by the node's admission hooks (node.compliance.admission.codes.Reject): a stable code and why."""

    @property
    def code(self) -> IntEnum: ...
    @property
    def reason(self) -> str: ...
    @property
    def hook(self) -> str: ...


SubmitOutcome = SubmitResult | AdmissionRefusal
# What the `submit` method calls: admission hooks (if any), then the runtime's mempool path.
Submit = Callable[[SignedTransaction], SubmitOutcome]


def compose_mempool_message(status: MempoolStatus, gas_unit_price: int) -> str:
    """Return the Diem-shaped JSON-RPC error message of a refused admission to the mempool."""
    detail = {
        MempoolStatus.SEQUENCE_NUMBER_TOO_OLD: "Invalid sequence number: already used",
        MempoolStatus.MEMPOOL_FULL: "Mempool is full",
        MempoolStatus.TOO_MANY_TRANSACTIONS_FOR_ACCOUNT: "Too many transactions for this account",
        MempoolStatus.INVALID_UPDATE: f"Failed to update gas price to {gas_unit_price}",
        MempoolStatus.EXPIRED: "Transaction expired",
        MempoolStatus.TRANSACTION_TOO_LARGE: "Transaction too large",
        MempoolStatus.SEQUENCE_NUMBER_TOO_NEW: "Invalid sequence number: too far ahead of the account's",
        MempoolStatus.EXPIRATION_TOO_FAR: "Transaction expiration too far in the future",
    }.get(status, status.name)
    return f'Server error: Mempool submission error: "{detail}"'


def compose_vm_validation_error(status_name: str, status_code: int) -> JsonRpcError:
    """Return Diem's -32001 error for a transaction the VM refuses at submission."""
    return JsonRpcError(VM_VALIDATION_ERROR, f"Server error: VM Validation error: {status_name}", {"StatusCode": status_code})


def compose_admission_error(refusal: AdmissionRefusal) -> JsonRpcError:
    """Return the JSON-RPC error of an admission refusal: code -32050, the reason, and the stable code in data."""
    message = f"Server error: Admission rejected: {refusal.code.name}: {refusal.reason}"
    data = {"AdmissionCode": int(refusal.code), "AdmissionCodeName": refusal.code.name,
            "reason": refusal.reason, "hook": refusal.hook}
    return JsonRpcError(ADMISSION_REJECTED, message, data)


def compose_submit_error(outcome: SubmitOutcome, gas_unit_price: int) -> JsonRpcError | None:
    """Return Diem's JSON-RPC error for a refused submission (diem-compat §1.2), or None when it was accepted."""
    if not isinstance(outcome, SubmitResult):
        return compose_admission_error(outcome)
    if outcome.status == SubmitStatus.ACCEPTED:
        return None
    if outcome.status == SubmitStatus.MALFORMED:
        return JsonRpcError(INVALID_PARAMS, "Invalid params for method 'submit'")
    if outcome.status in (SubmitStatus.INVALID_SIGNATURE, SubmitStatus.VM_REJECTED):
        code = StatusCode.INVALID_SIGNATURE if outcome.status == SubmitStatus.INVALID_SIGNATURE else outcome.vm_status_code
        name = StatusCode(code).name if code in StatusCode._value2member_map_ else str(code)
        return compose_vm_validation_error(name, int(code))
    status = outcome.mempool_status or MempoolStatus.MEMPOOL_FULL
    return JsonRpcError(MEMPOOL_ERROR_CODES.get(status, MEMPOOL_UNKNOWN_ERROR),
                        compose_mempool_message(status, gas_unit_price))
