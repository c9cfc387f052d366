"""The rejection log regulators read: bounded, kept across restarts, ids that only ever grow."""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import structlog

from contracts.payments import decode_payment
from node.compliance.admission.codes import Reject
from node.rpc.jsonrpc import JsonObject
from primitives.types.transactions import SignedTransaction

log = structlog.get_logger(__name__)

DEFAULT_REJECTION_LOG_ENTRIES_MAX = 10_000
REJECTION_PAGE_MAX = 1_000
# Ids are reserved on disk this many at a time (one fsync per block of ids), so a crash never reuses an id
# a regulator may already have read, without an fsync per rejection.
REJECTION_ID_BLOCK = 1_000
# The file is rewritten with the newest entries once it holds this many times the retention.
REJECTION_FILE_SLACK_FACTOR = 2
REJECTIONS_FILE = "rejections.jsonl"
ID_MARK_FILE = "rejections.next-id"


@dataclass(frozen=True, slots=True)
class RejectionRecord:
    """One refused submission, as the regulator API reports it."""

    id: int
    time_ms: int
    ledger_version: int
    sender: str
    sequence_number: int
    txn_hash: str
    hook: str
    code: int
    code_name: str
    reason: str
    payee: str | None
    amount_micro: int | None
    currency: str | None

    def to_json(self) -> JsonObject:
        """Return the record as a JSON object."""
        return {name: getattr(self, name) for name in self.__slots__}


def compose_record(record_id: int, transaction: SignedTransaction, rejection: Reject, version: int,
                   time_ms: int) -> RejectionRecord:
    """Return the record of one rejected, validly signed transaction."""
    payment = decode_payment(transaction)
    return RejectionRecord(
        record_id, time_ms, version, transaction.sender.value.hex(), transaction.sequence_number,
        transaction.hash().hex(), rejection.hook, int(rejection.code), rejection.code.name, rejection.reason,
        None if payment is None else payment.payee.hex(), None if payment is None else payment.amount_micro,
        None if payment is None else payment.currency,
    )


class RejectionLog:
    """The latest rejections (bounded); ids keep counting so a reader sees how many were evicted.

    With a directory, records are appended to a file there and read back on start; without, memory only."""

    def __init__(self, entries_max: int = DEFAULT_REJECTION_LOG_ENTRIES_MAX, directory: Path | None = None) -> None:
        self.entries_max = entries_max
        self._records: deque[RejectionRecord] = deque(maxlen=entries_max)
        self._next_id = 0
        self._reserved_id = 0
        self._lines_in_file = 0
        self._lock = threading.Lock()
        self._path = None if directory is None else directory / REJECTIONS_FILE
        self._mark_path = None if directory is None else directory / ID_MARK_FILE
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self._load()

    def _load(self) -> None:
        if self._path is not None and self._path.exists():
            for line in self._path.read_bytes().splitlines():
                record = _parse_record(line)
                if record is not None:
                    self._records.append(record)
                    self._lines_in_file += 1
        last_id = self._records[-1].id + 1 if self._records else 0
        self._next_id = max(last_id, _read_mark(self._mark_path))
        self._reserved_id = self._next_id
        if self._records or self._next_id:
            log.info("rejection log loaded", records=len(self._records), next_id=self._next_id)

    def append(self, transaction: SignedTransaction, rejection: Reject, version: int, time_ms: int) -> RejectionRecord:
        """Record one rejection and return it."""
        with self._lock:
            record = compose_record(self._next_id, transaction, rejection, version, time_ms)
            self._reserve_id(record.id)
            self._next_id += 1
            self._records.append(record)
            self._write(record)
        return record

    def _reserve_id(self, record_id: int) -> None:
        if self._mark_path is None or record_id < self._reserved_id:
            return
        self._reserved_id = record_id + REJECTION_ID_BLOCK
        _write_atomically(self._mark_path, str(self._reserved_id).encode())

    def _write(self, record: RejectionRecord) -> None:
        if self._path is None:
            return
        if self._lines_in_file >= REJECTION_FILE_SLACK_FACTOR * self.entries_max:
            body = b"".join(_encode_record(item) for item in self._records)
            _write_atomically(self._path, body)
            self._lines_in_file = len(self._records)
            return
        with open(self._path, "ab") as handle:
            handle.write(_encode_record(record))
        self._lines_in_file += 1

    def get_page(self, start_id: int, limit: int) -> list[RejectionRecord]:
        """Return up to limit records with id >= start_id, oldest first."""
        with self._lock:
            return [record for record in self._records if record.id >= start_id][:min(limit, REJECTION_PAGE_MAX)]

    @property
    def next_id(self) -> int:
        """The id the next rejection will get (= total rejections so far)."""
        return self._next_id

    @property
    def first_id(self) -> int:
        """The oldest id still held (earlier ones were evicted)."""
        with self._lock:
            return self._records[0].id if self._records else self._next_id


def _encode_record(record: RejectionRecord) -> bytes:
    return json.dumps(record.to_json(), separators=(",", ":")).encode() + b"\n"


def _parse_record(line: bytes) -> RejectionRecord | None:
    # A torn last line (a crash mid-write) is skipped: the file is not the regulator's evidence, the chain is.
    try:
        return RejectionRecord(**json.loads(line))
    except (ValueError, TypeError):
        return None


def _read_mark(path: Path | None) -> int:
    try:
        return int(path.read_text()) if path is not None and path.exists() else 0
    except ValueError:
        return 0


def _write_atomically(path: Path, body: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
