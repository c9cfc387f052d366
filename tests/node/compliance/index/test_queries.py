"""Queries over the indexes equal a brute-force scan of the same synthetic chain, page after page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from node.compliance.index.events import ACTION_KINDS, TRANSFER_KINDS, Activity, ActivityKind
from node.compliance.index.queries import ComplianceIndex, Page, TransactionFilter
from node.compliance.index.writes import IndexedTransaction
from node.storage import MemoryStore
from tests.node.compliance.index.synthetic import CURRENCIES, GENESIS_TIME_US, make_address, make_transfer
from tests.node.compliance.index.synthetic import write_transactions

K = ActivityKind
ADDRESSES = tuple(make_address(n) for n in range(1, 5))
AMOUNTS = (1, 99, 100, 101, 2**20, 2**20 + 1, 10**9, 2**40, 2**63)
KINDS = (K.PAYMENT, K.RECEIVED_PAYMENT, K.FREEZE, K.WIPE, K.KYC_RECORD, K.CREATE_ACCOUNT)


@st.composite
def activities(draw: Any, index: int) -> Activity:
    kind = draw(st.sampled_from(KINDS))
    currency = draw(st.sampled_from(CURRENCIES)) if kind in (K.PAYMENT, K.RECEIVED_PAYMENT, K.WIPE) else None
    amount = draw(st.sampled_from(AMOUNTS)) if currency else None
    counterparty = draw(st.sampled_from(ADDRESSES)) if kind in TRANSFER_KINDS else None
    details = {"travel_rule": True} if kind == K.PAYMENT and draw(st.booleans()) else {}
    initiator = draw(st.sampled_from(ADDRESSES)) if kind in ACTION_KINDS and draw(st.booleans()) else None
    return Activity(index, kind, draw(st.sampled_from(ADDRESSES)), counterparty, currency, amount, initiator, details)


@st.composite
def chains(draw: Any) -> list[IndexedTransaction]:
    """Transactions at increasing versions, several per block, 0-3 events each."""
    txns, version, timestamp = [], 1, GENESIS_TIME_US
    for _ in range(draw(st.integers(0, 25))):
        version += draw(st.integers(1, 3))
        timestamp += draw(st.sampled_from((0, 0, 1_000_000)))
        count = draw(st.integers(0, 3))
        events = tuple(draw(activities(index * 2)) for index in range(count))
        sender = draw(st.sampled_from((None, *ADDRESSES)))
        status = draw(st.sampled_from(("executed", "executed", "move_abort")))
        txns.append(IndexedTransaction(version, timestamp, status, sender, None if sender is None else version, None,
                                       events if status == "executed" else ()))
    return txns


def build(txns: list[IndexedTransaction]) -> ComplianceIndex:
    store = MemoryStore()
    write_transactions(store, txns)
    return ComplianceIndex(store)


def read_all(query: Callable[[int | None, int], Page], limit: int, per_version_max: int) -> list[dict[str, Any]]:
    """Follow cursors to the end; every page holds at most limit items plus the rest of its last transaction."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1_000):
        page = query(cursor, limit)
        assert len(page.items) <= limit + per_version_max - 1
        items += page.items
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor
    raise AssertionError("pagination did not end")


def parties(txn: IndexedTransaction) -> set[bytes]:
    found = {a for act in txn.activities for a in (act.account, act.counterparty, act.initiator) if a is not None}
    return found | ({txn.sender} if txn.sender else set())


LATEST = 10_000
PAGE_LIMITS = st.integers(1, 4)


@settings(max_examples=60, deadline=None)
@given(chains(), st.sampled_from(ADDRESSES), PAGE_LIMITS, st.booleans())
def test_account_history_equals_brute_force(txns, address, limit, descending) -> None:  # noqa: ANN001
    index = build(txns)
    got = read_all(lambda c, n: index.get_account_history(address, (0, LATEST), c, n, descending), limit, 1)
    expected = [t.version for t in txns if address in parties(t)]
    assert [item["version"] for item in got] == (expected[::-1] if descending else expected)


def brute_match(txn: IndexedTransaction, f: TransactionFilter) -> bool:
    if f.status is not None and txn.status != f.status:
        return False
    activity_level = f.counterparty or f.currency or f.min_amount is not None or f.max_amount is not None or f.kind
    if not activity_level:
        return f.address is None or f.address in parties(txn)
    for a in txn.activities:
        involved = {a.account, a.counterparty, a.initiator}
        if ((f.kind is None or a.kind == f.kind) and (f.currency is None or a.currency == f.currency)
                and (f.min_amount is None or (a.amount is not None and a.amount >= f.min_amount))
                and (f.max_amount is None or (a.amount is not None and a.amount <= f.max_amount))
                and (f.address is None or f.address in involved)
                and (f.counterparty is None or f.counterparty in involved)):
            return True
    return False


