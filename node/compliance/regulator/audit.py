"""The regulator audit log: append-only JSON lines, each entry hash-chained to the previous, fsynced."""

# Entry hash (hex) = sha3_256(sha3_256(b"STABLECHAIN::RegulatorAudit::v1") ‖ canonical JSON of the entry
# without its "hash" field), canonical JSON as in node.compliance.regulator.auth (sorted keys, no spaces, ASCII).
# The first entry's prev_hash is 64 zeros; entry n's prev_hash is entry n-1's hash; seq counts from 0.

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import structlog

from node.rpc.jsonrpc import JsonObject
from primitives.hashing import sha3_256

AUDIT_DOMAIN = b"STABLECHAIN::RegulatorAudit::v1"
AUDIT_SALT = sha3_256(AUDIT_DOMAIN)
GENESIS_PREV_HASH = "00" * 32
ENTRY_FIELDS = ("seq", "time_ms", "regulator", "public_key", "method", "params_hash", "nonce", "outcome", "status",
                "reason", "result_bytes", "prev_hash")
# Client-supplied text is clipped before it is stored, so a refused request cannot bloat the log.
CLIENT_TEXT_CHARS_MAX = 128
AUDIT_PAGE_MAX = 1_000

log = structlog.get_logger(__name__)


class AuditLogError(RuntimeError):
    """The audit log on disk does not verify, or cannot be written (the API must then refuse to answer)."""


def compute_entry_hash(entry: JsonObject) -> str:
    """Return the hex hash of an entry (its "hash" field, if any, is ignored)."""
    body = {name: value for name, value in entry.items() if name != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    return sha3_256(AUDIT_SALT, canonical).hex()


def clip(text: str | None) -> str | None:
    """Return client-supplied text clipped to CLIENT_TEXT_CHARS_MAX characters."""
    return None if text is None else text[:CLIENT_TEXT_CHARS_MAX]


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The result of verifying a run of entries: ok, how many, the last hash, and the first problem."""

    ok: bool
    count: int
    head_hash: str
    error_seq: int | None = None
    error: str = ""


def verify_audit_entries(entries: Iterable[JsonObject], prev_hash: str = GENESIS_PREV_HASH,
                         start_seq: int = 0) -> AuditVerification:
    """Check field set, sequence, chaining and every hash; stop at the first problem."""
    count, expected_seq = 0, start_seq
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {*ENTRY_FIELDS, "hash"}:
            return AuditVerification(False, count, prev_hash, expected_seq, "entry does not have exactly the audit fields")
        if entry["seq"] != expected_seq:
            return AuditVerification(False, count, prev_hash, expected_seq, f"seq {entry['seq']} where {expected_seq} was due")
        if entry["prev_hash"] != prev_hash:
            return AuditVerification(False, count, prev_hash, expected_seq, "prev_hash does not match the previous entry")
        if compute_entry_hash(entry) != entry["hash"]:
            return AuditVerification(False, count, prev_hash, expected_seq, "hash does not match the entry's content")
        prev_hash, expected_seq, count = entry["hash"], expected_seq + 1, count + 1
    return AuditVerification(True, count, prev_hash)


def read_audit_file(path: Path) -> list[JsonObject]:
    """Return the entries of an audit file (AuditLogError on a line that is not JSON)."""
    entries = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                entries.append(json.loads(line))
            except ValueError:
                raise AuditLogError(f"{path}: line {number} is not JSON") from None
    return entries


def _is_json_line(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


class AuditLog:
    """The append-only, hash-chained log; opening verifies the whole file and refuses a broken chain."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offsets: list[int] = []
        self._head_hash = GENESIS_PREV_HASH
        self._lock = threading.Lock()
        self._end = 0
        # Bytes of a torn tail dropped when the log was opened (0 when it closed cleanly).
        self.recovered_bytes = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._drop_torn_tail()
        entries = read_audit_file(path) if path.exists() else []
        result = verify_audit_entries(entries)
        if not result.ok:
            raise AuditLogError(f"{path}: audit chain broken at seq {result.error_seq}: {result.error}")
        self._head_hash = result.head_hash
        offset = 0
        with open(path, "ab+") as handle:
            handle.seek(0)
            for line in handle:
                self._offsets.append(offset)
                offset += len(line)
        self._end = offset

    def _truncate_to_end(self) -> None:
        """Cut what a failed append may have left (a torn or unsynced line): its request is never answered."""
        try:
            with open(self.path, "r+b") as handle:
                handle.truncate(self._end)
                os.fsync(handle.fileno())
        except OSError:
            pass  # the disk refuses even that: the torn tail is dropped when the log is next opened

    def _drop_torn_tail(self) -> None:
        # A crash mid-append leaves a partial last line (with or without its newline); its request was never
        # answered. Every whole entry before it is kept; a bad line anywhere else is tampering and refused.
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        keep = len(data) if data.endswith(b"\n") else data.rfind(b"\n") + 1
        last_start = data.rfind(b"\n", 0, max(keep - 1, 0)) + 1
        if keep and not _is_json_line(data[last_start:keep]):
            keep = last_start
        if keep == len(data):
            return
        with open(self.path, "r+b") as handle:
            handle.truncate(keep)
            os.fsync(handle.fileno())
        self.recovered_bytes = len(data) - keep
        log.warning("audit log: dropped a torn tail", path=str(self.path), bytes=self.recovered_bytes)

    @property
    def next_seq(self) -> int:
        """The seq the next entry will get (= the number of entries)."""
        return len(self._offsets)

    @property
    def head_hash(self) -> str:
        """The hash of the last entry (64 zeros when empty)."""
        return self._head_hash

    def get_head(self) -> tuple[int, str]:
        """Return (entry count, last hash) read together, so a page and the head it reports are consistent."""
        with self._lock:
            return len(self._offsets), self._head_hash

    def append(self, time_ms: int, regulator: str | None, public_key: str | None, method: str | None,
               params_hash: str | None, nonce: str | None, is_allowed: bool, status: int, reason: str,
               result_bytes: int) -> JsonObject:
        """Append one entry and fsync it before returning (AuditLogError if the disk refuses)."""
        with self._lock:
            entry: JsonObject = {
                "seq": self.next_seq, "time_ms": time_ms, "regulator": regulator, "public_key": clip(public_key),
                "method": clip(method), "params_hash": params_hash, "nonce": clip(nonce),
                "outcome": "allowed" if is_allowed else "refused", "status": status, "reason": reason,
                "result_bytes": result_bytes, "prev_hash": self._head_hash,
            }
            entry["hash"] = compute_entry_hash(entry)
            line = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"
            try:
                with open(self.path, "ab") as handle:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as error:
                self._truncate_to_end()
                raise AuditLogError(f"{self.path}: cannot append: {error.strerror}") from None
            self._offsets.append(self._end)
            self._end += len(line)
            self._head_hash = entry["hash"]
        return entry

    def read(self, start_seq: int, limit: int) -> list[JsonObject]:
        """Return up to limit entries from start_seq, read back from the file."""
        with self._lock:
            if start_seq >= len(self._offsets):
                return []
            stop = min(start_seq + min(limit, AUDIT_PAGE_MAX), len(self._offsets))
            begin, end = self._offsets[start_seq], self._offsets[stop] if stop < len(self._offsets) else self._end
        with open(self.path, "rb") as handle:
            handle.seek(begin)
            data = handle.read(end - begin)
        return [json.loads(line) for line in data.splitlines()]
