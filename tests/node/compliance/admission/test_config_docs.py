"""The TOML shown in docs/compliance.md loads as a node config and builds the pipeline and the regulator API."""

from __future__ import annotations

import re
from pathlib import Path

from node.compliance.wiring import build_compliance
from node.config import load_config
from tests.node.compliance.admission.chain import ComplianceChain
from tests.node.compliance.regulator.harness import NODE_KEY

DOCS = Path(__file__).resolve().parents[4] / "docs" / "compliance.md"
BASE = """
chain_id = 2
data_dir = "data"
genesis_file = "genesis.json"

[keys]
consensus_key_file = "keys/consensus.key"
network_key_file = "keys/network.key"
"""


def get_toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)


def test_the_documented_admission_and_regulator_sections_load_and_build(tmp_path: Path) -> None:
    blocks = get_toml_blocks()
    assert len(blocks) == 2
    path = tmp_path / "node.toml"
    path.write_text(BASE + "\n".join(blocks))
    config = load_config(path)
    assert config.admission.hooks == ["sanctions", "kyc", "velocity", "amount_caps"]
    assert config.regulator is not None and config.regulator.regulators[0].name == "finma"
    (config.data_dir).mkdir()
    (config.data_dir / "sanctions.txt").write_text("")
    compliance = build_compliance(config, ComplianceChain().ledger, network_key=NODE_KEY)
    assert [hook.name for hook in compliance.pipeline.hooks] == config.admission.hooks
    assert compliance.regulator.audit.path == config.data_dir / "regulator-audit.jsonl"
    compliance.pipeline.close()
