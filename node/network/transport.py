"""Authenticated, encrypted TCP between validators: Noise IK handshakes, framed msgpack messages."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, replace
from typing import Any

from node.network import framing
from node.network.connection import (
    CONNECTION_ERRORS,
    Connection,
    read_messages,
    set_user_timeout,
    write_messages,
)
from node.network.framing import FrameTooLarge
from node.network.gate import HandshakeSlots, HelloGuard
from node.network.inbound import PEER_INBOUND_BYTES_MAX, PEER_INBOUND_MESSAGES_MAX, FairInbound
from node.network.noise import HandshakeError, Initiator, KeyPair, Responder
from node.network.peers import PENALTY_FORBIDDEN_MESSAGE, NetworkStats, PeerInfo, PeerScores, PeerSet
from node.network.peers import compute_full_node_id
from primitives.errors import invariant

HANDSHAKE_TIMEOUT_MS = 5_000
# [NET-2] A dial to a silent host (its link cut) gives up after this long, in its own task: nothing waits on it.
CONNECT_TIMEOUT_MS = 1_500
CLOSE_TIMEOUT_MS = 2_000
# [NET-1] An idle connection sends a keep-alive every interval; one silent for IDLE_PINGS_MAX intervals is dead
# (and one whose sent data stays unacknowledged for TCP_USER_TIMEOUT_MS: node.network.connection).
PING_INTERVAL_MS = 1_000
IDLE_PINGS_MAX = 3
# [NET-2] Reconnect backoff: doubling from the minimum, capped so a peer that comes back is reached within
# CONNECT_TIMEOUT_MS + RECONNECT_DELAY_MS_MAX (2.5 s).
RECONNECT_DELAY_MS_MIN = 50
RECONNECT_DELAY_MS_MAX = 1_000
# The Noise prologue names the chain: `NETWORK_PROLOGUE_PREFIX` followed by the chain id byte.
NETWORK_PROLOGUE_PREFIX = b"stablechain/network/v1/chain-"

invariant(RECONNECT_DELAY_MS_MIN <= RECONNECT_DELAY_MS_MAX, "backoff bounds are ordered")

log = logging.getLogger(__name__)


def compute_next_delay_ms(delay_ms: int) -> int:
    """Return the reconnect delay after a failed attempt: doubled, capped at the maximum."""
    return min(delay_ms * 2, RECONNECT_DELAY_MS_MAX)


def compute_network_prologue(chain_id: int) -> bytes:
    """Return the Noise prologue of a chain: peers of another chain fail the handshake."""
    return NETWORK_PROLOGUE_PREFIX + bytes([chain_id])


def generate_key_pair() -> KeyPair:
    """Return a fresh random X25519 network key pair."""
    return KeyPair.from_private_key(os.urandom(32))


@dataclass(frozen=True, slots=True)
class TransportConfig:
    """Identity, listening address and limits of one validator's transport (node.config's [network] says where)."""

    peer_id: bytes
    key_pair: KeyPair
    listen_host: str = "127.0.0.1"
    listen_port: int = 0
    prologue: bytes = b"stablechain/network/v1"
    max_frame_bytes: int = framing.MAX_FRAME_BYTES
    inbound_peer_bytes_max: int = PEER_INBOUND_BYTES_MAX
    inbound_peer_messages_max: int = PEER_INBOUND_MESSAGES_MAX
    ping_interval_ms: int = PING_INTERVAL_MS
    # Nodes outside the peer set (full nodes, joiners) this node accepts, and which of their messages it takes.
    full_node_connections_max: int = 0
    is_allowed_from_full_node: Callable[[bytes], bool] | None = None


class Network:
    """Validator-to-validator messaging: start(), send(), broadcast(), inbound, update_peers()."""

    def __init__(self, config: TransportConfig, peers: Iterable[PeerInfo] = ()) -> None:
        self.config = config
        self.peers = PeerSet(peer for peer in peers if peer.peer_id != config.peer_id)
        # [item 8] A byte budget per peer and round-robin delivery (no single shared queue a fast peer fills).
        self.inbound = FairInbound(config.inbound_peer_bytes_max, config.inbound_peer_messages_max)
        self.connections: dict[bytes, Connection] = {}
        self.full_nodes: dict[bytes, Connection] = {}  # inbound connections of nodes outside the peer set
        self.is_follower = False  # outside the set ourselves: dial every peer, expect no dial
        self.scores = PeerScores()
        self.stats = NetworkStats()
        self.listen_port = config.listen_port
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.handler_tasks: set[asyncio.Task[None]] = set()
        self.handler_writers: set[asyncio.StreamWriter] = set()
        self.hellos, self.handshake_slots = HelloGuard(), HandshakeSlots()
        self.last_sent_hello_ms = 0
        self.dialers: dict[bytes, asyncio.Task[None]] = {}
        self.failures: list[BaseException] = []
        self.connections_changed = asyncio.Event()
        self.max_payload_bytes = framing.get_max_payload_bytes(config.max_frame_bytes)

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen for peers and start dialing the ones this node connects to."""
        self.server = await asyncio.start_server(
            self._on_inbound, self.config.listen_host, self.config.listen_port
        )
        self.listen_port = self.server.sockets[0].getsockname()[1]
        self._start_dialers()

    async def close(self) -> None:
        """Stop listening, drop every connection and end every task this network started."""
        if self.server is not None:
            self.server.close()
        for writer in list(self.handler_writers):
            writer.transport.abort()
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Handler tasks belong to asyncio's server, which logs an error if they end cancelled
        # (Python 3.11); with their sockets aborted and their children cancelled they end alone.
        handlers = list(self.handler_tasks)
        _, pending = await asyncio.wait(handlers, timeout=CLOSE_TIMEOUT_MS / 1000) if handlers else ((), ())
        for task in pending:
            task.cancel()
        if self.server is not None:
            await self.server.wait_closed()
        if self.failures:
            raise self.failures[0]

    def _get_hello_timestamp_ms(self) -> int:
        """Return a wall-clock stamp in ms, strictly above every stamp this process sent."""
        self.last_sent_hello_ms = max(time.time_ns() // 1_000_000, self.last_sent_hello_ms + 1)
        return self.last_sent_hello_ms

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Start a task that close() will cancel; an unexpected crash is kept for close()."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._on_task_done)
        return task

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        """Forget a finished task, remembering a crash so that it is not silent."""
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("network task %s crashed", task.get_name(), exc_info=task.exception())
            self.failures.append(task.exception())  # type: ignore[arg-type]

    # ---- peers --------------------------------------------------------------------------------

    def update_peers(self, peers: Iterable[PeerInfo]) -> None:
        """Replace the peer set (at an epoch boundary): drop leavers, dial newcomers."""
        old = self.peers
        self.peers = PeerSet(peer for peer in peers if peer.peer_id != self.config.peer_id)
        for peer_id, connection in list(self.full_nodes.items()):
            if self.peers.get_by_key(connection.remote_public_key) is not None:  # joined the set: redial as a peer
                self.full_nodes.pop(peer_id).abort()
        for peer_id, peer in old.by_id.items():
            if self.peers.by_id.get(peer_id) != peer:
                dialer = self.dialers.pop(peer_id, None)
                if dialer is not None:
                    dialer.cancel()
                self._drop_connection(peer_id)
        if self.server is not None:
            self._start_dialers()

    def set_follower(self, is_follower: bool) -> None:
        """Switch between a member (one dialer per pair) and a follower outside the set (dials every peer)."""
        if is_follower == self.is_follower:
            return
        self.is_follower = is_follower
        for peer_id in list(self.dialers):
            self.dialers.pop(peer_id).cancel()
            self._drop_connection(peer_id)
        for peer_id in list(self.connections):
            self._drop_connection(peer_id)
        if self.server is not None:
            self._start_dialers()

    def set_static_key(self, key_pair: KeyPair) -> bool:
        """Use key_pair for every new handshake (a network key rotation) and reconnect; False when unchanged."""
        # Peers that pin the new key accept the new connections; until they do, dials retry with backoff.
        if key_pair == self.config.key_pair:
            return False
        self.config = replace(self.config, key_pair=key_pair)
        for peer_id in list(self.connections):
            self._drop_connection(peer_id)
        return True

    def _drop_connection(self, peer_id: bytes) -> None:
        """Abort a peer's connection and forget it now, so nothing more is queued on it while it closes."""
        connection = self.connections.pop(peer_id, None)
        if connection is not None:
            connection.abort()
            self.connections_changed.set()

    def is_current(self, connection: Connection) -> bool:
        """Return True iff a connection was made with our current static key and the key the peer set pins."""
        peer = self.peers.by_id.get(connection.peer_id)
        return (peer is not None and peer.network_public_key == connection.remote_public_key
                and connection.local_public_key == self.config.key_pair.public_key)

    def _start_dialers(self) -> None:
        """Dial every peer with a higher id than ours (so each pair has exactly one dialer); a follower dials all."""
        for peer_id, peer in self.peers.by_id.items():
            if (peer_id > self.config.peer_id or self.is_follower) and peer_id not in self.dialers:
                self.dialers[peer_id] = self._spawn(self._dial_forever(peer), f"dial-{peer_id.hex()}")

    def get_connected_peers(self) -> set[bytes]:
        """Return the ids of peers with an authenticated connection."""
        return set(self.connections)

    async def wait_connected(self, peer_ids: Iterable[bytes]) -> None:
        """Wait until every given peer is connected."""
        wanted = set(peer_ids)
        while not wanted <= set(self.connections):
            self.connections_changed.clear()
            await self.connections_changed.wait()

    async def wait_disconnected(self, peer_id: bytes) -> None:
        """Wait until a peer has no connection."""
        while peer_id in self.connections:
            self.connections_changed.clear()
            await self.connections_changed.wait()

    # ---- sending ------------------------------------------------------------------------------

    def send(self, peer_id: bytes, data: bytes) -> bool:
        """Queue data for one peer without waiting; False when not connected or its queue is full."""
        invariant(len(data) <= self.max_payload_bytes, f"message of {len(data)} bytes above cap")
        connection = self.connections.get(peer_id) or self.full_nodes.get(peer_id)
        if connection is None:
            return False
        try:
            connection.outbound.put_nowait(data)
        except asyncio.QueueFull:
            self.stats.dropped_outbound_messages += 1
            return False
        return True

    def broadcast(self, data: bytes) -> int:
        """Queue data for every connected peer (never a full node); return how many accepted it."""
        return sum(self.send(peer_id, data) for peer_id in list(self.connections))

    # ---- connections --------------------------------------------------------------------------

    async def _dial_forever(self, peer: PeerInfo) -> None:
        """Keep one connection to a peer open, reconnecting with exponential backoff."""
        delay_ms = RECONNECT_DELAY_MS_MIN
        while True:
            ban_ms = self.scores.get_ban_remaining_ms(peer.peer_id)
            if ban_ms > 0:
                await asyncio.sleep(ban_ms / 1000)
            connection = await self._dial(peer)
            if connection is not None:
                delay_ms = RECONNECT_DELAY_MS_MIN
                await self._run_connection(connection)
            await asyncio.sleep(delay_ms / 1000)
            delay_ms = compute_next_delay_ms(delay_ms)

    async def _dial(self, peer: PeerInfo) -> Connection | None:
        """Connect to a peer and run the initiator handshake; None when it fails."""
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_MS / 1000):
                reader, writer = await asyncio.open_connection(peer.host, peer.port)
        except CONNECTION_ERRORS:
            return None
        set_user_timeout(writer)
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT_MS / 1000):
                local_key = self.config.key_pair
                initiator = Initiator(local_key, peer.network_public_key, self.config.prologue, generate_key_pair())
                hello = framing.encode_hello(self._get_hello_timestamp_ms())
                writer.write(framing.encode_frame(initiator.write_message1(hello)))
                await writer.drain()
                message2 = await framing.read_frame(reader, framing.MAX_HANDSHAKE_FRAME_BYTES)
                _, session = initiator.read_message2(message2)
        except (HandshakeError, FrameTooLarge, *CONNECTION_ERRORS):
            self.stats.handshake_failures += 1
            writer.transport.abort()
            return None
        return Connection(peer.peer_id, session, reader, writer, local_public_key=local_key.public_key,
                          remote_public_key=peer.network_public_key)

    async def _on_inbound(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Authenticate an inbound connection as a current validator, then serve it."""
        task = asyncio.current_task()
        invariant(task is not None, "inbound handler runs in a task")
        self.handler_tasks.add(task)  # type: ignore[arg-type]
        self.handler_writers.add(writer)
        set_user_timeout(writer)
        try:
            if not self.handshake_slots.take(self.stats):
                return
            try:
                connection = await self._accept(reader, writer)
            finally:
                self.handshake_slots.release()
            if connection is not None:
                await self._run_connection(connection)
        finally:
            writer.transport.abort()
            self.handler_writers.discard(writer)
            self.handler_tasks.discard(task)  # type: ignore[arg-type]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Connection | None:
        """Run the responder handshake; refuse strangers and banned peers before anything else."""
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT_MS / 1000):
                local_key = self.config.key_pair
                responder = Responder(local_key, self.config.prologue, generate_key_pair())
                message1 = await framing.read_frame(reader, framing.MAX_HANDSHAKE_FRAME_BYTES)
                timestamp_ms = framing.decode_hello(responder.read_message1(message1))
                if timestamp_ms is None:
                    self.stats.handshake_failures += 1
                    return None
                peer = self.peers.get_by_key(responder.remote_static_key) or self._admit_full_node(
                    responder.remote_static_key)
                if peer is None:
                    return None
                if self.scores.is_banned(peer.peer_id):
                    self.stats.refused_banned += 1
                    return None
                if not self.hellos.is_acceptable(peer.network_public_key, timestamp_ms, self.stats):
                    return None
                message2, session = responder.write_message2(b"")
                writer.write(framing.encode_frame(message2))
                await writer.drain()
        except (HandshakeError, FrameTooLarge, *CONNECTION_ERRORS):
            self.stats.handshake_failures += 1
            return None
        return Connection(peer.peer_id, session, reader, writer, local_public_key=local_key.public_key,
                          remote_public_key=peer.network_public_key,
                          is_full_node=self.peers.get_by_key(peer.network_public_key) is None)

    def _admit_full_node(self, network_public_key: bytes) -> PeerInfo | None:
        """Return a full node's identity when a full-node slot is free; None (counted) otherwise."""
        if len(self.full_nodes) >= self.config.full_node_connections_max:
            self.stats.refused_unknown_keys += 1
            if self.config.full_node_connections_max > 0:
                self.stats.refused_full_node_slots += 1
            return None
        return PeerInfo(compute_full_node_id(network_public_key), network_public_key, "", 0)

    async def _run_connection(self, connection: Connection) -> None:
        """Serve one connection until it fails or is replaced; the newest one per peer wins."""
        table = self.full_nodes if connection.is_full_node else self.connections
        if not connection.is_full_node and not self.is_current(connection):
            connection.abort()  # a key rotation or a peer set change happened during its handshake
            return
        previous = table.get(connection.peer_id)
        if previous is not None:
            previous.abort()
        table[connection.peer_id] = connection
        self.connections_changed.set()
        reader_task = self._spawn(self._read_loop(connection), f"read-{connection.peer_id.hex()}")
        writer_task = self._spawn(self._write_loop(connection), f"write-{connection.peer_id.hex()}")
        try:
            await asyncio.wait([reader_task, writer_task], return_when=asyncio.FIRST_COMPLETED)
        finally:
            reader_task.cancel()
            writer_task.cancel()
            await asyncio.gather(reader_task, writer_task, return_exceptions=True)
            connection.abort()
            if table.get(connection.peer_id) is connection:
                del table[connection.peer_id]
            self.connections_changed.set()

    async def _read_loop(self, connection: Connection) -> None:
        """Deliver a connection's messages; malformed or oversize input scores the peer down and ends it."""
        idle_timeout_secs = self.config.ping_interval_ms * IDLE_PINGS_MAX / 1000
        is_allowed = self.config.is_allowed_from_full_node if connection.is_full_node else None
        penalty = await read_messages(connection, self.inbound, self.config.max_frame_bytes, idle_timeout_secs,
                                      is_allowed)
        if penalty == PENALTY_FORBIDDEN_MESSAGE:
            self.stats.refused_full_node_messages += 1
            log.warning("full node %s sent a message full nodes may not send (only sync requests and transactions): "
                        "refused, connection closed", connection.peer_id.hex())
        if penalty is not None:
            self._on_misbehaviour(connection.peer_id, penalty)

    async def _write_loop(self, connection: Connection) -> None:
        """Write a connection's queued messages; ping when idle."""
        await write_messages(connection, self.config.ping_interval_ms)

    def _on_misbehaviour(self, peer_id: bytes, penalty: int) -> None:
        """Count a protocol violation against a peer."""
        self.stats.misbehaviours += 1
        self.scores.on_misbehaviour(peer_id, penalty)
        log.warning("peer %s misbehaved; score %d", peer_id.hex(), self.scores.get_score(peer_id))
