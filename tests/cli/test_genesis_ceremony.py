"""The genesis ceremony as separate operators run it, each in its own directory, exchanging only public files;
and the bad input it refuses with a clear message, changing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from node.config import load_config
from node.genesis import load_genesis_file
from node.service.assembly import NodeStartError, load_genesis

OPERATORS = 4
CHAIN_ID = 7
runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    """Run `stablechain ARGS`; return (exit code, output with the console's line wrapping undone)."""
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def get_waypoint(output: str) -> str:
    """Return the waypoint a genesis command printed."""
    return output.split("waypoint: ")[-1].split()[0]


@pytest.fixture()
def ceremony(tmp_path: Path) -> Path:
    """The issuer and four operators, each in a directory of its own, before genesis."""
    assert run("genesis", "issuer-keys", "--dir", str(tmp_path / "issuer"))[0] == 0
    for index in range(OPERATORS):
        code, output = run("node", "init", "--dir", str(tmp_path / f"op{index}"), "--role", "validator",
                           "--name", f"op-{index}", "--listen", f"198.18.0.{index + 1}:6180",
                           "--rpc-listen", f"198.18.0.{index + 1}:8080")
        assert code == 0, output
    return tmp_path


def build_args(root: Path, operators: list[str]) -> list[str]:
    """Return `genesis build` arguments over the given operator directories."""
    args = ["genesis", "build", "--issuer", str(root / "issuer" / "issuer.json"), "--chain-id", str(CHAIN_ID),
            "--out", str(root / "genesis.json")]
    for name in operators:
        args += ["--operator", str(root / name / "operator.json")]
    return args


def test_operators_build_the_same_genesis_from_public_files_and_the_node_checks_its_waypoint(ceremony: Path) -> None:
    code, output = run(*build_args(ceremony, [f"op{i}" for i in range(OPERATORS)]))
    assert code == 0, output
    waypoint = get_waypoint(output)
    genesis = load_genesis_file(ceremony / "genesis.json")
    assert genesis.chain_id == CHAIN_ID and len(genesis.validators) == OPERATORS
    assert genesis.validators[0].network_addresses == (b"198.18.0.1:6180",), "each address goes on chain"

    code, output = run("genesis", "verify", str(ceremony / "genesis.json"), "--waypoint", waypoint)
    assert code == 0 and get_waypoint(output) == waypoint

    node_dir = ceremony / "op0"
    (node_dir / "genesis.json").write_bytes((ceremony / "genesis.json").read_bytes())
    assert run("node", "set-waypoint", "--config", str(node_dir / "node.toml"), waypoint)[0] == 0
    config = load_config(node_dir / "node.toml")
    assert config.waypoint == waypoint and config.chain_id == CHAIN_ID and config.role == "validator"
    assert load_genesis(config)[1].hex() == waypoint


def test_a_genesis_that_does_not_match_the_recorded_waypoint_is_refused_and_nothing_is_written(
        ceremony: Path) -> None:
    assert run(*build_args(ceremony, [f"op{i}" for i in range(OPERATORS)]))[0] == 0
    node_dir = ceremony / "op0"
    (node_dir / "genesis.json").write_bytes((ceremony / "genesis.json").read_bytes())
    waypoint = get_waypoint(run("genesis", "verify", str(node_dir / "genesis.json"))[1])
    assert run("node", "set-waypoint", "--config", str(node_dir / "node.toml"), waypoint)[0] == 0
    # Someone hands the operator another genesis (three validators only).
    assert run(*build_args(ceremony, ["op0", "op1", "op2"]))[0] == 0
    (node_dir / "genesis.json").write_bytes((ceremony / "genesis.json").read_bytes())

    with pytest.raises(NodeStartError, match="refusing a genesis other than the one the network agreed on"):
        load_genesis(load_config(node_dir / "node.toml"))
    assert not (node_dir / "data").exists(), "no database was created"
    code, output = run("genesis", "verify", str(node_dir / "genesis.json"), "--waypoint", waypoint)
    assert code == 1 and "not the genesis the network agreed on" in output
    code, output = run("node", "set-waypoint", "--config", str(node_dir / "node.toml"), "00" * 32)
    assert code == 1 and "refusing to record it" in output
    assert load_config(node_dir / "node.toml").waypoint == waypoint, "the recorded waypoint is unchanged"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("consensus_public_key", "zz" * 32, "consensus_public_key must be 64 hex characters"),
    ("network_public_key", "00" * 31, "network_public_key must be 64 hex characters"),
    ("network_public_key", "ff" * 32, "network_public_key is not a valid Ed25519 public key"),
    ("network_addresses", ["198.18.0.1"], "is not HOST:PORT"),
    ("network_addresses", ["198.18.0.1:99999"], "is not HOST:PORT"),
    ("network_addresses", ["http://198.18.0.1:80"], "is not HOST:PORT"),
    ("account_address", "00" * 16, "is not the address of account_public_key"),
])
def test_an_operator_file_with_a_malformed_key_or_address_is_refused(ceremony: Path, field: str, value: object,
                                                                      message: str) -> None:
    path = ceremony / "op1" / "operator.json"
    document = json.loads(path.read_text())
    document[field] = value
    path.write_text(json.dumps(document))

    code, output = run(*build_args(ceremony, [f"op{i}" for i in range(OPERATORS)]))

    assert code == 1 and message in output and str(path) in output.replace(" ", "")
    assert not (ceremony / "genesis.json").exists(), "no genesis was written"


@pytest.mark.parametrize("field", ["consensus_public_key", "network_public_key"])
def test_two_operators_with_the_same_key_are_refused(ceremony: Path, field: str) -> None:
    first = json.loads((ceremony / "op0" / "operator.json").read_text())
    path = ceremony / "op2" / "operator.json"
    document = json.loads(path.read_text())
    document[field] = first[field]
    path.write_text(json.dumps(document))

    code, output = run(*build_args(ceremony, [f"op{i}" for i in range(OPERATORS)]))

    assert code == 1 and f"the same {field.replace('_', ' ')}" in output
    assert not (ceremony / "genesis.json").exists(), "no genesis was written"


def test_the_same_operator_twice_is_refused(ceremony: Path) -> None:
    code, output = run(*build_args(ceremony, ["op0", "op1", "op1"]))
    assert code == 1 and "the same account address" in output


def test_a_full_node_is_initialised_without_a_consensus_key_or_operator_file(tmp_path: Path) -> None:
    seed = "ab" * 32 + "@198.18.0.1:6180"
    code, output = run("node", "init", "--dir", str(tmp_path / "full"), "--role", "full", "--name", "reader",
                       "--listen", "198.18.0.9:6180", "--rpc-listen", "198.18.0.9:8080", "--seed", seed)
    assert code == 0, output
    assert sorted(path.name for path in (tmp_path / "full" / "keys").iterdir()) == ["network.key"]
    assert not (tmp_path / "full" / "operator.json").exists()
    config = load_config(tmp_path / "full" / "node.toml")
    assert config.is_full_node() and config.keys.consensus_key_file is None and config.network.seeds == [seed]


def test_node_init_refuses_a_malformed_seed_and_writes_nothing(tmp_path: Path) -> None:
    code, output = run("node", "init", "--dir", str(tmp_path / "full"), "--role", "full", "--name", "reader",
                       "--listen", "198.18.0.9:6180", "--rpc-listen", "198.18.0.9:8080", "--seed", "nokey@host")
    assert code == 1 and "is not NETWORK_PUBLIC_KEY@HOST:PORT" in output
    assert not (tmp_path / "full" / "node.toml").exists()
