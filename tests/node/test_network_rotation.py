"""Network key rotation on 127.0.0.1: a validator switches its Noise static key at a boundary and peers follow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from node.network import KeyPair, Network, TransportConfig, PeerInfo, framing, generate_key_pair
from node.network.noise import Initiator
from tests.node.test_network import (
    HELLO_STAMPS_MS,
    WAIT_SECS,
    assert_closed_by_server,
    get_peer_info,
    make_peer_id,
    receive,
)

pytestmark = pytest.mark.timeout(30)
# How long two nodes must stay apart while only one side knows the new key (a bound, not a measurement).
APART_SECS = 0.3


@asynccontextmanager
async def started(count: int) -> AsyncIterator[list[Network]]:
    """Start count networks that know each other, connected; close them all afterwards."""
    networks = [Network(TransportConfig(make_peer_id(index + 1), generate_key_pair())) for index in range(count)]
    try:
        for network in networks:
            await network.start()
        peers = [get_peer_info(network) for network in networks]
        for network in networks:
            network.update_peers(peers)
        async with asyncio.timeout(WAIT_SECS):
            for network in networks:
                await network.wait_connected(network.peers.by_id)
        yield networks
    finally:
        for network in networks:
            await network.close()


async def assert_talk(first: Network, second: Network, text: bytes) -> None:
    """Both directions deliver a message, authenticated as the expected sender."""
    async with asyncio.timeout(WAIT_SECS):
        await first.wait_connected([second.config.peer_id])
        await second.wait_connected([first.config.peer_id])
    assert first.send(second.config.peer_id, text)
    assert await receive(second) == (first.config.peer_id, text)
    assert second.send(first.config.peer_id, text + b"-back")
    assert await receive(first) == (second.config.peer_id, text + b"-back")


def pin(networks: list[Network]) -> list[PeerInfo]:
    """Return the peer set as a new epoch's validator set lists it (each network's current key)."""
    return [get_peer_info(network) for network in networks]


@pytest.mark.parametrize("rotating_index", [0, 1], ids=["rotating-dials", "rotating-is-dialled"])
async def test_after_a_rotation_and_a_peer_set_update_the_pair_talks_again_and_the_old_key_is_a_stranger(
    rotating_index: int,
) -> None:
    async with started(2) as networks:
        rotating, other = networks[rotating_index], networks[1 - rotating_index]
        await assert_talk(rotating, other, b"old keys")
        old_keys = rotating.config.key_pair
        # The boundary, seen by the rotating node first: it switches its static key and reconnects.
        assert rotating.set_static_key(generate_key_pair())
        assert not rotating.set_static_key(rotating.config.key_pair)  # the same key again changes nothing
        async with asyncio.timeout(WAIT_SECS):
            await other.wait_disconnected(rotating.config.peer_id)
        await asyncio.sleep(APART_SECS)  # the other side still pins the old key: no connection forms
        assert rotating.config.peer_id not in other.get_connected_peers()
        # The other node reaches the boundary: its peer set pins the new key.
        new_set = pin(networks)
        other.update_peers(new_set)
        rotating.update_peers(new_set)
        await assert_talk(rotating, other, b"new keys")
        # Someone holding the old key (leaked, or the retired one) is a stranger now.
        refused_before = other.stats.refused_unknown_keys
        reader, writer = await send_first_handshake_message(old_keys, other)
        try:
            await assert_closed_by_server(reader)
        finally:
            writer.close()
        assert other.stats.refused_unknown_keys == refused_before + 1
        assert other.get_connected_peers() == {rotating.config.peer_id}


async def send_first_handshake_message(key_pair: KeyPair, server: Network) -> tuple[asyncio.StreamReader,
                                                                                   asyncio.StreamWriter]:
    """Dial server as key_pair and send the IK message 1 (what anyone holding that key can do)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.listen_port)
    initiator = Initiator(key_pair, server.config.key_pair.public_key, server.config.prologue, generate_key_pair())
    writer.write(framing.encode_frame(initiator.write_message1(framing.encode_hello(next(HELLO_STAMPS_MS)))))
    await writer.drain()
    return reader, writer


async def test_peers_not_rotating_keep_their_connections_while_the_rotating_one_reconnects() -> None:
    async with started(3) as (alice, bob, carol):
        alice_carol = alice.connections[carol.config.peer_id]
        assert bob.set_static_key(generate_key_pair())
        new_set = pin([alice, bob, carol])
        for network in (alice, carol, bob):
            network.update_peers(new_set)
        await assert_talk(bob, alice, b"to alice")
        await assert_talk(bob, carol, b"to carol")
        assert alice.connections[carol.config.peer_id] is alice_carol  # untouched by the rotation
        await assert_talk(alice, carol, b"still here")


async def test_a_connection_whose_handshake_used_a_replaced_key_is_not_served() -> None:
    async with started(2) as (alice, bob):
        connection = alice.connections[bob.config.peer_id]
        assert alice.is_current(connection)
        alice.set_static_key(generate_key_pair())
        assert not alice.is_current(connection)  # e.g. a handshake that finished just after the switch
        bob.update_peers(pin([alice, bob]))
        alice.update_peers(pin([alice, bob]))
        await assert_talk(alice, bob, b"after")
        assert alice.is_current(alice.connections[bob.config.peer_id])
