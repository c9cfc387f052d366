"""Regulator request authentication: ed25519 over domain-separated signing bytes, node binding, freshness, replay, scopes."""

# Signing bytes (v2), byte for byte (docs/compliance.md has a worked example):
#   sha3_256(b"STABLECHAIN::RegulatorRequest::v2")           32 bytes, the domain separator
#   ‖ u8 chain_id
#   ‖ node_id                                                 32 bytes, the node's ed25519 network public key
#   ‖ public_key                                              32 bytes
#   ‖ uleb128(len(method)) ‖ method (UTF-8)
#   ‖ sha3_256(canonical_params)                              32 bytes
#   ‖ u64 little-endian timestamp_ms                          Unix milliseconds
#   ‖ uleb128(len(nonce)) ‖ nonce                             16..64 random bytes
# canonical_params = the JSON Canonicalization Scheme (RFC 8785, JCS) of the JSON-RPC `params` array, which
# holds no floats (integers of at most 53 bits, strings, booleans, null, arrays, objects only): any language's
# JCS library produces the same bytes (tests/adversarial/regulator_client.sh signs with openssl and curl alone).

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import rfc8785

from node.rpc.jsonrpc import JsonValue
from primitives.bcs import encode_uleb128
from primitives.errors import invariant
from primitives.hashing import sha3_256
from primitives.keys import is_valid_signature

SIGNING_DOMAIN = b"STABLECHAIN::RegulatorRequest::v2"
SIGNING_SALT = sha3_256(SIGNING_DOMAIN)
PUBLIC_KEY_LENGTH = 32
NODE_ID_LENGTH = 32
SIGNATURE_LENGTH = 64
NONCE_BYTES_MIN = 16
NONCE_BYTES_MAX = 64
DEFAULT_FRESHNESS_WINDOW_MS = 60_000
DEFAULT_REPLAY_CACHE_ENTRIES_MAX = 100_000
ANY = "*"
KEY_HEADER = "X-Regulator-Key"
TIMESTAMP_HEADER = "X-Regulator-Timestamp"
NONCE_HEADER = "X-Regulator-Nonce"
SIGNATURE_HEADER = "X-Regulator-Signature"
NODE_HEADER = "X-Regulator-Node"
AUTH_HEADERS = (KEY_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER, NODE_HEADER)
# Audit scopes of a key: its own entries only (hash-only stubs for the others), or every entry.
AUDIT_SCOPE_OWN = "own"
AUDIT_SCOPE_ALL = "all"
AUDIT_SCOPES = (AUDIT_SCOPE_OWN, AUDIT_SCOPE_ALL)
TIMESTAMP_DIGITS_MAX = 15

# Refusal reasons: a fixed vocabulary that reveals no ledger data (unknown key and bad signature look alike).
MISSING_SIGNATURE = "missing_signature"
MALFORMED_SIGNATURE = "malformed_signature"
WRONG_NODE = "wrong_node"
STALE_TIMESTAMP = "stale_timestamp"
BAD_SIGNATURE = "bad_signature"
REPLAYED_NONCE = "replayed_nonce"
REPLAY_CACHE_FULL = "replay_cache_full"
OUT_OF_SCOPE = "out_of_scope"
HTTP_UNAUTHORIZED = 401
HTTP_FORBIDDEN = 403
HTTP_UNAVAILABLE = 503


class CanonicalParamsError(ValueError):
    """The params hold a value that has no canonical JSON form here (a float, NaN, a non-JSON type)."""


