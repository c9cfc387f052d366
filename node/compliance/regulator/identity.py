"""The node's regulator identity: its network key signs every response, the discovery answer and audit-log heads."""

# Response signing bytes (v1), byte for byte (docs/compliance.md, "Signed responses"):
#   sha3_256(b"STABLECHAIN::RegulatorResponse::v1")          32 bytes, the domain separator
#   ‖ node_id                                                 32 bytes, the node's ed25519 network public key
#   ‖ u16 little-endian HTTP status
#   ‖ uleb128(len(request_signature)) ‖ request_signature     the request's 64-byte signature, or empty when it
#                                                             carried no well-formed X-Regulator-Signature
#   ‖ sha3_256(response body)                                 32 bytes
# Audit head signing bytes (v1):
#   sha3_256(b"STABLECHAIN::RegulatorAuditHead::v1") ‖ u8 chain_id ‖ node_id ‖ u64 LE count
#   ‖ head_hash (32 raw bytes; 64 zero hex digits when the log is empty) ‖ u64 LE time_ms

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from node.compliance.regulator.auth import NODE_HEADER, SIGNATURE_HEADER, SIGNATURE_LENGTH
from node.rpc.jsonrpc import JsonObject
from primitives.bcs import encode_uleb128
from primitives.hashing import sha3_256
from primitives.keys import PrivateKey

RESPONSE_SALT = sha3_256(b"STABLECHAIN::RegulatorResponse::v1")
HEAD_SALT = sha3_256(b"STABLECHAIN::RegulatorAuditHead::v1")
RESPONSE_SIGNATURE_HEADER = "X-Regulator-Response-Signature"
STATUS_BYTES = 2
COUNT_BYTES = 8
TIME_BYTES = 8
REQUEST_SIGNING_NAME = "STABLECHAIN::RegulatorRequest::v2"


def compute_response_message(node_id: bytes, status: int, request_signature: bytes, body: bytes) -> bytes:
    """Return the bytes a node signs for one response (see the module comment)."""
    return b"".join((RESPONSE_SALT, node_id, status.to_bytes(STATUS_BYTES, "little"),
                     encode_uleb128(len(request_signature)), request_signature, sha3_256(body)))


def compute_head_message(chain_id: int, node_id: bytes, count: int, head_hash: str, time_ms: int) -> bytes:
    """Return the bytes a node signs for one audit-log head."""
    return b"".join((HEAD_SALT, bytes([chain_id]), node_id, count.to_bytes(COUNT_BYTES, "little"),
                     bytes.fromhex(head_hash), time_ms.to_bytes(TIME_BYTES, "little")))


def get_request_signature(headers: Mapping[str, str]) -> bytes:
    """Return the request's signature when its header is 64 bytes of hex, else b"" (what a response is bound to)."""
    text = headers.get(SIGNATURE_HEADER) or ""
    try:
        signature = bytes.fromhex(text)
    except ValueError:
        return b""
    return signature if len(signature) == SIGNATURE_LENGTH else b""


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """The key a node answers regulators with (its network key) and the chain it serves."""

    key: PrivateKey
    chain_id: int

    @property
    def node_id(self) -> bytes:
        """The node's ed25519 network public key: what requests are signed for and responses verified with."""
        return self.key.public_key().data

    def sign_response(self, status: int, request_signature: bytes, body: bytes) -> dict[str, str]:
        """Return the headers that sign one response."""
        signature = self.key.sign(compute_response_message(self.node_id, status, request_signature, body))
        return {NODE_HEADER: self.node_id.hex(), RESPONSE_SIGNATURE_HEADER: signature.hex()}

    def sign_head(self, count: int, head_hash: str, time_ms: int) -> JsonObject:
        """Return the signed audit-log head: entry count, last hash, node, chain and time."""
        signature = self.key.sign(compute_head_message(self.chain_id, self.node_id, count, head_hash, time_ms))
        return {"node_id": self.node_id.hex(), "chain_id": self.chain_id, "count": count, "head_hash": head_hash,
                "time_ms": time_ms, "signature": signature.hex()}

    def describe(self) -> JsonObject:
        """Return the discovery answer: which node this is and how requests to it are signed."""
        return {"node_id": self.node_id.hex(), "chain_id": self.chain_id, "request_signing": REQUEST_SIGNING_NAME}
