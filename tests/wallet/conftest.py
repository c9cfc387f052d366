"""Shared fixtures: a running test node and a tampering proxy in front of it."""

from __future__ import annotations

import pytest

from tests.wallet.node import TamperingProxy, TestNode


@pytest.fixture
async def node():
    test_node = TestNode()
    await test_node.start()
    yield test_node
    await test_node.stop()


@pytest.fixture
async def proxy(node):
    tampering = TamperingProxy(node.url + "/v1")
    tampering.url = await tampering.start()
    yield tampering
    await tampering.stop()
