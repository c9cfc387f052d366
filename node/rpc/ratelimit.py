"""Per-client token buckets: O(1) per request, bounded memory, never awaits (nothing here can block the node)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable


# Distinct clients remembered at once; the least recently seen is forgotten first (it starts full again).
CLIENTS_TRACKED_MAX = 100_000
DEFAULT_CLIENT_RATE_PER_S = 100.0
DEFAULT_CLIENT_BURST = 200
MS_PER_S = 1000


class RateLimiter:
    """Token bucket per client key (the remote IP): `rate_per_s` tokens a second, up to `burst`."""

    def __init__(self, rate_per_s: float = DEFAULT_CLIENT_RATE_PER_S, burst: int = DEFAULT_CLIENT_BURST,
                 clock: Callable[[], float] = time.monotonic, clients_max: int = CLIENTS_TRACKED_MAX,
                 exempt: frozenset[str] = frozenset()) -> None:
        self.rate_per_s = rate_per_s
        self.exempt = exempt
        self.burst = burst
        self.clock = clock
        self.clients_max = clients_max
        # client -> (tokens, time of last refill)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @property
    def is_enabled(self) -> bool:
        """Return False when the rate is 0 (unlimited)."""
        return self.rate_per_s > 0

    def charge(self, client: str, cost: int = 1) -> int | None:
        """Take cost tokens from client's bucket: None when allowed, else the milliseconds until it would be."""
        if not self.is_enabled or client in self.exempt:
            return None
        cost = min(cost, self.burst)
        now = self.clock()
        tokens, updated = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - updated) * self.rate_per_s)
        allowed = tokens >= cost
        if allowed:
            tokens -= cost
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > self.clients_max:
            self._buckets.popitem(last=False)
        if allowed:
            return None
        return max(1, math.ceil((cost - tokens) / self.rate_per_s * MS_PER_S))

    def get_tracked_count(self) -> int:
        """Return how many clients have a bucket."""
        return len(self._buckets)
