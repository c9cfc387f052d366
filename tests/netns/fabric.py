"""Test hosts in Linux network namespaces: one bridge, one namespace per host, links that can be cut and shaped.

Every namespace, link and address belongs to the fabric that made it (names carry a per-run prefix) and is
removed by close(), which every exit path calls (the fabric is a context manager). Addresses come from the
benchmarking range 198.18.0.0/15 only (RFC 2544), inside namespaces this process created.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

# RFC 2544's benchmarking range: the only addresses these tests ever use.
BENCHMARK_NETWORK = ipaddress.ip_network("198.18.0.0/15")
FABRIC_SUBNET = ipaddress.ip_network("198.18.0.0/24")
FABRIC_PREFIX_LENGTH = 24
COMMAND_TIMEOUT_S = 20
# Linux interface names are at most 15 bytes; the run prefix keeps parallel fabrics apart.
INTERFACE_NAME_MAX = 15
HOSTS_MAX = 200
# Token-bucket shaping: the burst and latency bound tc tbf asks for.
SHAPING_BURST_BYTES = 32_768
SHAPING_LATENCY_MS = 50
# A fabric's prefix is "sc" and its test process's pid modulo PID_MODULUS (short enough for interface names).
PID_MODULUS = 100_000
FABRIC_NAMESPACE = re.compile(r"^sc(\d+)-")

if not FABRIC_SUBNET.subnet_of(BENCHMARK_NETWORK):  # pragma: no cover - a constant's sanity check
    raise RuntimeError("the fabric subnet must lie in 198.18.0.0/15")


class FabricError(RuntimeError):
    """A namespace command failed (or this process may not create namespaces)."""


def run_ip(*args: str) -> str:
    """Run one `ip` command; raise FabricError with its output when it fails."""
    command = ["ip", *args]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    if completed.returncode != 0:
        raise FabricError(f"{' '.join(command)} failed: {completed.stderr.strip() or completed.stdout.strip()}")
    return completed.stdout


def require_namespaces() -> None:
    """Raise FabricError with a clear reason when this process cannot create network namespaces."""
    if shutil.which("ip") is None:
        raise FabricError("the `ip` command (iproute2) is missing: install iproute2")
    if os.geteuid() != 0:
        raise FabricError("network-namespace tests need root (CI runs as root): run `make test` as root")


@dataclass
class Host:
    """One test host: its namespace, its address on the bridge, and the bridge-side end of its link."""

    name: str
    namespace: str
    address: str
    bridge_port: str

    def get_command(self, command: list[str]) -> list[str]:
        """Return command wrapped to run inside this host's namespace."""
        return ["ip", "netns", "exec", self.namespace, *command]


@dataclass
class Fabric:
    """A switch namespace holding a bridge, and hosts attached to it by veth links."""

    prefix: str = field(default_factory=lambda: f"sc{os.getpid() % PID_MODULUS}")
    hosts: dict[str, Host] = field(default_factory=dict)
    namespaces: list[str] = field(default_factory=list)

    @property
    def switch(self) -> str:
        """Return the switch namespace's name."""
        return f"{self.prefix}-sw"

    def open(self) -> Fabric:
        """Create the switch namespace and its bridge."""
        require_namespaces()
        remove_stale_fabrics()
        self.close()  # leftovers of a crashed run with the same prefix
        self._add_namespace(self.switch)
        run_ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        run_ip("-n", self.switch, "link", "set", "br0", "up")
        return self

    def add_host(self, name: str) -> Host:
        """Create a host namespace linked to the bridge, with the next address of the fabric subnet."""
        index = len(self.hosts) + 1
        if index > HOSTS_MAX:
            raise FabricError(f"at most {HOSTS_MAX} hosts on one fabric")
        namespace = f"{self.prefix}-{name}"
        host_end, bridge_end = f"{self.prefix}h{index}", f"{self.prefix}b{index}"
        if max(len(host_end), len(bridge_end)) > INTERFACE_NAME_MAX:
            raise FabricError(f"interface name {bridge_end!r} is longer than {INTERFACE_NAME_MAX} bytes")
        address = str(FABRIC_SUBNET.network_address + index)
        self._add_namespace(namespace)
        run_ip("-n", self.switch, "link", "add", bridge_end, "type", "veth", "peer", "name", host_end,
               "netns", namespace)
        run_ip("-n", self.switch, "link", "set", bridge_end, "master", "br0")
        run_ip("-n", self.switch, "link", "set", bridge_end, "up")
        run_ip("-n", namespace, "addr", "add", f"{address}/{FABRIC_PREFIX_LENGTH}", "dev", host_end)
        run_ip("-n", namespace, "link", "set", host_end, "up")
        host = Host(name, namespace, address, bridge_end)
        self.hosts[name] = host
        return host

    def set_link(self, name: str, is_up: bool) -> None:
        """Cut (or restore) a host's link at the bridge: its packets go nowhere, nothing is refused."""
        run_ip("-n", self.switch, "link", "set", self.hosts[name].bridge_port, "up" if is_up else "down")

    def shape(self, name: str, rate_mbit: int) -> None:
        """Limit the bandwidth towards a host with a token bucket (tc tbf) on its bridge port."""
        command = ["ip", "netns", "exec", self.switch, "tc", "qdisc", "replace", "dev", self.hosts[name].bridge_port,
                   "root", "tbf", "rate", f"{rate_mbit}mbit", "burst", str(SHAPING_BURST_BYTES),
                   "latency", f"{SHAPING_LATENCY_MS}ms"]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
        if completed.returncode != 0:
            raise FabricError(f"{' '.join(command)} failed: {completed.stderr.strip()}")

    def close(self) -> None:
        """Kill every process left in the fabric's namespaces and delete them (links go with them)."""
        for namespace in list_namespaces():
            if namespace == self.switch or namespace.startswith(f"{self.prefix}-"):
                _kill_namespace_processes(namespace)
                run_ip("netns", "del", namespace)
        self.hosts.clear()
        self.namespaces.clear()

    def _add_namespace(self, namespace: str) -> None:
        run_ip("netns", "add", namespace)
        self.namespaces.append(namespace)
        run_ip("-n", namespace, "link", "set", "lo", "up")

    def __enter__(self) -> Fabric:
        return self.open()

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _kill_namespace_processes(namespace: str) -> None:
    """SIGKILL every process still running inside a namespace."""
    pids = run_ip("netns", "pids", namespace).split()
    for pid in pids:
        try:
            os.kill(int(pid), 9)
        except (ProcessLookupError, ValueError):
            pass


def list_namespaces() -> list[str]:
    """Return the names of the network namespaces that exist now, sorted."""
    existing = run_ip("netns", "list") if shutil.which("ip") else ""
    return sorted({line.split()[0] for line in existing.splitlines() if line.strip()})


def remove_stale_fabrics() -> list[str]:
    """Delete the namespaces of fabrics whose test process is gone (a run killed before close() could run)."""
    live = {int(entry) % PID_MODULUS for entry in os.listdir("/proc") if entry.isdigit()}
    removed = []
    for namespace in list_namespaces():
        match = FABRIC_NAMESPACE.match(namespace)
        if match is not None and int(match.group(1)) not in live:
            _kill_namespace_processes(namespace)
            run_ip("netns", "del", namespace)
            removed.append(namespace)
    return removed
