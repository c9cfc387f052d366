"""Devnet layout: manifests validate, a directory is reused only for its own manifest, configs load."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from devnet.layout import LayoutError, load_issuer_keys, prepare_devnet
from devnet.manifest import Manifest
from node.config import load_config
from node.genesis import GenesisFileError, decode_genesis_config, encode_genesis_config, load_genesis_file
from node.keys.files import load_private_key


def test_a_four_validator_devnet_gets_keys_genesis_and_configs(tmp_path: Path) -> None:
    layout = prepare_devnet(tmp_path, Manifest(validators=4, base_port=18080, network_base_port=16180))
    genesis = load_genesis_file(layout.genesis_path)
    assert genesis.chain_id == 2 and len(genesis.validators) == 4
    for files in layout.validators:
        config = load_config(files.config_path)
        assert config.rpc.listen_port == 18080 + files.index
        assert config.network.listen_port == 16180 + files.index
        assert (config.faucet is not None) == (files.index == 0)
        assert config.network.peers == [], "genesis validators are dialled at their on-chain addresses"
        assert genesis.validators[files.index].network_addresses == (f"127.0.0.1:{16180 + files.index}".encode(),)
        assert (files.directory / "operator.json").exists(), "laid out by the ceremony's `node init`"
        network_key = load_private_key(config.keys.network_key_file).public_key().data
        assert network_key == genesis.validators[files.index].network_public_key
        consensus_key = load_private_key(config.keys.consensus_key_file).public_key().data
        assert consensus_key == genesis.validators[files.index].consensus_public_key
    assert (layout.root / "keys" / "issuer.json").exists(), "laid out by the ceremony's `genesis issuer-keys`"
    faucet = load_config(layout.validators[0].config_path).faucet
    assert load_private_key(faucet.dealer_key_file) == load_issuer_keys(layout)["dealer"]
    keys = load_issuer_keys(layout)
    assert keys["treasury"].public_key().data == genesis.treasury_compliance_key
    assert genesis.reserve_auditors[0][1] == keys["auditor"].public_key().data


def test_the_same_directory_is_reused_and_another_manifest_is_refused(tmp_path: Path) -> None:
    first = prepare_devnet(tmp_path, Manifest(validators=3))
    genesis_bytes = first.genesis_path.read_bytes()
    prepare_devnet(tmp_path, Manifest(validators=3))
    assert first.genesis_path.read_bytes() == genesis_bytes
    with pytest.raises(LayoutError, match="another manifest"):
        prepare_devnet(tmp_path, Manifest(validators=4))


@pytest.mark.parametrize(
    "fields",
    [{"validators": 0}, {"validators": 2, "stakes_micro": [1]}, {"stakes_micro": [1, 1, 1, 0]},
     {"base_port": 6180, "network_base_port": 6182}, {"base_port": 65_534}],
)
def test_bad_manifests_are_refused(fields: dict) -> None:
    with pytest.raises(ValidationError):
        Manifest(**fields)


def test_the_genesis_file_round_trips_and_rejects_garbage(tmp_path: Path) -> None:
    layout = prepare_devnet(tmp_path, Manifest(validators=2))
    config = load_genesis_file(layout.genesis_path)
    assert decode_genesis_config(encode_genesis_config(config)) == config
    for garbage in (b"", b"{}", b'{"version": 1}', b"[1,2]", encode_genesis_config(config).replace(b'"chain_id": 2', b'"chain_id": "x"')):
        with pytest.raises(GenesisFileError):
            decode_genesis_config(garbage)


def test_a_directory_laid_out_by_an_older_stablechain_is_refused_with_advice(tmp_path) -> None:
    """Before layout versions, manifest.json had no layout_version; such a devnet has another genesis and block rule."""
    import json

    from devnet.layout import LAYOUT_VERSION_KEY

    manifest = Manifest(validators=1)
    prepare_devnet(tmp_path / "dn", manifest)
    path = tmp_path / "dn" / "manifest.json"
    stored = json.loads(path.read_text())
    assert stored.pop(LAYOUT_VERSION_KEY) is not None
    path.write_text(json.dumps(stored))
    with pytest.raises(LayoutError, match="older stablechain"):
        prepare_devnet(tmp_path / "dn", manifest)
