"""One authenticated connection to a peer: its session, its queue, and the loops that read and write it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from node.network import framing
from node.network.framing import FrameTooLarge, MalformedMessage
from node.network.inbound import FairInbound
from node.network.noise import DecryptError, Session
from node.network.peers import PENALTY_FORBIDDEN_MESSAGE, PENALTY_MALFORMED_FRAME

WRITE_TIMEOUT_MS = 5_000
# [NET-1] A connection whose sent data stays unacknowledged for this long is dead (the kernel's own check,
# which otherwise retries for about 15 minutes).
TCP_USER_TIMEOUT_MS = 3_000
OUTBOUND_QUEUE_MAX_MESSAGES = 1_000
# Operating errors of one connection: they end that connection, never the node.
CONNECTION_ERRORS = (ConnectionError, asyncio.IncompleteReadError, OSError, TimeoutError)


@dataclass(eq=False, slots=True)
class Connection:
    """One authenticated connection to a peer."""

    peer_id: bytes
    session: Session
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    outbound: asyncio.Queue[bytes] = field(
        default_factory=lambda: asyncio.Queue(maxsize=OUTBOUND_QUEUE_MAX_MESSAGES)
    )
    local_public_key: bytes = b""  # our static key in its handshake
    remote_public_key: bytes = b""  # the peer's authenticated static key
    is_full_node: bool = False  # a node outside our peer set that dialled us: it may only ask for sync data

    def abort(self) -> None:
        """Drop the TCP connection at once; the reader and writer loops then end."""
        self.writer.transport.abort()


def set_user_timeout(writer: asyncio.StreamWriter) -> None:
    """[NET-1] Make the kernel fail a connection whose sent data stays unacknowledged for TCP_USER_TIMEOUT_MS."""
    sock = writer.get_extra_info("socket")
    if sock is not None and hasattr(socket, "TCP_USER_TIMEOUT"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, TCP_USER_TIMEOUT_MS)


async def read_messages(connection: Connection, inbound: FairInbound, max_frame_bytes: int,
                        idle_timeout_secs: float, is_allowed: Callable[[bytes], bool] | None = None) -> int | None:
    """Decrypt and deliver frames until the connection ends; return the penalty the peer earned, if any.

    is_allowed, when given, vets every message first (a full node's); the first refused one ends the connection.
    """
    cipher = connection.session.receive_cipher
    try:
        while True:
            # A peer that vanished without closing (power loss, partition) is detected here.
            async with asyncio.timeout(idle_timeout_secs):
                frame = await framing.read_frame(connection.reader, max_frame_bytes)
            data = framing.decode_message(cipher.decrypt(b"", frame))
            if data is not None and is_allowed is not None and not is_allowed(data):
                return PENALTY_FORBIDDEN_MESSAGE
            if data is not None:
                await inbound.put((connection.peer_id, data))
    except (FrameTooLarge, DecryptError):
        # [item 12] Not attributable: the length prefix is unauthenticated and a frame that fails to decrypt may
        # have been injected on the path, so the connection ends but the peer's identity is not scored down.
        return None
    except MalformedMessage:
        return PENALTY_MALFORMED_FRAME  # it decrypted: the peer itself sent it
    except CONNECTION_ERRORS:
        return None


async def write_messages(connection: Connection, ping_interval_ms: int) -> None:
    """Encrypt and write queued messages, draining after each burst; ping when idle."""
    cipher = connection.session.send_cipher
    try:
        while True:
            envelopes = [await get_next_envelope(connection, ping_interval_ms)]
            while not connection.outbound.empty():
                envelopes.append(framing.encode_message(connection.outbound.get_nowait()))
            if connection.writer.is_closing():
                return  # aborted (dead peer, replaced connection): what is queued is dropped
            for envelope in envelopes:
                connection.writer.write(framing.encode_frame(cipher.encrypt(b"", envelope)))
            async with asyncio.timeout(WRITE_TIMEOUT_MS / 1000):
                await connection.writer.drain()
    except CONNECTION_ERRORS:
        pass


async def get_next_envelope(connection: Connection, ping_interval_ms: int) -> bytes:
    """Return the next queued message's envelope, or a keep-alive after an idle interval."""
    try:
        async with asyncio.timeout(ping_interval_ms / 1000):
            return framing.encode_message(await connection.outbound.get())
    except TimeoutError:
        return framing.encode_ping()
