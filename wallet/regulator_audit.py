"""The regulator's checks of a node's audit log: the hash chain (with hash-only stubs), signed heads, stored heads."""

# The audit-chain rule and the head signing bytes are specified in docs/compliance.md; this module re-implements
# them from that text (the wallet may not import the node), and tests check both sides agree byte for byte.

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from primitives.hashing import sha3_256
from primitives.keys import is_valid_signature
from wallet.errors import WalletError

AUDIT_SALT = sha3_256(b"STABLECHAIN::RegulatorAudit::v1")
HEAD_SALT = sha3_256(b"STABLECHAIN::RegulatorAuditHead::v1")
GENESIS_PREV_HASH = "00" * 32
AUDIT_FIELDS = ("seq", "time_ms", "regulator", "public_key", "method", "params_hash", "nonce", "outcome", "status",
                "reason", "result_bytes", "prev_hash")
# What a node shows of an entry the caller may not read: its place in the chain and its hash.
STUB_FIELDS = ("seq", "hash")
HASH_HEX_CHARS = 64
HEAD_FIELDS = ("node_id", "chain_id", "count", "head_hash", "time_ms", "signature")
COUNT_BYTES = 8
TIME_BYTES = 8


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, ASCII-escaped: the canonical JSON of audit entries (params are signed in JCS)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")


def compute_audit_hash(entry: dict[str, Any]) -> str:
    """Return the hex hash of an audit entry (without its "hash" field)."""
    return sha3_256(AUDIT_SALT, canonical_json({k: v for k, v in entry.items() if k != "hash"})).hex()


def parse_hex(value: Any) -> bytes:
    """Return the bytes of a hex string, or b"" when it is not one."""
    try:
        return bytes.fromhex(value)
    except (ValueError, TypeError):
        return b""


def is_hash_hex(value: Any) -> bool:
    """Return True iff value is 64 lowercase hex digits."""
    return isinstance(value, str) and len(value) == HASH_HEX_CHARS and all(c in "0123456789abcdef" for c in value)


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """Outcome of verifying an audit chain: ok, entries checked, last hash, first problem, stubs taken on trust."""

    ok: bool
    count: int
    head_hash: str
    error: str = ""
    stubs: int = 0


def find_entry_problem(entry: Any, index: int, prev_hash: str) -> str | None:
    """Return what is wrong with one entry (full or stub) at position index after prev_hash, or None."""
    if isinstance(entry, dict) and set(entry) == set(STUB_FIELDS):
        if entry["seq"] != index:
            return f"seq {entry['seq']} where {index} was due"
        return None if is_hash_hex(entry["hash"]) else "a stub's hash is not 64 hex digits"
    if not isinstance(entry, dict) or set(entry) != {*AUDIT_FIELDS, "hash"}:
        return "fields differ from the audit format"
    if entry["seq"] != index:
        return f"seq {entry['seq']} where {index} was due"
    if entry["prev_hash"] != prev_hash:
        return "prev_hash does not match the previous entry"
    if compute_audit_hash(entry) != entry["hash"]:
        return "hash does not match the entry's content"
    return None


def verify_audit_chain(entries: list[dict[str, Any]], prev_hash: str = GENESIS_PREV_HASH) -> ChainCheck:
    """Verify every entry from seq 0: fields, seq, link to the previous hash, own hash; a stub gives only its hash."""
    stubs = 0
    for index, entry in enumerate(entries):
        problem = find_entry_problem(entry, index, prev_hash)
        if problem is not None:
            return ChainCheck(False, index, prev_hash, f"entry {index}: {problem}", stubs)
        stubs += set(entry) == set(STUB_FIELDS)
        prev_hash = entry["hash"]
    return ChainCheck(True, len(entries), prev_hash, "", stubs)


def check_reaches_head(check: ChainCheck, head_hash: str | None, next_seq: int | None) -> ChainCheck:
    """Return check, failed when a verified chain does not end at the head the node reported (if it reported one)."""
    if check.ok and head_hash is not None and (check.head_hash != head_hash or check.count != next_seq):
        return ChainCheck(False, check.count, check.head_hash, "the chain does not end at the head the node reported",
                          check.stubs)
    return check


