"""The Diem JSON-RPC methods (diem-compat §1.4) over a LedgerReader and a submit callable."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from contracts.framework import dual_attestation, system
from contracts.scripts import get_legacy_script
from node.config import MAX_PAGE_SIZE
from node.rpc.accounts import compute_account_view, compute_currency_views, read_resource
from node.rpc.events import compute_event_view
from node.rpc.jsonrpc import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    Dispatcher,
    JsonObject,
    JsonRpcError,
    JsonValue,
    LedgerSnapshot,
    Method,
)
from node.rpc.ledger import CommittedTransaction, LedgerReader
from node.rpc.pacing import ReadPacer, read_chunked
from node.rpc.params import (
    check_page_size,
    get_param,
    parse_address,
    parse_bool,
    parse_event_key,
    parse_hex,
    parse_optional_u64,
    parse_u64,
)
from node.rpc.proofs import ProofMethods
from node.rpc.submit import Submit, compose_submit_error, compose_vm_validation_error
from node.rpc.views import compute_transaction_view
from primitives.errors import DecodeError
from primitives.limits import MAX_TRANSACTION_SIZE_BYTES
from primitives.types.names import AccountAddress
from primitives.types.transactions import SignedTransaction

# A submitted transaction's hex may not exceed twice the largest transaction we accept.
SUBMIT_HEX_LENGTH_MAX = 2 * MAX_TRANSACTION_SIZE_BYTES
EXCEEDED_MAX_TRANSACTION_SIZE = 10


@cache
def load_openrpc_document() -> JsonObject:
    """Return the OpenRPC document of the API (node/rpc/openrpc.json)."""
    return json.loads(resources.files("node.rpc").joinpath("openrpc.json").read_text())


def get_script_name(code: bytes) -> str | None:
    """Return the Diem name of a known legacy script."""
    script = get_legacy_script(code)
    return None if script is None else script.name


def render_transaction(committed: CommittedTransaction, include_events: bool) -> JsonObject:
    """Render one committed transaction, with its events when asked for."""
    events = [compute_event_view(event, committed.version) for event in committed.events] if include_events else []
    return compute_transaction_view(
        committed.version, committed.transaction, committed.status, committed.gas_used, events, get_script_name
    )


class Methods:
    """Handlers bound to one ledger reader and one submit path."""

    def __init__(self, ledger: LedgerReader, submit: Submit, page_size_max: int = MAX_PAGE_SIZE,
                 pacer: ReadPacer | None = None) -> None:
        self.ledger = ledger
        self.submit_transaction = submit
        self.page_size_max = page_size_max
        self.pacer = pacer or ReadPacer()

    async def get_metadata(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> JsonObject:
        version = parse_optional_u64("get_metadata", get_param(params, 0))
        is_latest = version is None or version == snapshot.version
        if version is None:
            version = snapshot.version
        if version > snapshot.version:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid param version should be <= known latest version {snapshot.version}")
        metadata: JsonObject = {
            "version": version,
            "accumulator_root_hash": self.ledger.get_accumulator_root(version).hex(),
            "timestamp": self.ledger.get_timestamp_usecs(version),
            "chain_id": snapshot.chain_id,
            "script_hash_allow_list": None,
            "module_publishing_allowed": None,
            "diem_version": None,
            "dual_attestation_limit": None,
        }
        if is_latest:
            metadata.update(self._get_latest_configs(version))
        return metadata

    def _get_latest_configs(self, version: int) -> JsonObject:
        view = self.ledger.get_state_view(version)
        root = AccountAddress.DIEM_ROOT.value
        publishing = read_resource(view, system.PUBLISHING, root)
        diem_version = read_resource(view, system.VERSION, root)
        limit = read_resource(view, dual_attestation.LIMIT, root)
        return {
            "script_hash_allow_list": [] if publishing is None else [item.hex() for item in publishing.script_allow_list],
            "module_publishing_allowed": False if publishing is None else publishing.module_publishing_allowed,
            "diem_version": None if diem_version is None else diem_version.major,
            "dual_attestation_limit": None if limit is None else limit.micro_xdx_limit,
        }

    async def get_currencies(self, snapshot: LedgerSnapshot, _params: list[JsonValue]) -> list[JsonObject]:
        return compute_currency_views(self.ledger.get_state_view(snapshot.version))

    async def get_account(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> JsonObject | None:
        address = parse_address("get_account", params[0])
        version = parse_optional_u64("get_account", get_param(params, 1))
        if version is None:
            version = snapshot.version
        if version > snapshot.version:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid param version should be <= known latest version {snapshot.version}")
        return compute_account_view(self.ledger.get_state_view(version), address, version)

    async def get_account_transaction(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> JsonObject | None:
        method = "get_account_transaction"
        address, sequence = parse_address(method, params[0]), parse_u64(method, params[1])
        include_events = parse_bool(method, get_param(params, 2))
        committed = self.ledger.get_transaction_by_sequence(address, sequence)
        if committed is None or committed.version > snapshot.version:
            return None
        return render_transaction(committed, include_events)

    async def get_account_transactions(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> list[JsonObject]:
        method = "get_account_transactions"
        address, start, limit = parse_address(method, params[0]), parse_u64(method, params[1]), parse_u64(method, params[2])
        include_events = parse_bool(method, get_param(params, 3))
        check_page_size(limit, self.page_size_max)
        account = compute_account_view(self.ledger.get_state_view(snapshot.version), address, snapshot.version)
        if account is None:
            raise JsonRpcError(INVALID_REQUEST, f"Invalid Request: could not find account by address {address.hex()}")
        end = min(start + limit, account["sequence_number"])

        def read(first: int, count: int) -> list[JsonObject]:
            sequences = range(first, first + count)
            found = (self.ledger.get_transaction_by_sequence(address, sequence) for sequence in sequences)
            return [render_transaction(committed, include_events) for committed in found if committed is not None]

        return await read_chunked(self.pacer, read, start, max(0, end - start), stop_when_short=False)

    async def get_transactions(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> list[JsonObject]:
        method = "get_transactions"
        start, limit = parse_u64(method, params[0]), parse_u64(method, params[1])
        include_events = parse_bool(method, get_param(params, 2))
        check_page_size(limit, self.page_size_max)
        if limit == 0 or start > snapshot.version:
            return []
        limit = min(limit, snapshot.version - start + 1)

        def read(first: int, count: int) -> list[JsonObject]:
            return [render_transaction(item, include_events) for item in self.ledger.get_transactions(first, count)]

        return await read_chunked(self.pacer, read, start, limit)

    async def get_events(self, snapshot: LedgerSnapshot, params: list[JsonValue]) -> list[JsonObject]:
        method = "get_events"
        key, start, limit = parse_event_key(method, params[0]), parse_u64(method, params[1]), parse_u64(method, params[2])
        check_page_size(limit, self.page_size_max)
        if limit == 0:
            return []

        def read(first: int, count: int) -> list[JsonObject]:
            events = self.ledger.get_events(key, first, count)
            return [compute_event_view(item.event, item.transaction_version)
                    for item in events if item.transaction_version <= snapshot.version]

        return await read_chunked(self.pacer, read, start, limit)

    async def submit(self, _snapshot: LedgerSnapshot, params: list[JsonValue]) -> None:
        raw = params[0]
        if isinstance(raw, str) and len(raw) > SUBMIT_HEX_LENGTH_MAX:
            raise compose_vm_validation_error("EXCEEDED_MAX_TRANSACTION_SIZE", EXCEEDED_MAX_TRANSACTION_SIZE)
        data = parse_hex("submit", raw)
        try:
            signed = SignedTransaction.from_bcs(data)
        except DecodeError as error:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid params for method 'submit': {error}") from None
        error = compose_submit_error(self.submit_transaction(signed), signed.raw_txn.gas_unit_price)
        if error is not None:
            raise error
        return None

    async def discover(self, _snapshot: LedgerSnapshot, _params: list[JsonValue]) -> JsonObject:
        return load_openrpc_document()

    def get_methods(self) -> list[Method]:
        """Return every method served, with its positional-parameter bounds."""
        return [
            Method("rpc.discover", self.discover, 0, 0),
            Method("get_metadata", self.get_metadata, 0, 1),
            Method("get_currencies", self.get_currencies, 0, 0),
            Method("get_account", self.get_account, 1, 2),
            Method("get_account_transaction", self.get_account_transaction, 2, 3),
            Method("get_account_transactions", self.get_account_transactions, 3, 4),
            Method("get_transactions", self.get_transactions, 2, 3),
            Method("get_events", self.get_events, 3, 3),
            Method("submit", self.submit, 1, 1),
            *ProofMethods(self.ledger, self.pacer).get_methods(),
        ]


def create_dispatcher(ledger: LedgerReader, submit: Submit, batch_size_max: int, body_bytes_max: int,
                      page_size_max: int = MAX_PAGE_SIZE) -> Dispatcher:
    """Return the dispatcher serving every method over ledger and submit."""
    pacer = ReadPacer()
    methods = Methods(ledger, submit, page_size_max, pacer)
    return Dispatcher(methods.get_methods(), ledger.get_snapshot, batch_size_max, body_bytes_max, pacer)
