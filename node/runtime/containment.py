"""Per-message containment of peer input: a failure drops that message, is counted and penalises its sender."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import plyvel

from node.logging import get_logger
from primitives.errors import DecodeError, InvariantViolation

log = get_logger(__name__)

# These still stop the node: the BFT assumption visibly broken, a deterministic execution failure every
# validator shares (contracts: InvariantViolation, MemoryError, RecursionError propagate), or the disk.
FATAL_ERRORS: tuple[type[BaseException], ...] = (InvariantViolation, MemoryError, RecursionError, OSError, plyvel.Error)
# A peer whose messages fail this many times in a row is ignored for PEER_PENALTY_USECS.
PEER_FAILURES_MAX = 3
PEER_PENALTY_USECS = 30 * 1_000_000
# A peer whose messages are refused (malformed or failing verification) more often than this within one
# window is ignored for PEER_PENALTY_USECS: an honest validator's refusals (a stale epoch at a boundary, a
# message raced by a commit) are a handful, a flood is thousands.
PEER_REFUSALS_PER_WINDOW_MAX = 200
PEER_REFUSAL_WINDOW_USECS = 1_000_000

T = TypeVar("T")


class PeerGuard:
    """Runs the handling of one peer message; anything but a fatal error is contained to that message."""

    def __init__(self, clock_usecs: Callable[[], int]) -> None:
        self.clock_usecs = clock_usecs
        self.failures: dict[bytes, int] = {}
        self.penalised_until_usecs: dict[bytes, int] = {}
        self.failed_messages = 0
        self.refusals: dict[bytes, tuple[int, int]] = {}  # peer -> (window start, refusals in it)

    def is_penalised(self, sender: bytes) -> bool:
        """Return True while sender serves a penalty (its messages are dropped unread)."""
        until = self.penalised_until_usecs.get(sender)
        if until is None:
            return False
        if self.clock_usecs() < until:
            return True
        del self.penalised_until_usecs[sender]
        return False

    def run(self, sender: bytes, handle: Callable[[], T | None]) -> T | None:
        """Return handle()'s answer, or None when the message was malformed, failed or its sender is penalised."""
        if self.is_penalised(sender):
            return None
        try:
            answer = handle()
        except DecodeError:
            return None
        except FATAL_ERRORS:
            raise
        except Exception as error:  # noqa: BLE001 - one message must never end the node (docs/security.md, 13)
            self.on_failure(sender, error)
            return None
        self.failures.pop(sender, None)
        return answer

    def on_refused(self, sender: bytes, count_refused: int = 1) -> None:
        """Count refused messages; a sender over PEER_REFUSALS_PER_WINDOW_MAX in a window is penalised."""
        if count_refused <= 0:
            return
        now_usecs = self.clock_usecs()
        started, count = self.refusals.get(sender, (now_usecs, 0))
        if now_usecs - started >= PEER_REFUSAL_WINDOW_USECS:
            started, count = now_usecs, 0
        count += count_refused
        if count <= PEER_REFUSALS_PER_WINDOW_MAX:
            self.refusals[sender] = (started, count)
            return
        del self.refusals[sender]
        self.penalised_until_usecs[sender] = now_usecs + PEER_PENALTY_USECS
        log.warning("peer penalised: too many refused messages", sender=sender.hex(), refusals=count)

    def on_failure(self, sender: bytes, error: Exception) -> None:
        """Count a failed message and penalise a sender whose messages keep failing."""
        self.failed_messages += 1
        count = self.failures.get(sender, 0) + 1
        log.warning("peer message failed; dropped", sender=sender.hex(), error=f"{type(error).__name__}: {error}",
                    failures=count)
        if count < PEER_FAILURES_MAX:
            self.failures[sender] = count
            return
        self.failures.pop(sender, None)
        self.penalised_until_usecs[sender] = self.clock_usecs() + PEER_PENALTY_USECS
