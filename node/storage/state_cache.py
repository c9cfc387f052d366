"""The newest committed value of recently read or written state keys, kept in memory.

A LevelDB read of "the latest write at or before version v" needs a reverse iterator (about 25 µs);
admission and execution read at the latest committed version almost always, and the answer is then
the newest write of the key. This cache holds that newest write, so such a read is a dict lookup.

Readers run on the event loop and on admission worker threads while commits run on the event loop,
so every change happens under one lock and a generation counter keeps a reader that raced a commit
from installing what it read before the commit (see `remember`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

# Enough for the accounts of a busy devnet several times over; an entry is a key hash plus one resource.
STATE_CACHE_ENTRIES_MAX = 100_000
# When full, the oldest tenth goes at once, so eviction is rare and cheap.
STATE_CACHE_EVICT_FRACTION = 10

MISSING = object()  # the cache does not know: read the database


class LatestStateCache:
    """State key hash -> (version of its newest committed write, value or None); valid up to latest_version."""

    def __init__(self, latest_version: int, capacity_entries: int = STATE_CACHE_ENTRIES_MAX) -> None:
        self.entries: dict[bytes, tuple[int, bytes | None]] = {}
        self.latest_version = latest_version
        self.generation = 0
        self.capacity_entries = capacity_entries
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, state_key_hash: bytes, version: int) -> object:
        """Return the value as of version (None when deleted or never written), or MISSING."""
        entry = self.entries.get(state_key_hash)
        # No write of the key lies between entry's version and latest_version, so any version in that
        # range (and any later one: nothing newer is committed) reads the entry.
        if entry is not None and entry[0] <= version:
            self.hits += 1
            return entry[1]
        self.misses += 1
        return MISSING

    def get_generation(self) -> int:
        """Return the generation a reader must quote to `remember` what it reads next."""
        return self.generation

    def remember(self, generation: int, state_key_hash: bytes, version: int,
                 written_version: int, value: bytes | None) -> None:
        """Install a value read from the database, if it is still the newest committed write."""
        with self.lock:
            # A commit since the read began may have written the key; and a read below the latest
            # version does not show the newest write.
            if generation != self.generation or version < self.latest_version:
                return
            self._put(state_key_hash, written_version, value)

    def begin_commit(self, state_key_hashes: Iterable[bytes]) -> None:
        """Forget the keys a commit is about to write (call before the database write)."""
        with self.lock:
            self.generation += 1
            for key in state_key_hashes:
                self.entries.pop(key, None)

    def end_commit(self, writes: Iterable[tuple[bytes, int, bytes | None]], latest_version: int) -> None:
        """Record a durable commit's writes (key, version, value) and its last version."""
        with self.lock:
            self.generation += 1
            for key, version, value in writes:
                current = self.entries.get(key)
                if current is None or current[0] <= version:  # blocks of one batch may write a key twice
                    self._put(key, version, value)
            self.latest_version = latest_version

    def _put(self, state_key_hash: bytes, version: int, value: bytes | None) -> None:
        if len(self.entries) >= self.capacity_entries and state_key_hash not in self.entries:
            oldest = list(self.entries)[: max(1, self.capacity_entries // STATE_CACHE_EVICT_FRACTION)]
            for key in oldest:
                del self.entries[key]
        self.entries[state_key_hash] = (version, value)
