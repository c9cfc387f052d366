"""A network launched as separate operators would launch it: each on a host of its own (a network namespace on one
bridge), each operator's files in its own directory, the genesis ceremony walked with the documented commands.

`docs/operations.md` ("Launching a network") lists the same commands; only the directories and addresses differ.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from devnet.launcher import stop_process
from tests.netns.fabric import Fabric, Host

VALIDATORS = ("v0", "v1", "v2", "v3")
FULL_NODE = "full"
CLIENT = "client"
CHAIN_ID = 2  # the load client signs for chain id 2
NETWORK_PORT = 6180
RPC_PORT = 8080
COMMAND_TIMEOUT_S = 120
READY_TIMEOUT_S = 90
POLL_INTERVAL_S = 0.5
INITIAL_RESERVES_XUS = 100_000_000
REPO_ROOT = Path(__file__).resolve().parents[2]


class CeremonyError(AssertionError):
    """A ceremony command failed; the message holds its output."""


def stablechain(*args: str) -> list[str]:
    """Return the command line of `stablechain ARGS` (this interpreter's installation)."""
    return [sys.executable, "-m", "cli", *args]


@dataclass
class OperatorNetwork:
    """The hosts, each operator's directory, and the node processes this test started."""

    fabric: Fabric
    root: Path
    hosts: dict[str, Host]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    node_hosts: dict[str, str] = field(default_factory=dict)  # node -> the host it runs on now
    waypoint: str = ""

    def get_directory(self, name: str) -> Path:
        """Return an operator's (or the issuer's) own directory."""
        return self.root / name

    def get_rpc_url(self, name: str) -> str:
        """Return a node's JSON-RPC URL on the host it runs on."""
        return f"http://{self.hosts[self.node_hosts.get(name, name)].address}:{RPC_PORT}/v1"

    def run(self, args: list[str], host: str | None = None, cwd: Path | None = None) -> str:
        """Run one command (on a host, or on this machine for file steps); return its output or fail with it."""
        command = args if host is None else self.hosts[host].get_command(args)
        env = dict(os.environ, COLUMNS="200")
        completed = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False,
                                   cwd=cwd or self.root, env=env)
        if completed.returncode != 0:
            raise CeremonyError(f"{' '.join(args)} failed ({completed.returncode}):\n{completed.stdout}"
                                f"\n{completed.stderr}")
        return completed.stdout

    def walk_ceremony(self) -> str:
        """Issuer keys, each node's init, the genesis build, each operator's check; return the waypoint."""
        self.run(stablechain("genesis", "issuer-keys", "--dir", "issuer"))
        for name in VALIDATORS:
            address = self.hosts[name].address
            self.run(stablechain("node", "init", "--dir", name, "--role", "validator", "--name", name,
                                 "--listen", f"{address}:{NETWORK_PORT}", "--rpc-listen", f"{address}:{RPC_PORT}"))
        operators = [arg for name in VALIDATORS for arg in ("--operator", f"{name}/operator.json")]
        output = self.run(stablechain("genesis", "build", "--issuer", "issuer/issuer.json", *operators,
                                      "--chain-id", str(CHAIN_ID), "--initial-reserves-xus",
                                      str(INITIAL_RESERVES_XUS), "--out", "genesis.json"))
        self.waypoint = output.split("waypoint: ")[-1].split()[0]
        seed = f"{self.read_network_key('v0')}@{self.hosts['v0'].address}:{NETWORK_PORT}"
        full = self.hosts[FULL_NODE].address
        self.run(stablechain("node", "init", "--dir", FULL_NODE, "--role", "full", "--name", FULL_NODE,
                             "--listen", f"{full}:{NETWORK_PORT}", "--rpc-listen", f"{full}:{RPC_PORT}",
                             "--seed", seed))
        for name in (*VALIDATORS, FULL_NODE):  # each operator receives genesis.json and checks it out of band
            shutil.copy(self.root / "genesis.json", self.get_directory(name) / "genesis.json")
            self.run(stablechain("genesis", "verify", f"{name}/genesis.json", "--waypoint", self.waypoint))
            self.run(stablechain("node", "set-waypoint", "--config", f"{name}/node.toml", self.waypoint))
        return self.waypoint

    def read_network_key(self, name: str) -> str:
        """Return a validator's network public key from its public operator file."""
        return json.loads((self.get_directory(name) / "operator.json").read_text())["network_public_key"]

    def read_account_address(self, name: str) -> str:
        """Return a validator's account address from its public operator file."""
        return json.loads((self.get_directory(name) / "operator.json").read_text())["account_address"]

    def start(self, name: str, host: str | None = None) -> None:
        """Run `stablechain node start --config node.toml` in the node's directory, on its host."""
        self.node_hosts[name] = host or self.node_hosts.get(name, name)
        directory = self.get_directory(name)
        with (directory / "node.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                self.hosts[self.node_hosts[name]].get_command(stablechain("node", "start", "--config", "node.toml")),
                cwd=directory, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO_ROOT)), start_new_session=True)

    def stop(self, name: str) -> None:
        """Stop a node with SIGTERM (SIGKILL after a grace period)."""
        stop_process(self.processes.pop(name, None))

    def stop_all(self) -> None:
        """Stop every node this test started."""
        for name in list(self.processes):
            try:
                self.stop(name)
            except ProcessLookupError:
                continue

    def get_status(self, names: list[str]) -> dict[str, dict]:
        """Return each node's readiness report (`/-/ready`), read from the client host; {} when it does not answer."""
        output = self.run([sys.executable, "-m", "tests.netns.client", "ready",
                           *(self.get_rpc_url(name) for name in names)], host=CLIENT, cwd=REPO_ROOT)
        return dict(zip(names, json.loads(output)))

    def wait_until(self, names: list[str], condition, what: str, timeout_s: float = READY_TIMEOUT_S) -> dict:  # noqa: ANN001
        """Poll the nodes' readiness reports until condition(reports) holds; fail with the logs after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            reports = self.get_status(names)
            if condition(reports):
                return reports
            if time.monotonic() > deadline:
                raise CeremonyError(f"{what}: not within {timeout_s:.0f} s: {reports}\n{self.read_logs()}")
            time.sleep(POLL_INTERVAL_S)

    def read_logs(self) -> str:
        """Return the tail of every node's log."""
        tails = []
        for name in (*VALIDATORS, FULL_NODE):
            path = self.get_directory(name) / "node.log"
            if path.exists():
                tails.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:]))
        return "\n".join(tails)

    def move_config(self, name: str, new_host: str) -> None:
        """Point a node's config at a new host's address (the operator edits node.toml when moving a machine)."""
        path = self.get_directory(name) / "node.toml"
        old, new = self.hosts[self.node_hosts[name]].address, self.hosts[new_host].address
        path.write_text(path.read_text().replace(f'"{old}"', f'"{new}"'))
