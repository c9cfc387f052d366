"""A real 4-validator devnet on 127.0.0.1 for the compat tests, started once and always stopped."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devnet.launcher import Devnet
from devnet.layout import prepare_devnet
from devnet.manifest import Manifest

VALIDATORS = 4
PORT_SEARCH_START = 20_080
PORT_SEARCH_STEP = 10
NETWORK_PORT_OFFSET = 1_000


@dataclass(frozen=True)
class DevnetEndpoints:
    rpc_urls: list[str]
    faucet_url: str
    devnet: Devnet


def is_port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def find_base_port() -> int:
    """Return a base port with free JSON-RPC and network ports for every validator."""
    for base in range(PORT_SEARCH_START, PORT_SEARCH_START + 2_000, PORT_SEARCH_STEP):
        ports = [base + i for i in range(VALIDATORS)] + [base + NETWORK_PORT_OFFSET + i for i in range(VALIDATORS)]
        if all(is_port_free(port) for port in ports):
            return base
    raise RuntimeError("no free port range for a devnet")


@pytest.fixture(scope="session")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetEndpoints]:
    base = find_base_port()
    manifest = Manifest(validators=VALIDATORS, base_port=base, network_base_port=base + NETWORK_PORT_OFFSET,
                        round_timeout_ms=1_000)
    layout = prepare_devnet(Path(tmp_path_factory.mktemp("compat-devnet")), manifest)
    with Devnet(layout) as devnet:
        devnet.start()
        devnet.wait_healthy()
        urls = [manifest.get_rpc_url(i) for i in range(VALIDATORS)]
        yield DevnetEndpoints(urls, f"http://127.0.0.1:{base}/mint", devnet)
