"""Network scenarios on 127.0.0.1: exchange, strangers, garbage, oversize frames, restarts, epochs."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from node.network import KeyPair, Network, TransportConfig, PeerInfo, generate_key_pair
from node.network import framing
from node.network.noise import Initiator, Session
from node.network.peers import PEER_SCORE_BAN_THRESHOLD, PENALTY_MALFORMED_FRAME
from node.network.transport import RECONNECT_DELAY_MS_MAX, RECONNECT_DELAY_MS_MIN, compute_next_delay_ms

pytestmark = pytest.mark.timeout(30)
WAIT_SECS = 10
SMALL_FRAME_BYTES = 4096
# Hand-made hellos carry strictly rising stamps, as a real dialer's do.
def generate_hello_stamps_ms():  # noqa: ANN201
    """Yield wall-clock stamps, strictly increasing (a listener refuses stale, future and repeated ones)."""
    last = 0
    while True:
        last = max(time.time_ns() // 1_000_000, last + 1)
        yield last


HELLO_STAMPS_MS = generate_hello_stamps_ms()


def make_peer_id(number: int) -> bytes:
    """Return a 16-byte peer id; lower ids dial higher ones."""
    return bytes([number]) * 16


def get_peer_info(network: Network) -> PeerInfo:
    """Return how other validators reach a started network."""
    config = network.config
    return PeerInfo(config.peer_id, config.key_pair.public_key, "127.0.0.1", network.listen_port)


@asynccontextmanager
async def running_networks(count: int, **overrides: object) -> AsyncIterator[list[Network]]:
    """Start count networks that all know each other, and close them all afterwards."""
    networks = [
        Network(TransportConfig(make_peer_id(index + 1), generate_key_pair(), **overrides))  # type: ignore[arg-type]
        for index in range(count)
    ]
    try:
        for network in networks:
            await network.start()
        peers = [get_peer_info(network) for network in networks]
        for network in networks:
            network.update_peers(peers)
        async with asyncio.timeout(WAIT_SECS):
            for network in networks:
                await network.wait_connected(peer for peer in network.peers.by_id)
        yield networks
    finally:
        for network in networks:
            await network.close()


async def receive(network: Network) -> tuple[bytes, bytes]:
    """Return the next inbound (peer, data), failing the test if none arrives in time."""
    async with asyncio.timeout(WAIT_SECS):
        return await network.inbound.get()


async def raw_handshake(
    key_pair: KeyPair, server: Network, prologue: bytes = b"stablechain/network/v1",
    hello: bytes | None = None,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, Session]:
    """Complete an IK handshake by hand, as a hostile or broken client would."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.listen_port)
    initiator = Initiator(key_pair, server.config.key_pair.public_key, prologue, generate_key_pair())
    payload = framing.encode_hello(next(HELLO_STAMPS_MS)) if hello is None else hello
    try:
        writer.write(framing.encode_frame(initiator.write_message1(payload)))
        await writer.drain()
        message2 = await framing.read_frame(reader, framing.MAX_HANDSHAKE_FRAME_BYTES)
    except BaseException:
        writer.close()
        raise
    _, session = initiator.read_message2(message2)
    return reader, writer, session


async def assert_closed_by_server(reader: asyncio.StreamReader) -> None:
    """Check the server hung up on us."""
    async with asyncio.timeout(WAIT_SECS):
        assert await reader.read() == b""


async def test_three_validators_exchange_messages() -> None:
    async with running_networks(3) as (alice, bob, carol):
        assert alice.send(bob.config.peer_id, b"hello bob")
        assert await receive(bob) == (alice.config.peer_id, b"hello bob")
        assert carol.broadcast(b"vote") == 2
        assert await receive(alice) == (carol.config.peer_id, b"vote")
        assert await receive(bob) == (carol.config.peer_id, b"vote")
        # Many messages in a burst arrive whole and in order.
        for index in range(200):
            bob.send(carol.config.peer_id, b"m%d" % index)
        assert [(await receive(carol))[1] for _ in range(200)] == [b"m%d" % i for i in range(200)]


