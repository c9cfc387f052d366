"""Item 1: only transactions their sender really signed reach the hooks and the rejection log, which keeps its
records across restarts with ids that only grow and a bounded retention."""

from __future__ import annotations

from pathlib import Path

from contracts.transaction_builder import Account, compose_peer_to_peer
from contracts.vm.status import StatusCode
from node.compliance.admission.codes import AdmissionCode, Reject
from node.compliance.admission.pipeline import AdmissionPipeline, make_admitting_submit
from node.compliance.admission.rejections import REJECTION_ID_BLOCK, REJECTIONS_FILE, RejectionLog
from node.runtime.submit import SubmitStatus
from primitives.types.transactions import Ed25519Authenticator, SignedTransaction, TransactionAuthenticator
from tests.node.compliance.admission.chain import ComplianceChain, new_account

XUS = 1_000_000
BUDGET_MS = 10_000


class RefuseEveryone:
    """A hook that refuses every sender (a sanctions list naming everybody), counting its calls."""

    name = "sanctions"

    def __init__(self) -> None:
        self.calls = 0

    def check(self, transaction, view):  # noqa: ANN001, ANN201
        self.calls += 1
        return Reject(AdmissionCode.SANCTIONED_SENDER, f"{transaction.sender.value.hex()} is listed")


def make_submit(chain: ComplianceChain, hook: RefuseEveryone, rejections: RejectionLog):  # noqa: ANN201
    pipeline = AdmissionPipeline([hook], BUDGET_MS, rejections, isolation="inline")
    return make_admitting_submit(pipeline, chain.get_view, chain.ledger.submit, chain.tracker, chain_id=2)


def with_signature(signed: SignedTransaction, signature: bytes) -> SignedTransaction:
    auth = signed.authenticator.value
    return SignedTransaction(signed.raw_txn, TransactionAuthenticator(Ed25519Authenticator(auth.public_key, signature)))


def test_forged_submissions_never_reach_the_hooks_or_the_rejection_log() -> None:
    chain = ComplianceChain()
    alice = chain.create_vasp("alice", 100 * XUS)
    hook, rejections = RefuseEveryone(), RejectionLog()
    submit = make_submit(chain, hook, rejections)
    payment = compose_peer_to_peer(new_account("bob").address, XUS)
    genuine = chain.sign(alice, payment)
    mallory_as_alice = Account(new_account("mallory").key, alice.address)
    forgeries = {
        "tampered signature": (with_signature(genuine, bytes(64)), SubmitStatus.INVALID_SIGNATURE, 0),
        "mallory's valid signature in alice's name": (mallory_as_alice.sign(payment, 5, 10**10), SubmitStatus.VM_REJECTED,
                                                      StatusCode.INVALID_AUTH_KEY),
        "another chain": (alice.sign(payment, 6, 10**10, chain_id=7), SubmitStatus.VM_REJECTED, StatusCode.BAD_CHAIN_ID),
        "expired": (alice.sign(payment, 7, 1), SubmitStatus.VM_REJECTED, StatusCode.TRANSACTION_EXPIRED),
    }
    for name, (signed, status, code) in forgeries.items():
        outcome = submit(signed)
        assert (outcome.status, outcome.vm_status_code) == (status, code), name
    assert hook.calls == 0 and rejections.next_id == 0, "nothing forged is ever recorded against alice"
    assert isinstance(submit(genuine), Reject) and rejections.next_id == 1, "alice's own attempt is recorded"


def test_the_rejection_log_survives_a_restart_with_growing_ids_and_bounded_retention(tmp_path: Path) -> None:
    chain = ComplianceChain()
    alice = chain.create_vasp("alice", 100 * XUS)
    signed = chain.sign(alice, compose_peer_to_peer(new_account("bob").address, XUS))
    refusal = Reject(AdmissionCode.SANCTIONED_SENDER, "listed", "sanctions")
    log = RejectionLog(entries_max=3, directory=tmp_path)
    for index in range(5):
        log.append(signed, refusal, index, 1_000 + index)
    reopened = RejectionLog(entries_max=3, directory=tmp_path)
    assert [record.id for record in reopened.get_page(0, 10)] == [2, 3, 4], "the newest `entries_max` are kept"
    # Ids continue past every id handed out before (from the reserved block: a gap, never a reuse).
    assert reopened.first_id == 2 and 5 <= reopened.next_id <= REJECTION_ID_BLOCK
    first_after_restart = reopened.append(signed, refusal, 9, 2_000).id
    assert first_after_restart >= 5
    for index in range(20):
        reopened.append(signed, refusal, 10 + index, 3_000)
    lines = (tmp_path / REJECTIONS_FILE).read_bytes().count(b"\n")
    assert lines <= 2 * 3, "the file is compacted, so retention bounds the disk too"
    # A crash that loses the unsynced tail never hands out an id a regulator may already have read.
    (tmp_path / REJECTIONS_FILE).write_bytes(b"")
    after_crash = RejectionLog(entries_max=3, directory=tmp_path)
    assert after_crash.next_id > first_after_restart + 20
    assert after_crash.append(signed, refusal, 0, 0).id > first_after_restart + 20
