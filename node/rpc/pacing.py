"""Paced reads: the heavy work of every read runs a chunk at a time, one chunk at a time node-wide."""

# Issue H item 5. The node is one asyncio loop, and consensus runs on it. A page of 1,000 transactions with events
# takes tens of milliseconds to read, render and encode; served in one piece, a few clients keep the loop busy for
# seconds and the chain all but stops (0.13 of 4.3 blocks/s, docs/perf.md). So every paged read, stream replay and
# long answer is cut into chunks of READ_CHUNK_ITEMS items, one chunk runs at a time node-wide, and the loop runs
# whatever else is ready (consensus messages among it) between two chunks: a consensus message waits at most one
# chunk, however many clients read. `tests/adversarial/test_reads_live.py` measures the block rate under a flood.

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TypeVar

from primitives.errors import invariant

# Items read, rendered or encoded in one piece (about 3 ms of work for transactions with events).
READ_CHUNK_ITEMS = 50

invariant(READ_CHUNK_ITEMS > 0, "a chunk holds at least one item")

T = TypeVar("T")
# A JSON value as json.dumps takes it (node.rpc.jsonrpc.JsonValue; that module builds on this one).
JsonValue = object


class ReadPacer:
    """Runs chunks of read work one at a time node-wide, letting the event loop run between two chunks."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.chunks = 0

    async def run(self, work: Callable[[], T]) -> T:
        """Return work() once no other chunk runs; whatever else is ready runs before the next chunk starts."""
        async with self.lock:
            try:
                return work()
            finally:
                self.chunks += 1
                await asyncio.sleep(0)


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
    if not isinstance(answer, dict):
        return encode_json(answer)
    fields = []
    for key, value in answer.items():
        text = await encode_list(value, pacer) if isinstance(value, list) else encode_json(value)
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
