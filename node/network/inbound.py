"""Inbound peer messages: a byte budget per peer and round-robin delivery, so one fast peer cannot delay the rest."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque

# What one peer may have waiting for the node, in bytes and messages; past either, its reader waits (TCP then
# pushes back on that peer alone). A budget holds at least one largest frame.
PEER_INBOUND_BYTES_MAX = 32 * 1024 * 1024
PEER_INBOUND_MESSAGES_MAX = 2_000


class FairInbound:
    """Per-peer queues served in turn: get() takes one message from the next peer that has any."""

    def __init__(self, peer_bytes_max: int = PEER_INBOUND_BYTES_MAX,
                 peer_messages_max: int = PEER_INBOUND_MESSAGES_MAX) -> None:
        self.peer_bytes_max = peer_bytes_max
        self.peer_messages_max = peer_messages_max
        # Peers with waiting messages, in turn order (the one served last goes to the back).
        self._queues: OrderedDict[bytes, deque[bytes]] = OrderedDict()
        self._bytes: dict[bytes, int] = {}
        self._readable = asyncio.Event()
        self._room: dict[bytes, asyncio.Event] = {}
        self._size = 0

    def qsize(self) -> int:
        """Return how many messages wait, over every peer."""
        return self._size

    def empty(self) -> bool:
        """Return True when no message waits."""
        return self._size == 0

    def get_peer_bytes(self, peer_id: bytes) -> int:
        """Return how many bytes of a peer wait."""
        return self._bytes.get(peer_id, 0)

    def _is_full(self, peer_id: bytes, size: int) -> bool:
        queue = self._queues.get(peer_id)
        if queue is None:
            return False  # an empty queue takes any one message (a frame is already bounded)
        return len(queue) >= self.peer_messages_max or self._bytes[peer_id] + size > self.peer_bytes_max

    async def put(self, item: tuple[bytes, bytes]) -> None:
        """Queue a peer's message, waiting while that peer is over its budget."""
        peer_id, data = item
        while self._is_full(peer_id, len(data)):
            room = self._room.setdefault(peer_id, asyncio.Event())
            room.clear()
            await room.wait()
        self.put_nowait(item)

    def put_nowait(self, item: tuple[bytes, bytes]) -> None:
        """Queue a message regardless of the budget (local use and tests)."""
        peer_id, data = item
        self._queues.setdefault(peer_id, deque()).append(data)
        self._bytes[peer_id] = self._bytes.get(peer_id, 0) + len(data)
        self._size += 1
        self._readable.set()

    def get_nowait(self) -> tuple[bytes, bytes]:
        """Take the next peer's oldest message (asyncio.QueueEmpty when none waits)."""
        if not self._queues:
            raise asyncio.QueueEmpty
        peer_id, queue = next(iter(self._queues.items()))
        data = queue.popleft()
        self._size -= 1
        self._bytes[peer_id] -= len(data)
        del self._queues[peer_id]
        if queue:
            self._queues[peer_id] = queue  # back of the line: every other waiting peer goes first
        else:
            del self._bytes[peer_id]
        room = self._room.get(peer_id)
        if room is not None:
            room.set()
        if not self._queues:
            self._readable.clear()
        return peer_id, data

    async def get(self) -> tuple[bytes, bytes]:
        """Wait for and take the next message, one peer at a time in turn."""
        while not self._queues:
            await self._readable.wait()
        return self.get_nowait()
