"""The regulator's client: signed queries bound to one node, signed answers checked, audit-log checks, row exports."""

# The signing bytes, response signatures and the audit-chain rule are specified in docs/compliance.md; this client re-implements
# them from that text (the wallet may not import the node), and tests check both sides agree byte for byte.

from __future__ import annotations

import csv
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import rfc8785

from primitives.bcs import encode_uleb128
from primitives.hashing import sha3_256
from primitives.keys import PrivateKey, is_valid_signature
from wallet.errors import WalletError
from wallet.regulator_audit import (
    ChainCheck,
    HeadStore,
    SignedHead,
    canonical_json,
    check_against_heads,
    check_reaches_head,
    verify_audit_chain,
)
from wallet.regulator_httpsig import compose_rfc9421_headers, is_signed_rfc9421_answer

SIGNING_SALT = sha3_256(b"STABLECHAIN::RegulatorRequest::v2")
RESPONSE_SALT = sha3_256(b"STABLECHAIN::RegulatorResponse::v1")
NODE_HEADER = "X-Regulator-Node"
RESPONSE_SIGNATURE_HEADER = "X-Regulator-Response-Signature"
NODE_ID_BYTES = 32
STATUS_BYTES = 2
NONCE_BYTES = 16
MS_PER_S = 1_000
DEFAULT_URL = "http://127.0.0.1:8090/v1"
DEFAULT_CHAIN_ID = 2
HTTP_TIMEOUT_S = 30.0
PAGE_SIZE = 1_000
EXPORT_FORMATS = ("csv", "jsonl")
KEY_FILE_MODE = 0o600
# Request envelopes: this project's v2 headers, or RFC 9421 HTTP Message Signatures (both bind the node, ADR 0019).
ENVELOPE_V2 = "v2"
ENVELOPE_RFC9421 = "rfc9421"
ENVELOPES = (ENVELOPE_V2, ENVELOPE_RFC9421)


class RegulatorRefused(WalletError):
    """The regulator API refused the request (401 / 403 / 400 / 503) with a reason word."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"the node refused the request: HTTP {status} {reason}")
        self.status, self.reason = status, reason


class UnsignedResponse(WalletError):
    """An answer that is not signed by the node the request was for: nothing in it is used."""


def compute_signing_message(chain_id: int, node_id: bytes, public_key: bytes, method: str, params: list[Any],
                            timestamp_ms: int, nonce: bytes) -> bytes:
    """Return the v2 signing bytes of a regulator request to one node (docs/compliance.md, "Signing a request")."""
    method_bytes = method.encode("utf-8")
    return b"".join((
        SIGNING_SALT, bytes([chain_id]), node_id, public_key, encode_uleb128(len(method_bytes)), method_bytes,
        sha3_256(rfc8785.dumps(params)), timestamp_ms.to_bytes(8, "little"), encode_uleb128(len(nonce)), nonce,
    ))


def compose_signed_headers(key: PrivateKey, chain_id: int, node_id: bytes, method: str, params: list[Any],
                           timestamp_ms: int, nonce: bytes) -> dict[str, str]:
    """Return the five authentication headers of a request to the node node_id."""
    public_key = key.public_key().data
    signature = key.sign(compute_signing_message(chain_id, node_id, public_key, method, params, timestamp_ms, nonce))
    return {"X-Regulator-Key": public_key.hex(), "X-Regulator-Timestamp": str(timestamp_ms),
            "X-Regulator-Nonce": nonce.hex(), "X-Regulator-Signature": signature.hex(), NODE_HEADER: node_id.hex()}


def compute_response_message(node_id: bytes, status: int, request_signature: bytes, body: bytes) -> bytes:
    """Return the bytes a node signs for one response (docs/compliance.md, "Signed responses")."""
    return b"".join((RESPONSE_SALT, node_id, status.to_bytes(STATUS_BYTES, "little"),
                     encode_uleb128(len(request_signature)), request_signature, sha3_256(body)))


def check_response_signature(node_id: bytes, status: int, headers: Mapping[str, str], request_signature: bytes,
                             body: bytes) -> None:
    """Raise UnsignedResponse unless the response is signed by node_id and bound to this request."""
    by_name = {name.lower(): value for name, value in headers.items()}  # a proxy may spell header names in lower case
    named = by_name.get(NODE_HEADER.lower(), "")
    if named.lower() != node_id.hex():
        raise UnsignedResponse(f"the answer does not come from node {node_id.hex()} (it names {named or 'no node'})")
    try:
        signature = bytes.fromhex(by_name.get(RESPONSE_SIGNATURE_HEADER.lower(), ""))
    except ValueError:
        signature = b""
    if not is_valid_signature(node_id, compute_response_message(node_id, status, request_signature, body), signature):
        raise UnsignedResponse(f"the answer (HTTP {status}) is not signed by node {node_id.hex()} for this request")


def get_discovery_url(url: str) -> str:
    """Return the node's discovery address next to its regulator API address (…/v1 -> …/v1/node)."""
    return url.rstrip("/") + "/node"


def parse_node_id(text: str) -> bytes:
    """Return a node id given as 64 hex characters (WalletError otherwise)."""
    try:
        node_id = bytes.fromhex(text.lower().removeprefix("0x"))
    except ValueError:
        node_id = b""
    if len(node_id) != NODE_ID_BYTES:
        raise WalletError(f"a node id is the node's network public key, 64 hex characters, not {text!r}")
    return node_id


@dataclass(frozen=True, slots=True)
class AuditFetch:
    """Every audit entry up to a signed head, and that head."""

    entries: list[dict[str, Any]]
    head: SignedHead


