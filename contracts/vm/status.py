"""Diem StatusCode numbers (validation) and the VM status of a committed transaction."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from contracts.vm.errors import Explanation


class StatusCode(IntEnum):
    """Validation status codes as Diem numbers them (vm_status.rs); 0 is our "accepted"."""

    ACCEPTED = 0
    INVALID_SIGNATURE = 1
    INVALID_AUTH_KEY = 2
    SEQUENCE_NUMBER_TOO_OLD = 3
    SEQUENCE_NUMBER_TOO_NEW = 4
    INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE = 5
    TRANSACTION_EXPIRED = 6
    SENDING_ACCOUNT_DOES_NOT_EXIST = 7
    REJECTED_WRITE_SET = 8
    INVALID_WRITE_SET = 9
    EXCEEDED_MAX_TRANSACTION_SIZE = 10
    UNKNOWN_SCRIPT = 11
    UNKNOWN_MODULE = 12
    MAX_GAS_UNITS_EXCEEDS_MAX_GAS_UNITS_BOUND = 13
    MAX_GAS_UNITS_BELOW_MIN_TRANSACTION_GAS_UNITS = 14
    GAS_UNIT_PRICE_BELOW_MIN_BOUND = 15
    GAS_UNIT_PRICE_ABOVE_MAX_BOUND = 16
    INVALID_GAS_SPECIFIER = 17
    SENDING_ACCOUNT_FROZEN = 18
    UNABLE_TO_DESERIALIZE_ACCOUNT = 19
    CURRENCY_INFO_DOES_NOT_EXIST = 20
    INVALID_MODULE_PUBLISHER = 21
    NO_ACCOUNT_ROLE = 22
    BAD_CHAIN_ID = 23
    SEQUENCE_NUMBER_TOO_BIG = 24
    BAD_TRANSACTION_FEE_CURRENCY = 25
    FEATURE_UNDER_GATING = 26
    SECONDARY_KEYS_ADDRESSES_COUNT_MISMATCH = 27
    SIGNERS_CONTAIN_DUPLICATES = 28
    UNKNOWN_INVARIANT_VIOLATION_ERROR = 2000


class VMStatusKind:
    """The `vm_status.type` strings of committed transactions."""

    EXECUTED = "executed"
    MOVE_ABORT = "move_abort"
    EXECUTION_FAILURE = "execution_failure"
    OUT_OF_GAS = "out_of_gas"
    MISCELLANEOUS_ERROR = "miscellaneous_error"


@dataclass(frozen=True, slots=True)
class VMStatus:
    """Outcome of a kept transaction: kind, plus location/abort code/explanation for aborts and failures."""

    kind: str
    location: str | None = None
    abort_code: int | None = None
    explanation: Explanation | None = None
    function_index: int = 0
    code_offset: int = 0

    def is_executed(self) -> bool:
        """Return True iff the transaction succeeded."""
        return self.kind == VMStatusKind.EXECUTED


EXECUTED = VMStatus(VMStatusKind.EXECUTED)
OUT_OF_GAS = VMStatus(VMStatusKind.OUT_OF_GAS)
MISCELLANEOUS_ERROR = VMStatus(VMStatusKind.MISCELLANEOUS_ERROR)