filters = st.builds(
    TransactionFilter, st.none() | st.sampled_from(ADDRESSES), st.none() | st.sampled_from(ADDRESSES),
    st.none() | st.sampled_from(CURRENCIES), st.none() | st.sampled_from(AMOUNTS), st.none() | st.sampled_from(AMOUNTS),
    st.none() | st.sampled_from(KINDS), st.none() | st.sampled_from(("executed", "move_abort")))


@settings(max_examples=150, deadline=None)
@given(chains(), filters, PAGE_LIMITS, st.booleans(), st.integers(0, 40), st.integers(0, 80))
def test_search_equals_brute_force(txns, criteria, limit, descending, low, high) -> None:  # noqa: ANN001
    index = build(txns)
    got = read_all(lambda c, n: index.search_transactions(criteria, (low, high), c, n, descending), limit, 1)
    expected = [t.version for t in txns if low <= t.version <= high and brute_match(t, criteria)]
    assert [item["version"] for item in got] == (expected[::-1] if descending else expected)


@settings(max_examples=100, deadline=None)
@given(chains(), st.sampled_from(CURRENCIES), st.sampled_from(AMOUNTS), PAGE_LIMITS, st.booleans())
def test_large_transfers_equal_brute_force(txns, currency, threshold, limit, descending) -> None:  # noqa: ANN001
    index = build(txns)
    got = read_all(lambda c, n: index.get_large_transfers(currency, threshold, (0, LATEST), c, n, descending),
                   limit, 3)
    expected = [(t.version, a.index) for t in txns for a in t.activities
                if a.kind in TRANSFER_KINDS and a.currency == currency and a.amount >= threshold]
    assert [(item["version"], item["index"]) for item in got] == (expected[::-1] if descending else expected)


@settings(max_examples=60, deadline=None)
@given(chains(), PAGE_LIMITS, st.none() | st.frozensets(st.sampled_from((K.FREEZE, K.WIPE, K.KYC_RECORD)), min_size=1))
def test_travel_rule_and_actions_equal_brute_force(txns, limit, kinds) -> None:  # noqa: ANN001
    index = build(txns)
    records = read_all(lambda c, n: index.get_travel_rule_records((0, LATEST), c, n), limit, 3)
    assert [(r["version"], r["index"]) for r in records] == [
        (t.version, a.index) for t in txns for a in t.activities if a.details.get("travel_rule")]
    actions = read_all(lambda c, n: index.get_compliance_actions((0, LATEST), c, n, kinds=kinds), limit, 3)
    expected = [(t.version, a.index, a.initiator or t.sender) for t in txns for a in t.activities
                if a.kind in ACTION_KINDS and (kinds is None or a.kind in kinds)]
    assert [(r["version"], r["index"], r["initiator"] and bytes.fromhex(r["initiator"])) for r in actions] == expected


def test_time_range_maps_to_the_versions_of_the_blocks_inside_it() -> None:
    # Pre-state: blocks at t0 (versions 1-2), t0+1s (3), t0+3s (4-5).
    t0 = GENESIS_TIME_US
    a, b = ADDRESSES[:2]
    txns = [make_transfer(1, t0, a, b, 5, "XUS"), make_transfer(2, t0, a, b, 5, "XUS"),
            make_transfer(3, t0 + 1_000_000, a, b, 5, "XUS"), make_transfer(4, t0 + 3_000_000, a, b, 5, "XUS"),
            make_transfer(5, t0 + 3_000_000, b, a, 5, "XUS")]
    index = build(txns)
    assert index.resolve_range(None, None, t0 + 1, t0 + 3_000_000, 100) == (3, 5)
    assert index.resolve_range(None, None, t0, t0 + 999_999, 100) == (1, 2)
    assert index.resolve_range(None, None, t0 + 1, t0 + 999_999, 100) is None
    assert index.resolve_range(2, 4, None, None, 3) == (2, 3)
    assert index.resolve_range(None, None, t0 + 4_000_000, None, 100) is None


def test_a_scope_hides_out_of_scope_currencies_and_their_transactions() -> None:
    a, b = ADDRESSES[:2]
    txns = [make_transfer(1, GENESIS_TIME_US, a, b, 5, "XUS"), make_transfer(2, GENESIS_TIME_US, a, b, 5, "XDX")]
    index = build(txns)
    page = index.get_account_history(a, (0, 10), is_visible=lambda code: code == "XDX")
    assert [item["version"] for item in page.items] == [2]


def test_a_query_stops_at_its_scan_budget_with_a_cursor(monkeypatch) -> None:  # noqa: ANN001
    import node.compliance.index.queries as module

    monkeypatch.setattr(module, "SCAN_BUDGET_ENTRIES", 3)
    a, b = ADDRESSES[:2]
    txns = [make_transfer(v, GENESIS_TIME_US, a, b, 5, "XUS") for v in range(1, 9)]
    index = build(txns)
    page = index.search_transactions(TransactionFilter(currency="XDX"), (0, 100))
    assert page.items == [] and page.next_cursor == 4
    page = index.search_transactions(TransactionFilter(currency="XUS"), (0, 100))
    assert [item["version"] for item in page.items] == [1, 2, 3] and page.next_cursor == 4