class RegulatorClient:
    """Signs compliance_* calls for one node, checks every answer's signature; raises RegulatorRefused or the error."""

    def __init__(self, url: str, key: PrivateKey, chain_id: int = DEFAULT_CHAIN_ID, node_id: bytes | None = None,
                 heads: HeadStore | None = None, envelope: str = ENVELOPE_V2) -> None:
        if envelope not in ENVELOPES:
            raise WalletError(f"the envelope is one of {', '.join(ENVELOPES)}, not {envelope!r}")
        self.url, self.key, self.chain_id, self.envelope = url, key, chain_id, envelope
        # A pinned node id (from the operator) is checked against discovery; without one, the first answer is trusted.
        self.pinned_node_id = node_id
        self.node_id: bytes | None = None
        self.heads = heads if heads is not None else HeadStore(None)

    async def exchange(self, body: bytes, headers: dict[str, str] | None = None,
                       is_get: bool = False) -> tuple[int, Mapping[str, str], bytes]:
        """Return (status, headers, raw body) of one HTTP exchange."""
        timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
        url = get_discovery_url(self.url) if is_get else self.url
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.request("GET" if is_get else "POST", url, data=body or None,
                                           headers=headers) as response:
                    return response.status, dict(response.headers), await response.read()
        except aiohttp.ClientError as error:
            raise WalletError(f"cannot reach {url}: {error}") from None

    async def discover(self) -> bytes:
        """Return the node id requests are signed for: asked once from the node, checked against a pinned one."""
        if self.node_id is not None:
            return self.node_id
        status, headers, body = await self.exchange(b"", is_get=True)
        try:
            claimed = parse_node_id(str(json.loads(body)["node_id"]))
        except (ValueError, KeyError, TypeError, WalletError):
            raise WalletError(f"{get_discovery_url(self.url)} (HTTP {status}) does not name a node id") from None
        if self.pinned_node_id is not None and claimed != self.pinned_node_id:
            raise WalletError(f"the node at {self.url} is {claimed.hex()}, not the pinned {self.pinned_node_id.hex()}")
        check_response_signature(claimed, status, headers, b"", body)
        self.node_id = claimed
        return claimed

    async def call(self, method: str, params: list[Any]) -> Any:
        """Return the result of one signed call, once the answer's signature by the node is checked."""
        node_id = await self.discover()
        body = canonical_json({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        now_ms, nonce = time.time_ns() // 1_000_000, secrets.token_bytes(NONCE_BYTES)
        if self.envelope == ENVELOPE_RFC9421:
            headers = compose_rfc9421_headers(self.key, node_id, self.url, body, now_ms // MS_PER_S, nonce)
            status, answer_headers, raw = await self.exchange(body, headers)
            if not is_signed_rfc9421_answer(node_id, self.url, headers, status, answer_headers, raw):
                raise UnsignedResponse(f"the answer (HTTP {status}) has no RFC 9421 signature by node "
                                       f"{node_id.hex()} for this request")
        else:
            headers = compose_signed_headers(self.key, self.chain_id, node_id, method, params, now_ms, nonce)
            status, answer_headers, raw = await self.exchange(body, headers)
            check_response_signature(node_id, status, answer_headers, bytes.fromhex(headers["X-Regulator-Signature"]),
                                     raw)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise WalletError(f"{method}: the node answered HTTP {status} with a body that is not a JSON object")
        if status != 200:
            raise RegulatorRefused(status, str(body.get("reason", "")))
        if "error" in body:
            error = body["error"]
            raise WalletError(f"{method}: {error.get('message')} (code {error.get('code')})")
        return body["result"]

    async def fetch_audit_head(self) -> SignedHead:
        """Return the node's signed audit head (kept in the head store)."""
        head = SignedHead.from_json(await self.call("compliance_get_audit_head", []), await self.discover(),
                                    self.chain_id)
        self.heads.add(head)
        return head

    async def fetch_audit_log(self) -> AuditFetch:
        """Return every audit entry (stubs for others' outside this key's scope) up to the head signed at the first call."""
        first = await self.call("compliance_get_audit_log", [0, PAGE_SIZE])
        head = SignedHead.from_json(first["head"], await self.discover(), self.chain_id)
        entries = list(first["entries"])
        while len(entries) < head.count:
            page = await self.call("compliance_get_audit_log", [len(entries), PAGE_SIZE])
            if not page["entries"]:
                break
            entries.extend(page["entries"])
        return AuditFetch(entries[:head.count], head)

    def check_audit(self, fetched: AuditFetch) -> ChainCheck:
        """Verify the chain, that it ends at the signed head, and that it agrees with every head kept earlier."""
        # The new head is kept either way: a signed head that contradicts an earlier one is the node's own evidence.
        check = check_reaches_head(verify_audit_chain(fetched.entries), fetched.head.head_hash, fetched.head.count)
        check = check_against_heads(fetched.entries, check, self.heads.get(bytes.fromhex(fetched.head.node_id)))
        self.heads.add(fetched.head)
        return check


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


def compose_range(start_version: int | None, end_version: int | None, start_time_us: int | None,
                  end_time_us: int | None, newest_first: bool) -> dict[str, Any]:
    """Return the range object of the history methods (only the given fields)."""
    fields = {"start_version": start_version, "end_version": end_version, "start_time_us": start_time_us,
              "end_time_us": end_time_us, "descending": newest_first or None}
    return {name: value for name, value in fields.items() if value is not None}
