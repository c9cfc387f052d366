"""Who may connect: the validator set's network keys, and a score per misbehaving peer."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass

from node.network.noise import DH_LENGTH_BYTES
from primitives.errors import invariant

PEER_SCORE_INITIAL = 0
PEER_SCORE_BAN_THRESHOLD = -50
PENALTY_MALFORMED_FRAME = 25
PENALTY_OVERSIZE_FRAME = 25
# A full node that sends what full nodes may not (a consensus message) is banned at once.
PENALTY_FORBIDDEN_MESSAGE = -PEER_SCORE_BAN_THRESHOLD
FULL_NODE_ID_DOMAIN = b"stablechain/full-node-id"
FULL_NODE_ID_LENGTH = 16
PEER_BAN_DURATION_MS = 30_000


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """A validator's identity, X25519 network key and listening address."""

    peer_id: bytes
    network_public_key: bytes
    host: str
    port: int


def compute_full_node_id(network_public_key: bytes) -> bytes:
    """Return the id a full node's connection goes by: a hash of its network key (it has no validator address)."""
    return hashlib.sha3_256(FULL_NODE_ID_DOMAIN + network_public_key).digest()[:FULL_NODE_ID_LENGTH]


class PeerSet:
    """The current validator set's peers, indexed by id and by network key."""

    def __init__(self, peers: Iterable[PeerInfo]) -> None:
        self.by_id: dict[bytes, PeerInfo] = {}
        self.by_key: dict[bytes, PeerInfo] = {}
        for peer in peers:
            invariant(len(peer.network_public_key) == DH_LENGTH_BYTES, "network keys are X25519")
            invariant(peer.peer_id not in self.by_id, f"duplicate peer id {peer.peer_id.hex()}")
            invariant(peer.network_public_key not in self.by_key, "two peers share a network key")
            self.by_id[peer.peer_id] = peer
            self.by_key[peer.network_public_key] = peer

    def get_by_key(self, network_public_key: bytes) -> PeerInfo | None:
        """Return the peer owning a network key, or None for a stranger."""
        return self.by_key.get(network_public_key)


class PeerScores:
    """Misbehaviour scores; a peer at or below the threshold is banned for a while."""

    def __init__(self) -> None:
        self.scores: dict[bytes, int] = {}
        self.banned_until_ms: dict[bytes, float] = {}

    def get_score(self, peer_id: bytes) -> int:
        """Return a peer's current score."""
        return self.scores.get(peer_id, PEER_SCORE_INITIAL)

    def on_misbehaviour(self, peer_id: bytes, penalty: int) -> None:
        """Lower a peer's score and ban it when the score crosses the threshold."""
        score = self.get_score(peer_id) - penalty
        self.scores[peer_id] = score
        if score <= PEER_SCORE_BAN_THRESHOLD:
            self.banned_until_ms[peer_id] = time.monotonic() * 1000 + PEER_BAN_DURATION_MS

    def is_banned(self, peer_id: bytes) -> bool:
        """Return whether a peer is banned now; an expired ban resets its score."""
        until_ms = self.banned_until_ms.get(peer_id)
        if until_ms is None:
            return False
        if time.monotonic() * 1000 < until_ms:
            return True
        del self.banned_until_ms[peer_id]
        self.scores[peer_id] = PEER_SCORE_INITIAL
        return False

    def get_ban_remaining_ms(self, peer_id: bytes) -> float:
        """Return how long a peer stays banned (0 when it is not)."""
        if not self.is_banned(peer_id):
            return 0.0
        return max(0.0, self.banned_until_ms[peer_id] - time.monotonic() * 1000)


@dataclass(slots=True)
class NetworkStats:
    """Counters of refused and dropped connections, for metrics and tests."""

    handshake_failures: int = 0
    refused_unknown_keys: int = 0
    refused_banned: int = 0
    refused_replays: int = 0
    refused_stale_hellos: int = 0
    refused_busy: int = 0
    misbehaviours: int = 0
    dropped_outbound_messages: int = 0
    refused_full_node_slots: int = 0
    refused_full_node_messages: int = 0