async def test_a_stranger_with_a_valid_key_is_refused_before_any_message() -> None:
    async with running_networks(2) as (alice, bob):
        stranger_keys = generate_key_pair()
        reader, writer = await asyncio.open_connection("127.0.0.1", alice.listen_port)
        initiator = Initiator(
            stranger_keys, alice.config.key_pair.public_key, alice.config.prologue, generate_key_pair()
        )
        writer.write(framing.encode_frame(initiator.write_message1(framing.encode_hello(next(HELLO_STAMPS_MS)))))
        # Pipelined bytes after message 1: the refusal must come before they are ever read.
        writer.write(framing.encode_frame(b"\x00" * 64))
        await writer.drain()
        await assert_closed_by_server(reader)  # no message 2: the stranger never gets session keys
        writer.close()
        assert alice.stats.refused_unknown_keys == 1
        assert alice.inbound.empty()
        assert alice.get_connected_peers() == {bob.config.peer_id}


async def test_a_stranger_network_never_connects() -> None:
    async with running_networks(1) as (alice,):
        stranger = Network(TransportConfig(b"\x00" * 16, generate_key_pair()), [get_peer_info(alice)])
        try:
            await stranger.start()
            await asyncio.sleep(0.3)  # several dial attempts with backoff
            assert not stranger.send(alice.config.peer_id, b"let me in")
            assert alice.stats.refused_unknown_keys >= 1
            assert alice.get_connected_peers() == set()
        finally:
            await stranger.close()


async def test_garbage_frame_disconnects_without_scoring_the_identity_while_others_keep_talking() -> None:
    mallory_keys = generate_key_pair()
    mallory_id = make_peer_id(9)
    async with running_networks(2) as (alice, bob):
        alice.update_peers([*alice.peers.by_id.values(), PeerInfo(mallory_id, mallory_keys.public_key, "127.0.0.1", 1)])
        reader, writer, _ = await raw_handshake(mallory_keys, alice)
        writer.write(framing.encode_frame(b"\x13" * 100))  # not a valid ciphertext
        await writer.drain()
        await assert_closed_by_server(reader)
        writer.close()
        # Anyone on the path could have injected it: the connection ends, the identity keeps its score.
        assert alice.scores.get_score(mallory_id) == 0 and alice.stats.misbehaviours == 0
        bob.send(alice.config.peer_id, b"still here")
        assert await receive(alice) == (bob.config.peer_id, b"still here")


async def test_well_encrypted_but_malformed_envelope_is_misbehaviour() -> None:
    mallory_keys = generate_key_pair()
    mallory_id = make_peer_id(9)
    async with running_networks(1) as (alice,):
        alice.update_peers([PeerInfo(mallory_id, mallory_keys.public_key, "127.0.0.1", 1)])
        reader, writer, session = await raw_handshake(mallory_keys, alice)
        writer.write(framing.encode_frame(session.send_cipher.encrypt(b"", b"\xc1 not msgpack")))
        await writer.drain()
        await assert_closed_by_server(reader)
        writer.close()
        assert alice.scores.get_score(mallory_id) < 0 and alice.inbound.empty()


async def test_oversize_frame_disconnects_the_sender_without_reading_it() -> None:
    mallory_keys = generate_key_pair()
    mallory_id = make_peer_id(9)
    async with running_networks(2, max_frame_bytes=SMALL_FRAME_BYTES) as (alice, bob):
        alice.update_peers([*alice.peers.by_id.values(), PeerInfo(mallory_id, mallory_keys.public_key, "127.0.0.1", 1)])
        reader, writer, _ = await raw_handshake(mallory_keys, alice)
        writer.write((SMALL_FRAME_BYTES + 1).to_bytes(framing.FRAME_HEADER_BYTES, "big"))
        await writer.drain()
        await assert_closed_by_server(reader)
        writer.close()
        assert alice.scores.get_score(mallory_id) == 0, "an unauthenticated length prefix is not the peer's doing"
        bob.send(alice.config.peer_id, b"x" * (alice.max_payload_bytes))  # the largest legal message
        assert await receive(alice) == (bob.config.peer_id, b"x" * alice.max_payload_bytes)


