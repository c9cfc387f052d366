"""What the listener lets in before a peer is authenticated: a few handshakes at once, and only fresh hellos."""

from __future__ import annotations

import time
from typing import Protocol

# A handshake's hello stamp must be this close to our clock (Diem allows 5 minutes of skew for proposals).
HELLO_FRESHNESS_MS = 60_000
# Unauthenticated inbound sockets (each is in its handshake, at most HANDSHAKE_TIMEOUT_MS) held at once.
PEER_PENDING_HANDSHAKES_MAX = 64


class GateStats(Protocol):
    """The counters the gate updates (node.network.peers.NetworkStats)."""

    refused_stale_hellos: int
    refused_replays: int
    refused_busy: int


def get_wall_clock_ms() -> int:
    """Unix time in milliseconds."""
    return time.time_ns() // 1_000_000


class HelloGuard:
    """[item 12] A recorded message 1 never replays, even after we restart, and a peer whose clock ran ahead is
    refused (not remembered), so it is welcome again once its clock is corrected."""

    def __init__(self) -> None:
        # Hellos stamped before this process started were recorded before it: refused as replays.
        self.started_ms = get_wall_clock_ms()
        self.last_hello_ms: dict[bytes, int] = {}

    def is_acceptable(self, network_public_key: bytes, timestamp_ms: int, stats: GateStats) -> bool:
        """Return whether a hello is accepted (then remembered); count why not."""
        if abs(timestamp_ms - get_wall_clock_ms()) > HELLO_FRESHNESS_MS:
            stats.refused_stale_hellos += 1
            return False
        if timestamp_ms <= self.last_hello_ms.get(network_public_key, -1) or timestamp_ms < self.started_ms:
            stats.refused_replays += 1
            return False
        self.last_hello_ms[network_public_key] = timestamp_ms
        return True


class HandshakeSlots:
    """[item 4] At most PEER_PENDING_HANDSHAKES_MAX strangers in their handshake: they cannot hold the descriptors
    peers need."""

    def __init__(self, slots_max: int = PEER_PENDING_HANDSHAKES_MAX) -> None:
        self.slots_max = slots_max
        self.taken = 0

    def take(self, stats: GateStats) -> bool:
        """Take a slot; False (counted) when every slot is taken."""
        if self.taken >= self.slots_max:
            stats.refused_busy += 1
            return False
        self.taken += 1
        return True

    def release(self) -> None:
        """Give a slot back."""
        self.taken -= 1
