"""Refused and unauthenticated regulator requests: throttled per client, and counted instead of logged one by one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from node.rpc.ratelimit import RateLimiter

# A client may be refused (and have each refusal audited) this often; past it, answers are 429 and only counted.
REFUSED_RATE_PER_S = 1.0
REFUSED_BURST = 10
# Counts of throttled refusals go to the audit log as one entry per (client, reason) this often.
AGGREGATE_INTERVAL_S = 60.0
# Distinct (client, reason) counters held between flushes; past it, new clients are counted under OTHER_CLIENTS.
AGGREGATE_KEYS_MAX = 1_000
OTHER_CLIENTS = "(other clients)"
HTTP_TOO_MANY_REQUESTS = 429


@dataclass(frozen=True, slots=True)
class ThrottledCount:
    """How many refusals of one reason a client got throttled since the last flush."""

    client: str
    reason: str
    count: int


class RefusalThrottle:
    """Per-client budget for refusals; throttled ones are counted and flushed as aggregates."""

    def __init__(self, rate_per_s: float = REFUSED_RATE_PER_S, burst: int = REFUSED_BURST,
                 interval_s: float = AGGREGATE_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.limiter = RateLimiter(rate_per_s, burst, clock=clock)
        self.interval_s = interval_s
        self.clock = clock
        self.flushed_at = clock()
        self.counts: dict[tuple[str, str], int] = {}

    def is_within_budget(self, client: str) -> bool:
        """Charge one refusal to client; False when it is over its budget (answer 429, count it)."""
        return self.limiter.charge(client, 1) is None

    def count(self, client: str, reason: str) -> None:
        """Count one throttled refusal."""
        key = (client, reason)
        if key not in self.counts and len(self.counts) >= AGGREGATE_KEYS_MAX:
            key = (OTHER_CLIENTS, reason)
        self.counts[key] = self.counts.get(key, 0) + 1

    def take_due(self, is_forced: bool = False) -> list[ThrottledCount]:
        """Return and reset the counts when the interval has passed (or when forced)."""
        now = self.clock()
        if not self.counts or (not is_forced and now - self.flushed_at < self.interval_s):
            return []
        self.flushed_at = now
        taken = [ThrottledCount(client, reason, count) for (client, reason), count in self.counts.items()]
        self.counts = {}
        return taken
