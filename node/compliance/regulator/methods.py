"""The `compliance_*` JSON-RPC methods that read current state, the rejection log and the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from contracts.framework import currency, kyc, limits, reserves
from contracts.vm.storage import StateView
from node.compliance.admission.pipeline import RejectionLog
from node.compliance.index.events import parse_kind_name
from node.compliance.index.queries import PAGE_SIZE_MAX as INDEX_PAGE_MAX
from node.compliance.index.queries import ComplianceIndex, Page, TransactionFilter
from node.compliance.regulator.audit import AUDIT_PAGE_MAX, AuditLog
from node.compliance.regulator.audit_reads import AuditMethods
from node.compliance.regulator.auth import RegulatorKey
from node.compliance.regulator.identity import NodeIdentity
from node.rpc.accounts import compute_account_view, get_registered_codes, read_resource
from node.rpc.jsonrpc import (
    INVALID_REQUEST,
    SERVER_ERROR,
    JsonObject,
    JsonRpcError,
    JsonValue,
    LedgerSnapshot,
    invalid_params,
)
from node.rpc.ledger import LedgerReader
from node.rpc.params import get_param, parse_address, parse_bool, parse_optional_u64
from primitives.types.names import AccountAddress

DEFAULT_PAGE_SIZE = 100
CURRENCY_CODE_CHARS_MAX = 16
DIEM_ROOT = AccountAddress.DIEM_ROOT.value

RegulatorHandler = Callable[[LedgerSnapshot, list[JsonValue], RegulatorKey], Awaitable[JsonValue]]


@dataclass(frozen=True, slots=True)
class RegulatorMethod:
    """A served compliance method with its positional-parameter bounds."""

    name: str
    handler: RegulatorHandler
    min_params: int
    max_params: int


def compute_kyc_view(record: kyc.KycRecord | None, now_us: int) -> JsonObject | None:
    """Return the JSON of an on-chain KYC record, with its tier in force now."""
    if record is None:
        return None
    return {
        "tier": record.tier, "effective_tier": kyc.compute_effective_tier(record, now_us),
        "expiration_us": record.expiration_us, "is_expired": now_us >= record.expiration_us,
        "provider": record.provider.decode("utf-8", errors="replace"), "set_by": record.set_by.hex(),
        "updated_at_us": record.updated_at_us,
    }


def compute_limits_used(view: StateView, address: bytes, codes: tuple[bytes, ...]) -> list[JsonObject]:
    """Return the account's KYC usage windows and AccountLimits windows, per currency."""
    used = []
    for code in codes:
        ccy = currency.tag_of_code(code)
        usage = read_resource(view, kyc.usage_type(ccy), address)
        window = read_resource(view, limits.window_type(ccy), address)
        if usage is None and window is None:
            continue
        used.append({
            "currency": code.decode("ascii"),
            "kyc_window": None if usage is None else {
                "window_start_us": usage.window_start_us, "inflow": usage.window_inflow, "outflow": usage.window_outflow},
            "account_limits_window": None if window is None else {
                "window_start_us": window.window_start, "inflow": window.window_inflow,
                "outflow": window.window_outflow, "tracked_balance": window.tracked_balance,
                "limit_address": window.limit_address.hex()},
        })
    return used


def compute_attestation_view(entry: reserves.Attestation) -> JsonObject:
    """Return the JSON of one recorded reserve attestation."""
    return {
        "sequence": entry.sequence, "amount": entry.amount, "report_hash": entry.report_hash.hex(),
        "attested_at_us": entry.attested_at_us, "recorded_at_us": entry.recorded_at_us,
        "auditor": entry.auditor.hex(), "supply_at_record": entry.supply_at_record,
    }


def compute_supply_view(view: StateView, code: bytes, now_us: int) -> JsonObject | None:
    """Return supply, preburn, attestations, age, staleness and margin of one currency (proof of reserves)."""
    ccy = currency.tag_of_code(code)
    info = read_resource(view, currency.info_type(ccy), DIEM_ROOT)
    if info is None:
        return None
    record = read_resource(view, reserves.record_type(ccy), DIEM_ROOT)
    history = [] if record is None else [compute_attestation_view(e) for e in record.attestations]
    latest = history[-1] if history else None
    max_age_us = None if record is None else record.max_attestation_age_us
    age_us = None if latest is None else now_us - latest["attested_at_us"]
    margin = None if latest is None else latest["amount"] - info.total_value
    return {
        "currency": code.decode("ascii"), "is_synthetic": info.is_synthetic, "can_mint": info.can_mint,
        "total_supply": info.total_value, "preburn": info.preburn_value, "latest_attestation": latest,
        "attestations": history, "attestation_count": 0 if record is None else record.attestation_count,
        "max_attestation_age_us": max_age_us, "attestation_age_us": age_us,
        "is_stale": latest is None or (max_age_us is not None and age_us > max_age_us),
        "margin": margin, "is_fully_backed": margin is not None and margin >= 0,
    }


