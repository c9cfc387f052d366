"""The public proof of reserves: proven supply and attested reserves per currency, and their history from events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.framework import DIEM_ROOT, currency, reserves
from explorer.chain import ChainReader
from explorer.decode import decode_event_values
from explorer.models import Trust
from explorer.series import ChartData, Point, SupplyChange, compute_chart_data, compute_supply_points, get_window_start

CHART_EVENTS_MAX = 100  # per stream: the chart covers the window in which every stream is complete
EVENT_PAGE = 100


@dataclass(frozen=True, slots=True)
class Attestation:
    """An auditor's attestation, from the proven reserve record."""

    sequence: int
    amount_micro: int
    report_hash: str
    attested_at_us: int
    auditor: str
    supply_at_record_micro: int


@dataclass(frozen=True, slots=True)
class CurrencyReserves:
    """One reserve-backed currency: supply, queued preburns, the latest attestation, its age and the margin."""

    currency: str
    total_supply_micro: int
    preburn_micro: int
    latest: Attestation | None
    attestation_count: int
    max_attestation_age_us: int
    age_us: int | None
    margin_micro: int | None
    is_stale: bool
    is_fully_backed: bool
    supply_points: tuple[Point, ...]
    reserve_points: tuple[Point, ...]

    def get_chart(self) -> ChartData:
        """Return the supply and reserve series aligned for the chart."""
        return compute_chart_data(self.supply_points, self.reserve_points)


@dataclass(frozen=True, slots=True)
class ReservesView:
    """The /reserves page: every reserve-backed currency and the synthetic ones it leaves out."""

    currencies: tuple[CurrencyReserves, ...]
    synthetic: tuple[str, ...]
    trust: Trust


async def get_reserves_view(reader: ChainReader) -> ReservesView:
    """Return supply against attested reserves for every registered currency, every figure proven."""
    codes = await reader.get_registered_codes()
    tags = [currency.tag_of_code(code.encode("ascii")) for code in codes]
    rtypes = [rtype for tag in tags for rtype in (currency.info_type(tag), reserves.record_type(tag))]
    _version, values = await reader.get_resources(DIEM_ROOT, rtypes)
    trust = await reader.get_trust()
    backed, synthetic = [], []
    for code, info, record in zip(codes, values[0::2], values[1::2]):
        if info is None:
            continue
        if info.is_synthetic or record is None:
            synthetic.append(code)
            continue
        backed.append(await get_currency_reserves(reader, code, info, record, trust))
    return ReservesView(tuple(backed), tuple(synthetic), trust)


async def get_currency_reserves(reader: ChainReader, code: str, info: Any, record: Any,
                                trust: Trust) -> CurrencyReserves:
    """Return one currency's figures and history (supply from mint and burn events, reserves from attestations)."""
    latest = None if not record.attestations else compute_attestation(record.attestations[-1])
    age_us = None if latest is None else trust.timestamp_us - latest.attested_at_us
    margin = None if latest is None else latest.amount_micro - info.total_value
    mints, mints_start = await get_supply_changes(reader, info.mint_events, 1)
    burns, burns_start = await get_supply_changes(reader, info.burn_events, -1)
    supply_points = compute_supply_points(info.total_value, trust.timestamp_us, mints + burns,
                                          get_window_start((mints_start, burns_start)))
    return CurrencyReserves(
        currency=code, total_supply_micro=info.total_value, preburn_micro=info.preburn_value, latest=latest,
        attestation_count=record.attestation_count, max_attestation_age_us=record.max_attestation_age_us,
        age_us=age_us, margin_micro=margin,
        is_stale=age_us is None or age_us > record.max_attestation_age_us,
        is_fully_backed=margin is not None and margin >= 0, supply_points=supply_points,
        reserve_points=await get_reserve_points(reader, record.attestation_events),
    )


def compute_attestation(entry: Any) -> Attestation:
    """Return a proven attestation entry as a frozen value."""
    return Attestation(entry.sequence, entry.amount, bytes(entry.report_hash).hex(), entry.attested_at_us,
                       bytes(entry.auditor).hex(), entry.supply_at_record)


async def get_latest_events(reader: ChainReader, handle: Any) -> list[Any]:
    """Return the last CHART_EVENTS_MAX certified events of an event handle, oldest first."""
    verifying = await reader.get_verifying()
    start = max(0, handle.counter - CHART_EVENTS_MAX)
    events: list[Any] = []
    for first in range(start, handle.counter, EVENT_PAGE):
        count = min(EVENT_PAGE, handle.counter - first)
        events += await verifying.get_proven_events(bytes(handle.guid).hex(), first, count)
    return events


async def get_supply_changes(reader: ChainReader, handle: Any, sign: int) -> tuple[list[SupplyChange], int | None]:
    """Return the supply changes of a mint (sign 1) or burn (sign -1) stream and, when the stream was cut
    short, the first version from which all of its events are known."""
    changes = []
    events = await get_latest_events(reader, handle)
    for item in events:
        values = decode_event_values(item.event)
        if values is not None:
            time_us = await reader.get_block_time_us(item.transaction_version)
            changes.append(SupplyChange(item.transaction_version, time_us, sign * values["amount"]))
    is_cut_short = handle.counter > len(events)
    return changes, (events[0].transaction_version if is_cut_short and events else None)


async def get_reserve_points(reader: ChainReader, handle: Any) -> tuple[Point, ...]:
    """Return the attested reserves over time from the certified attestation events."""
    points = []
    for item in await get_latest_events(reader, handle):
        values = decode_event_values(item.event)
        if values is not None:
            points.append(Point(values["attested_at_us"], values["amount"]))
    return tuple(sorted(points, key=lambda point: point.time_us))


def compute_reserves_json(view: ReservesView) -> dict[str, Any]:
    """Return the machine-readable proof of reserves (micro-units, Unix microseconds)."""
    return {
        "verified_against": compute_trust_json(view.trust),
        "currencies": [compute_currency_json(item) for item in view.currencies],
        "synthetic_currencies": list(view.synthetic),
    }


def compute_trust_json(trust: Trust) -> dict[str, Any]:
    """Return the certified ledger info a JSON answer was checked against."""
    return {"ledger_version": trust.version, "epoch": trust.epoch, "ledger_timestamp_us": trust.timestamp_us,
            "waypoint": trust.waypoint, "waypoint_pinned": trust.is_waypoint_pinned}


def compute_currency_json(item: CurrencyReserves) -> dict[str, Any]:
    """Return one currency's figures and history."""
    latest = None if item.latest is None else {
        "sequence": item.latest.sequence, "amount_micro": item.latest.amount_micro,
        "report_hash": item.latest.report_hash, "attested_at_us": item.latest.attested_at_us,
        "auditor": item.latest.auditor, "supply_at_record_micro": item.latest.supply_at_record_micro,
    }
    return {
        "currency": item.currency, "total_supply_micro": item.total_supply_micro, "preburn_micro": item.preburn_micro,
        "latest_attestation": latest, "attestation_count": item.attestation_count,
        "max_attestation_age_us": item.max_attestation_age_us, "attestation_age_us": item.age_us,
        "margin_micro": item.margin_micro, "is_stale": item.is_stale, "is_fully_backed": item.is_fully_backed,
        "history": {
            "supply": [[point.time_us, point.value_micro] for point in item.supply_points],
            "reserves": [[point.time_us, point.value_micro] for point in item.reserve_points],
        },
    }