async def test_garbage_instead_of_a_handshake_is_dropped() -> None:
    async with running_networks(2) as (alice, bob):
        reader, writer = await asyncio.open_connection("127.0.0.1", alice.listen_port)
        writer.write(framing.encode_frame(b"GET / HTTP/1.1\r\n\r\n" * 10))
        await writer.drain()
        await assert_closed_by_server(reader)
        writer.close()
        assert alice.stats.handshake_failures == 1
        assert alice.get_connected_peers() == {bob.config.peer_id}


async def test_a_peer_of_another_chain_fails_the_handshake() -> None:
    async with running_networks(1) as (alice,):
        member_keys = generate_key_pair()
        alice.update_peers([PeerInfo(make_peer_id(9), member_keys.public_key, "127.0.0.1", 1)])
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await raw_handshake(member_keys, alice, prologue=b"another chain")
        assert alice.stats.handshake_failures == 1


async def test_a_peer_speaking_another_protocol_version_is_refused() -> None:
    async with running_networks(1) as (alice,):
        member_keys = generate_key_pair()
        alice.update_peers([PeerInfo(make_peer_id(9), member_keys.public_key, "127.0.0.1", 1)])
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await raw_handshake(member_keys, alice, hello=b"\x92\x02\x01")  # msgpack [2, 1]
        assert alice.stats.handshake_failures == 1
        assert alice.get_connected_peers() == set()


async def test_a_replayed_first_handshake_message_does_not_replace_the_live_connection() -> None:
    member_keys = generate_key_pair()
    member_id = make_peer_id(9)
    async with running_networks(1) as (alice,):
        alice.update_peers([PeerInfo(member_id, member_keys.public_key, "127.0.0.1", 1)])
        initiator = Initiator(
            member_keys, alice.config.key_pair.public_key, alice.config.prologue, generate_key_pair()
        )
        message1 = framing.encode_frame(initiator.write_message1(framing.encode_hello(next(HELLO_STAMPS_MS))))
        reader, writer = await asyncio.open_connection("127.0.0.1", alice.listen_port)
        writer.write(message1)
        _, session = initiator.read_message2(await framing.read_frame(reader, 1024))
        async with asyncio.timeout(WAIT_SECS):
            await alice.wait_connected([member_id])
        live = alice.connections[member_id]
        # An eavesdropper replays the captured message 1 on a socket of its own.
        replay_reader, replay_writer = await asyncio.open_connection("127.0.0.1", alice.listen_port)
        replay_writer.write(message1)
        await assert_closed_by_server(replay_reader)
        replay_writer.close()
        assert alice.stats.refused_replays == 1 and alice.connections[member_id] is live
        writer.write(framing.encode_frame(session.send_cipher.encrypt(b"", framing.encode_message(b"ok"))))
        assert await receive(alice) == (member_id, b"ok")
        writer.close()


async def test_repeated_misbehaviour_bans_the_peer() -> None:
    mallory_keys = generate_key_pair()
    mallory_id = make_peer_id(9)
    async with running_networks(1) as (alice,):
        alice.update_peers([PeerInfo(mallory_id, mallory_keys.public_key, "127.0.0.1", 1)])
        while alice.scores.get_score(mallory_id) > PEER_SCORE_BAN_THRESHOLD:
            reader, writer, session = await raw_handshake(mallory_keys, alice)
            writer.write(framing.encode_frame(session.send_cipher.encrypt(b"", b"\xc1 not msgpack")))
            await assert_closed_by_server(reader)
            writer.close()
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await raw_handshake(mallory_keys, alice)
        assert alice.stats.refused_banned == 1


