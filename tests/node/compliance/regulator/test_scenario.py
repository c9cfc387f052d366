"""Issue E's story on one in-memory chain: issuer CLI, admission hooks, on-chain limits, then the regulator's view."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from cli import regulator as regulator_cli
from cli import treasury as treasury_cli
from contracts.transaction_builder import compose_peer_to_peer
from node.compliance.admission.codes import AdmissionCode
from node.compliance.admission.hooks import KycGateHook, SanctionsHook
from node.compliance.admission.pipeline import AdmissionPipeline, RejectionLog, make_admitting_submit
from node.compliance.regulator.server import create_regulator_app
from node.rpc.accounts import compute_balances
from node.rpc.methods import create_dispatcher
from node.rpc.server import create_app
from node.rpc.submit import compose_submit_error
from primitives.types.names import AccountAddress
from tests.cli.server import ServerThread
from tests.node.compliance.admission.chain import ComplianceChain
from tests.node.compliance.regulator.harness import build_api, regulator_key
from tests.node.rpc.memory_ledger import DEALER_BALANCE_MICRO

XUS = 1_000_000
runner = CliRunner()


def test_the_compliance_story(tmp_path: Path) -> None:
    chain = ComplianceChain()
    alice = chain.create_vasp("alice", 0, kyc_tier=2)
    bob = chain.create_vasp("bob", 0)
    mallory = chain.create_vasp("mallory", 0)
    for account in (alice, bob, mallory):
        chain.run(chain.keys["dealer"], compose_peer_to_peer(account.address, 2_000 * XUS))
    (tmp_path / "sanctions.txt").write_text(mallory.address.hex() + "\n")
    rejections = RejectionLog()
    hooks = [SanctionsHook(tmp_path / "sanctions.txt"), KycGateHook(min_tier=1, threshold_micro=100 * XUS)]
    pipeline = AdmissionPipeline(hooks, 10_000, rejections, isolation="inline")
    committed: list = []

    def submit_and_commit(signed):  # noqa: ANN001, ANN202
        result = chain.ledger.submit(signed)
        if result.is_accepted:
            committed.extend(chain.ledger.commit_block())
        return result

    submit = make_admitting_submit(pipeline, chain.get_view, submit_and_commit, chain.tracker)
    keys = {}
    for role in ("treasury", "auditor"):
        keys[role] = tmp_path / f"{role}.key"
        keys[role].write_text(chain.keys[role].key.seed.hex())
    (tmp_path / "finma.key").write_text(regulator_key("full").seed.hex())
    api, clock = build_api(chain, tmp_path / "audit.jsonl", rejections)
    clock.now_ms = time.time_ns() // 1_000_000  # the CLI signs with the real clock
    rpc_app = create_app(create_dispatcher(chain.ledger, submit, 20, 32 * 1024))
    with ServerThread(rpc_app) as url, ServerThread(create_regulator_app(api)) as regulator_url:
        def treasury(*args: str, role: str = "treasury"):  # noqa: ANN202
            return runner.invoke(treasury_cli.app, [*args, "--url", url, "--key-file", str(keys[role])])

        def regulator(*args: str):  # noqa: ANN202
            return runner.invoke(regulator_cli.app, [*args, "--url", regulator_url,
                                                     "--key-file", str(tmp_path / "finma.key")])

        # The auditor attests reserves; the dealer gets minted up to them; one micro-unit more aborts.
        reserve_micro = DEALER_BALANCE_MICRO + 500 * XUS
        assert treasury("attest-reserves", "--amount", str(reserve_micro / XUS), "--report-hash", "ab" * 32,
                        role="auditor").exit_code == 0
        assert treasury("mint", "--amount", "500").exit_code == 0
        above = treasury("mint", "--amount", "0.000001")
        assert above.exit_code == 1 and "ESUPPLY_EXCEEDS_RESERVES" in above.output

        # Below-tier transfer: stopped by the KYC hook; a sanctioned sender: refused at admission.
        for sender, payee, code in ((alice, bob, AdmissionCode.KYC_PAYEE_MISSING),
                                    (mallory, alice, AdmissionCode.SANCTIONED_SENDER)):
            signed = chain.sign(sender, compose_peer_to_peer(payee.address, 150 * XUS))
            error = compose_submit_error(submit(signed), signed.raw_txn.gas_unit_price)
            assert error is not None and error.data["AdmissionCode"] == code
            chain.sequence[sender.address] -= 1

        # With the KYC hook off, on-chain tier limits still stop the transfer (a kept move_abort).
        assert treasury("set-limits", "--tier", "0", "--max-per-transfer", "100", "--max-inflow", "10000",
                        "--max-outflow", "10000", "--max-holding", "100000").exit_code == 0
        pipeline.hooks = pipeline.hooks[:1]
        assert submit(chain.sign(alice, compose_peer_to_peer(bob.address, 150 * XUS))).is_accepted
        assert committed[-1].status.abort_code is not None and "KYC" in str(committed[-1].status)

        # Freeze bob: his transfers fail; wipe him: supply drops by his balance.
        assert treasury("freeze", bob.address.hex()).exit_code == 0
        assert not chain.ledger.submit(chain.sign(bob, compose_peer_to_peer(alice.address, XUS))).is_accepted
        supply_before = api_supply(chain)
        assert treasury("wipe", bob.address.hex()).exit_code == 0
        assert api_supply(chain) == supply_before - 2_000 * XUS

        # The regulator's view.
        report = regulator("account", bob.address.hex(), "--export", "jsonl", str(tmp_path / "bob.jsonl"))
        assert report.exit_code == 0
        bob_row = json.loads((tmp_path / "bob.jsonl").read_text())
        assert bob_row["is_frozen"] is True and bob_row["balances"] == [{"amount": 0, "currency": "XUS"}]
        rejected = regulator("rejections", "--export", "jsonl", str(tmp_path / "rejected.jsonl"))
        codes = [json.loads(line)["code"] for line in (tmp_path / "rejected.jsonl").read_text().splitlines()]
        assert rejected.exit_code == 0 and codes == [1111, 1001]
        supply = regulator("supply", "--export", "jsonl", str(tmp_path / "supply.jsonl"))
        xus = json.loads((tmp_path / "supply.jsonl").read_text().splitlines()[0])
        holders = [chain.keys["dealer"].address, alice.address, bob.address, mallory.address]
        view = chain.view()
        assert supply.exit_code == 0
        assert xus["total_supply"] == sum(b["amount"] for a in holders for b in compute_balances(view.state, a, (b"XUS",)))
        assert xus["latest_attestation"]["amount"] == reserve_micro and xus["is_fully_backed"] is True
        audit = regulator("audit-log")
        assert audit.exit_code == 0 and "audit chain verifies: 3 entries" in audit.output


def api_supply(chain: ComplianceChain) -> int:
    from contracts.framework import currency
    from node.rpc.accounts import read_resource

    info = read_resource(chain.view().state, currency.info_type(currency.tag_of_code(b"XUS")),
                         AccountAddress.DIEM_ROOT.value)
    return info.total_value
