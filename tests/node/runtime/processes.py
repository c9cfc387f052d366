"""Real validator processes on 127.0.0.1 for integration tests: files, launch, JSON-RPC, always killed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from contracts.framework import TESTNET_DD
from contracts.genesis import DealerConfig, GenesisConfig, ValidatorConfig
from node.genesis import save_genesis_file
from node.keys.files import save_private_key
from primitives.keys import PrivateKey
from tests.node.runtime.harness import CHAIN_ID, DD_BALANCE, DD_KEY, DR_KEY, PAYEE, PAYEE_KEY, TC_KEY

ROOT = Path(__file__).resolve().parents[3]
RPC_TIMEOUT_S = 2.0
POLL_INTERVAL_S = 0.2
ROUND_TIMEOUT_MS = 1_000


def get_free_port() -> int:
    """Return a port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(slots=True)
class ProcessNode:
    """One validator's files, ports and process."""

    index: int
    directory: Path
    consensus_key: PrivateKey
    network_key: PrivateKey
    peer_port: int
    rpc_port: int
    process: subprocess.Popen | None = None

    @property
    def address(self) -> bytes:
        return self.consensus_key.public_key().address()

    @property
    def network_public_key(self) -> bytes:
        return self.network_key.public_key().data  # Ed25519; the transport derives its X25519 key

    @property
    def config_path(self) -> Path:
        return self.directory / "node.toml"


def write_network(base: Path, count: int) -> list[ProcessNode]:
    """Write keys, one genesis file and one config per validator under base."""
    nodes = [ProcessNode(index, base / f"node{index}", PrivateKey.from_seed_material(f"proc-validator-{index}".encode()),
                         PrivateKey.from_seed_material(f"proc-network-{index}".encode()), get_free_port(),
                         get_free_port()) for index in range(count)]
    genesis = GenesisConfig(
        DR_KEY.public_key().data, TC_KEY.public_key().data, chain_id=CHAIN_ID,
        dealers=(DealerConfig(TESTNET_DD, DD_KEY.public_key().data, initial_balance=DD_BALANCE),
                 DealerConfig(PAYEE, PAYEE_KEY.public_key().data)),
        validators=tuple(ValidatorConfig(node.address, 1, node.consensus_key.public_key().data,
                                         node.network_public_key, node.consensus_key.public_key().data)
                         for node in nodes),
    )
    save_genesis_file(base / "genesis.json", genesis)
    for node in nodes:
        save_private_key(node.directory / "consensus.key", node.consensus_key)
        save_private_key(node.directory / "network.key", node.network_key)
        peers = "".join(
            f'[[network.peers]]\naddress = "{peer.address.hex()}"\nhost = "127.0.0.1"\nport = {peer.peer_port}\n'
            f'network_public_key = "{peer.network_public_key.hex()}"\n' for peer in nodes if peer is not node)
        node.config_path.write_text(
            f'chain_id = {CHAIN_ID}\ndata_dir = "data"\ngenesis_file = "../genesis.json"\n\n'
            f'[keys]\nconsensus_key_file = "consensus.key"\nnetwork_key_file = "network.key"\n\n'
            f'[rpc]\nlisten_port = {node.rpc_port}\n\n[consensus]\nround_timeout_ms = {ROUND_TIMEOUT_MS}\n\n'
            f'[network]\nlisten_port = {node.peer_port}\n\n{peers}')
    return nodes


def start(node: ProcessNode) -> None:
    """Launch the node's process (logs to its directory)."""
    log = open(node.directory / "node.log", "ab")  # noqa: SIM115 - owned by the process
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    node.process = subprocess.Popen([sys.executable, "-m", "node", str(node.config_path), "json"],
                                    cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=environment)


def kill(node: ProcessNode) -> None:
    """kill -9 the node's process, if it runs."""
    if node.process is not None and node.process.poll() is None:
        node.process.kill()
        node.process.wait()


def call_rpc(node: ProcessNode, method: str, params: list) -> dict | None:
    """Return the JSON-RPC response, or None when the node does not answer."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{node.rpc_port}/v1", body,
                                     {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=RPC_TIMEOUT_S) as response:
            return json.loads(response.read())
    except OSError:
        return None


def wait_for(predicate, timeout_s: float) -> bool:  # noqa: ANN001
    """Poll predicate until it holds or timeout_s passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(POLL_INTERVAL_S)
    return predicate()
