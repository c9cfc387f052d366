"""A JSON-RPC 2.0 dispatcher with Diem's envelope, error codes and limits (diem-compat §1.2-1.3)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, Union

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from node.config import MAX_BATCH_SIZE, MAX_REQUEST_BODY_BYTES
from node.rpc.jsondepth import JSON_DEPTH_MAX, is_nesting_within
from node.rpc.pacing import ReadPacer
from node.storage.records import PrunedVersionError

# A JSON value as the wire carries it (params, results, views), a JSON object, and a request's id.
JsonValue: TypeAlias = Union[None, bool, int, float, str, list["JsonValue"], dict[str, "JsonValue"]]
JsonObject: TypeAlias = dict[str, JsonValue]
RequestId: TypeAlias = Union[int, str, None]

# Error codes: JSON-RPC 2.0 plus Diem's server range.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
INVALID_FORMAT = -32604
SERVER_ERROR = -32000
VM_VALIDATION_ERROR = -32001
MEMPOOL_INVALID_SEQUENCE_NUMBER = -32007
MEMPOOL_IS_FULL = -32008
MEMPOOL_TOO_MANY_TRANSACTIONS = -32009
MEMPOOL_INVALID_UPDATE = -32010
MEMPOOL_VM_ERROR = -32011
MEMPOOL_UNKNOWN_ERROR = -32012
# Ours, in Diem's server range (documented in docs/json-rpc.md and docs/compliance.md).
RATE_LIMITED = -32020
# The request reads history this node pruned or never held (it joined by fast sync); data names the oldest version kept.
VERSION_PRUNED = -32030
SUBSCRIPTION_LIMIT_EXCEEDED = -32021
# An admission hook refused the transaction: in the -32000 server range, clear of Diem's -32000..-32012.
ADMISSION_REJECTED = -32050

JSONRPC_VERSION = "2.0"
# Paged reads and the position of their limit param: a request costs by the items it asks for.
PAGE_LIMIT_PARAM_INDEX = {"get_transactions": 1, "get_account_transactions": 2, "get_events": 2}
PAGE_ITEMS_PER_TOKEN = 100
# Items one body may ask for over all its paged reads (a batch of 20 full pages would be 20,000).
BATCH_PAGE_ITEMS_MAX = 2_000

_log = logging.getLogger(__name__)


class JsonRpcError(Exception):
    """An error returned to the client as a JSON-RPC error object (always with HTTP 200)."""

    def __init__(self, code: int, message: str, data: JsonValue = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> JsonObject:
        """Return the JSON-RPC error object."""
        return {"code": self.code, "message": self.message, "data": self.data}


def invalid_request(detail: str | None = None) -> JsonRpcError:
    """Return Diem's -32600 error, optionally with its detail message."""
    message = "Invalid Request" if detail is None else f"Invalid Request: {detail}"
    return JsonRpcError(INVALID_REQUEST, message)


def compose_rate_limited(retry_after_ms: int) -> JsonRpcError:
    """Return the error of a client over its request rate, with when to retry."""
    return JsonRpcError(RATE_LIMITED, f"Server error: rate limit exceeded, retry after {retry_after_ms} ms",
                        {"retry_after_ms": retry_after_ms})


def invalid_params(method: str) -> JsonRpcError:
    """Return Diem's -32602 error for a method whose params do not validate."""
    return JsonRpcError(INVALID_PARAMS, f"Invalid params for method '{method}'")


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """The ledger state one request (or one batch) is answered from."""

    chain_id: int
    version: int
    timestamp_usecs: int


