"""What the node service wires in: built from NodeConfig, warmed from the ledger, fed per commit."""

from __future__ import annotations

from pathlib import Path

from contracts.transaction_builder import compose_peer_to_peer
from node.compliance.admission.codes import Reject
from node.compliance.wiring import build_compliance
from node.config import NodeConfig
from tests.node.compliance.admission.chain import ComplianceChain
from tests.node.compliance.regulator.harness import NODE_KEY, regulator_key
from wallet.regulator import RegulatorClient

XUS = 1_000_000


def make_config(tmp_path: Path, **sections: object) -> NodeConfig:
    return NodeConfig(data_dir=tmp_path, genesis_file=tmp_path / "genesis.json",
                      keys={"consensus_key_file": tmp_path / "c.key", "network_key_file": tmp_path / "n.key"}, **sections)


def test_without_compliance_sections_nothing_changes(tmp_path: Path) -> None:
    chain = ComplianceChain()
    compliance = build_compliance(make_config(tmp_path), chain.ledger)
    assert compliance.pipeline is None and compliance.regulator is None and compliance.feed is None
    submit = chain.ledger.submit
    assert compliance.wrap_submit(chain.ledger, submit) is submit


async def test_velocity_counts_history_from_before_start_up_and_commits_seen_later(tmp_path: Path) -> None:
    chain = ComplianceChain()
    alice, bob = chain.create_vasp("alice", 100 * XUS), chain.create_vasp("bob")
    chain.run(alice, compose_peer_to_peer(bob.address, XUS))  # committed before the node (re)started
    config = make_config(tmp_path, admission={"hooks": ["velocity"], "hook_budget_ms": 10_000, "velocity": {
        "windows": [{"window_s": 3_600, "max_transfers": 3}], "exempt_roles": []}},
        regulator={"listen_port": 0, "regulators": [
            {"name": "finma", "public_key": regulator_key("finma").public_key().hex(), "methods": ["*"]}]})
    compliance = build_compliance(config, chain.ledger, network_key=NODE_KEY)
    submit = compliance.wrap_submit(chain.ledger, chain.ledger.submit)
    assert submit(chain.sign(alice, compose_peer_to_peer(bob.address, XUS))).is_accepted  # 2nd: pending
    chain.ledger.commit_block()
    compliance.on_commit()
    other_node = chain.sign(alice, compose_peer_to_peer(bob.address, XUS))  # 3rd: through another node
    assert chain.ledger.submit(other_node).is_accepted
    chain.ledger.commit_block()
    compliance.on_commit()
    assert len(compliance.tracker.get_outgoing(alice.address, 0)) == 3
    refused = submit(chain.sign(alice, compose_peer_to_peer(bob.address, XUS)))
    assert isinstance(refused, Reject) and refused.code == 1201
    await compliance.start("127.0.0.1", 0)
    try:
        client = RegulatorClient(f"http://127.0.0.1:{compliance.regulator_port}/v1", regulator_key("finma"))
        rejected = await client.call("compliance_get_rejected_admissions", [])
        assert [r["code"] for r in rejected["rejections"]] == [1201]
    finally:
        await compliance.stop()


def test_a_node_answers_regulators_with_its_network_key(tmp_path: Path) -> None:
    from node.config import RegulatorConfig, load_config
    from node.keys.files import load_private_key
    from node.service.assembly import build_node
    from node.service.run import NodeService
    from tests.node.runtime.processes import write_network

    config = load_config(write_network(tmp_path, 4)[0].config_path)
    config = config.model_copy(update={"regulator": RegulatorConfig.model_validate({"listen_port": 0, "regulators": [
        {"name": "finma", "public_key": regulator_key("finma").public_key().hex(), "methods": ["*"]}]})})
    parts = build_node(config)
    try:
        service = NodeService(config, parts)
        network_key = load_private_key(config.keys.network_key_file).public_key().data
        assert service.compliance.regulator.identity.node_id == network_key
        assert service.compliance.regulator.authenticator.node_id == network_key
    finally:
        parts.store.close()