def parse_page(method: str, params: list[JsonValue], start_index: int) -> tuple[int, int]:
    """Return (start, limit) from optional params, limit defaulting to DEFAULT_PAGE_SIZE, at most AUDIT_PAGE_MAX."""
    start = parse_optional_u64(method, get_param(params, start_index)) or 0
    limit = parse_optional_u64(method, get_param(params, start_index + 1))
    limit = DEFAULT_PAGE_SIZE if limit is None else limit
    if limit > AUDIT_PAGE_MAX:
        raise JsonRpcError(INVALID_REQUEST, f"Invalid Request: page size = {limit}, exceed limit {AUDIT_PAGE_MAX}")
    return start, limit


class ComplianceMethods:
    """Handlers over a LedgerReader, the admission rejection log (if admission runs), the audit log and the node's identity."""

    def __init__(self, ledger: LedgerReader, rejections: RejectionLog | None, audit: AuditLog, identity: NodeIdentity,
                 wall_clock_ms: Callable[[], int], index: ComplianceIndex | None = None) -> None:
        self.ledger = ledger
        self.rejections = rejections
        self.audit_methods = AuditMethods(audit, identity, wall_clock_ms, parse_page)
        self.index = index  # the store's commit-time indexes serve the history methods (None: refused)

    async def get_account_report(self, snapshot: LedgerSnapshot, params: list[JsonValue], key: RegulatorKey) -> JsonValue:
        """compliance_get_account_report([address]): role, KYC, balances, limits used, frozen state."""
        address = parse_address("compliance_get_account_report", params[0])
        view = self.ledger.get_state_view(snapshot.version)
        account = compute_account_view(view, address, snapshot.version)
        if account is None:
            return None
        codes = tuple(code for code in get_registered_codes(view) if key.may_see(code.decode("ascii")))
        return {
            "address": address.hex(), "version": snapshot.version, "role": account["role"],
            "is_frozen": account["is_frozen"], "sequence_number": account["sequence_number"],
            "balances": [b for b in account["balances"] if key.may_see(b["currency"])],
            "kyc": compute_kyc_view(read_resource(view, kyc.RECORD, address), snapshot.timestamp_usecs),
            "limits_used": compute_limits_used(view, address, codes),
        }

    async def get_supply_and_reserves(self, snapshot: LedgerSnapshot, params: list[JsonValue], key: RegulatorKey) -> JsonValue:
        """compliance_get_supply_and_reserves([currency?]): proof of reserves per in-scope currency."""
        wanted = get_param(params, 0)
        if wanted is not None and (not isinstance(wanted, str) or len(wanted) > CURRENCY_CODE_CHARS_MAX):
            raise invalid_params("compliance_get_supply_and_reserves")
        if wanted is not None and not key.may_see(wanted):
            raise JsonRpcError(INVALID_REQUEST, f"Invalid Request: currency {wanted} is outside this key's scope")
        view = self.ledger.get_state_view(snapshot.version)
        codes = [c for c in get_registered_codes(view) if key.may_see(c.decode("ascii"))
                 and (wanted is None or c.decode("ascii") == wanted)]
        supplies = [compute_supply_view(view, code, snapshot.timestamp_usecs) for code in codes]
        return {"version": snapshot.version, "timestamp_us": snapshot.timestamp_usecs,
                "currencies": [item for item in supplies if item is not None]}

    async def get_rejected_admissions(self, snapshot: LedgerSnapshot, params: list[JsonValue], key: RegulatorKey) -> JsonValue:
        """compliance_get_rejected_admissions([start_id?, limit?]): the admission rejection log."""
        start, limit = parse_page("compliance_get_rejected_admissions", params, 0)
        if self.rejections is None:
            return {"admission_enabled": False, "first_id": 0, "next_id": 0, "rejections": []}
        page = self.rejections.get_page(start, limit)
        return {
            "admission_enabled": True, "first_id": self.rejections.first_id, "next_id": self.rejections.next_id,
            "rejections": [r.to_json() for r in page if r.currency is None or key.may_see(r.currency)],
        }

    def get_methods(self) -> list[RegulatorMethod]:
        """Return every served compliance method."""
        return [
            RegulatorMethod("compliance_get_account_report", self.get_account_report, 1, 1),
            RegulatorMethod("compliance_get_supply_and_reserves", self.get_supply_and_reserves, 0, 1),
            RegulatorMethod("compliance_get_rejected_admissions", self.get_rejected_admissions, 0, 2),
            RegulatorMethod("compliance_get_audit_log", self.audit_methods.get_audit_log, 0, 2),
            RegulatorMethod("compliance_get_audit_head", self.audit_methods.get_audit_head, 0, 0),
            *HistoryMethods(self.index).get_methods(),
        ]


