"""The regulator's client: signed, audited queries to a node's regulator API, audit-chain checks, row exports."""

# The signing bytes and the audit-chain rule are specified in docs/compliance.md; this client re-implements
# them from that text (the wallet may not import the node), and tests check both sides agree byte for byte.

from __future__ import annotations

import csv
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import rfc8785

from primitives.bcs import encode_uleb128
from primitives.hashing import sha3_256
from primitives.keys import PrivateKey
from wallet.errors import WalletError

SIGNING_SALT = sha3_256(b"STABLECHAIN::RegulatorRequest::v1")
AUDIT_SALT = sha3_256(b"STABLECHAIN::RegulatorAudit::v1")
GENESIS_PREV_HASH = "00" * 32
AUDIT_FIELDS = ("seq", "time_ms", "regulator", "public_key", "method", "params_hash", "nonce", "outcome", "status",
                "reason", "result_bytes", "prev_hash")
NONCE_BYTES = 16
DEFAULT_URL = "http://127.0.0.1:8090/v1"
DEFAULT_CHAIN_ID = 2
HTTP_TIMEOUT_S = 30.0
PAGE_SIZE = 1_000
EXPORT_FORMATS = ("csv", "jsonl")
KEY_FILE_MODE = 0o600

class RegulatorRefused(WalletError):
    """The regulator API refused the request (401 / 403 / 400 / 503) with a reason word."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"the node refused the request: HTTP {status} {reason}")
        self.status, self.reason = status, reason


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, ASCII-escaped: the canonical JSON of audit entries (params are signed in JCS)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")


def compute_signing_message(chain_id: int, public_key: bytes, method: str, params: list[Any], timestamp_ms: int,
                            nonce: bytes) -> bytes:
    """Return the v1 signing bytes of a regulator request (docs/compliance.md, "Signing a request")."""
    method_bytes = method.encode("utf-8")
    return b"".join((
        SIGNING_SALT, bytes([chain_id]), public_key, encode_uleb128(len(method_bytes)), method_bytes,
        sha3_256(rfc8785.dumps(params)), timestamp_ms.to_bytes(8, "little"), encode_uleb128(len(nonce)), nonce,
    ))


def compose_signed_headers(key: PrivateKey, chain_id: int, method: str, params: list[Any], timestamp_ms: int,
                           nonce: bytes) -> dict[str, str]:
    """Return the four authentication headers of a request."""
    public_key = key.public_key().data
    signature = key.sign(compute_signing_message(chain_id, public_key, method, params, timestamp_ms, nonce))
    return {"X-Regulator-Key": public_key.hex(), "X-Regulator-Timestamp": str(timestamp_ms),
            "X-Regulator-Nonce": nonce.hex(), "X-Regulator-Signature": signature.hex()}


def compute_audit_hash(entry: dict[str, Any]) -> str:
    """Return the hex hash of an audit entry (without its "hash" field)."""
    return sha3_256(AUDIT_SALT, canonical_json({k: v for k, v in entry.items() if k != "hash"})).hex()


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """Outcome of verifying an audit chain: ok, entries checked, last hash, first problem."""

    ok: bool
    count: int
    head_hash: str
    error: str = ""


def verify_audit_chain(entries: list[dict[str, Any]], prev_hash: str = GENESIS_PREV_HASH) -> ChainCheck:
    """Verify every entry's fields, seq, link to the previous entry, and hash, from seq 0."""
    for index, entry in enumerate(entries):
        problem = None
        if not isinstance(entry, dict) or set(entry) != {*AUDIT_FIELDS, "hash"}:
            problem = "fields differ from the audit format"
        elif entry["seq"] != index:
            problem = f"seq {entry['seq']} where {index} was due"
        elif entry["prev_hash"] != prev_hash:
            problem = "prev_hash does not match the previous entry"
        elif compute_audit_hash(entry) != entry["hash"]:
            problem = "hash does not match the entry's content"
        if problem is not None:
            return ChainCheck(False, index, prev_hash, f"entry {index}: {problem}")
        prev_hash = entry["hash"]
    return ChainCheck(True, len(entries), prev_hash)


class RegulatorClient:
    """Signs and sends compliance_* calls; raises RegulatorRefused or the JSON-RPC error."""

    def __init__(self, url: str, key: PrivateKey, chain_id: int = DEFAULT_CHAIN_ID) -> None:
        self.url, self.key, self.chain_id = url, key, chain_id

    async def call(self, method: str, params: list[Any]) -> Any:
        headers = compose_signed_headers(self.key, self.chain_id, method, params, time.time_ns() // 1_000_000,
                                         secrets.token_bytes(NONCE_BYTES))
        request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(self.url, data=canonical_json(request), headers=headers) as response:
                    body = await response.json(content_type=None)
                    if response.status != 200:
                        raise RegulatorRefused(response.status, str(body.get("reason", "")))
        except aiohttp.ClientError as error:
            raise WalletError(f"cannot reach {self.url}: {error}") from None
        if "error" in body:
            error = body["error"]
            raise WalletError(f"{method}: {error.get('message')} (code {error.get('code')})")
        return body["result"]

    async def fetch_audit_log(self) -> tuple[list[dict[str, Any]], str, int]:
        """Return every audit entry up to the head seen at the first call, with that head's hash and seq."""
        first = await self.call("compliance_get_audit_log", [0, PAGE_SIZE])
        entries, head_hash, next_seq = list(first["entries"]), first["head_hash"], first["next_seq"]
        while len(entries) < next_seq:
            page = await self.call("compliance_get_audit_log", [len(entries), PAGE_SIZE])
            if not page["entries"]:
                break
            entries.extend(page["entries"])
        return entries[:next_seq], head_hash, next_seq


# ------------------------------------------------------------------ output
def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return a flat dict (nested keys joined with '.', lists as JSON) for tables and CSV."""
    flat: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = json.dumps(value) if isinstance(value, list) else value
    return flat


def export_rows(rows: list[dict[str, Any]], export_format: str, path: Path) -> None:
    """Write rows as CSV (flattened, header from the union of keys) or JSON lines."""
    if export_format not in EXPORT_FORMATS:
        raise WalletError(f"--export takes one of {', '.join(EXPORT_FORMATS)}, not {export_format!r}")
    if export_format == "jsonl":
        path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
        return
    flat = [flatten(row) for row in rows]
    columns = list(dict.fromkeys(name for row in flat for name in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(flat)


def check_reaches_head(check: ChainCheck, head_hash: str | None, next_seq: int | None) -> ChainCheck:
    """Return check, failed when a verified chain does not end at the head the node reported (if it reported one)."""
    if check.ok and head_hash is not None and (check.head_hash != head_hash or check.count != next_seq):
        return ChainCheck(False, check.count, check.head_hash, "the chain does not end at the head the node reported")
    return check


def compose_range(start_version: int | None, end_version: int | None, start_time_us: int | None,
                  end_time_us: int | None, newest_first: bool) -> dict[str, Any]:
    """Return the range object of the history methods (only the given fields)."""
    fields = {"start_version": start_version, "end_version": end_version, "start_time_us": start_time_us,
              "end_time_us": end_time_us, "descending": newest_first or None}
    return {name: value for name, value in fields.items() if value is not None}
