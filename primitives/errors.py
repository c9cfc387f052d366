"""Error kinds shared by every package: programmer errors versus invalid input."""

from __future__ import annotations


class InvariantViolation(Exception):
    """A programmer error: the node must stop rather than continue in an unknown state."""


class DecodeError(ValueError):
    """Bytes that do not decode to a valid value (invalid input, never a programmer error)."""


def invariant(condition: object, message: str) -> None:
    """Raise InvariantViolation when condition is false; unlike assert, -O cannot strip it."""
    if not condition:
        raise InvariantViolation(message)