# ---- history methods, served from the commit-time compliance indexes (node/compliance/index/queries.py) --------------

RANGE_FIELDS = ("start_version", "end_version", "start_time_us", "end_time_us")
SEARCH_FIELDS = (*RANGE_FIELDS, "address", "counterparty", "currency", "min_amount", "max_amount", "event_type",
                 "status", "descending")
ACTION_FIELDS = (*RANGE_FIELDS, "types", "subject", "initiator", "descending")
TRAVEL_RULE_FIELDS = (*RANGE_FIELDS, "address", "descending")
STATUS_CHARS_MAX = 32
EVENT_TYPES_MAX = 32


def parse_options(method: str, value: JsonValue, allowed: tuple[str, ...]) -> JsonObject:
    """Return a JSON object param (null = {}) after rejecting unknown fields."""
    if value is None:
        return {}
    if not isinstance(value, dict) or any(key not in allowed for key in value):
        raise invalid_params(method)
    return value


def parse_index_page(method: str, params: list[JsonValue], cursor_index: int) -> tuple[int | None, int]:
    """Return (cursor, limit) at params[cursor_index], params[cursor_index + 1]; limit 1..1000, default 100."""
    cursor = parse_optional_u64(method, get_param(params, cursor_index))
    limit = parse_optional_u64(method, get_param(params, cursor_index + 1))
    limit = DEFAULT_PAGE_SIZE if limit is None else limit
    if limit == 0:
        raise invalid_params(method)
    if limit > INDEX_PAGE_MAX:
        raise JsonRpcError(INVALID_REQUEST, f"Invalid Request: page size = {limit}, exceed limit {INDEX_PAGE_MAX}")
    return cursor, limit


def parse_currency(method: str, value: JsonValue, key: RegulatorKey) -> str | None:
    """Return an optional currency code param, refusing one outside the key's scope."""
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= CURRENCY_CODE_CHARS_MAX:
        raise invalid_params(method)
    if not key.may_see(value):
        raise JsonRpcError(INVALID_REQUEST, f"Invalid Request: currency {value} is outside this key's scope")
    return value


def parse_optional_address(method: str, value: JsonValue) -> bytes | None:
    """Return an optional 16-byte address param."""
    return None if value is None else parse_address(method, value)


