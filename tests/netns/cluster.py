"""A devnet whose validators each run on a test host of their own (a network namespace on one bridge)."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import contextmanager
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devnet.launcher import Devnet
from devnet.layout import DevnetLayout, prepare_devnet
from devnet.manifest import Manifest
from tests.devnet.cluster import NETWORK_PORT_OFFSET
from tests.netns.fabric import Fabric, FabricError, Host

CLIENT_HOST = "client"
# Every node listens on its own address, so the ports can be the same on every host.
BASE_PORT = 18080
CLIENT_TIMEOUT_S = 300


@dataclass
class NetnsDevnet:
    """The fabric, the hosts, the devnet's files and its processes."""

    fabric: Fabric
    layout: DevnetLayout
    devnet: Devnet
    hosts: list[Host]
    client: Host

    def get_rpc_url(self, index: int) -> str:
        """Return node index's JSON-RPC URL on its host's address."""
        return f"http://{self.hosts[index].address}:{self.layout.manifest.get_rpc_port(index)}/v1"

    def get_rpc_urls(self) -> list[str]:
        """Return every node's JSON-RPC URL."""
        return [self.get_rpc_url(index) for index in range(len(self.hosts))]

    def run_client(self, *args: str, timeout_s: float = CLIENT_TIMEOUT_S) -> subprocess.CompletedProcess:
        """Run `python -m tests.netns.client ARGS` on the client host."""
        command = self.client.get_command([sys.executable, "-m", "tests.netns.client", *args])
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False,
                              cwd=Path(__file__).resolve().parents[2])

    def start_client(self, *args: str) -> subprocess.Popen:
        """Start `python -m tests.netns.client ARGS` on the client host in the background."""
        command = self.client.get_command([sys.executable, "-m", "tests.netns.client", *args])
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=Path(__file__).resolve().parents[2])

    def wait_healthy(self, indexes: list[int] | None = None) -> None:
        """Wait until the given nodes (all by default) answer JSON-RPC from the client host."""
        urls = [self.get_rpc_url(i) for i in (range(len(self.hosts)) if indexes is None else indexes)]
        completed = self.run_client("wait", *urls)
        if completed.returncode != 0:
            logs = "\n".join(files.log_path.read_text(errors="replace")[-2000:] for files in self.layout.validators)
            raise FabricError(f"nodes did not answer: {completed.stderr[-2000:]}\n{logs}")


@contextmanager
def start_netns_devnet(root: Path, validators: int = 4) -> Iterator[NetnsDevnet]:
    """Create the hosts, lay the devnet out on them and start every node; remove all of it on the way out."""
    fabric = Fabric()
    with fabric:
        hosts = [fabric.add_host(f"v{index}") for index in range(validators)]
        client = fabric.add_host(CLIENT_HOST)
        # Each node listens on its host's address, which genesis puts on chain: peers dial it there.
        manifest = Manifest(validators=validators, base_port=BASE_PORT, network_base_port=BASE_PORT - NETWORK_PORT_OFFSET,
                            rpc_client_rate_per_s=0, hosts=[host.address for host in hosts])
        layout = prepare_devnet(root, manifest)
        prefixes = {index: host.get_command([]) for index, host in enumerate(hosts)}
        with Devnet(layout, command_prefixes=prefixes) as devnet:
            devnet.start()
            cluster = NetnsDevnet(fabric, layout, devnet, hosts, client)
            cluster.wait_healthy()
            yield cluster


def read_client_result(path: Path) -> dict:
    """Return the load client's result file."""
    return json.loads(path.read_text())
