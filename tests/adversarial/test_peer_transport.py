"""Items 8 and 12 on the validator transport: a byte budget per peer with fair delivery, and handshakes that
neither replay after a restart nor lock out a validator whose clock ran ahead."""

from __future__ import annotations

import asyncio
import time

import pytest

from node.network import framing
from node.network.inbound import FairInbound
from node.network.noise import Initiator
from node.network.peers import PeerInfo
from node.network.gate import HELLO_FRESHNESS_MS
from node.network.transport import Network, TransportConfig, generate_key_pair
from tests.node.test_network import (
    HELLO_STAMPS_MS,
    assert_closed_by_server,
    make_peer_id,
    raw_handshake,
    running_networks,
)

FAST, SLOW = b"\x0f" * 16, b"\x05" * 16


async def test_a_fast_peer_waits_at_its_byte_budget_and_never_delays_another_peer() -> None:
    inbound = FairInbound(peer_bytes_max=1_000, peer_messages_max=100)
    for _ in range(10):
        await inbound.put((FAST, b"x" * 100))
    flooding = asyncio.create_task(inbound.put((FAST, b"x" * 100)))
    await asyncio.sleep(0.01)
    assert not flooding.done(), "past its budget the fast peer's reader waits"
    await inbound.put((SLOW, b"vote"))
    assert (await inbound.get())[0] == FAST
    assert await inbound.get() == (SLOW, b"vote"), "the slow peer is served next, not after the flood"
    await asyncio.wait_for(flooding, 1)
    assert inbound.get_peer_bytes(FAST) <= 1_000


async def test_a_recorded_handshake_does_not_replay_after_the_responder_restarts() -> None:
    member_keys, member_id = generate_key_pair(), make_peer_id(9)
    alice_keys = generate_key_pair()
    captured = None
    for attempt in range(2):
        alice = Network(TransportConfig(make_peer_id(1), alice_keys))
        await alice.start()
        try:
            alice.update_peers([PeerInfo(member_id, member_keys.public_key, "127.0.0.1", 1)])
            if attempt == 0:
                initiator = Initiator(member_keys, alice_keys.public_key, alice.config.prologue, generate_key_pair())
                captured = framing.encode_frame(initiator.write_message1(framing.encode_hello(next(HELLO_STAMPS_MS))))
                await asyncio.sleep(0.01)
                continue
            # Alice restarted: the eavesdropper replays the message 1 it recorded before.
            reader, writer = await asyncio.open_connection("127.0.0.1", alice.listen_port)
            writer.write(captured)
            await assert_closed_by_server(reader)
            writer.close()
            assert alice.stats.refused_replays == 1 and member_id not in alice.connections
        finally:
            await alice.close()


async def test_a_validator_whose_clock_ran_ahead_is_welcome_once_it_is_corrected() -> None:
    member_keys, member_id = generate_key_pair(), make_peer_id(9)
    async with running_networks(1) as (alice,):
        alice.update_peers([PeerInfo(member_id, member_keys.public_key, "127.0.0.1", 1)])
        ahead_ms = time.time_ns() // 1_000_000 + 10 * HELLO_FRESHNESS_MS
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await raw_handshake(member_keys, alice, hello=framing.encode_hello(ahead_ms))
        assert alice.stats.refused_stale_hellos == 1
        _, writer, _ = await raw_handshake(member_keys, alice)  # its clock is right again
        async with asyncio.timeout(5):
            await alice.wait_connected([member_id])
        writer.close()