class HistoryMethods:
    """compliance_get_account_history, _search_transactions, _get_large_transfers, _get_travel_rule_records,
    _get_compliance_actions: bounded pages read from the indexes, capped at the request's snapshot."""

    def __init__(self, index: ComplianceIndex | None) -> None:
        self.index = index

    def require_index(self) -> ComplianceIndex:
        """Return the index, or refuse when this node serves no store (e.g. an in-memory test ledger)."""
        if self.index is None:
            raise JsonRpcError(SERVER_ERROR, "Server error: compliance indexes are not available on this node")
        return self.index

    def get_bounds(self, method: str, options: JsonObject, snapshot: LedgerSnapshot) -> tuple[int, int] | None:
        """Return the version range of the range fields of options, at most the snapshot's version."""
        values = [parse_optional_u64(method, options.get(name)) for name in RANGE_FIELDS]
        return self.require_index().resolve_range(*values, snapshot.version)

    @staticmethod
    def compose(snapshot: LedgerSnapshot, page: Page) -> JsonObject:
        result = page.to_json()
        result["version"] = snapshot.version
        return result

    async def get_account_history(self, snapshot: LedgerSnapshot, params: list[JsonValue], key: RegulatorKey) -> JsonValue:
        """compliance_get_account_history([address, cursor?, limit?, options?]): the transactions touching it."""
        method = "compliance_get_account_history"
        address = parse_address(method, params[0])
        cursor, limit = parse_index_page(method, params, 1)
        options = parse_options(method, get_param(params, 3), (*RANGE_FIELDS, "descending"))
        bounds = self.get_bounds(method, options, snapshot)
        page = self.require_index().get_account_history(address, bounds, cursor, limit,
                                                        parse_bool(method, options.get("descending")), key.may_see)
        return self.compose(snapshot, page)

    async def search_transactions(self, snapshot: LedgerSnapshot, params: list[JsonValue], key: RegulatorKey) -> JsonValue:
        """compliance_search_transactions([filter, cursor?, limit?]): address, counterparty, currency, amounts..."""
        method = "compliance_search_transactions"
        options = parse_options(method, params[0], SEARCH_FIELDS)
        cursor, limit = parse_index_page(method, params, 1)
        event_type = options.get("event_type")
        kind = None if event_type is None else parse_kind_name(event_type)
        status = options.get("status")
        if (event_type is not None and kind is None) or not (
                status is None or (isinstance(status, str) and len(status) <= STATUS_CHARS_MAX)):
            raise invalid_params(method)
        criteria = TransactionFilter(
            parse_optional_address(method, options.get("address")),
            parse_optional_address(method, options.get("counterparty")),
            parse_currency(method, options.get("currency"), key),
            parse_optional_u64(method, options.get("min_amount")), parse_optional_u64(method, options.get("max_amount")),
            kind, status)
        page = self.require_index().search_transactions(criteria, self.get_bounds(method, options, snapshot), cursor,
                                                        limit, parse_bool(method, options.get("descending")),
                                                        key.may_see)
        return self.compose(snapshot, page)

    async def get_large_transfers(self, snapshot: LedgerSnapshot, params: list[JsonValue], key: RegulatorKey) -> JsonValue:
        """compliance_get_large_transfers([currency, threshold, cursor?, limit?, range?]): amount >= threshold."""
        method = "compliance_get_large_transfers"
        currency = parse_currency(method, params[0], key)
        threshold = parse_optional_u64(method, params[1])
        if currency is None or threshold is None:
            raise invalid_params(method)
        cursor, limit = parse_index_page(method, params, 2)
        options = parse_options(method, get_param(params, 4), (*RANGE_FIELDS, "descending"))
        page = self.require_index().get_large_transfers(currency, threshold, self.get_bounds(method, options, snapshot),
                                                        cursor, limit, parse_bool(method, options.get("descending")))
        return self.compose(snapshot, page)

    async def get_travel_rule_records(self, snapshot: LedgerSnapshot, params: list[JsonValue], key: RegulatorKey) -> JsonValue:
        """compliance_get_travel_rule_records([range?, cursor?, limit?]): payments with dual attestation."""
        method = "compliance_get_travel_rule_records"
        options = parse_options(method, get_param(params, 0), TRAVEL_RULE_FIELDS)
        cursor, limit = parse_index_page(method, params, 1)
        page = self.require_index().get_travel_rule_records(
            self.get_bounds(method, options, snapshot), cursor, limit, parse_bool(method, options.get("descending")),
            parse_optional_address(method, options.get("address")), key.may_see)
        return self.compose(snapshot, page)

    async def get_compliance_actions(self, snapshot: LedgerSnapshot, params: list[JsonValue], key: RegulatorKey) -> JsonValue:
        """compliance_get_compliance_actions([filter?, cursor?, limit?]): freezes, wipes, pauses, KYC, limits..."""
        method = "compliance_get_compliance_actions"
        options = parse_options(method, get_param(params, 0), ACTION_FIELDS)
        cursor, limit = parse_index_page(method, params, 1)
        types = options.get("types")
        kinds = None
        if types is not None:
            if not isinstance(types, list) or len(types) > EVENT_TYPES_MAX:
                raise invalid_params(method)
            kinds = frozenset(parse_kind_name(name) for name in types)
            if None in kinds:
                raise invalid_params(method)
        page = self.require_index().get_compliance_actions(
            self.get_bounds(method, options, snapshot), cursor, limit, parse_bool(method, options.get("descending")),
            kinds, parse_optional_address(method, options.get("subject")),  # type: ignore[arg-type]
            parse_optional_address(method, options.get("initiator")), key.may_see)
        return self.compose(snapshot, page)

    def get_methods(self) -> list[RegulatorMethod]:
        """Return the index-served methods."""
        return [
            RegulatorMethod("compliance_get_account_history", self.get_account_history, 1, 4),
            RegulatorMethod("compliance_search_transactions", self.search_transactions, 1, 3),
            RegulatorMethod("compliance_get_large_transfers", self.get_large_transfers, 2, 5),
            RegulatorMethod("compliance_get_travel_rule_records", self.get_travel_rule_records, 0, 3),
            RegulatorMethod("compliance_get_compliance_actions", self.get_compliance_actions, 0, 3),
        ]
