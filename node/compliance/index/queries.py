"""Compliance queries over the commit-time indexes: bounded range scans, never a chain scan."""

# Every query is a bounded range scan of one index (`v1/ix/...`, node/storage/schema.py) plus point reads of the
# transaction summaries it selects. Pages never split a version: the cursor is the next version to read
# (inclusive; going down when descending), and `next_cursor` is None once the range is exhausted. A query that
# examines SCAN_BUDGET_ENTRIES index entries without filling its page stops there and returns its cursor.

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from node.compliance.index.events import Activity, get_kind_name
from node.compliance.index.writes import (
    ROLE_ACCOUNT,
    ROLE_COUNTERPARTY,
    ROLE_INITIATOR,
    ROLE_SENDER,
    IndexedTransaction,
    compute_amount_bucket,
)
from node.rpc.jsonrpc import JsonObject
from node.storage import schema
from node.storage.store import Store
from primitives.codec import unpack
from primitives.errors import invariant

DEFAULT_PAGE_SIZE = 100
PAGE_SIZE_MAX = 1000
SCAN_BUDGET_ENTRIES = 20_000
EVENT_INDEX_BYTES = schema.EVENT_INDEX_LENGTH_BYTES
ROLE_NAMES = ((ROLE_SENDER, "sender"), (ROLE_ACCOUNT, "account"), (ROLE_COUNTERPARTY, "counterparty"),
              (ROLE_INITIATOR, "initiator"))
Visible = Callable[[str], bool]


def is_any_currency(_code: str) -> bool:
    """The default scope: every currency is visible."""
    return True


# ---- values ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """One page of results and where the next page starts (None: nothing left in the range)."""

    items: list[JsonObject]
    next_cursor: int | None

    def to_json(self) -> JsonObject:
        """Return the JSON result."""
        return {"items": self.items, "next_cursor": self.next_cursor}


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    """Transaction-search criteria; every given field must hold (activity fields on one same event)."""

    address: bytes | None = None
    counterparty: bytes | None = None
    currency: str | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    kind: int | None = None
    status: str | None = None

    def needs_activity(self) -> bool:
        """Return whether a matching transaction needs one event meeting the event-level criteria."""
        return (self.counterparty is not None or self.currency is not None or self.min_amount is not None
                or self.max_amount is not None or self.kind is not None)

    def is_matching_activity(self, activity: Activity) -> bool:
        """Return whether one event meets the event-level criteria."""
        parties = (activity.account, activity.counterparty, activity.initiator)
        if self.kind is not None and activity.kind != self.kind:
            return False
        if self.currency is not None and activity.currency != self.currency:
            return False
        if self.min_amount is not None or self.max_amount is not None:
            if activity.amount is None:
                return False
            if self.min_amount is not None and activity.amount < self.min_amount:
                return False
            if self.max_amount is not None and activity.amount > self.max_amount:
                return False
        if self.address is not None and self.address not in parties:
            return False
        return self.counterparty is None or self.counterparty in parties

    def get_matches(self, txn: IndexedTransaction, activities: Sequence[Activity]) -> list[int] | None:
        """Return the indices of the matching events ([] for a transaction-level match), or None."""
        if self.status is not None and txn.status != self.status:
            return None
        matched = [a.index for a in activities if self.is_matching_activity(a)]
        if self.needs_activity():
            return matched or None
        if self.address is None or txn.sender == self.address:
            return matched if self.address is not None else []
        return matched or None


