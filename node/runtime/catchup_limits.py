"""What serving catch-up may cost per peer: a block budget per second and a cache of recent responses."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from node.rpc.ratelimit import RateLimiter

USECS_PER_SEC = 1_000_000
# A peer may make us read and decode this many blocks a second (bursts of CATCHUP_SERVE_BURST_BLOCKS): a node
# catching up honestly asks for one response at a time, far below it.
CATCHUP_SERVE_BLOCKS_PER_S = 512
CATCHUP_SERVE_BURST_BLOCKS = 1_024
# Encoded responses kept for repeats (any peer asking the same thing is answered from here, at cost 1).
CATCHUP_RESPONSE_CACHE_ENTRIES = 32
CACHED_RESPONSE_COST_BLOCKS = 1
PEERS_TRACKED_MAX = 1_024


class CatchUpServeLimiter:
    """Per-peer token buckets in blocks (node.rpc.ratelimit's, on the runtime's clock) and an LRU response cache."""

    def __init__(self, blocks_per_s: int = CATCHUP_SERVE_BLOCKS_PER_S,
                 burst_blocks: int = CATCHUP_SERVE_BURST_BLOCKS) -> None:
        self._now_s = 0.0
        self._buckets = RateLimiter(blocks_per_s, burst_blocks, clock=lambda: self._now_s, clients_max=PEERS_TRACKED_MAX)
        self._responses: OrderedDict[Hashable, bytes] = OrderedDict()
        self.refused = 0

    def charge(self, peer: bytes, cost_blocks: int, now_usecs: int) -> bool:
        """Take cost_blocks from the peer's bucket; False (and nothing taken) when it has too few."""
        self._now_s = now_usecs / USECS_PER_SEC
        is_allowed = self._buckets.charge(peer.hex(), cost_blocks) is None
        self.refused += not is_allowed
        return is_allowed

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
