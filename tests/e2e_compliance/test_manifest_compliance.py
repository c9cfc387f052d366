"""The manifest's optional compliance fields become [admission] / [regulator] sections a node accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from devnet.layout import prepare_devnet
from devnet.manifest import Manifest
from node.config import load_config

REGULATOR_KEY = "8d" * 32
COMPLIANCE = {
    "admission": {"hooks": ["sanctions", "kyc", "velocity"], "sanctions": {"list_file": "sanctions.txt"},
                  "kyc": {"min_tier": 2, "threshold_micro": 5},
                  "velocity": {"windows": [{"window_s": 60, "max_transfers": 3}]}},
    "admission_validators": [0, 2],
    "regulator": {"listen_port": 9100, "regulators": [
        {"name": "finma \"CH\"", "public_key": REGULATOR_KEY, "methods": ["compliance_get_audit_log"],
         "currencies": ["XUS"]}]},
    "regulator_validators": [1, 2],
}


def test_a_default_manifest_writes_no_compliance_section(tmp_path: Path) -> None:
    layout = prepare_devnet(tmp_path, Manifest())
    for files in layout.validators:
        text = files.config_path.read_text()
        assert "[admission" not in text and "[regulator" not in text
        config = load_config(files.config_path)
        assert config.admission.hooks == [] and config.regulator is None


def test_compliance_sections_go_to_the_listed_validators_only(tmp_path: Path) -> None:
    manifest = Manifest.model_validate(COMPLIANCE)
    layout = prepare_devnet(tmp_path, manifest)
    for files in layout.validators:
        config = load_config(files.config_path)
        sanctions = files.directory / "data" / "sanctions.txt"
        if files.index in (0, 2):
            assert config.admission.hooks == ["sanctions", "kyc", "velocity"]
            assert config.admission.kyc.min_tier == 2 and config.admission.velocity.windows[0].max_transfers == 3
            assert sanctions.exists(), "an empty list, else the hook would refuse every transaction"
        else:
            assert config.admission.hooks == [] and not sanctions.exists()
        if files.index in (1, 2):
            assert config.regulator.listen_port == 9100 + files.index
            [regulator] = config.regulator.regulators
            assert (regulator.name, regulator.public_key, regulator.currencies) == ('finma "CH"', REGULATOR_KEY, ["XUS"])
        else:
            assert config.regulator is None
    assert prepare_devnet(tmp_path, manifest).manifest == manifest, "the directory is reused with the same manifest"


@pytest.mark.parametrize("change", [
    {"admission_validators": [4]},
    {"regulator": {"listen_port": 8082, "regulators": [{"name": "x", "public_key": REGULATOR_KEY, "methods": ["*"]}]}},
    {"admission": {"hooks": ["kyc"]}},
])
def test_inconsistent_compliance_fields_are_refused(change: dict) -> None:
    with pytest.raises(ValidationError):
        Manifest.model_validate({**COMPLIANCE, **change})
