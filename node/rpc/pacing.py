"""Paced reads: the heavy work of every read runs a chunk at a time, one chunk at a time node-wide, within a share
of the event loop's time."""

# Issue H item 5. The node is one asyncio loop, and consensus runs on it. A page of 1,000 transactions with events
# takes tens of milliseconds to read, render and encode; served in one piece, a few clients keep the loop busy for
# seconds and the chain all but stops (0.13 of 4.3 blocks/s, docs/perf.md). So every paged read, stream replay and
# long answer is cut into chunks of READ_CHUNK_ITEMS items, one chunk runs at a time node-wide, the loop runs
# whatever else is ready (consensus messages among it) between two chunks, and reads get at most
# READ_LOOP_SHARE_MAX of the loop's time once a burst is spent: a consensus message waits at most one chunk, and a
# flooded node still has half its time (and CPU) for everything else, however many clients read.
# `tests/adversarial/test_reads_live.py` measures the block rate under such a flood.

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from primitives.errors import invariant

# Items read, rendered or encoded in one piece (about 3 ms of work for transactions with events).
READ_CHUNK_ITEMS = 50
# Reads may take at most this share of the event loop's time (issue H item 5: consensus keeps half its rate) ...
READ_LOOP_SHARE_MAX = 0.5
# ... once they have spent this much at once: a lone page of 1,000 transactions with events is served unpaused.
READ_BURST_S = 0.2

invariant(READ_CHUNK_ITEMS > 0 and 0 < READ_LOOP_SHARE_MAX <= 1 and READ_BURST_S > 0, "read pacing limits")

T = TypeVar("T")
# A JSON value as json.dumps takes it (node.rpc.jsonrpc.JsonValue; that module builds on this one).
JsonValue = object


class ReadPacer:
    """Runs chunks of read work one at a time node-wide, the loop free between two, within a share of its time."""

    def __init__(self, share_max: float = READ_LOOP_SHARE_MAX, burst_s: float = READ_BURST_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.lock = asyncio.Lock()
        self.share_max = share_max
        self.burst_s = burst_s
        self.clock = clock
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        # Seconds of reading allowed now: earned at share_max per second, spent by each chunk, at most burst_s.
        self.credit_s = burst_s
        self.updated = clock()
        self.chunks = 0

    async def run(self, work: Callable[[], T]) -> T:
        """Return work() once no other chunk runs and reads are within their share; the loop runs before the next."""
        async with self.lock:
            await self.wait_for_credit()
            started = self.clock()
            try:
                return work()
            finally:
                self.chunks += 1
                self.credit_s -= self.clock() - started
                await asyncio.sleep(0)

    async def wait_for_credit(self) -> None:
        """Earn credit for the time since the last chunk; in debt, rest until the debt is repaid."""
        self.refill()
        if self.credit_s < 0:
            await self.sleep(-self.credit_s / self.share_max)
            self.refill()

    def refill(self) -> None:
        """Add the credit earned since the last refill."""
        now = self.clock()
        self.credit_s = min(self.burst_s, self.credit_s + (now - self.updated) * self.share_max)
        self.updated = now


async def read_chunked(pacer: ReadPacer, read: Callable[[int, int], list[T]], start: int, count: int,
                       stop_when_short: bool = True) -> list[T]:
    """Return read(first, n) over positions start .. start + count - 1, a chunk at a time; a short chunk ends it
    unless told otherwise (a read that skips missing positions)."""
    items: list[T] = []
    for first in range(start, start + count, READ_CHUNK_ITEMS):
        size = min(READ_CHUNK_ITEMS, start + count - first)
        chunk = await pacer.run(lambda first=first, size=size: read(first, size))  # type: ignore[misc]
        items += chunk
        if stop_when_short and len(chunk) < size:
            break
    return items


def encode_json(value: JsonValue) -> str:
    """Return value as compact JSON (the node's one spelling)."""
    return json.dumps(value, separators=(",", ":"))


async def encode_answer(answer: JsonValue, pacer: ReadPacer) -> str:
    """Return encode_json(answer) for a JSON-RPC answer (an object or a batch), long lists a chunk at a time."""
    if isinstance(answer, list):
        return "[" + ",".join([await encode_answer(item, pacer) for item in answer]) + "]"
    # Most answers (submits, single reads) hold nothing to cut: one json.dumps, not a walk field by field.
    return await encode_object(answer, pacer) if not is_plain(answer) else encode_json(answer)


def is_plain(value: JsonValue) -> bool:
    """Return whether encode_object would pace nothing in value: no list of two or more items in it or its objects."""
    if isinstance(value, dict):
        return all(is_plain(field) for field in value.values())
    return not isinstance(value, list) or len(value) <= 1  # a list's items are encoded whole, as in encode_list


async def encode_object(value: dict, pacer: ReadPacer) -> str:
    """Return encode_json(value), its list fields (and those of its object fields) through encode_list."""
    fields = []
    for key, field in value.items():
        if isinstance(field, list):
            text = await encode_list(field, pacer)
        else:
            text = await encode_object(field, pacer) if isinstance(field, dict) else encode_json(field)
        fields.append(f"{encode_json(key)}:{text}")
    return "{" + ",".join(fields) + "}"


async def encode_list(items: list[JsonValue], pacer: ReadPacer) -> str:
    """Return encode_json(items), READ_CHUNK_ITEMS items at a time through the pacer."""
    if len(items) <= 1:
        return encode_json(items)
    chunks = []
    for first in range(0, len(items), READ_CHUNK_ITEMS):
        part = items[first:first + READ_CHUNK_ITEMS]
        chunks.append(await pacer.run(lambda part=part: ",".join(map(encode_json, part))))  # type: ignore[misc]
    return "[" + ",".join(chunks) + "]"
