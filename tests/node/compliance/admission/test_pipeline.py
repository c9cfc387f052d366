"""The pipeline: order, first rejection wins, failing / slow / confused hooks fail closed, rejections are logged."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.transaction_builder import compose_peer_to_peer
from node.compliance.admission.codes import ACCEPT, Accept, AdmissionCode, Reject
from node.compliance.admission.hooks import SanctionsHook, VelocityHook, VelocityWindow, build_pipeline, get_retention_us
from node.compliance.admission.pipeline import AdmissionPipeline, RejectionLog, make_admitting_submit
from node.compliance.admission.view import InMemoryTransferTracker, LedgerView
from node.config import AdmissionConfig
from node.rpc.jsonrpc import ADMISSION_REJECTED
from node.rpc.methods import create_dispatcher
from node.rpc.server import create_app
from tests.node.compliance.admission.chain import ComplianceChain, new_account

XUS = 1_000_000
BUDGET_MS = 10_000  # generous where time is not the subject: a loaded machine must not time hooks out


class Fixed:
    def __init__(self, name: str, decision: object, calls: list[str] | None = None) -> None:
        self.name, self.decision, self.calls = name, decision, calls if calls is not None else []

    def check(self, transaction, view):  # noqa: ANN001, ANN201
        self.calls.append(self.name)
        return self.decision


class Raising:
    name = "broken"

    def check(self, transaction, view):  # noqa: ANN001, ANN201
        raise KeyError("no such table")


class Blocking:
    name = "slow"

    def __init__(self) -> None:
        self.release = threading.Event()

    def check(self, transaction, view):  # noqa: ANN001, ANN201
        self.release.wait(5)
        return ACCEPT


@pytest.fixture(scope="module")
def chain() -> ComplianceChain:
    chain = ComplianceChain()
    chain.alice = chain.create_vasp("alice", 100 * XUS)
    return chain


def payment(chain: ComplianceChain, amount_micro: int = XUS, sequence: int = 0):  # noqa: ANN201
    return chain.alice.sign(compose_peer_to_peer(new_account("bob").address, amount_micro), sequence, 10**10)


@pytest.mark.parametrize("isolation", ["thread", "inline"])
def test_hooks_run_in_order_and_the_first_rejection_wins(chain: ComplianceChain, isolation: str) -> None:
    calls: list[str] = []
    hooks = [Fixed("a", ACCEPT, calls), Fixed("b", Reject(AdmissionCode.AMOUNT_CAP_EXCEEDED, "too much"), calls),
             Fixed("c", Reject(AdmissionCode.SANCTIONED_SENDER, "listed"), calls)]
    pipeline = AdmissionPipeline(hooks, BUDGET_MS, isolation=isolation)
    decision = pipeline.admit(payment(chain), chain.view())
    assert decision == Reject(AdmissionCode.AMOUNT_CAP_EXCEEDED, "too much", "b")
    assert calls == ["a", "b"]
    pipeline.close()


@pytest.mark.parametrize("isolation", ["thread", "inline"])
def test_a_hook_that_raises_rejects_with_a_clear_error(chain: ComplianceChain, isolation: str) -> None:
    pipeline = AdmissionPipeline([Raising(), Fixed("after", ACCEPT)], BUDGET_MS, isolation=isolation)
    decision = pipeline.admit(payment(chain), chain.view())
    assert decision.code is AdmissionCode.HOOK_FAILED == 1901
    assert decision.hook == "broken" and "KeyError" in decision.reason and "no such table" in decision.reason
    pipeline.close()


def test_a_hook_that_does_not_answer_within_its_budget_rejects(chain: ComplianceChain) -> None:
    slow = Blocking()
    pipeline = AdmissionPipeline([Fixed("fast", ACCEPT), slow], hook_budget_ms=20)
    try:
        decision = pipeline.admit(payment(chain), chain.view())
    finally:
        slow.release.set()
        pipeline.close()
    assert decision.code is AdmissionCode.HOOK_TIMED_OUT == 1902
    assert decision.hook == "slow" and "20 ms" in decision.reason


def test_when_every_worker_is_stuck_submissions_are_refused_at_once(chain: ComplianceChain) -> None:
    from node.compliance.admission.pipeline import ADMISSION_WORKERS_MAX

    slow = Blocking()
    pipeline = AdmissionPipeline([slow], hook_budget_ms=10)
    try:
        first = [pipeline.admit(payment(chain, sequence=n), chain.view()) for n in range(ADMISSION_WORKERS_MAX)]
        assert all(d.hook == "slow" and d.code is AdmissionCode.HOOK_TIMED_OUT for d in first)
        saturated = pipeline.admit(payment(chain, sequence=99), chain.view())
        assert saturated.code is AdmissionCode.HOOK_TIMED_OUT and "every admission worker is busy" in saturated.reason
    finally:
        slow.release.set()
        pipeline.close()


def test_an_inline_hook_that_overruns_its_budget_rejects(chain: ComplianceChain) -> None:
    ticks = iter([0.0, 0.5])  # the fake clock says the hook took 500 ms
    pipeline = AdmissionPipeline([Fixed("sluggish", ACCEPT)], hook_budget_ms=50, isolation="inline",
                                 clock=lambda: next(ticks))
    decision = pipeline.admit(payment(chain), chain.view())
    assert decision.code is AdmissionCode.HOOK_TIMED_OUT and "500 ms" in decision.reason


def test_a_hook_answering_neither_accept_nor_reject_rejects(chain: ComplianceChain) -> None:
    pipeline = AdmissionPipeline([Fixed("confused", True)], BUDGET_MS, isolation="inline")
    assert pipeline.admit(payment(chain), chain.view()).code is AdmissionCode.HOOK_INVALID_ANSWER == 1903


def test_every_rejection_is_logged_with_who_what_code_reason_and_time(chain: ComplianceChain) -> None:
    log = RejectionLog(entries_max=2)
    pipeline = AdmissionPipeline([Fixed("caps", Reject(AdmissionCode.AMOUNT_CAP_EXCEEDED, "over"))], BUDGET_MS,
                                 rejections=log, isolation="inline", wall_clock_ms=lambda: 1234)
    transactions = [payment(chain, XUS * (i + 1), i) for i in range(3)]
    for transaction in transactions:
        pipeline.admit(transaction, chain.view())
    assert log.next_id == 3 and log.first_id == 1, "bounded: the oldest was evicted and the count shows it"
    record = log.get_page(0, 10)[-1]
    assert record.to_json() == {
        "id": 2, "time_ms": 1234, "ledger_version": chain.view().version, "sender": chain.alice.address.hex(),
        "sequence_number": 2, "txn_hash": transactions[2].hash().hex(), "hook": "caps", "code": 1301,
        "code_name": "AMOUNT_CAP_EXCEEDED", "reason": "over", "payee": new_account("bob").address.hex(),
        "amount_micro": 3 * XUS, "currency": "XUS",
    }
    AdmissionPipeline([Fixed("ok", ACCEPT)], BUDGET_MS, rejections=log, isolation="inline").admit(transactions[0], chain.view())
    assert log.next_id == 3, "acceptances are not logged"


def test_admission_codes_are_stable() -> None:
    assert {code.name: int(code) for code in AdmissionCode} == {
        "SANCTIONED_SENDER": 1001, "SANCTIONED_PAYEE": 1002, "SANCTIONS_LIST_UNAVAILABLE": 1003,
        "KYC_SENDER_MISSING": 1101, "KYC_SENDER_EXPIRED": 1102, "KYC_SENDER_TIER_TOO_LOW": 1103,
        "KYC_PAYEE_MISSING": 1111, "KYC_PAYEE_EXPIRED": 1112, "KYC_PAYEE_TIER_TOO_LOW": 1113,
        "VELOCITY_COUNT_EXCEEDED": 1201, "VELOCITY_AMOUNT_EXCEEDED": 1202, "AMOUNT_CAP_EXCEEDED": 1301,
        "HOOK_FAILED": 1901, "HOOK_TIMED_OUT": 1902, "HOOK_INVALID_ANSWER": 1903,
    }
    assert ADMISSION_REJECTED == -32050


def test_the_pipeline_is_built_from_the_admission_config(tmp_path: Path) -> None:
    config = AdmissionConfig.model_validate({
        "hooks": ["sanctions", "velocity", "kyc", "amount_caps"], "hook_budget_ms": 30,
        "sanctions": {"list_file": "sanctions.txt"}, "kyc": {"min_tier": 2, "threshold_micro": 5},
        "velocity": {"windows": [{"window_s": 60, "max_transfers": 3}, {"window_s": 86_400, "max_amount_micro": 9}]},
        "amount_caps": {"caps": [{"tier": 0, "max_amount_micro": 100}]},
    })
    pipeline = build_pipeline(config, tmp_path)
    assert [hook.name for hook in pipeline.hooks] == ["sanctions", "velocity", "kyc", "amount_caps"]
    assert pipeline.hooks[0].path == tmp_path / "sanctions.txt" and pipeline.hook_budget_ms == 30
    assert get_retention_us(pipeline) == 86_400 * 10**6
    for hooks, problem in ((["kyc"], "section is missing"), (["sanction"], "neither a built-in"),
                           (["sanctions", "sanctions"], "twice")):
        with pytest.raises(ValueError, match=problem):
            AdmissionConfig.model_validate({"hooks": hooks, "sanctions": {"list_file": "s.txt"}})
    pipeline.close()


async def test_a_rejected_submission_is_a_json_rpc_error_and_never_reaches_the_mempool(tmp_path: Path) -> None:
    chain = ComplianceChain()
    alice = chain.create_vasp("alice", 100 * XUS)
    (tmp_path / "sanctions.txt").write_text(alice.address.hex() + "\n")
    pipeline = AdmissionPipeline([SanctionsHook(tmp_path / "sanctions.txt")], BUDGET_MS)
    submit = make_admitting_submit(pipeline, chain.get_view, chain.ledger.submit, chain.tracker)
    dispatcher = create_dispatcher(chain.ledger, submit, 20, 32 * 1024)
    signed = chain.sign(alice, compose_peer_to_peer(new_account("bob").address, XUS))
    async with TestClient(TestServer(create_app(dispatcher), host="127.0.0.1")) as client:
        response = await client.post("/v1", json={"jsonrpc": "2.0", "id": 1, "method": "submit",
                                                  "params": [signed.to_bcs().hex()]})
        answer = await response.json()
    pipeline.close()
    error = answer["error"]
    assert error["code"] == -32050 and "SANCTIONED_SENDER" in error["message"]
    assert error["data"]["AdmissionCode"] == 1001 and error["data"]["hook"] == "sanctions"
    assert alice.address.hex() in error["data"]["reason"]
    assert chain.ledger.mempool == [] and chain.tracker.get_outgoing(alice.address, 0) == []
    assert pipeline.rejections.get_page(0, 10)[0].txn_hash == signed.hash().hex()


def test_an_accepted_submission_becomes_a_pending_transfer() -> None:
    chain = ComplianceChain()
    alice = chain.create_vasp("alice", 100 * XUS)
    submit = make_admitting_submit(AdmissionPipeline([], isolation="inline"), chain.get_view, chain.ledger.submit,
                                   chain.tracker)
    signed = chain.sign(alice, compose_peer_to_peer(new_account("bob").address, XUS))
    assert submit(signed).is_accepted and len(chain.ledger.mempool) == 1
    assert [r.is_pending for r in chain.tracker.get_outgoing(alice.address, 0)] == [True]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.integers(0, 30)), min_size=1, max_size=25))
def test_velocity_never_admits_more_than_its_limits_in_any_window(steps: list[tuple[int, int]]) -> None:
    window_us, max_count, max_amount = 10_000_000, 3, 60
    hook = VelocityHook([VelocityWindow(window_us, max_count, max_amount)], exempt_roles=())
    tracker = InMemoryTransferTracker(window_us)
    sender, payee = new_account("sender"), new_account("payee")
    now_us, admitted = 1_000_000_000, []
    for sequence, (amount, gap_s) in enumerate(steps):
        now_us += gap_s * 1_000_000
        view = LedgerView(EmptyState(), 0, now_us, tracker)
        signed = sender.sign(compose_peer_to_peer(payee.address, amount), sequence, 10**10)
        if isinstance(hook.check(signed, view), Accept):
            tracker.on_committed_transactions([signed], now_us)
            admitted.append((now_us, amount))
        recent = [a for t, a in admitted if t >= now_us - window_us]
        assert len(recent) <= max_count and sum(recent) <= max_amount


class EmptyState:
    def get(self, state_key: bytes) -> None:
        return None