# ---- rendering ---------------------------------------------------------------------------------------------


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def render_value(value: Any) -> Any:
    """Return a stored detail as JSON (bytes as hex)."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [render_value(item) for item in value]
    return value


def render_activity(activity: Activity) -> JsonObject:
    """Return the JSON of one indexed event."""
    return {
        "index": activity.index, "type": get_kind_name(activity.kind), "account": _hex(activity.account),
        "counterparty": _hex(activity.counterparty), "currency": activity.currency, "amount": activity.amount,
        "initiator": _hex(activity.initiator),
        "details": {key: render_value(value) for key, value in sorted(activity.details.items())},
    }


def get_visible_activities(txn: IndexedTransaction, is_visible: Visible) -> list[Activity] | None:
    """Return the events a scope may see, or None when the transaction only moved out-of-scope currencies."""
    visible = [a for a in txn.activities if a.currency is None or is_visible(a.currency)]
    return None if txn.activities and not visible else visible


def render_transaction(txn: IndexedTransaction, activities: Sequence[Activity]) -> JsonObject:
    """Return the JSON of one indexed transaction with the given events."""
    return {
        "version": txn.version, "timestamp_us": txn.timestamp_us, "status": txn.status, "sender": _hex(txn.sender),
        "sequence_number": txn.sequence_number, "script": txn.script,
        "events": [render_activity(a) for a in activities],
    }


def get_role_names(roles: int) -> list[str]:
    """Return the names of a roles bitmask."""
    return [name for bit, name in ROLE_NAMES if roles & bit]


# ---- queries -----------------------------------------------------------------------------------------------


class ComplianceIndex:
    """Read-only queries over the indexes of a Store (node.storage); every method returns one bounded Page."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- primitives --

    def get_transaction(self, version: int) -> IndexedTransaction | None:
        """Return the indexed summary of the transaction at a version."""
        data = self.store.backend.get(schema.index_transaction_key(version))
        return None if data is None else IndexedTransaction.from_plain(version, unpack(data, canonical=False))

    def resolve_range(self, start_version: int | None, end_version: int | None, start_time_us: int | None,
                      end_time_us: int | None, latest_version: int) -> tuple[int, int] | None:
        """Return the inclusive version range of the criteria (time through the time index), or None if empty."""
        low, high = start_version or 0, latest_version if end_version is None else min(end_version, latest_version)
        prefix = schema.INDEX_TIME_PREFIX
        if start_time_us is not None:
            first = next(self.store.backend.scan(prefix, prefix + schema.encode_u64(start_time_us), False), None)
            if first is None:
                return None
            low = max(low, schema.decode_u64(first[0][len(prefix) + 8:]))
        if end_time_us is not None:
            start = prefix + schema.encode_u64(end_time_us) + b"\xff" * 8
            last = next(self.store.backend.scan(prefix, start, True), None)
            if last is None:
                return None
            high = min(high, schema.decode_u64(last[1]))
        return (low, high) if low <= high else None

    def scan_versions(self, prefix: bytes, low: int, high: int, descending: bool,
                      suffix_bytes: int = 0) -> Iterator[tuple[int, bytes, bytes]]:
        """Yield (version, key suffix after the version, value) of keys prefix ‖ version ‖ suffix in [low, high]."""
        offset = len(prefix)
        if descending:
            rows = self.store.backend.scan(prefix, prefix + schema.encode_u64(high) + b"\xff" * suffix_bytes, True)
        else:
            rows = self.store.backend.scan(prefix, prefix + schema.encode_u64(low), False)
        for key, value in rows:
            version = schema.decode_u64(key[offset:offset + 8])
            if version > high if not descending else version < low:
                return
            yield version, key[offset + 8:], value

    @staticmethod
    def collect(candidates: Iterator[tuple[int, Any]], make_item: Callable[[int, Any], JsonObject | None],
                limit: int, descending: bool) -> Page:
        """Return a page of items from (version, payload) candidates; pages end between two versions only."""
        invariant(0 < limit <= PAGE_SIZE_MAX, f"page size {limit} outside 1..{PAGE_SIZE_MAX}")
        items: list[JsonObject] = []
        examined, current = 0, None
        for version, payload in candidates:
            if version != current and (len(items) >= limit or examined >= SCAN_BUDGET_ENTRIES):
                return Page(items, version)
            current = version
            examined += 1
            item = make_item(version, payload)
            if item is not None:
                items.append(item)
        return Page(items, None)

    @staticmethod
    def apply_cursor(bounds: tuple[int, int] | None, cursor: int | None, descending: bool) -> tuple[int, int] | None:
        """Return the range left after a cursor (the next version to read)."""
        if bounds is None or cursor is None:
            return bounds
        low, high = (bounds[0], min(bounds[1], cursor)) if descending else (max(bounds[0], cursor), bounds[1])
        return (low, high) if low <= high else None

    # -- account history and search --

    def get_account_history(self, address: bytes, bounds: tuple[int, int] | None, cursor: int | None = None,
                            limit: int = DEFAULT_PAGE_SIZE, descending: bool = False,
                            is_visible: Visible = is_any_currency) -> Page:
        """Return the transactions that touched an account, with its roles in each, in version order."""
        bounds = self.apply_cursor(bounds, cursor, descending)
        if bounds is None:
            return Page([], None)
        rows = self.scan_versions(schema.index_account_prefix(address), *bounds, descending)

        def make_item(version: int, roles_data: bytes) -> JsonObject | None:
            txn = self.get_transaction(version)
            activities = None if txn is None else get_visible_activities(txn, is_visible)
            if activities is None:
                return None
            item = render_transaction(txn, activities)  # type: ignore[arg-type]
            item["roles"] = get_role_names(unpack(roles_data, canonical=False))
            return item

        return self.collect(((v, value) for v, _, value in rows), make_item, limit, descending)

    def search_transactions(self, criteria: TransactionFilter, bounds: tuple[int, int] | None,
                            cursor: int | None = None, limit: int = DEFAULT_PAGE_SIZE, descending: bool = False,
                            is_visible: Visible = is_any_currency) -> Page:
        """Return the transactions meeting the criteria, driven by the narrowest index (account, kind, or all)."""
        bounds = self.apply_cursor(bounds, cursor, descending)
        if bounds is None:
            return Page([], None)
        party = criteria.address if criteria.address is not None else criteria.counterparty
        if party is not None or criteria.kind is not None:
            prefix = (schema.index_account_prefix(party) if party is not None
                      else schema.index_event_type_prefix(criteria.kind))  # type: ignore[arg-type]
            candidates: Iterator[tuple[int, Any]] = (
                (v, None) for v, _, _ in self.scan_versions(prefix, *bounds, descending))
        else:
            rows = self.scan_versions(schema.INDEX_TRANSACTION_PREFIX, *bounds, descending)
            candidates = ((v, IndexedTransaction.from_plain(v, unpack(value, canonical=False))) for v, _, value in rows)

        def make_item(version: int, txn: IndexedTransaction | None) -> JsonObject | None:
            txn = txn if txn is not None else self.get_transaction(version)
            activities = None if txn is None else get_visible_activities(txn, is_visible)
            matches = None if activities is None else criteria.get_matches(txn, activities)  # type: ignore[arg-type]
            if matches is None:
                return None
            item = render_transaction(txn, activities)  # type: ignore[arg-type]
            item["matched_events"] = matches
            return item

        return self.collect(candidates, make_item, limit, descending)

    # -- transfers, travel rule, actions --

    def get_large_transfers(self, currency: str, threshold: int, bounds: tuple[int, int] | None,
                            cursor: int | None = None, limit: int = DEFAULT_PAGE_SIZE,
                            descending: bool = False) -> Page:
        """Return the transfers of currency with amount >= threshold in version order, from the amount buckets."""
        bounds = self.apply_cursor(bounds, cursor, descending)
        code = currency.encode()
        if bounds is None or not 0 < len(code) <= schema.INDEX_CURRENCY_CODE_BYTES_MAX:
            return Page([], None)
        buckets = range(compute_amount_bucket(threshold), schema.INDEX_AMOUNT_BUCKET_MAX + 1)
        scans = [self.scan_versions(schema.index_amount_bucket_prefix(code, bucket), *bounds, descending,
                                    EVENT_INDEX_BYTES) for bucket in buckets]
        merged = heapq.merge(*scans, key=lambda row: (row[0], row[1]), reverse=descending)
        cache: dict[int, IndexedTransaction | None] = {}

        def make_item(version: int, row: tuple[bytes, bytes]) -> JsonObject | None:
            if unpack(row[1], canonical=False) < threshold:
                return None
            return self.render_event_item(version, int.from_bytes(row[0], "big"), cache)

        return self.collect(((v, (suffix, value)) for v, suffix, value in merged), make_item, limit, descending)

    def render_event_item(self, version: int, index: int, cache: dict[int, IndexedTransaction | None],
                          ) -> JsonObject | None:
        """Return one event of an indexed transaction with its transaction's context."""
        if version not in cache:
            cache[version] = self.get_transaction(version)
        txn = cache[version]
        activity = None if txn is None else next((a for a in txn.activities if a.index == index), None)
        if activity is None:
            return None
        item = render_activity(activity)
        item.update(version=version, timestamp_us=txn.timestamp_us, sender=_hex(txn.sender),  # type: ignore[union-attr]
                    status=txn.status, script=txn.script)  # type: ignore[union-attr]
        return item

    def get_travel_rule_records(self, bounds: tuple[int, int] | None, cursor: int | None = None,
                                limit: int = DEFAULT_PAGE_SIZE, descending: bool = False,
                                address: bytes | None = None, is_visible: Visible = is_any_currency) -> Page:
        """Return the payments that carried dual attestation or travel-rule metadata, with that metadata."""
        bounds = self.apply_cursor(bounds, cursor, descending)
        if bounds is None:
            return Page([], None)
        rows = self.scan_versions(schema.INDEX_TRAVEL_RULE_PREFIX, *bounds, descending, EVENT_INDEX_BYTES)
        cache: dict[int, IndexedTransaction | None] = {}

        def make_item(version: int, suffix: bytes) -> JsonObject | None:
            item = self.render_event_item(version, int.from_bytes(suffix, "big"), cache)
            if item is None or (item["currency"] is not None and not is_visible(item["currency"])):
                return None
            if address is not None and address.hex() not in (item["account"], item["counterparty"]):
                return None
            return item

        return self.collect(((v, suffix) for v, suffix, _ in rows), make_item, limit, descending)

    def get_compliance_actions(self, bounds: tuple[int, int] | None, cursor: int | None = None,
                               limit: int = DEFAULT_PAGE_SIZE, descending: bool = False,
                               kinds: frozenset[int] | None = None, subject: bytes | None = None,
                               initiator: bytes | None = None, is_visible: Visible = is_any_currency) -> Page:
        """Return compliance actions (freeze, wipe, pause, KYC, limits, reserves...) with who, when, version."""
        bounds = self.apply_cursor(bounds, cursor, descending)
        if bounds is None:
            return Page([], None)
        rows = self.scan_versions(schema.INDEX_ACTION_PREFIX, *bounds, descending, EVENT_INDEX_BYTES)
        cache: dict[int, IndexedTransaction | None] = {}

        def make_item(version: int, row: tuple[bytes, bytes]) -> JsonObject | None:
            kind, who = unpack(row[1], canonical=False)
            if (kinds is not None and kind not in kinds) or (initiator is not None and who != initiator):
                return None
            item = self.render_event_item(version, int.from_bytes(row[0], "big"), cache)
            if item is None or (item["currency"] is not None and not is_visible(item["currency"])):
                return None
            if subject is not None and subject.hex() not in (item["account"], item["counterparty"]):
                return None
            item["initiator"] = _hex(who)
            return item

        return self.collect(((v, (suffix, value)) for v, suffix, value in rows), make_item, limit, descending)
