"""Refuse JSON nested deeper than a limit before the parser recurses into it (every listener uses this)."""

from __future__ import annotations

import re

# serde_json's default recursion limit, which Diem's JSON-RPC inherits; no request of ours nests past 8.
JSON_DEPTH_MAX = 128
# A JSON string (with escapes) and the brackets outside strings; strings are skipped so "[[[" inside one is data.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset(b"[{")


def is_nesting_within(body: bytes | str, depth_max: int = JSON_DEPTH_MAX) -> bool:
    """Return whether no array or object in body nests deeper than depth_max (body need not be valid JSON)."""
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if data.count(b"[") + data.count(b"{") <= depth_max:
        return True  # cannot nest deeper than the number of openers
    depth = 0
    for match in _TOKENS.finditer(data):
        token = match.group()
        if token[0] in _OPENERS:
            depth += 1
            if depth > depth_max:
                return False
        elif token[0] != ord('"'):
            depth = max(0, depth - 1)
    return True
