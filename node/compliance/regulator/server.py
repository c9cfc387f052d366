"""The regulator listener: an aiohttp app that authenticates, audits, dispatches `compliance_*` methods and signs every answer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from http_message_signatures.structures import CaseInsensitiveDict

from node.compliance.admission.pipeline import RejectionLog
from node.compliance.index.queries import ComplianceIndex
from node.compliance.regulator.audit import AUDIT_PAGE_MAX, AuditLog, AuditLogError
from node.compliance.regulator.auth import (
    HTTP_FORBIDDEN,
    HTTP_UNAUTHORIZED,
    AuthResult,
    Authenticator,
    CanonicalParamsError,
    RegulatorKey,
    ReplayCache,
    compute_params_hash,
    parse_credentials,
)
from node.compliance.regulator.httpsig import (
    MS_PER_S,
    RequestView,
    is_rfc9421,
    is_valid_rfc9421,
    parse_rfc9421_credentials,
    sign_rfc9421_response,
)
from node.compliance.regulator.identity import NodeIdentity, get_request_signature
from node.compliance.regulator.methods import ComplianceMethods, RegulatorMethod
from node.compliance.regulator.throttle import HTTP_TOO_MANY_REQUESTS, RefusalThrottle
from node.config import RegulatorConfig
from node.rpc.jsonrpc import (
    METHOD_NOT_FOUND,
    JsonObject,
    JsonRpcError,
    JsonValue,
    LedgerSnapshot,
    RequestId,
    compose_error,
    compose_result,
    invalid_params,
)
from node.rpc.connlimit import ConnectionLimits, LimitedSite
from node.rpc.jsondepth import is_nesting_within
from node.rpc.ledger import LedgerReader
from node.rpc.server import JSON_CONTENT_TYPE
from primitives.errors import invariant
from primitives.keys import PrivateKey

REGULATOR_BODY_BYTES_MAX = 16 * 1024
# Regulators are few: a small listener (node.config's [regulator] may change it).
REGULATOR_CONNECTIONS_MAX = 128
REGULATOR_CONNECTIONS_PER_CLIENT_MAX = 16
BODY_READ_SLACK_BYTES = 1024
HTTP_BAD_REQUEST = 400
HTTP_UNAVAILABLE = 503
MALFORMED_REQUEST = "malformed_request"
AUDIT_UNAVAILABLE = "audit_unavailable"
THROTTLED = "throttled"
REFUSAL_WORDS = {HTTP_BAD_REQUEST: "bad_request", HTTP_UNAUTHORIZED: "unauthorized", HTTP_FORBIDDEN: "forbidden",
                 HTTP_UNAVAILABLE: "unavailable", HTTP_TOO_MANY_REQUESTS: "too_many_requests"}
RPC_PATH = "/v1"
DISCOVERY_PATHS = ("/v1/node", "/node")
# Signatures of answers bound to no request (refusals of requests without a well-formed signature) kept for reuse.
UNBOUND_SIGNATURES_MAX = 64
AUDIENCE_HEADER = "WWW-Authenticate"
AUTH_SCHEME = 'Stablechain-Ed25519 realm="regulator"'


def wall_clock_ms() -> int:
    """Unix time in milliseconds."""
    return time.time_ns() // 1_000_000


def compose_refusal(status: int, reason: str) -> web.Response:
    """Return a refusal: a status and a reason word, never any ledger data (not even the ledger version)."""
    body = json.dumps({"error": REFUSAL_WORDS.get(status, "refused"), "reason": reason}).encode()
    headers = {AUDIENCE_HEADER: AUTH_SCHEME} if status == HTTP_UNAUTHORIZED else {}
    return web.Response(status=status, body=body, content_type=JSON_CONTENT_TYPE, headers=headers)


def parse_request(body: bytes) -> tuple[str, list[JsonValue], RequestId] | None:
    """Return (method, params, id) of one JSON-RPC request object, or None when it is not one."""
    if not is_nesting_within(body):
        return None  # refused before the parser recurses: deep nesting would raise RecursionError past it
    try:
        request = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(request.get("method"), str):
        return None
    params = request.get("params", [])
    request_id = request.get("id")
    if not isinstance(params, list) or not (request_id is None or isinstance(request_id, (int, str))):
        return None
    return request["method"], params, request_id


class RegulatorApi:
    """Authentication, audit and dispatch; `create_app` serves it on POST /v1."""

    def __init__(self, methods: list[RegulatorMethod], authenticator: Authenticator, audit: AuditLog,
                 get_snapshot: Callable[[], LedgerSnapshot], identity: NodeIdentity,
                 throttle: RefusalThrottle | None = None) -> None:
        invariant(identity.node_id == authenticator.node_id, "requests are checked for the node that signs the answers")
        self.methods = {method.name: method for method in methods}
        self.identity = identity
        # The discovery answer never changes, and it is bound to no request: sign it once.
        self.discovery_body = json.dumps(identity.describe(), separators=(",", ":")).encode()
        self.discovery_headers = identity.sign_response(200, b"", self.discovery_body)
        self.unbound_signatures: dict[tuple[int, bytes], dict[str, str]] = {}
        self.throttle = throttle if throttle is not None else RefusalThrottle()
        self.connection_limits = ConnectionLimits(REGULATOR_CONNECTIONS_MAX, REGULATOR_CONNECTIONS_PER_CLIENT_MAX)
        self.authenticator = authenticator
        self.audit = audit
        self.get_snapshot = get_snapshot

    async def record(self, auth: AuthResult | None, method: str | None, params_hash: str | None, status: int,
                     reason: str, result_bytes: int) -> bool:
        """Append the audit entry of one request; False when the log cannot be written."""
        credentials = None if auth is None else auth.credentials
        try:
            # The fsync runs on a worker thread so the node's event loop (consensus included) never waits on disk.
            await asyncio.to_thread(
                self.audit.append, self.authenticator.wall_clock_ms(), None if auth is None or auth.key is None else auth.key.name,
                None if credentials is None else credentials.public_key_text, method, params_hash,
                None if credentials is None else credentials.nonce_text, status == 200, status, reason, result_bytes,
            )
        except AuditLogError:
            return False
        return True

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one POST and sign the answer, refusals included, bound to the request's signature."""
        body = await read_body(request)
        response = await self.answer(request, body)
        answer = response.body if isinstance(response.body, bytes) else b""
        headers = None
        if is_rfc9421(request.headers):
            headers = sign_rfc9421_response(self.identity.key, view_request(request), response.status, answer,
                                            self.authenticator.wall_clock_ms() // MS_PER_S)
        if headers is None:
            headers = self.sign(response.status, get_request_signature(request.headers), answer)
        response.headers.update(headers)
        return response

    def authenticate(self, request: web.Request, body: bytes, method: str, params: list[JsonValue]) -> AuthResult:
        """Authenticate a request in either envelope: RFC 9421 when it carries Signature-Input, else v2."""
        if not is_rfc9421(request.headers):
            return self.authenticator.authenticate(request.headers, method, params)
        credentials = parse_rfc9421_credentials(request.headers)
        if isinstance(credentials, str):
            return AuthResult(False, HTTP_UNAUTHORIZED, credentials)
        view = view_request(request)
        return self.authenticator.check(credentials, method,
                                        lambda claimed: is_valid_rfc9421(view, body, claimed.public_key))

    def sign(self, status: int, request_signature: bytes, body: bytes) -> dict[str, str]:
        """Return the signature headers of one answer; answers bound to no request signature are signed once each."""
        if request_signature:
            return self.identity.sign_response(status, request_signature, body)
        # Unbound answers are refusals from a fixed vocabulary: a flood of unsigned requests costs no signing.
        cached = self.unbound_signatures.get((status, body))
        if cached is None:
            cached = self.identity.sign_response(status, b"", body)
            if len(self.unbound_signatures) < UNBOUND_SIGNATURES_MAX:
                self.unbound_signatures[(status, body)] = cached
        return cached

    async def discover(self, request: web.Request) -> web.Response:
        """GET /v1/node, unauthenticated: the node id requests must be signed for, signed by that node."""
        return web.Response(body=self.discovery_body, content_type=JSON_CONTENT_TYPE, headers=self.discovery_headers)

    async def answer(self, request: web.Request, body: bytes) -> web.Response:
        """Return the unsigned answer to one POST: a refusal, or the JSON-RPC response once it is audited."""
        parsed = parse_request(body) if len(body) <= REGULATOR_BODY_BYTES_MAX else None
        params_hash = None
        if parsed is not None:
            try:
                params_hash = compute_params_hash(parsed[1]).hex()
            except CanonicalParamsError:
                parsed = None
        await self.flush_throttled()
        if parsed is None:
            return await self.refuse(request, _headers_only(request, self.authenticator), None, None, HTTP_BAD_REQUEST,
                                     MALFORMED_REQUEST)
        method, params, request_id = parsed
        auth = self.authenticate(request, body, method, params)
        if not auth.is_allowed:
            return await self.refuse(request, auth, method, params_hash, auth.status, auth.reason)
        answer = await self.dispatch(method, params, request_id, auth.key)  # type: ignore[arg-type]
        payload = json.dumps(answer, separators=(",", ":")).encode()
        # Nothing leaves before its audit entry is on disk.
        if not await self.record(auth, method, params_hash, 200, "", len(payload)):
            return compose_refusal(HTTP_UNAVAILABLE, AUDIT_UNAVAILABLE)
        return web.Response(body=payload, content_type=JSON_CONTENT_TYPE)

    async def refuse(self, request: web.Request, auth: AuthResult | None, method: str | None, params_hash: str | None,
                     status: int, reason: str) -> web.Response:
        """Answer a refusal: audited one by one within the client's budget, past it 429 and only counted."""
        client = request.remote or ""
        if not self.throttle.is_within_budget(client):
            self.throttle.count(client, reason)
            return compose_refusal(HTTP_TOO_MANY_REQUESTS, THROTTLED)
        if not await self.record(auth, method, params_hash, status, reason, 0):
            return compose_refusal(HTTP_UNAVAILABLE, AUDIT_UNAVAILABLE)
        return compose_refusal(status, reason)

    async def flush_throttled(self, is_forced: bool = False) -> bool:
        """Append one audit entry per (client, reason) throttled since the last flush; result_bytes holds the count."""
        for item in self.throttle.take_due(is_forced):
            try:
                await asyncio.to_thread(self.audit.append, self.authenticator.wall_clock_ms(), None, None, None, None,
                                        None, False, HTTP_TOO_MANY_REQUESTS, f"{THROTTLED}:{item.reason} from {item.client}",
                                        item.count)
            except AuditLogError:
                return False
        return True

    async def dispatch(self, method_name: str, params: list[JsonValue], request_id: RequestId, key: RegulatorKey) -> JsonObject:
        """Return the JSON-RPC response of an authenticated, in-scope request."""
        snapshot = self.get_snapshot()
        method = self.methods.get(method_name)
        if method is None:
            return compose_error(snapshot, request_id, JsonRpcError(METHOD_NOT_FOUND, "Method not found"))
        if not method.min_params <= len(params) <= method.max_params:
            return compose_error(snapshot, request_id, invalid_params(method_name))
        try:
            result = await method.handler(snapshot, params, key)
        except JsonRpcError as error:
            return compose_error(snapshot, request_id, error)
        return compose_result(snapshot, request_id, result)


async def read_body(request: web.Request) -> bytes:
    """Return the request's body (empty when it is over the size limit: refused as malformed)."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        return b""


def view_request(request: web.Request) -> RequestView:
    """Return what RFC 9421 covers of an aiohttp request."""
    return RequestView(request.method, str(request.url), CaseInsensitiveDict(request.headers))


def _headers_only(request: web.Request, authenticator: Authenticator) -> AuthResult | None:
    # For a malformed body we still log which key claimed to send it, unverified.
    credentials = (parse_rfc9421_credentials if is_rfc9421(request.headers) else parse_credentials)(request.headers)
    return None if isinstance(credentials, str) else AuthResult(False, HTTP_BAD_REQUEST, MALFORMED_REQUEST, None,
                                                               credentials)


def create_regulator_app(api: RegulatorApi) -> web.Application:
    """Return the aiohttp application of the regulator listener."""
    app = web.Application(client_max_size=REGULATOR_BODY_BYTES_MAX + BODY_READ_SLACK_BYTES)
    app.router.add_post(RPC_PATH, api.handle)
    app.router.add_post("/", api.handle)
    for path in DISCOVERY_PATHS:
        app.router.add_get(path, api.discover)
    return app


def build_regulator_api(config: RegulatorConfig, ledger: LedgerReader, rejections: RejectionLog | None,
                        data_dir: Path, node_key: PrivateKey, clock_ms: Callable[[], int] = wall_clock_ms,
                        index: ComplianceIndex | None = None) -> RegulatorApi:
    """Return the API of a [regulator] config section over a LedgerReader, the store's indexes and the node's network key."""
    keys = [RegulatorKey(item.name, bytes.fromhex(item.public_key), frozenset(item.methods), frozenset(item.currencies),
                         item.audit_scope) for item in config.regulators]
    identity = NodeIdentity(node_key, ledger.chain_id)
    path = config.audit_log_file if Path(config.audit_log_file).is_absolute() else data_dir / config.audit_log_file
    audit = AuditLog(Path(path))
    replay_cache = ReplayCache(config.replay_cache_entries_max)
    restore_nonces(audit, replay_cache, clock_ms(), config.freshness_window_ms)
    authenticator = Authenticator(keys, ledger.chain_id, identity.node_id, clock_ms, config.freshness_window_ms,
                                  replay_cache)
    methods = ComplianceMethods(ledger, rejections, audit, identity, clock_ms, index).get_methods()
    api = RegulatorApi(methods, authenticator, audit, ledger.get_snapshot, identity)
    api.connection_limits = ConnectionLimits(config.connections_max, config.connections_per_client_max)
    return api


def restore_nonces(audit: AuditLog, cache: ReplayCache, now_ms: int, freshness_window_ms: int) -> int:
    """Put the nonces of signed requests still inside their validity window back into the replay cache.

    Every signed request's key and nonce are in the audit log before it is answered, so the log is where the
    cache survives a restart: a request captured before it never replays after it. Returns how many came back."""
    # An entry's time is when the node saw the request; its own timestamp was at most one window earlier or later.
    since_ms, restored, end = now_ms - 2 * freshness_window_ms, 0, audit.next_seq
    while end > 0:
        start = max(0, end - AUDIT_PAGE_MAX)
        entries = audit.read(start, end - start)
        for entry in entries:
            if entry["regulator"] is not None and entry["time_ms"] >= since_ms and entry["nonce"] and entry["public_key"]:
                expires_ms = entry["time_ms"] + 2 * freshness_window_ms
                cache.add(bytes.fromhex(entry["public_key"]), bytes.fromhex(entry["nonce"]), expires_ms, now_ms)
                restored += 1
        if not entries or entries[0]["time_ms"] < since_ms:
            break
        end = start
    return restored


async def start_regulator_server(api: RegulatorApi, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve the API on host:port (0 = any free port); return the runner (call .cleanup() to stop) and the port."""
    runner = web.AppRunner(create_regulator_app(api), access_log=None)
    await runner.setup()
    site = LimitedSite(runner, host, port, api.connection_limits)
    await site.start()
    return runner, site.get_port()