def check_canonical_value(value: JsonValue) -> None:
    """Raise CanonicalParamsError unless value is made of ints, strings, bools, None, lists and string-keyed dicts."""
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, list):
        for item in value:
            check_canonical_value(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalParamsError("object keys must be strings")
            check_canonical_value(item)
        return
    raise CanonicalParamsError(f"{type(value).__name__} values have no canonical form (use integers or strings)")


def compute_canonical_params(params: list[JsonValue]) -> bytes:
    """Return the canonical JSON bytes of a params array."""
    if not isinstance(params, list):
        raise CanonicalParamsError("params must be a JSON array")
    check_canonical_value(params)
    try:
        return rfc8785.dumps(params)
    except (rfc8785.CanonicalizationError, ValueError) as error:
        raise CanonicalParamsError(f"params have no JCS form: {error}") from None


def compute_params_hash(params: list[JsonValue]) -> bytes:
    """Return sha3-256 of the canonical params."""
    return sha3_256(compute_canonical_params(params))


def compute_signing_message(chain_id: int, node_id: bytes, public_key: bytes, method: str, params: list[JsonValue],
                            timestamp_ms: int, nonce: bytes) -> bytes:
    """Return the bytes a regulator signs for one request to one node (see the module comment)."""
    method_bytes = method.encode("utf-8")
    return b"".join((
        SIGNING_SALT, bytes([chain_id]), node_id, public_key, encode_uleb128(len(method_bytes)), method_bytes,
        compute_params_hash(params), timestamp_ms.to_bytes(8, "little"), encode_uleb128(len(nonce)), nonce,
    ))


@dataclass(frozen=True, slots=True)
class RegulatorKey:
    """A configured regulator: name, ed25519 public key, allowed methods and currencies ('*' = all), audit scope."""

    name: str
    public_key: bytes
    methods: frozenset[str]
    currencies: frozenset[str]
    audit_scope: str = AUDIT_SCOPE_OWN

    def __post_init__(self) -> None:
        invariant(self.audit_scope in AUDIT_SCOPES, f"audit scope is one of {AUDIT_SCOPES}")

    def may_call(self, method: str) -> bool:
        """Return True iff the method is in scope."""
        return ANY in self.methods or method in self.methods

    def may_see(self, currency: str) -> bool:
        """Return True iff the currency is in scope."""
        return ANY in self.currencies or currency in self.currencies

    def may_read_audit_entry(self, entry_public_key: str | None) -> bool:
        """Return True iff this key may read an audit entry in full (its own, or every one with scope "all")."""
        if self.audit_scope == AUDIT_SCOPE_ALL:
            return True
        return entry_public_key is not None and entry_public_key.lower() == self.public_key.hex()


@dataclass(frozen=True, slots=True)
class Credentials:
    """The five authentication headers, as received (raw text, for the audit log) and decoded."""

    public_key_text: str
    nonce_text: str
    public_key: bytes
    timestamp_ms: int
    nonce: bytes
    signature: bytes
    node_id: bytes


@dataclass(frozen=True, slots=True)
class AuthResult:
    """Allowed (key set, status 200) or refused with an HTTP status and a reason from the fixed vocabulary."""

    is_allowed: bool
    status: int
    reason: str
    key: RegulatorKey | None = None
    credentials: Credentials | None = None


class ReplayCache:
    """Nonces seen within the freshness window, per key; bounded (when full of live nonces, requests are refused)."""

    def __init__(self, entries_max: int = DEFAULT_REPLAY_CACHE_ENTRIES_MAX) -> None:
        self.entries_max = entries_max
        self._expiry_ms: dict[tuple[bytes, bytes], int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiry_ms)

    def add(self, public_key: bytes, nonce: bytes, expires_ms: int, now_ms: int) -> str | None:
        """Record a nonce; return None, or REPLAYED_NONCE / REPLAY_CACHE_FULL when it cannot be accepted."""
        entry = (public_key, nonce)
        with self._lock:
            if entry in self._expiry_ms and self._expiry_ms[entry] > now_ms:
                return REPLAYED_NONCE
            if len(self._expiry_ms) >= self.entries_max:
                self._expiry_ms = {k: v for k, v in self._expiry_ms.items() if v > now_ms}
            if len(self._expiry_ms) >= self.entries_max:
                return REPLAY_CACHE_FULL  # evicting a live nonce would re-open it to replay
            self._expiry_ms[entry] = expires_ms
        return None


def parse_credentials(headers: Mapping[str, str]) -> Credentials | str:
    """Return the decoded credentials, or MISSING_SIGNATURE / MALFORMED_SIGNATURE."""
    values = [headers.get(name) for name in AUTH_HEADERS]
    if any(value is None or value == "" for value in values):
        return MISSING_SIGNATURE
    key_text, timestamp_text, nonce_text, signature_text, node_text = values  # type: ignore[misc]
    try:
        public_key, nonce, signature = bytes.fromhex(key_text), bytes.fromhex(nonce_text), bytes.fromhex(signature_text)
        node_id = bytes.fromhex(node_text)
    except ValueError:
        return MALFORMED_SIGNATURE
    if (not timestamp_text.isascii() or not timestamp_text.isdigit() or len(timestamp_text) > TIMESTAMP_DIGITS_MAX
            or len(public_key) != PUBLIC_KEY_LENGTH or len(signature) != SIGNATURE_LENGTH
            or not NONCE_BYTES_MIN <= len(nonce) <= NONCE_BYTES_MAX or len(node_id) != NODE_ID_LENGTH):
        return MALFORMED_SIGNATURE
    return Credentials(key_text, nonce_text, public_key, int(timestamp_text), nonce, signature, node_id)


class Authenticator:
    """Checks credentials in a fixed order: present, well formed, for this node, fresh, signed by a known key, unreplayed, in scope."""

    def __init__(self, keys: Iterable[RegulatorKey], chain_id: int, node_id: bytes, wall_clock_ms: Callable[[], int],
                 freshness_window_ms: int = DEFAULT_FRESHNESS_WINDOW_MS, replay_cache: ReplayCache | None = None) -> None:
        invariant(len(node_id) == NODE_ID_LENGTH, "a node id is a 32-byte ed25519 public key")
        self.keys = {key.public_key: key for key in keys}
        self.chain_id = chain_id
        self.node_id = node_id
        self.wall_clock_ms = wall_clock_ms
        self.freshness_window_ms = freshness_window_ms
        self.replay_cache = replay_cache if replay_cache is not None else ReplayCache()

    def authenticate(self, headers: Mapping[str, str], method: str, params: list[JsonValue]) -> AuthResult:
        """Return whether a request in the v2 envelope may be answered; refusals carry 401, 403 or 503."""
        credentials = parse_credentials(headers)
        if isinstance(credentials, str):
            return AuthResult(False, HTTP_UNAUTHORIZED, credentials)

        def is_signed(claimed: Credentials) -> bool:
            message = compute_signing_message(self.chain_id, self.node_id, claimed.public_key, method, params,
                                              claimed.timestamp_ms, claimed.nonce)
            return is_valid_signature(claimed.public_key, message, claimed.signature)

        return self.check(credentials, method, is_signed)

    def check(self, credentials: Credentials, method: str, is_signed: Callable[[Credentials], bool]) -> AuthResult:
        """Return whether parsed credentials of either envelope may be answered; is_signed checks the signature."""
        if credentials.node_id != self.node_id:
            # Signed for another node (or by a client that never asked this one who it is): never valid here.
            return AuthResult(False, HTTP_UNAUTHORIZED, WRONG_NODE, None, credentials)
        now_ms = self.wall_clock_ms()
        if abs(now_ms - credentials.timestamp_ms) > self.freshness_window_ms:
            return AuthResult(False, HTTP_UNAUTHORIZED, STALE_TIMESTAMP, None, credentials)
        key = self.keys.get(credentials.public_key)
        if key is None or not is_signed(credentials):
            return AuthResult(False, HTTP_UNAUTHORIZED, BAD_SIGNATURE, None, credentials)
        # Only signed requests reach the cache, so nobody can fill it with nonces they did not sign.
        replay = self.replay_cache.add(credentials.public_key, credentials.nonce,
                                       credentials.timestamp_ms + self.freshness_window_ms + 1, now_ms)
        if replay is not None:
            status = HTTP_UNAVAILABLE if replay == REPLAY_CACHE_FULL else HTTP_UNAUTHORIZED
            return AuthResult(False, status, replay, key, credentials)
        if not key.may_call(method):
            return AuthResult(False, HTTP_FORBIDDEN, OUT_OF_SCOPE, key, credentials)
        return AuthResult(True, 200, "", key, credentials)
