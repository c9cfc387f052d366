"""Refusals the HTTP API turns into 4xx answers: each has a status, a stable code and a reason."""

from __future__ import annotations

HTTP_BAD_REQUEST = 400
HTTP_NOT_FOUND = 404
HTTP_CONFLICT = 409


class ClientError(Exception):
    """Bad input: nothing was changed, and the caller is told why."""

    def __init__(self, reason: str, code: str = "invalid_request", status: int = HTTP_BAD_REQUEST) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status


def not_found(what: str) -> ClientError:
    """Return the refusal for an unknown resource id."""
    return ClientError(f"{what} not found", "not_found", HTTP_BAD_REQUEST)
