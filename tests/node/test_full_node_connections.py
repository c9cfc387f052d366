"""Full-node connections: a validator accepts a bounded number of nodes outside its peer set, which may only ask
for sync data and submit transactions; a consensus message from one is refused and ends its connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from node.network import Network, PeerInfo, TransportConfig, generate_key_pair
from node.network.peers import compute_full_node_id
from node.runtime.catchup import make_request
from node.runtime.wire import CHANNEL_CATCHUP_RESPONSE, CHANNEL_CONSENSUS, encode_envelope, is_consensus_message
from node.runtime.wire import is_full_node_message

pytestmark = pytest.mark.timeout(30)
WAIT_SECS = 10
VALIDATOR_ID = bytes([9]) * 16
FULL_NODE_ID = bytes([1]) * 16
CONSENSUS_MESSAGE = encode_envelope(CHANNEL_CONSENSUS, b"\x90")
SYNC_REQUEST = make_request((1, 0))


@asynccontextmanager
async def validator_and_full_node(slots: int) -> AsyncIterator[tuple[Network, Network]]:
    """Start a validator taking `slots` full nodes, and a full node (a follower) that dials it."""
    validator = Network(TransportConfig(VALIDATOR_ID, generate_key_pair(), full_node_connections_max=slots,
                                        is_allowed_from_full_node=is_full_node_message))
    full_node = Network(TransportConfig(FULL_NODE_ID, generate_key_pair()))
    full_node.set_follower(True)
    try:
        await validator.start()
        await full_node.start()
        full_node.update_peers([PeerInfo(VALIDATOR_ID, validator.config.key_pair.public_key, "127.0.0.1",
                                         validator.listen_port)])
        yield validator, full_node
    finally:
        await full_node.close()
        await validator.close()


async def wait_for(condition, timeout_s: float = WAIT_SECS) -> None:  # noqa: ANN001
    """Poll until condition() holds."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


async def test_a_full_node_asks_for_sync_data_and_gets_the_answer_back() -> None:
    async with validator_and_full_node(slots=1) as (validator, full_node):
        await full_node.wait_connected([VALIDATOR_ID])
        client_id = compute_full_node_id(full_node.config.key_pair.public_key)
        await wait_for(lambda: client_id in validator.full_nodes)
        assert validator.get_connected_peers() == set(), "a full node is no peer: broadcasts never reach it"

        assert full_node.send(VALIDATOR_ID, SYNC_REQUEST)
        sender, data = await asyncio.wait_for(validator.inbound.get(), WAIT_SECS)
        assert (sender, data) == (client_id, SYNC_REQUEST)
        assert validator.send(client_id, b"the answer"), "answers go back to the full node that asked"
        assert await asyncio.wait_for(full_node.inbound.get(), WAIT_SECS) == (VALIDATOR_ID, b"the answer")


async def test_a_consensus_message_from_a_full_node_is_refused_and_ends_its_connection() -> None:
    async with validator_and_full_node(slots=1) as (validator, full_node):
        await full_node.wait_connected([VALIDATOR_ID])
        client_id = compute_full_node_id(full_node.config.key_pair.public_key)
        await wait_for(lambda: client_id in validator.full_nodes)

        full_node.send(VALIDATOR_ID, CONSENSUS_MESSAGE)
        await wait_for(lambda: validator.stats.refused_full_node_messages == 1)

        assert validator.inbound.empty(), "the consensus message never reached the runtime"
        await wait_for(lambda: client_id not in validator.full_nodes)
        assert validator.scores.is_banned(client_id), "it may not come straight back"


async def test_a_validator_without_full_node_slots_refuses_outsiders() -> None:
    async with validator_and_full_node(slots=0) as (validator, full_node):
        await wait_for(lambda: validator.stats.refused_unknown_keys >= 1)
        assert validator.full_nodes == {} and VALIDATOR_ID not in full_node.get_connected_peers()


def test_only_sync_requests_and_transactions_pass_the_full_node_allowlist() -> None:
    assert is_full_node_message(SYNC_REQUEST)
    assert not is_full_node_message(CONSENSUS_MESSAGE)
    assert not is_full_node_message(b"not msgpack \xc1")
    # A follower keeps its consensus messages home, but answers the full nodes that follow it.
    assert is_consensus_message(CONSENSUS_MESSAGE) and not is_consensus_message(SYNC_REQUEST)
    assert not is_consensus_message(encode_envelope(CHANNEL_CATCHUP_RESPONSE, b"\x90"))
