"""What every config section shares: unknown keys are errors, hex fields are checked, ports are bounded."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

PORT_MIN = 1
PORT_MAX = 65_535


class Section(BaseModel):
    """A config section: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_hex(value: str, length_bytes: int, name: str) -> str:
    try:
        decoded = bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"{name} must be hex") from None
    if len(decoded) != length_bytes:
        raise ValueError(f"{name} must be {length_bytes} bytes ({2 * length_bytes} hex characters)")
    return value.lower()
