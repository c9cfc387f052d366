"""The regulator's side of the RFC 9421 envelope: sign a request for one node, check the node's answer."""

# The envelope is specified in docs/compliance.md ("The RFC 9421 envelope"); `http-message-signatures` builds the
# signature bases on both sides, so the client and the node agree by following the standard, not each other's code.

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from http_message_signatures.structures import CaseInsensitiveDict

from primitives.keys import PrivateKey

SIGNATURE_TAG = "stablechain-regulator"
REQUEST_LABEL = "regulator"
RESPONSE_LABEL = "node"
REQUEST_COMPONENTS = ("@method", "@path", "content-digest", "x-regulator-node")
RESPONSE_COMPONENTS = ("@status", "content-digest", f'"signature";req;key="{REQUEST_LABEL}"')
NODE_HEADER = "X-Regulator-Node"


@dataclass(slots=True)
class RequestView:
    """An HTTP request as RFC 9421 covers it."""

    method: str
    url: str
    headers: CaseInsensitiveDict


@dataclass(slots=True)
class ResponseView:
    """An HTTP response as RFC 9421 covers it, with the request it answers."""

    status_code: int
    headers: CaseInsensitiveDict
    request: RequestView


class OwnClockVerifier(HTTPMessageVerifier):
    """The library's verifier without its wall-clock checks: an answer is bound to this request's signature, so its `created` need not be checked."""

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        return None


class Ed25519Keys(HTTPSignatureKeyResolver):
    """Resolves keyids (Ed25519 public keys in hex); the one private key is the regulator's."""

    def __init__(self, private_key: PrivateKey | None = None) -> None:
        self.private_key = private_key

    def resolve_public_key(self, key_id: str) -> ed25519.Ed25519PublicKey:
        return ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_id))

    def resolve_private_key(self, key_id: str) -> ed25519.Ed25519PrivateKey:
        if self.private_key is None or key_id != self.private_key.public_key().hex():
            raise HTTPMessageSignaturesException(f"no private key {key_id}")
        return ed25519.Ed25519PrivateKey.from_private_bytes(self.private_key.seed)


def compose_rfc9421_headers(key: PrivateKey, node_id: bytes, url: str, body: bytes, created_s: int,
                            nonce: bytes) -> dict[str, str]:
    """Return the headers of a POST of body to url, signed by key for the node node_id (RFC 9421 + RFC 9530)."""
    request = RequestView("POST", url, CaseInsensitiveDict({"Content-Type": "application/json",
                                                             NODE_HEADER: node_id.hex()}))
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=Ed25519Keys(key))
    signer.sign(request, key_id=key.public_key().hex(), label=REQUEST_LABEL, tag=SIGNATURE_TAG, nonce=nonce.hex(),
                created=datetime.datetime.fromtimestamp(created_s, datetime.UTC),
                covered_component_ids=REQUEST_COMPONENTS, body=body)
    return dict(request.headers)


def is_signed_rfc9421_answer(node_id: bytes, url: str, request_headers: Mapping[str, str], status: int,
                             headers: Mapping[str, str], body: bytes) -> bool:
    """Return True iff the answer carries the node's "node" signature over its status and body, bound to our request."""
    request = RequestView("POST", url, CaseInsensitiveDict(request_headers))
    response = ResponseView(status, CaseInsensitiveDict(headers), request)
    verifier = OwnClockVerifier(signature_algorithm=algorithms.ED25519, key_resolver=Ed25519Keys())
    try:
        results = verifier.verify(response, max_age=None, expect_tag=SIGNATURE_TAG, expect_label=RESPONSE_LABEL,
                                  require_components=RESPONSE_COMPONENTS, body=body)
    except Exception:  # noqa: BLE001 - whatever the library refuses in a node's answer is an unsigned answer
        return False
    return len(results) == 1 and results[0].parameters.get("keyid") == node_id.hex() and results[0].body == body
