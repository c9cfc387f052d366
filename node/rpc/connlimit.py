"""Connection limits for the HTTP listeners: a total and a per-client cap, and no socket held without a request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

# A socket that has not sent a byte this long after connecting is closed (idle sockets must not pile up).
FIRST_BYTE_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """How many connections a listener holds at once, in all and per client address."""

    total_max: int
    per_client_max: int
    exempt: frozenset[str] = frozenset()
    first_byte_timeout_s: float = FIRST_BYTE_TIMEOUT_S


@dataclass(slots=True)
class ConnectionCounts:
    """Open connections per client, and how many were refused or closed idle."""

    by_client: dict[str, int] = field(default_factory=dict)
    total: int = 0
    refused: int = 0
    closed_idle: int = 0


class ConnectionGate:
    """Wraps an asyncio protocol factory: over a cap, a new connection is closed before any byte is read."""

    def __init__(self, factory: Callable[[], asyncio.Protocol], limits: ConnectionLimits) -> None:
        self.factory = factory
        self.limits = limits
        self.counts = ConnectionCounts()

    def __call__(self) -> asyncio.Protocol:
        return _GatedProtocol(self)

    def is_admissible(self, client: str) -> bool:
        """Return True when one more connection from client fits both caps."""
        if self.counts.total >= self.limits.total_max:
            return False
        return client in self.limits.exempt or self.counts.by_client.get(client, 0) < self.limits.per_client_max

    def add(self, client: str) -> None:
        """Count an accepted connection."""
        self.counts.total += 1
        self.counts.by_client[client] = self.counts.by_client.get(client, 0) + 1

    def remove(self, client: str) -> None:
        """Forget a closed connection."""
        self.counts.total -= 1
        left = self.counts.by_client[client] - 1
        if left:
            self.counts.by_client[client] = left
        else:
            del self.counts.by_client[client]


class _GatedProtocol(asyncio.Protocol):
    """Counts one connection and delegates everything to the wrapped protocol once admitted."""

    def __init__(self, gate: ConnectionGate) -> None:
        self.gate = gate
        self.inner: asyncio.Protocol | None = None
        self.client = ""
        self.idle_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self.client = peer[0] if isinstance(peer, tuple) and peer else ""
        if not self.gate.is_admissible(self.client):
            self.gate.counts.refused += 1
            transport.abort()
            return
        self.gate.add(self.client)
        self.inner = self.gate.factory()
        self.idle_timer = asyncio.get_running_loop().call_later(
            self.gate.limits.first_byte_timeout_s, self._close_idle, transport)
        self.inner.connection_made(transport)

    def _close_idle(self, transport: asyncio.BaseTransport) -> None:
        self.gate.counts.closed_idle += 1
        transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.inner is None:
            return
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        self.gate.remove(self.client)
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None
        if self.inner is not None:
            self.inner.data_received(data)  # type: ignore[attr-defined]

    def eof_received(self) -> bool | None:
        return None if self.inner is None else self.inner.eof_received()  # type: ignore[attr-defined]

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()


class LimitedSite(web.TCPSite):
    """A TCPSite whose connections pass a ConnectionGate."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, limits: ConnectionLimits) -> None:
        super().__init__(runner, host, port)
        self.limits = limits
        self.gate: ConnectionGate | None = None

    async def start(self) -> None:
        """Listen, gating every connection (aiohttp's own TCPSite.start with the factory wrapped)."""
        self._runner._reg_site(self)  # what BaseSite.start does
        server = self._runner.server
        if server is None:
            raise RuntimeError("the runner is not set up")
        self.gate = ConnectionGate(server, self.limits)
        self._server = await asyncio.get_running_loop().create_server(
            self.gate, self._host, self._port, backlog=self._backlog, reuse_address=self._reuse_address)

    def get_port(self) -> int:
        """Return the port the site listens on."""
        sockets = self._server.sockets if self._server is not None else []  # type: ignore[union-attr]
        return sockets[0].getsockname()[1] if sockets else self._port
