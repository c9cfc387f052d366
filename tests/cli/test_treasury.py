"""`stablechain treasury` against the real executor behind the real JSON-RPC front door."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.treasury import app
from contracts.framework import currency, freezing, kyc, reserves
from contracts.transaction_builder import compose_peer_to_peer
from node.compliance.admission.hooks import SanctionsHook
from node.compliance.admission.pipeline import AdmissionPipeline, make_admitting_submit
from node.rpc.accounts import compute_balances, read_resource
from node.rpc.methods import create_dispatcher
from node.rpc.server import create_app
from primitives.types.names import AccountAddress
from tests.cli.server import ServerThread
from tests.node.compliance.admission.chain import ComplianceChain
from tests.node.rpc.memory_ledger import DEALER_BALANCE_MICRO
from wallet import treasury

XUS = 1_000_000
ROOT = AccountAddress.DIEM_ROOT.value
DD = AccountAddress.TESTNET_DD.value
runner = CliRunner()
TEST_BUDGET_MS = 10_000  # a loaded CI machine must not turn these scenarios into timeouts


class Issuer:
    """The chain, the node's URL, and key files of each issuer role."""

    def __init__(self, chain: ComplianceChain, url: str, keys: dict[str, Path]) -> None:
        self.chain, self.url, self.keys = chain, url, keys

    def run(self, *args: str, role: str = "treasury"):  # noqa: ANN201
        return runner.invoke(app, [*args, "--url", self.url, "--key-file", str(self.keys[role]), "--wait-s", "10"])

    def read(self, rtype, address: bytes = ROOT):  # noqa: ANN001, ANN201
        return read_resource(self.chain.view().state, rtype, address)

    def supply(self) -> int:
        return self.read(currency.info_type(currency.tag_of_code(b"XUS"))).total_value


@pytest.fixture(scope="module")
def issuer(tmp_path_factory) -> Issuer:  # noqa: ANN001
    folder = tmp_path_factory.mktemp("keys")
    chain = ComplianceChain()
    chain.alice = chain.create_vasp("alice", 100 * XUS)
    chain.bob = chain.create_vasp("bob", 100 * XUS)
    (folder / "sanctions.txt").write_text("")

    def submit_and_commit(signed):  # noqa: ANN001, ANN202 - every accepted submission is its own block
        result = chain.ledger.submit(signed)
        if result.is_accepted:
            chain.ledger.commit_block()
        return result

    pipeline = AdmissionPipeline([SanctionsHook(folder / "sanctions.txt")], hook_budget_ms=TEST_BUDGET_MS,
                                 isolation="inline")
    submit = make_admitting_submit(pipeline, chain.get_view, submit_and_commit, chain.tracker)
    keys = {}
    for role in ("treasury", "dealer", "auditor"):
        keys[role] = folder / f"{role}.key"
        keys[role].write_text(chain.keys[role].key.seed.hex() + "\n")
    with ServerThread(create_app(create_dispatcher(chain.ledger, submit, 20, 32 * 1024))) as url:
        yield Issuer(chain, url, keys)


def test_attest_reserves_then_mint_up_to_them_and_a_mint_above_aborts_with_its_reason(issuer: Issuer, tmp_path: Path) -> None:
    report = tmp_path / "report.pdf"
    report.write_bytes(b"reserve report, November")
    reserve = (DEALER_BALANCE_MICRO + 50 * XUS) / XUS
    attested = issuer.run("attest-reserves", "--amount", f"{reserve:.6f}", "--report", str(report), role="auditor")
    assert attested.exit_code == 0, attested.output
    record = issuer.read(reserves.record_type(currency.tag_of_code(b"XUS")))
    assert record.attestations[-1].amount == DEALER_BALANCE_MICRO + 50 * XUS and record.attestation_count == 2
    minted = issuer.run("mint", "--amount", "50")
    assert minted.exit_code == 0, minted.output
    assert issuer.supply() == DEALER_BALANCE_MICRO + 50 * XUS
    above = issuer.run("mint", "--amount", "0.000001")
    assert above.exit_code == 1
    assert "move_abort 776 ESUPPLY_EXCEEDS_RESERVES at 00000000000000000000000000000001::Reserves" in above.output
    assert "The mint would make total supply exceed the latest attested reserves" in above.output
    assert issuer.supply() == DEALER_BALANCE_MICRO + 50 * XUS


def test_burn_queues_a_preburn_with_the_dealer_key_and_burns_it(issuer: Issuer) -> None:
    before = issuer.supply()
    result = runner.invoke(app, ["burn", "--amount", "20", "--dealer-key-file", str(issuer.keys["dealer"]),
                                 "--url", issuer.url, "--key-file", str(issuer.keys["treasury"])])
    assert result.exit_code == 0, result.output
    assert "preburn 20 XUS: committed" in result.output and "burn 20 XUS: committed" in result.output
    assert issuer.supply() == before - 20 * XUS


