"""One real 4-validator devnet and two wallet services for the wallet-service tests, always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devnet.launcher import Devnet
from devnet.layout import DevnetLayout, prepare_devnet
from devnet.manifest import Manifest
from tests.devnet.cluster import NETWORK_PORT_OFFSET, find_base_port
from tests.wallet_service.harness import WalletService

VALIDATORS = 4
PORT_SEARCH_START = 26_080


@dataclass(frozen=True)
class Net:
    rpc_urls: list[str]
    faucet_url: str
    root: Path
    layout: DevnetLayout


@pytest.fixture(scope="session")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    base = find_base_port(VALIDATORS, PORT_SEARCH_START)
    # The services and the SDK's MiniWallet poll the node hard: no per-client rate limit on this devnet.
    manifest = Manifest(validators=VALIDATORS, base_port=base, network_base_port=base + NETWORK_PORT_OFFSET,
                        rpc_client_rate_per_s=0)
    root = Path(tmp_path_factory.mktemp("wallet-service"))
    layout = prepare_devnet(root / "devnet", manifest)
    with Devnet(layout) as devnet:
        devnet.start()
        devnet.wait_healthy()
        yield Net([manifest.get_rpc_url(i) for i in range(VALIDATORS)], f"http://127.0.0.1:{base}/mint", root, layout)


def start_service(net: Net, name: str, node: int, webhook_url: str | None = None) -> WalletService:
    """Start a wallet service on its own data directory, talking to one node."""
    data_dir = net.root / name
    data_dir.mkdir(exist_ok=True)
    return WalletService(name, data_dir, net.rpc_urls[node], net.faucet_url, webhook_url=webhook_url).start()


@pytest.fixture(scope="session")
def alpha(net: Net) -> Iterator[WalletService]:
    service = start_service(net, "alpha", 0)
    yield service
    service.stop()


@pytest.fixture(scope="session")
def beta(net: Net) -> Iterator[WalletService]:
    service = start_service(net, "beta", 1)
    yield service
    service.stop()