def compute_head_message(chain_id: int, node_id: bytes, count: int, head_hash: str, time_ms: int) -> bytes:
    """Return the bytes a node signs for one audit-log head (docs/compliance.md, "Signed audit heads")."""
    return b"".join((HEAD_SALT, bytes([chain_id]), node_id, count.to_bytes(COUNT_BYTES, "little"),
                     bytes.fromhex(head_hash), time_ms.to_bytes(TIME_BYTES, "little")))


@dataclass(frozen=True, slots=True)
class SignedHead:
    """A node's signed statement that its audit log had `count` entries ending at `head_hash` at `time_ms`."""

    node_id: str
    chain_id: int
    count: int
    head_hash: str
    time_ms: int
    signature: str

    @classmethod
    def from_json(cls, value: Any, node_id: bytes, chain_id: int) -> SignedHead:
        """Return the head after checking its shape, that it names this node and chain, and its signature."""
        if not isinstance(value, dict) or set(value) != set(HEAD_FIELDS):
            raise WalletError("the node's audit head does not have the head fields")
        head = cls(**value)
        if head.node_id != node_id.hex() or head.chain_id != chain_id:
            raise WalletError(f"the audit head names node {head.node_id} chain {head.chain_id}, not the one asked")
        if not head.is_signed_by(node_id):
            raise WalletError("the node's audit head is not signed by the node's key")
        return head

    def is_signed_by(self, node_id: bytes) -> bool:
        """Return True iff the signature verifies under node_id over this head's fields."""
        try:
            message = compute_head_message(self.chain_id, node_id, self.count, self.head_hash, self.time_ms)
            signature = bytes.fromhex(self.signature)
        except (ValueError, TypeError, OverflowError, AttributeError):
            return False
        return is_hash_hex(self.head_hash) and is_valid_signature(node_id, message, signature)

    def to_json(self) -> dict[str, Any]:
        """Return the head as the node sent it."""
        return asdict(self)


def check_against_heads(entries: list[dict[str, Any]], check: ChainCheck, heads: list[SignedHead]) -> ChainCheck:
    """Return check, failed when the chain disagrees with a head the node signed earlier (a rewritten log)."""
    if not check.ok:
        return check
    for head in sorted(heads, key=lambda item: item.count):
        if head.count > check.count:
            problem = f"the log holds {check.count} entries, fewer than the {head.count} the node signed at {head.time_ms}"
        elif (entries[head.count - 1]["hash"] if head.count else GENESIS_PREV_HASH) != head.head_hash:
            problem = (f"entry {head.count - 1} is not the one the node signed at {head.time_ms} "
                       "(the log was rewritten)")
        else:
            continue
        return ChainCheck(False, check.count, check.head_hash, problem, check.stubs)
    return check


class HeadStore:
    """Signed heads a regulator keeps between sessions: one JSON line per head, per node."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.heads: list[SignedHead] = []
        if path is not None and path.exists():
            try:
                self.heads = [SignedHead(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
            except (OSError, ValueError, TypeError) as error:
                raise WalletError(f"{path}: not a file of signed audit heads: {error}") from None
            unsigned = [head for head in self.heads if not head.is_signed_by(parse_hex(head.node_id))]
            if unsigned:
                raise WalletError(f"{path}: a head of {unsigned[0].count} entries is not signed by its node")

    def get(self, node_id: bytes) -> list[SignedHead]:
        """Return the stored heads of one node."""
        return [head for head in self.heads if head.node_id == node_id.hex()]

    def add(self, head: SignedHead) -> None:
        """Keep a verified head (appended to the file, synced, when there is one)."""
        if head in self.heads:
            return
        self.heads.append(head)
        if self.path is None:
            return
        try:
            with open(self.path, "a") as handle:
                handle.write(json.dumps(head.to_json(), sort_keys=True) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise WalletError(f"{self.path}: cannot keep the node's signed head: {error.strerror}") from None