def test_freeze_blocks_transfers_then_wipe_drops_the_supply_then_unfreeze(issuer: Issuer) -> None:
    chain, bob = issuer.chain, issuer.chain.bob
    assert issuer.run("freeze", bob.address.hex()).exit_code == 0
    assert issuer.read(freezing.FREEZING_BIT, bob.address).is_frozen is True
    signed = chain.sign(bob, compose_peer_to_peer(chain.alice.address, XUS))
    assert not chain.ledger.submit(signed).is_accepted, "a frozen sender is refused at validation"
    chain.sequence[bob.address] -= 1
    before = issuer.supply()
    wiped = issuer.run("wipe", bob.address.hex())
    assert wiped.exit_code == 0, wiped.output
    assert issuer.supply() == before - 100 * XUS
    assert compute_balances(chain.view().state, bob.address, (b"XUS",)) == [{"amount": 0, "currency": "XUS"}]
    assert issuer.run("unfreeze", bob.address.hex()).exit_code == 0
    assert issuer.read(freezing.FREEZING_BIT, bob.address).is_frozen is False


def test_wipe_of_an_unfrozen_account_is_refused_with_the_abort_name(issuer: Issuer) -> None:
    result = issuer.run("wipe", issuer.chain.alice.address.hex())
    assert result.exit_code == 1 and "the chain refused it: move_abort" in result.output
    assert "AccountFreezing" in result.output


def test_pause_and_unpause(issuer: Issuer) -> None:
    from contracts.framework import pause

    assert issuer.run("pause").exit_code == 0 and issuer.read(pause.PAUSE_STATE).is_paused is True
    assert issuer.run("unpause").exit_code == 0 and issuer.read(pause.PAUSE_STATE).is_paused is False


def test_set_kyc_and_revoke(issuer: Issuer) -> None:
    alice = issuer.chain.alice.address
    result = issuer.run("set-kyc", alice.hex(), "--tier", "3", "--valid-days", "30", "--provider", "acme-kyc")
    assert result.exit_code == 0, result.output
    record = issuer.read(kyc.RECORD, alice)
    assert (record.tier, record.provider) == (3, b"acme-kyc")
    assert record.expiration_us == record.updated_at_us - 1_000_000 + 30 * 86_400 * 10**6
    assert issuer.run("set-kyc", alice.hex(), "--revoke").exit_code == 0
    assert issuer.read(kyc.RECORD, alice) is None


def test_set_limits_and_remove(issuer: Issuer) -> None:
    args = ("set-limits", "--tier", "0", "--max-per-transfer", "1000", "--max-inflow", "5000", "--max-outflow", "5000",
            "--max-holding", "100000", "--window-s", "3600")
    assert issuer.run(*args).exit_code == 0
    policy = issuer.read(kyc.policy_type(currency.tag_of_code(b"XUS")))
    assert [(t.tier, t.max_per_transfer, t.window_us) for t in policy.tiers] == [(0, 1000 * XUS, 3600 * 10**6)]
    assert issuer.run("set-limits", "--tier", "0", "--remove").exit_code == 0
    assert issuer.read(kyc.policy_type(currency.tag_of_code(b"XUS"))).tiers == ()


def test_a_non_treasury_key_is_refused_by_the_node(issuer: Issuer) -> None:
    result = issuer.run("pause", role="dealer")
    assert result.exit_code == 1 and "the node refused it" in result.output and "-32001" in result.output


def test_an_admission_rejection_shows_its_code(issuer: Issuer, tmp_path: Path) -> None:
    sanctions = issuer.keys["treasury"].parent / "sanctions.txt"
    sanctions.write_text(AccountAddress.TREASURY_COMPLIANCE.value.hex() + "\n")
    try:
        result = issuer.run("pause")
    finally:
        sanctions.write_text("")
    assert result.exit_code == 1 and "SANCTIONED_SENDER" in result.output and "admission code 1001" in result.output


def test_payloads_name_the_framework_entry_points() -> None:
    payload = treasury.compose_mint("XUS", DD, 5, 1, 9).value
    assert (payload.module.name, payload.function) == ("TreasuryComplianceScripts", "tiered_mint")
    assert payload.args == ((9).to_bytes(8, "little"), DD, (5).to_bytes(8, "little"), (1).to_bytes(8, "little"))
    assert treasury.compose_attest_reserves("XUS", 1, b"h" * 32, 2).value.module.name == "ComplianceScripts"


def test_operator_mistakes_get_clear_messages(issuer: Issuer, tmp_path: Path) -> None:
    assert "exactly one of --report" in issuer.run("attest-reserves", "--amount", "1", role="auditor").output
    assert "not an address" in issuer.run("freeze", "xyz").output
    assert "invalid amount" in issuer.run("mint", "--amount", "-1").output
    missing = runner.invoke(app, ["pause", "--url", issuer.url, "--key-file", str(tmp_path / "none.key")])
    assert missing.exit_code == 1 and "cannot read key file" in missing.output