class RequestModel(BaseModel):
    """One JSON-RPC request object, validated strictly."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    jsonrpc: StrictStr
    method: StrictStr
    id: StrictInt | StrictStr | None = None
    params: list[Any] = []  # any JSON values: each method parses its own


Handler = Callable[[LedgerSnapshot, list[JsonValue]], Awaitable[JsonValue]]
# Takes a number of request tokens; returns None when allowed, else milliseconds until it would be.
Charge = Callable[[int], int | None]


@dataclass(frozen=True, slots=True)
class Method:
    """A served method: its handler and how many positional params it takes."""

    name: str
    handler: Handler
    min_params: int
    max_params: int


class Dispatcher:
    """Turns a request body into a response body; never raises on bad input."""

    def __init__(
        self,
        methods: Sequence[Method],
        get_snapshot: Callable[[], LedgerSnapshot],
        batch_size_max: int = MAX_BATCH_SIZE,
        body_bytes_max: int = MAX_REQUEST_BODY_BYTES,
        pacer: ReadPacer | None = None,
    ) -> None:
        self._methods: Mapping[str, Method] = {method.name: method for method in methods}
        self._get_snapshot = get_snapshot
        self.batch_size_max = batch_size_max
        self.body_bytes_max = body_bytes_max
        # [item 5] Paged reads and large answers run through it a chunk at a time (node/rpc/pacing.py).
        self.pacer = pacer or ReadPacer()

    @property
    def method_names(self) -> list[str]:
        """Return the names of every served method."""
        return sorted(self._methods)

    async def dispatch(self, body: bytes, charge: Charge | None = None) -> JsonValue:
        """Return the JSON value (object or list) answering one HTTP request body; charge pays per request."""
        snapshot = self._get_snapshot()
        retry_after_ms = None if charge is None else charge(1)
        if retry_after_ms is not None:
            return compose_error(snapshot, None, compose_rate_limited(retry_after_ms))
        if len(body) > self.body_bytes_max:
            detail = f"request body of {len(body)} bytes exceeds limit {self.body_bytes_max}"
            return compose_error(snapshot, None, invalid_request(detail))
        if not is_nesting_within(body):
            return compose_error(snapshot, None, invalid_request(f"JSON nests deeper than {JSON_DEPTH_MAX} levels"))
        try:
            decoded = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return compose_error(snapshot, None, JsonRpcError(PARSE_ERROR, "Parse error"))
        items = decoded if isinstance(decoded, list) else [decoded]
        if sum(compute_page_items(item) for item in items) > BATCH_PAGE_ITEMS_MAX:
            return compose_error(snapshot, None, invalid_request(f"more than {BATCH_PAGE_ITEMS_MAX} items asked at once"))
        # [item 6] A body costs what it asks for: one token per request, plus one per PAGE_ITEMS_PER_TOKEN items.
        cost = sum(compute_request_cost(item) for item in items)
        retry_after_ms = None if charge is None or cost <= 1 else charge(cost - 1)
        if retry_after_ms is not None:
            return compose_error(snapshot, None, compose_rate_limited(retry_after_ms))
        if isinstance(decoded, list):
            return await self._dispatch_batch(snapshot, decoded)
        return await self._dispatch_one(snapshot, decoded)

    async def _dispatch_batch(self, snapshot: LedgerSnapshot, requests: list[JsonValue]) -> JsonValue:
        if not requests:
            return compose_error(snapshot, None, invalid_request("empty batch"))
        if len(requests) > self.batch_size_max:
            detail = f"batch size = {len(requests)}, exceed limit {self.batch_size_max}"
            return compose_error(snapshot, None, invalid_request(detail))
        answers = []
        for request in requests:
            answers.append(await self._dispatch_one(snapshot, request))
            await asyncio.sleep(0)  # [item 5] consensus events run between the items of a batch
        return answers

    async def _dispatch_one(self, snapshot: LedgerSnapshot, raw: JsonValue) -> JsonObject:
        request_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or "id" not in raw:
            error = JsonRpcError(INVALID_FORMAT, "Invalid Format")
            return compose_error(snapshot, _json_id(request_id), error)
        try:
            request = RequestModel.model_validate(raw)
        except ValidationError:
            return compose_error(snapshot, _json_id(request_id), invalid_request())
        if request.jsonrpc != JSONRPC_VERSION:
            return compose_error(snapshot, request.id, invalid_request("jsonrpc must be 2.0"))
        method = self._methods.get(request.method)
        if method is None:
            return compose_error(snapshot, request.id, JsonRpcError(METHOD_NOT_FOUND, "Method not found"))
        if not method.min_params <= len(request.params) <= method.max_params:
            return compose_error(snapshot, request.id, invalid_params(method.name))
        try:
            result = await method.handler(snapshot, list(request.params))
        except JsonRpcError as error:
            return compose_error(snapshot, request.id, error)
        except PrunedVersionError as error:
            pruned = JsonRpcError(VERSION_PRUNED, f"Server error: {error}", {"oldest_version": error.oldest_version})
            return compose_error(snapshot, request.id, pruned)
        except Exception:  # a handler bug or a storage failure must still answer with the envelope
            _log.exception("JSON-RPC method %s failed", method.name)
            return compose_error(snapshot, request.id, JsonRpcError(SERVER_ERROR, "Server error: internal error"))
        return compose_result(snapshot, request.id, result)


def compute_page_items(raw: JsonValue) -> int:
    """Return how many items a paged read asks for (its limit param), 0 for any other request."""
    if not isinstance(raw, dict) or not isinstance(raw.get("params"), list):
        return 0
    index = PAGE_LIMIT_PARAM_INDEX.get(raw.get("method"))  # type: ignore[arg-type]
    params = raw["params"]
    if index is None or len(params) <= index or not isinstance(params[index], int):
        return 0
    return max(0, params[index])


def compute_request_cost(raw: JsonValue) -> int:
    """Return the rate-limit tokens one request costs: 1, plus 1 per PAGE_ITEMS_PER_TOKEN items it asks for."""
    return 1 + compute_page_items(raw) // PAGE_ITEMS_PER_TOKEN


def _json_id(value: JsonValue) -> RequestId:
    # Echo an id back only when it is a legal JSON-RPC id.
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


def compose_envelope(snapshot: LedgerSnapshot, request_id: RequestId) -> JsonObject:
    """Return the fields Diem puts on every response, errors included."""
    return {
        "diem_chain_id": snapshot.chain_id,
        "diem_ledger_version": snapshot.version,
        "diem_ledger_timestampusec": snapshot.timestamp_usecs,
        "jsonrpc": JSONRPC_VERSION,
        "id": request_id,
    }


def compose_result(snapshot: LedgerSnapshot, request_id: RequestId, result: JsonValue) -> JsonObject:
    """Return a success response; result is present even when null (the SDK requires it)."""
    response = compose_envelope(snapshot, request_id)
    response["result"] = result
    return response


def compose_error(snapshot: LedgerSnapshot, request_id: RequestId, error: JsonRpcError) -> JsonObject:
    """Return an error response with the full envelope."""
    response = compose_envelope(snapshot, request_id)
    response["error"] = error.to_json()
    return response
