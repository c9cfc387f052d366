"""Following the chain from outside the validator set: ask upstream nodes for certified blocks, in turn.

A full node (or a validator before the epoch that lists it) sees no consensus messages, so nothing tells it a
newer commit exists: it asks. Each request goes to the next connected upstream; an answer is verified against
the epoch's validator set and re-executed by catch-up, and the next request leaves as soon as it is committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from node.network import Network
from node.runtime.catchup import make_request
from node.runtime.runtime import Runtime
from node.runtime.wire import CommitNotice

# An upstream with nothing newer does not answer; the next one is asked after this long.
FOLLOW_REQUEST_INTERVAL_MS = 500
MS_PER_SEC = 1_000


class ChainFollower:
    """Asks upstream peers, round-robin, for the blocks after our last commit while this node is outside the set."""

    def __init__(self, runtime: Runtime, network: Network, is_follower: Callable[[], bool]) -> None:
        self.runtime = runtime
        self.network = network
        self.is_follower = is_follower
        self.next_index = 0
        self.advanced = asyncio.Event()
        self.requests_sent = 0

    def on_commit(self, _notice: CommitNotice) -> None:
        """Wake the loop: the last answer was applied, so the next blocks can be asked for at once."""
        self.advanced.set()

    def pick_upstream(self) -> bytes | None:
        """Return the next connected upstream in turn, or None when none is connected."""
        upstreams = sorted(self.network.get_connected_peers())
        if not upstreams:
            return None
        self.next_index = (self.next_index + 1) % len(upstreams)
        return upstreams[self.next_index]

    async def run(self) -> None:
        """Ask for the next blocks until cancelled; wait for a commit or the interval between requests."""
        while True:
            upstream = self.pick_upstream() if self.is_follower() else None
            if upstream is None:
                await asyncio.sleep(FOLLOW_REQUEST_INTERVAL_MS / MS_PER_SEC)
                continue
            self.advanced.clear()
            self.network.send(upstream, make_request(self.runtime.get_committed_position()))
            self.requests_sent += 1
            try:
                await asyncio.wait_for(self.advanced.wait(), FOLLOW_REQUEST_INTERVAL_MS / MS_PER_SEC)
            except TimeoutError:
                pass