@pytest.mark.parametrize("restarted_index", [0, 1], ids=["dialer-restarts", "listener-restarts"])
async def test_connection_comes_back_after_a_peer_restarts(restarted_index: int) -> None:
    async with running_networks(2) as networks:
        survivor = networks[1 - restarted_index]
        restarted = networks[restarted_index]
        config = restarted.config
        port = restarted.listen_port
        await restarted.close()
        async with asyncio.timeout(WAIT_SECS):
            await survivor.wait_disconnected(config.peer_id)
        replacement = Network(
            TransportConfig(config.peer_id, config.key_pair, listen_port=port),
            [get_peer_info(survivor)],
        )
        networks[restarted_index] = replacement  # the context manager closes it
        await replacement.start()
        async with asyncio.timeout(WAIT_SECS):
            await survivor.wait_connected([config.peer_id])
            await replacement.wait_connected([survivor.config.peer_id])
        replacement.send(survivor.config.peer_id, b"back")
        assert await receive(survivor) == (config.peer_id, b"back")


async def test_peer_set_is_replaced_at_an_epoch_boundary() -> None:
    async with running_networks(3) as (alice, bob, carol):
        # Alice leaves the validator set; she still has the old set and keeps dialing.
        next_epoch = [get_peer_info(bob), get_peer_info(carol)]
        for network in (bob, carol):
            network.update_peers(next_epoch)
        async with asyncio.timeout(WAIT_SECS):
            await alice.wait_disconnected(bob.config.peer_id)
            await alice.wait_disconnected(carol.config.peer_id)
            while bob.stats.refused_unknown_keys == 0 or carol.stats.refused_unknown_keys == 0:
                await asyncio.sleep(0.01)
        assert not alice.send(bob.config.peer_id, b"old epoch")
        assert bob.get_connected_peers() == {carol.config.peer_id}
        carol.send(bob.config.peer_id, b"new epoch")
        assert await receive(bob) == (carol.config.peer_id, b"new epoch")
        # A newcomer joins at the next boundary and dials the members with higher ids.
        dave = Network(TransportConfig(make_peer_id(0), generate_key_pair()))
        try:
            await dave.start()
            for network in (bob, carol, dave):
                network.update_peers([*next_epoch, get_peer_info(dave)])
            async with asyncio.timeout(WAIT_SECS):
                await dave.wait_connected([bob.config.peer_id, carol.config.peer_id])
            dave.broadcast(b"hi")
            assert await receive(bob) == (dave.config.peer_id, b"hi")
        finally:
            await dave.close()


async def test_close_ends_every_task_it_started() -> None:
    async with running_networks(3) as networks:
        networks[0].broadcast(b"bye")
    for network in networks:
        assert network.tasks == set() and network.handler_tasks == set()
        assert network.get_connected_peers() == set()


async def test_idle_connections_stay_up_with_keep_alives_and_a_silent_peer_is_dropped() -> None:
    member_keys = generate_key_pair()
    member_id = make_peer_id(9)
    async with running_networks(2, ping_interval_ms=50) as (alice, bob):
        alice.update_peers([*alice.peers.by_id.values(), PeerInfo(member_id, member_keys.public_key, "127.0.0.1", 1)])
        reader, writer, _ = await raw_handshake(member_keys, alice)
        # The hand-made peer never sends anything, not even keep-alives: it is dropped as dead.
        async with asyncio.timeout(WAIT_SECS):
            await alice.wait_connected([member_id])
            await alice.wait_disconnected(member_id)
        writer.close()
        assert alice.scores.get_score(member_id) == 0  # silence is not misbehaviour
        # Alice and Bob were idle for many intervals too, but their keep-alives kept them up.
        assert alice.get_connected_peers() == {bob.config.peer_id}
        alice.send(bob.config.peer_id, b"after the silence")
        assert await receive(bob) == (alice.config.peer_id, b"after the silence")


def test_reconnect_delay_doubles_up_to_its_cap() -> None:
    delays = [RECONNECT_DELAY_MS_MIN]
    for _ in range(12):
        delays.append(compute_next_delay_ms(delays[-1]))
    assert delays[:4] == [RECONNECT_DELAY_MS_MIN * 2**i for i in range(4)]
    assert delays[-1] == RECONNECT_DELAY_MS_MAX and max(delays) == RECONNECT_DELAY_MS_MAX
