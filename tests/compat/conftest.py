"""A real 4-validator devnet on 127.0.0.1 for the compat tests, started once and always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devnet.launcher import Devnet
from devnet.layout import prepare_devnet
from devnet.manifest import Manifest
from tests.devnet.cluster import NETWORK_PORT_OFFSET, find_base_port
from tests.devnet.full_node import running_full_node

VALIDATORS = 4
PORT_SEARCH_START = 20_080


@dataclass(frozen=True)
class DevnetEndpoints:
    rpc_urls: list[str]
    faucet_url: str
    devnet: Devnet
    full_node_url: str  # a full node following the devnet, serving JSON-RPC and the faucet


@pytest.fixture(scope="session")
def endpoints(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetEndpoints]:
    base = find_base_port(VALIDATORS, PORT_SEARCH_START)
    manifest = Manifest(validators=VALIDATORS, base_port=base, network_base_port=base + NETWORK_PORT_OFFSET,
                        round_timeout_ms=1_000)
    layout = prepare_devnet(Path(tmp_path_factory.mktemp("compat-devnet")), manifest)
    with Devnet(layout) as devnet:
        devnet.start()
        devnet.wait_healthy()
        urls = [manifest.get_rpc_url(i) for i in range(VALIDATORS)]
        with running_full_node(devnet, Path(tmp_path_factory.mktemp("compat-full-node")), with_faucet=True) as full:
            yield DevnetEndpoints(urls, f"http://127.0.0.1:{base}/mint", devnet, full)
