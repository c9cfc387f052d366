"""The run's trace: a rolling hash of every event (for replay checks) and the last few lines."""

from __future__ import annotations

import hashlib
from collections import deque

from tests.sim.config import TRACE_LINES_SHOWN


class Trace:
    """Records events cheaply; keeps a digest of all of them and the text of the last few."""

    def __init__(self, lines_kept: int = TRACE_LINES_SHOWN) -> None:
        self._digest = hashlib.sha256()
        self._lines: deque[tuple[object, ...]] = deque(maxlen=lines_kept)
        self.event_count = 0

    def record(self, *fields: object) -> None:
        """Add one event, given as a tuple of printable fields."""
        self.event_count += 1
        self._lines.append(fields)
        self._digest.update(repr(fields).encode())

    def get_digest(self) -> str:
        """Return the hex digest of every event recorded so far."""
        return self._digest.hexdigest()

    def get_lines(self) -> list[str]:
        """Return the last events as text, oldest first."""
        return [" ".join(str(field) for field in fields) for fields in self._lines]
