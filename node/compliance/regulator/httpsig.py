"""RFC 9421 HTTP Message Signatures for the regulator API: the standard envelope, accepted beside the v2 headers."""

# A request in this envelope (docs/compliance.md, "The RFC 9421 envelope"):
#   Content-Digest: sha-256=:<base64 SHA-256 of the body>:                      (RFC 9530)
#   X-Regulator-Node: <node id, 64 hex>
#   Signature-Input: regulator=("@method" "@path" "content-digest" "x-regulator-node");created=<Unix s>;
#                    keyid="<regulator public key, 64 hex>";alg="ed25519";nonce="<32..128 hex>";tag="stablechain-regulator"
#   Signature: regulator=:<base64 Ed25519 signature of the RFC 9421 signature base>:
# The answer is signed by the node's key over ("@status" "content-digest" "signature";req;key="regulator"), label
# "node", keyid = node id, so it is bound to the request's own signature. `http-message-signatures` builds and checks
# the signature bases; this module maps them onto the API's credentials.

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import http_sf
from cryptography.hazmat.primitives.asymmetric import ed25519
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from http_message_signatures.structures import CaseInsensitiveDict

from node.compliance.regulator.auth import (
    MALFORMED_SIGNATURE,
    MISSING_SIGNATURE,
    NODE_HEADER,
    NODE_ID_LENGTH,
    NONCE_BYTES_MAX,
    NONCE_BYTES_MIN,
    PUBLIC_KEY_LENGTH,
    SIGNATURE_LENGTH,
    TIMESTAMP_DIGITS_MAX,
    Credentials,
)
from primitives.keys import PrivateKey

SIGNATURE_INPUT_HEADER = "Signature-Input"
SIGNATURE_DICTIONARY_HEADER = "Signature"
SIGNATURE_TAG = "stablechain-regulator"
REQUEST_LABEL = "regulator"
RESPONSE_LABEL = "node"
REQUEST_COMPONENTS = ("@method", "@path", "content-digest", "x-regulator-node")
RESPONSE_COMPONENTS = ("@status", "content-digest", f'"signature";req;key="{REQUEST_LABEL}"')
MS_PER_S = 1_000
ENVELOPE_HEADERS_CHARS_MAX = 1_024  # a Signature-Input or Signature this long is not ours: refused unparsed


@dataclass(slots=True)
class RequestView:
    """The parts of an HTTP request RFC 9421 covers (absolute URL, upper-case method, header field lines)."""

    method: str
    url: str
    headers: CaseInsensitiveDict


@dataclass(slots=True)
class ResponseView:
    """The parts of an HTTP response RFC 9421 covers, with the request it answers."""

    status_code: int
    headers: CaseInsensitiveDict
    request: RequestView


class OwnClockVerifier(HTTPMessageVerifier):
    """The library's verifier without its wall-clock checks: the node checks `created` against its own clock and freshness window (Authenticator.check)."""

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        return None


class Ed25519Keys(HTTPSignatureKeyResolver):
    """Resolves a keyid (an Ed25519 public key in hex) to its key; the one private key is the node's."""

    def __init__(self, private_key: PrivateKey | None = None) -> None:
        self.private_key = private_key

    def resolve_public_key(self, key_id: str) -> ed25519.Ed25519PublicKey:
        return ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_id))

    def resolve_private_key(self, key_id: str) -> ed25519.Ed25519PrivateKey:
        if self.private_key is None or key_id != self.private_key.public_key().hex():
            raise HTTPMessageSignaturesException(f"no private key {key_id}")
        return ed25519.Ed25519PrivateKey.from_private_bytes(self.private_key.seed)


def is_rfc9421(headers: Mapping[str, str]) -> bool:
    """Return True iff the request is signed in the RFC 9421 envelope (it carries Signature-Input)."""
    return SIGNATURE_INPUT_HEADER in headers


def parse_member(headers: Mapping[str, str], name: str) -> Any:
    """Return the REQUEST_LABEL member of a Structured Field dictionary header, or None when absent or malformed."""
    text = headers.get(name) or ""
    if len(text) > ENVELOPE_HEADERS_CHARS_MAX:
        return None
    try:
        return http_sf.parse(text.encode("ascii"), tltype="dictionary").get(REQUEST_LABEL)
    except Exception:  # noqa: BLE001 - any parser failure on hostile text is a malformed envelope, never a 5xx
        return None


def parse_rfc9421_credentials(headers: Mapping[str, str]) -> Credentials | str:
    """Return the credentials named by the envelope (checked before its signature is), or a refusal reason."""
    if any(not headers.get(name) for name in (SIGNATURE_INPUT_HEADER, SIGNATURE_DICTIONARY_HEADER, NODE_HEADER)):
        return MISSING_SIGNATURE
    signature_input, signature = parse_member(headers, SIGNATURE_INPUT_HEADER), parse_member(headers, SIGNATURE_DICTIONARY_HEADER)
    if signature_input is None or signature is None or not isinstance(signature[0], bytes):
        return MALFORMED_SIGNATURE
    parameters = signature_input[1]
    keyid, created, nonce_text = parameters.get("keyid"), parameters.get("created"), parameters.get("nonce")
    try:
        public_key, nonce, node_id = bytes.fromhex(keyid), bytes.fromhex(nonce_text), bytes.fromhex(headers[NODE_HEADER])
    except (TypeError, ValueError):
        return MALFORMED_SIGNATURE
    if (not isinstance(created, int) or isinstance(created, bool) or not 0 <= created < 10 ** TIMESTAMP_DIGITS_MAX
            or len(public_key) != PUBLIC_KEY_LENGTH or len(signature[0]) != SIGNATURE_LENGTH
            or not NONCE_BYTES_MIN <= len(nonce) <= NONCE_BYTES_MAX or len(node_id) != NODE_ID_LENGTH):
        return MALFORMED_SIGNATURE
    return Credentials(keyid, nonce_text, public_key, created * MS_PER_S, nonce, signature[0], node_id)


def is_valid_rfc9421(request: RequestView, body: bytes, public_key: bytes) -> bool:
    """Return True iff the request's "regulator" signature by public_key covers our components and the body's digest."""
    verifier = OwnClockVerifier(signature_algorithm=algorithms.ED25519, key_resolver=Ed25519Keys())
    try:
        results = verifier.verify(request, max_age=None, expect_tag=SIGNATURE_TAG, expect_label=REQUEST_LABEL,
                                  require_components=REQUEST_COMPONENTS, body=body)
    except Exception:  # noqa: BLE001 - whatever the library refuses is a bad signature, never a 5xx
        return False
    return len(results) == 1 and results[0].parameters.get("keyid") == public_key.hex() and results[0].body == body


def sign_rfc9421_response(key: PrivateKey, request: RequestView, status: int, body: bytes,
                          time_s: int) -> dict[str, str] | None:
    """Return the headers that sign an answer bound to the request's "regulator" signature (None if it has none)."""
    response = ResponseView(status, CaseInsensitiveDict(), request)
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=Ed25519Keys(key))
    try:
        signer.sign(response, key_id=key.public_key().hex(), label=RESPONSE_LABEL, tag=SIGNATURE_TAG,
                    created=datetime.datetime.fromtimestamp(time_s, datetime.UTC),
                    covered_component_ids=RESPONSE_COMPONENTS, body=body)
    except Exception:  # noqa: BLE001 - the request's own signature is unusable: the answer is signed the v2 way
        return None
    return dict(response.headers)
