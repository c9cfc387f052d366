"""Every typed refusal of a submission maps to Diem's JSON-RPC error (diem-compat §1.2), and only here."""

from __future__ import annotations

from node.compliance.admission.codes import AdmissionCode, Reject
from node.mempool import MempoolStatus
from node.rpc.submit import MEMPOOL_ERROR_CODES, compose_mempool_message, compose_submit_error
from node.runtime.submit import SubmitResult, SubmitStatus


def test_submit_results_map_to_diem_errors() -> None:
    assert compose_submit_error(SubmitResult(SubmitStatus.ACCEPTED), 0) is None
    vm = compose_submit_error(SubmitResult(SubmitStatus.VM_REJECTED, b"", 3), 0)
    assert (vm.code, vm.data) == (-32001, {"StatusCode": 3})
    assert vm.message == "Server error: VM Validation error: SEQUENCE_NUMBER_TOO_OLD"
    full = compose_submit_error(SubmitResult(SubmitStatus.MEMPOOL_REJECTED, b"", 0, MempoolStatus.MEMPOOL_FULL), 0)
    assert (full.code, full.data) == (-32008, None)
    malformed = compose_submit_error(SubmitResult(SubmitStatus.MALFORMED), 0)
    assert (malformed.code, malformed.message) == (-32602, "Invalid params for method 'submit'")


def test_invalid_update_maps_to_diem_error_32010_with_its_message() -> None:
    assert MEMPOOL_ERROR_CODES[MempoolStatus.INVALID_UPDATE] == -32010
    assert compose_mempool_message(MempoolStatus.INVALID_UPDATE, 0) == (
        'Server error: Mempool submission error: "Failed to update gas price to 0"'
    )
    assert MEMPOOL_ERROR_CODES[MempoolStatus.MEMPOOL_FULL] == -32008
    assert MEMPOOL_ERROR_CODES[MempoolStatus.TOO_MANY_TRANSACTIONS_FOR_ACCOUNT] == -32009
    assert MEMPOOL_ERROR_CODES[MempoolStatus.SEQUENCE_NUMBER_TOO_OLD] == -32007


def test_an_admission_refusal_is_error_32050_with_its_stable_code() -> None:
    error = compose_submit_error(Reject(AdmissionCode.SANCTIONED_SENDER, "sender 00 is listed", "sanctions"), 0)
    assert error.code == -32050
    assert error.message == "Server error: Admission rejected: SANCTIONED_SENDER: sender 00 is listed"
    assert error.data == {"AdmissionCode": 1001, "AdmissionCodeName": "SANCTIONED_SENDER",
                          "reason": "sender 00 is listed", "hook": "sanctions"}
