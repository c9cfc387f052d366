"""Ordered key-value backends under the store: LevelDB (plyvel) and an in-memory twin for tests."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Protocol

import plyvel

# LevelDB write buffer before a flush to a level-0 table; larger batches are still atomic.
LEVELDB_WRITE_BUFFER_BYTES = 16 * 1024 * 1024
LEVELDB_MAX_OPEN_FILES = 512


def compute_prefix_end(prefix: bytes) -> bytes | None:
    """Return the smallest key greater than every key starting with prefix (None: no bound)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


class KeyValueBackend(Protocol):
    """The few operations the store needs from an ordered key-value database."""

    def get(self, key: bytes) -> bytes | None:
        """Return the value of key, or None."""
        ...

    def write(self, puts: list[tuple[bytes, bytes]], deletes: list[bytes], sync: bool) -> None:
        """Apply every put and delete atomically."""
        ...

    def scan(self, prefix: bytes, start: bytes, reverse: bool) -> Iterator[tuple[bytes, bytes]]:
        """Yield (key, value) under prefix from start onwards (downwards when reverse)."""
        ...

    def is_empty(self) -> bool:
        """Return whether the database holds no key at all."""
        ...

    def close(self) -> None:
        """Release the database."""
        ...


class LevelBackend:
    """LevelDB through plyvel; every write is one atomic write batch."""

    def __init__(self, path: str) -> None:
        self.db = plyvel.DB(
            path,
            create_if_missing=True,
            write_buffer_size=LEVELDB_WRITE_BUFFER_BYTES,
            max_open_files=LEVELDB_MAX_OPEN_FILES,
        )

    def get(self, key: bytes) -> bytes | None:
        """Return the value of key, or None."""
        return self.db.get(key)

    def write(self, puts: list[tuple[bytes, bytes]], deletes: list[bytes], sync: bool) -> None:
        """Apply every put and delete in one write batch (transaction=True: all or nothing)."""
        with self.db.write_batch(transaction=True, sync=sync) as batch:
            for key in deletes:
                batch.delete(key)
            for key, value in puts:
                batch.put(key, value)

    def scan(self, prefix: bytes, start: bytes, reverse: bool) -> Iterator[tuple[bytes, bytes]]:
        """Yield (key, value) under prefix from start onwards (downwards when reverse)."""
        stop = compute_prefix_end(prefix)
        if reverse:
            # plyvel's stop bound is exclusive; include start itself by bounding just above it.
            iterator = self.db.iterator(start=prefix, stop=start + b"\x00", reverse=True)
        else:
            iterator = self.db.iterator(start=start, stop=stop)
        with iterator:
            yield from iterator

    def is_empty(self) -> bool:
        """Return whether the database holds no key at all."""
        with self.db.iterator(include_value=False) as iterator:
            return next(iterator, None) is None

    def close(self) -> None:
        """Release the database and its lock."""
        self.db.close()


class MemoryBackend:
    """A sorted in-memory map with the LevelDB backend's semantics (sync is meaningless here)."""

    def __init__(self) -> None:
        self.values: dict[bytes, bytes] = {}
        self.sorted_keys: list[bytes] = []

    def get(self, key: bytes) -> bytes | None:
        """Return the value of key, or None."""
        return self.values.get(key)

    def write(self, puts: list[tuple[bytes, bytes]], deletes: list[bytes], sync: bool) -> None:
        """Apply every put and delete."""
        for key in deletes:
            if self.values.pop(key, None) is not None:
                del self.sorted_keys[bisect.bisect_left(self.sorted_keys, key)]
        for key, value in puts:
            if key not in self.values:
                bisect.insort(self.sorted_keys, key)
            self.values[key] = value

    def scan(self, prefix: bytes, start: bytes, reverse: bool) -> Iterator[tuple[bytes, bytes]]:
        """Yield (key, value) under prefix from start onwards (downwards when reverse)."""
        keys = self.sorted_keys
        if reverse:
            position = bisect.bisect_right(keys, start) - 1
            while position >= 0 and keys[position].startswith(prefix):
                yield keys[position], self.values[keys[position]]
                position -= 1
            return
        position = bisect.bisect_left(keys, start)
        while position < len(keys) and keys[position].startswith(prefix):
            yield keys[position], self.values[keys[position]]
            position += 1

    def is_empty(self) -> bool:
        """Return whether the map holds no key at all."""
        return not self.values

    def close(self) -> None:
        """Nothing to release."""
