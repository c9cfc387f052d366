"""What serving catch-up may cost per peer: a block budget per second and a cache of recent responses."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

USECS_PER_SEC = 1_000_000
# A peer may make us read and decode this many blocks a second (bursts of CATCHUP_SERVE_BURST_BLOCKS), charged by
# the blocks actually served: several times what an honest node replays while catching up, so it never waits.
CATCHUP_SERVE_BLOCKS_PER_S = 2_048
CATCHUP_SERVE_BURST_BLOCKS = 4_096
# Encoded responses kept for repeats (any peer asking the same thing is answered from here, at cost 1).
CATCHUP_RESPONSE_CACHE_ENTRIES = 32
CACHED_RESPONSE_COST_BLOCKS = 1
PEERS_TRACKED_MAX = 1_024


class CatchUpServeLimiter:
    """Per-peer budgets in blocks (a peer in debt is not served until it refills) and an LRU response cache."""

    def __init__(self, blocks_per_s: int = CATCHUP_SERVE_BLOCKS_PER_S,
                 burst_blocks: int = CATCHUP_SERVE_BURST_BLOCKS) -> None:
        self.blocks_per_s = blocks_per_s
        self.burst_blocks = burst_blocks
        self._buckets: OrderedDict[bytes, tuple[float, int]] = OrderedDict()
        self._responses: OrderedDict[Hashable, bytes] = OrderedDict()
        self.refused = 0

    def _refill(self, peer: bytes, now_usecs: int) -> float:
        tokens, updated = self._buckets.pop(peer, (float(self.burst_blocks), now_usecs))
        tokens = min(float(self.burst_blocks), tokens + max(0, now_usecs - updated) * self.blocks_per_s / USECS_PER_SEC)
        self._buckets[peer] = (tokens, now_usecs)
        if len(self._buckets) > PEERS_TRACKED_MAX:
            self._buckets.popitem(last=False)
        return tokens

    def is_allowed(self, peer: bytes, now_usecs: int) -> bool:
        """Return True when the peer has budget left (it is then served, and charged what that cost)."""
        is_allowed = self._refill(peer, now_usecs) > 0
        self.refused += not is_allowed
        return is_allowed

    def charge(self, peer: bytes, cost_blocks: int, now_usecs: int) -> None:
        """Charge blocks served; the budget may go into debt (one response's worth at most)."""
        tokens = self._refill(peer, now_usecs)
        self._buckets[peer] = (tokens - cost_blocks, now_usecs)

    def get_cached(self, key: Hashable) -> bytes | None:
        """Return the encoded response to an identical recent request, if kept."""
        found = self._responses.get(key)
        if found is not None:
            self._responses.move_to_end(key)
        return found

    def keep(self, key: Hashable, response: bytes) -> None:
        """Keep an encoded response for repeats."""
        self._responses[key] = response
        self._responses.move_to_end(key)
        while len(self._responses) > CATCHUP_RESPONSE_CACHE_ENTRIES:
            self._responses.popitem(last=False)

    def forget_responses(self) -> None:
        """Drop cached responses (after our committed chain changed epoch, say)."""
        self._responses.clear()
