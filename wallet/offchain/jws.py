"""Compact JWS with EdDSA (Ed25519), as DIP-1 uses it: protected header {"alg":"EdDSA"}, no other header.

The off-chain API signs every request and response with the sender's on-chain compliance key. Only
this one algorithm is ever accepted: a message whose header names another is refused, so the
"alg: none" and algorithm-confusion attacks of general JOSE libraries cannot arise here.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable

from primitives.keys import is_valid_signature

PROTECTED_HEADER = {"alg": "EdDSA"}
ENCODED_HEADER = "eyJhbGciOiJFZERTQSJ9"  # base64url(json.dumps(PROTECTED_HEADER, separators=(",", ":")))
JWS_PARTS = 3
JWS_BYTES_MAX = 1_000_000


class JwsError(ValueError):
    """The bytes are not a compact EdDSA JWS."""


class JwsSignatureError(JwsError):
    """The JWS is well formed but its signature does not verify under the expected key."""


def encode_base64url(data: bytes) -> str:
    """Return unpadded base64url text."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def decode_base64url(text: str) -> bytes:
    """Decode unpadded base64url text (JwsError if it is not)."""
    if "=" in text:
        raise JwsError("base64url parts must be unpadded")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise JwsError(f"invalid base64url: {error}") from None


def encode(payload: bytes, sign: Callable[[bytes], bytes]) -> bytes:
    """Return header.payload.signature with the signature of header.payload made by sign."""
    signing_input = f"{ENCODED_HEADER}.{encode_base64url(payload)}"
    signature = sign(signing_input.encode("ascii"))
    return f"{signing_input}.{encode_base64url(signature)}".encode("ascii")


def decode_unverified(message: bytes) -> tuple[bytes, bytes, bytes]:
    """Split a compact JWS into (signing input, payload, signature) after checking its header."""
    if len(message) > JWS_BYTES_MAX:
        raise JwsError(f"JWS larger than {JWS_BYTES_MAX} bytes")
    try:
        text = message.decode("ascii")
    except UnicodeDecodeError:
        raise JwsError("JWS must be ASCII") from None
    parts = text.split(".")
    if len(parts) != JWS_PARTS:
        raise JwsError(f"compact JWS has {JWS_PARTS} parts, got {len(parts)}")
    header_text, payload_text, signature_text = parts
    try:
        header = json.loads(decode_base64url(header_text))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise JwsError("JWS header is not JSON") from None
    if header != PROTECTED_HEADER:
        raise JwsError(f"JWS header must be {PROTECTED_HEADER}, got {header!r}")
    signing_input = f"{header_text}.{payload_text}".encode("ascii")
    return signing_input, decode_base64url(payload_text), decode_base64url(signature_text)


def decode(message: bytes, public_key: bytes) -> bytes:
    """Return the payload of a compact JWS after verifying its Ed25519 signature with public_key."""
    signing_input, payload, signature = decode_unverified(message)
    if not is_valid_signature(public_key, signing_input, signature):
        raise JwsSignatureError("JWS signature does not verify with the sender's compliance key")
    return payload
