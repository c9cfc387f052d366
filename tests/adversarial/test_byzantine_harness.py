"""The Byzantine peer harness: three honest validator processes, and a fourth process holding the last validator
key that sends every hostile message class at rate. The honest ones keep committing at >= 50 % of their rate
with that validator merely silent, and their memory stays bounded."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from node.runtime.containment import PEER_FAILURES_MAX  # noqa: F401 - the containment the attack exercises
from tests.adversarial.byzantine_peer import compose_hostile_messages  # noqa: F401 - the classes sent
from tests.node.runtime.harness import CHAIN_ID
from tests.node.runtime.processes import ROOT, call_rpc, kill, start, wait_for, write_network

pytestmark = pytest.mark.timeout(300)
VALIDATORS = 4
BYZANTINE = 3
STARTUP_TIMEOUT_S = 60
MEASURE_S = 10.0
ATTACK_RATE_PER_S = 500
RATE_KEPT_MIN = 0.5
# Growth of an honest node's resident memory during the attack: every queue it could fill is bounded far below.
RSS_GROWTH_MAX_BYTES = 200 * 1024 * 1024


def get_version(node) -> int:  # noqa: ANN001
    answer = call_rpc(node, "get_metadata", [])
    return -1 if answer is None else answer["result"]["version"]


def measure_rate(nodes, seconds: float) -> float:  # noqa: ANN001
    """Return committed versions per second on the honest nodes (their slowest)."""
    before = [get_version(node) for node in nodes]
    time.sleep(seconds)
    return min(get_version(node) - start_version for node, start_version in zip(nodes, before)) / seconds


def get_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def write_spec(path: Path, nodes) -> Path:  # noqa: ANN001
    byzantine = nodes[BYZANTINE]
    spec = {
        "chain_id": CHAIN_ID, "rate_per_s": ATTACK_RATE_PER_S, "duration_s": MEASURE_S + 5,
        "self": {"address": byzantine.address.hex(), "port": byzantine.peer_port,
                 "network_key_file": str(byzantine.directory / "network.key")},
        "peers": [{"address": node.address.hex(), "port": node.peer_port,
                   "network_public_key": node.network_public_key.hex()} for node in nodes[:BYZANTINE]],
        "validators": [{"address": node.address.hex(), "consensus_key": node.consensus_key.public_key().data.hex()}
                       for node in nodes],
    }
    path.write_text(json.dumps(spec))
    return path


def test_honest_validators_keep_half_their_rate_and_bounded_memory_under_a_byzantine_flood(tmp_path: Path) -> None:
    nodes = write_network(tmp_path, VALIDATORS)
    honest = nodes[:BYZANTINE]
    attacker = None
    try:
        for node in honest:
            start(node)
        assert wait_for(lambda: all(get_version(node) > 5 for node in honest), STARTUP_TIMEOUT_S)
        unattacked = measure_rate(honest, MEASURE_S)
        rss_before = [get_rss_bytes(node.process.pid) for node in honest]
        log = open(tmp_path / "byzantine.log", "wb")  # noqa: SIM115 - closed below
        attacker = subprocess.Popen([sys.executable, "-m", "tests.adversarial.byzantine_peer",
                                     str(write_spec(tmp_path / "spec.json", nodes))], cwd=ROOT, stdout=log,
                                    stderr=subprocess.STDOUT)
        assert wait_for(lambda: b"connected" in (tmp_path / "byzantine.log").read_bytes(), 30), \
            (tmp_path / "byzantine.log").read_text()
        attacked = measure_rate(honest, MEASURE_S)
        assert attacker.poll() is None, "the attack ran the whole measurement"
        growth = max(get_rss_bytes(node.process.pid) - before for node, before in zip(honest, rss_before))
        assert attacked >= RATE_KEPT_MIN * unattacked, (attacked, unattacked)
        assert growth <= RSS_GROWTH_MAX_BYTES, growth
        assert all(node.process.poll() is None for node in honest), "no honest node stopped"
    finally:
        if attacker is not None and attacker.poll() is None:
            attacker.kill()
            attacker.wait()
        for node in honest:
            kill(node)
