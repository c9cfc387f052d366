"""Start-up checks of the service: genesis applied once, other chains refused with a clear message."""

from __future__ import annotations

import json

import pytest

from node.config import load_config
from node.keys.files import save_private_key
from node.service.assembly import NodeStartError, build_node
from primitives.keys import PrivateKey
from tests.node.runtime.processes import write_network


def test_genesis_is_applied_once_and_recovery_reads_it_back(tmp_path) -> None:  # noqa: ANN001
    node = write_network(tmp_path, 4)[0]
    config = load_config(node.config_path)
    parts = build_node(config)
    assert parts.store.get_latest_version() == 0
    assert parts.runtime.state.epoch_state.epoch == 1
    parts.store.close()
    again = build_node(config)
    assert again.store.get_latest_version() == 0
    again.store.close()


def test_database_of_another_genesis_is_refused(tmp_path) -> None:  # noqa: ANN001
    node = write_network(tmp_path, 4)[0]
    config = load_config(node.config_path)
    build_node(config).store.close()
    genesis_path = tmp_path / "genesis.json"
    genesis = json.loads(genesis_path.read_text())
    genesis["dealers"][0]["initial_balance"] += 1
    genesis_path.write_text(json.dumps(genesis))
    with pytest.raises(NodeStartError, match="genesis hash"):
        build_node(config)


def test_consensus_key_outside_the_validator_set_is_refused(tmp_path) -> None:  # noqa: ANN001
    node = write_network(tmp_path, 4)[0]
    save_private_key(node.directory / "consensus.key", PrivateKey.from_seed_material(b"stranger"))
    with pytest.raises(NodeStartError, match="not in the genesis validator set"):
        build_node(load_config(node.config_path))
