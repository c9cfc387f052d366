"""An in-process node (the real JSON-RPC app over a certified in-memory chain) and the explorer in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient, TestServer

from explorer.chain import ChainReader
from explorer.routes import create_explorer_app
from primitives.keys import PrivateKey
from tests.wallet.node import TamperingProxy, TestNode
from wallet.builder import Account, compose_peer_to_peer
from wallet.client import Client

ALICE = Account(PrivateKey.from_seed_material(b"explorer-alice"))
BOB = Account(PrivateKey.from_seed_material(b"explorer-bob"))
FUNDING_MICRO = 9_000_000
PAYMENT_MICRO = 1_250_000


@dataclass
class Explorer:
    """The explorer's HTTP client, the node it reads (through a tampering proxy) and the payment made."""

    http: TestClient
    node: TestNode
    proxy: TamperingProxy
    payment_version: int


async def pay_alice_to_bob(url: str) -> int:
    """Fund Alice and Bob with the faucet, pay Bob from Alice, and return the payment's version."""
    async with Client(url, poll_interval_s=0.01) as client:
        await client.mint(ALICE.auth_key, FUNDING_MICRO)
        await client.mint(BOB.auth_key, 1)
        signed = await client.create_transaction(ALICE, compose_peer_to_peer(BOB.address, PAYMENT_MICRO))
        await client.submit(signed)
        return (await client.wait_for_transaction(signed, timeout_s=10)).version


@pytest.fixture
async def explorer() -> AsyncIterator[Explorer]:
    node = TestNode()
    await node.start()
    proxy = TamperingProxy(node.url + "/v1")
    proxy.url = await proxy.start()
    http = None
    try:
        version = await pay_alice_to_bob(node.url + "/v1")
        reader = ChainReader(proxy.url, node.ledger.genesis_hash.hex())
        http = TestClient(TestServer(create_explorer_app(reader)))
        await http.start_server()
        yield Explorer(http, node, proxy, version)
    finally:
        if http is not None:
            await http.close()
        await proxy.stop()
        await node.stop()
