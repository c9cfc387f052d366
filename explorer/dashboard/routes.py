"""The regulator's dashboard: pages over the signed regulator API, each table also as CSV."""

# The dashboard runs on the regulator's own machine with the regulator's key. It listens on loopback only and
# answers only requests addressed to loopback by name (the Host header), so a web page elsewhere cannot reach
# it through DNS rebinding. It never refreshes by itself: every load is a signed call in the node's audit log.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from explorer.dashboard.mica import compute_daily_rows, compute_report_rows, fetch_mica_report
from explorer.dashboard.overview import get_overview
from explorer.dashboard.source import (
    AUDIT_ROWS_SHOWN,
    ParamsFor,
    Regulator,
    fetch_account,
    fetch_all,
    fetch_all_rejections,
    fetch_audit,
    fetch_page,
    fetch_rejections,
)
from explorer.dashboard.tables import (
    ACTION_COLUMNS,
    ACTION_TYPES,
    AUDIT_COLUMNS,
    HISTORY_COLUMNS,
    REJECTION_COLUMNS,
    TRANSFER_COLUMNS,
    TRAVEL_RULE_COLUMNS,
    Column,
    Field,
    compute_cells,
)
from explorer.inputs import (
    BadInput,
    get_day_start_us,
    parse_address,
    parse_amount_micro,
    parse_currency,
    parse_day,
    parse_period,
    parse_version,
)
from explorer.web import create_base_app, render, respond_csv
from wallet.regulator import flatten

CLIENT_KEY = web.AppKey("client", Regulator)
MICROS_PER_DAY = 86_400_000_000
DEFAULT_THRESHOLD = "1000"
SITE = {"name": "regulator's dashboard", "kind": "dashboard", "nav": (
    ("/", "Supply"), ("/transfers", "Large transfers"), ("/travel-rule", "Travel rule"),
    ("/rejections", "Rejections"), ("/actions", "Actions"), ("/account", "Account"), ("/audit", "Audit log"),
    ("/mica", "MiCA report"))}


# ---- query parsing --------------------------------------------------------------------------------------


def parse_range(query: Mapping[str, str]) -> dict[str, int]:
    """Return the time range of the optional from/to days (whole UTC days, both included)."""
    bounds: dict[str, int] = {}
    if query.get("from"):
        bounds["start_time_us"] = get_day_start_us(parse_day(query["from"]))
    if query.get("to"):
        bounds["end_time_us"] = get_day_start_us(parse_day(query["to"])) + MICROS_PER_DAY - 1
    if bounds.get("end_time_us", 1) < bounds.get("start_time_us", 0):
        raise BadInput("the period ends before it starts")
    return bounds


def parse_cursor(query: Mapping[str, str]) -> int | None:
    """Return the page cursor (a version, or a rejection id) if one is given."""
    return parse_version(query["cursor"]) if query.get("cursor") else None


def is_csv(request: web.Request) -> bool:
    """Return True iff the table is asked for as CSV."""
    return request.query.get("format") == "csv"


def compose_href(request: web.Request, **changes: Any) -> str:
    """Return this page's URL with some query parameters changed (None removes one)."""
    query = {name: value for name, value in request.query.items() if name not in changes}
    query.update({name: str(value) for name, value in changes.items() if value is not None})
    return f"{request.path}?{urlencode(query)}" if query else request.path


def get_range_fields(request: web.Request) -> list[Field]:
    """Return the from/to filter fields, keeping what was typed."""
    return [Field("from", "From (UTC day)", request.query.get("from", ""), "date"),
            Field("to", "To (UTC day)", request.query.get("to", ""), "date")]


# ---- table pages ----------------------------------------------------------------------------------------


async def respond_table(request: web.Request, title: str, intro: str, method: str, params_for: ParamsFor,
                        columns: tuple[Column, ...], fields: list[Field]) -> web.Response:
    """Return one page of a paged regulator method as a table, or every row of its range as CSV."""
    client = request.app[CLIENT_KEY]
    if is_csv(request):
        rows = await fetch_all(client, method, params_for)
        return respond_csv([flatten(row) for row in rows], f"{request.path.strip('/') or 'table'}.csv")
    page = await fetch_page(client, method, params_for, parse_cursor(request.query))
    next_href = None if page.next_cursor is None else compose_href(request, cursor=page.next_cursor)
    return render(request, "dashboard/table.html", title=title, intro=intro, fields=fields, columns=columns,
                  cells=compute_cells(page.rows, columns), next_href=next_href,
                  csv_href=compose_href(request, cursor=None, format="csv"))


async def show_transfers(request: web.Request) -> web.Response:
    """Transfers at or above a threshold."""
    currency = parse_currency(request.query.get("currency") or "XUS")
    threshold_text = request.query.get("threshold") or DEFAULT_THRESHOLD
    threshold = parse_amount_micro(threshold_text)
    bounds = parse_range(request.query)
    fields = [Field("currency", "Currency", currency), Field("threshold", "At least (units)", threshold_text),
              *get_range_fields(request)]
    return await respond_table(request, "Large transfers", f"Transfers of {currency} at or above the threshold, "
                               "oldest first.", "compliance_get_large_transfers",
                               lambda cursor, limit: [currency, threshold, cursor, limit, bounds],
                               TRANSFER_COLUMNS, fields)


async def show_travel_rule(request: web.Request) -> web.Response:
    """Payments that carried dual attestation or travel-rule metadata."""
    options: dict[str, Any] = parse_range(request.query)
    if request.query.get("address"):
        options["address"] = parse_address(request.query["address"]).hex()
    fields = [Field("address", "Account (optional)", request.query.get("address", ""),
                    placeholder="32 hex characters"), *get_range_fields(request)]
    return await respond_table(request, "Travel-rule payments", "Payments above the dual-attestation limit, with "
                               "the metadata the VASPs exchanged.", "compliance_get_travel_rule_records",
                               lambda cursor, limit: [options, cursor, limit], TRAVEL_RULE_COLUMNS, fields)


async def show_actions(request: web.Request) -> web.Response:
    """Administrative actions: freezes, wipes, pauses, KYC, limits, attestations, mints and burns."""
    options: dict[str, Any] = parse_range(request.query)
    action = request.query.get("type", "")
    if action:
        if action not in ACTION_TYPES:
            raise BadInput(f"there is no action type {action[:40]!r}: choose one of the list")
        options["types"] = [action]
    if request.query.get("subject"):
        options["subject"] = parse_address(request.query["subject"]).hex()
    fields = [Field("type", "Action", action, "select", ("", *ACTION_TYPES)),
              Field("subject", "Subject (optional)", request.query.get("subject", ""),
                    placeholder="32 hex characters"), *get_range_fields(request)]
    return await respond_table(request, "Administrative actions", "Who did what to which account, and when.",
                               "compliance_get_compliance_actions", lambda cursor, limit: [options, cursor, limit],
                               ACTION_COLUMNS, fields)


async def show_rejections(request: web.Request) -> web.Response:
    """Transactions the nodes' admission hooks refused."""
    client = request.app[CLIENT_KEY]
    if is_csv(request):
        return respond_csv([flatten(row) for row in await fetch_all_rejections(client)], "rejections.csv")
    page = await fetch_rejections(client, parse_cursor(request.query))
    next_href = None if page.next_cursor is None else compose_href(request, cursor=page.next_cursor)
    return render(request, "dashboard/table.html", title="Admission rejections",
                  intro="Transactions a node refused before its mempool, with the hook and its stable code.",
                  fields=[], columns=REJECTION_COLUMNS, cells=compute_cells(page.rows, REJECTION_COLUMNS),
                  next_href=next_href, csv_href=compose_href(request, cursor=None, format="csv"))


# ---- account, audit, overview, MiCA ---------------------------------------------------------------------


async def find_account(request: web.Request) -> web.Response:
    """The account search form; a filled form goes to the account's page."""
    if request.query.get("address"):
        raise web.HTTPFound(f"/account/{parse_address(request.query['address']).hex()}")
    return render(request, "dashboard/account.html", report=None, fields=[], columns=HISTORY_COLUMNS, cells=[],
                  next_href=None, csv_href=None)


async def show_account(request: web.Request) -> web.Response:
    """An account's compliance report and its full history."""
    address = parse_address(request.match_info["address"])
    client = request.app[CLIENT_KEY]
    report = await fetch_account(client, address)
    bounds = parse_range(request.query)
    params_for: ParamsFor = lambda cursor, limit: [address.hex(), cursor, limit, bounds]  # noqa: E731
    if is_csv(request):
        rows = await fetch_all(client, "compliance_get_account_history", params_for)
        return respond_csv([flatten(row) for row in rows], f"history-{address.hex()}.csv")
    page = await fetch_page(client, "compliance_get_account_history", params_for,
                            parse_cursor(request.query))
    next_href = None if page.next_cursor is None else compose_href(request, cursor=page.next_cursor)
    return render(request, "dashboard/account.html", report=report, fields=get_range_fields(request),
                  columns=HISTORY_COLUMNS, cells=compute_cells(page.rows, HISTORY_COLUMNS), next_href=next_href,
                  csv_href=compose_href(request, cursor=None, format="csv"))


async def show_audit(request: web.Request) -> web.Response:
    """The audit log of this regulator's calls, and whether its hash chain verifies."""
    audit = await fetch_audit(request.app[CLIENT_KEY])
    if is_csv(request):
        return respond_csv([dict(entry) for entry in audit.entries], "audit-log.csv")
    # The chain holds up to the first broken link; every entry from there on is marked as not verified.
    newest = [{**entry, "chain": "verified" if index < audit.check.count or audit.is_intact() else "NOT verified"}
              for index, entry in enumerate(audit.entries)][-AUDIT_ROWS_SHOWN:][::-1]
    return render(request, "dashboard/audit.html", audit=audit, columns=AUDIT_COLUMNS,
                  cells=compute_cells(newest, AUDIT_COLUMNS), csv_href=compose_href(request, format="csv"))


async def show_overview(request: web.Request) -> web.Response:
    """Supply against reserves per currency, now and over time."""
    overview = await get_overview(request.app[CLIENT_KEY])
    if is_csv(request):
        return respond_csv([flatten(row) for row in overview.rows], "supply-and-reserves.csv")
    return render(request, "dashboard/overview.html", overview=overview, charts=overview.charts,
                  csv_href=compose_href(request, format="csv"))


async def show_mica(request: web.Request) -> web.Response:
    """The MiCA Art. 22 report for a period, with its daily breakdown."""
    query = request.query
    fields = [Field("currency", "Currency", query.get("currency", "XUS")),
              Field("from", "First day", query.get("from", ""), "date"),
              Field("to", "Last day", query.get("to", ""), "date")]
    if not (query.get("from") or query.get("to")):
        return render(request, "dashboard/mica.html", report=None, fields=fields, summary=None, daily=None)
    first, last = parse_period(query.get("from", ""), query.get("to", ""))
    currency = parse_currency(query.get("currency") or "XUS")
    report = await fetch_mica_report(request.app[CLIENT_KEY], currency, first, last)
    if is_csv(request):
        rows = compute_daily_rows(report) if query.get("table") == "daily" else compute_report_rows(report)
        return respond_csv(rows, f"mica-{report.currency}-{first.isoformat()}-{last.isoformat()}.csv")
    return render(request, "dashboard/mica.html", report=report, fields=fields,
                  summary=compute_report_rows(report)[0], daily=compute_daily_rows(report),
                  csv_href=compose_href(request, format="csv", table=None),
                  daily_csv_href=compose_href(request, format="csv", table="daily"))


# ---- the application ------------------------------------------------------------------------------------


def get_allowed_hosts(host: str, port: int) -> frozenset[str]:
    """Return the Host header values a loopback dashboard answers to."""
    names = {host, "127.0.0.1", "localhost", "[::1]"}
    return frozenset(f"{name}:{port}" for name in names)


def create_host_check(allowed: frozenset[str]) -> Any:
    """Return a middleware that answers 421 to a request addressed to any other host (DNS rebinding)."""

    @web.middleware
    async def check_host(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.host not in allowed:
            return render(request, "error.html", status=421, status_code=421, title="Wrong address",
                          message="This dashboard answers only on this machine, at 127.0.0.1 or localhost.")
        return await handler(request)

    return check_host


def create_dashboard_app(client: Regulator, host: str, port: int) -> web.Application:
    """Return the dashboard application; client signs the regulator calls (a wallet RegulatorClient)."""
    app = create_base_app(SITE, middlewares=(create_host_check(get_allowed_hosts(host, port)),))
    app[CLIENT_KEY] = client
    for path, handler in (("/", show_overview), ("/transfers", show_transfers), ("/travel-rule", show_travel_rule),
                          ("/actions", show_actions), ("/rejections", show_rejections), ("/account", find_account),
                          ("/account/{address}", show_account), ("/audit", show_audit), ("/mica", show_mica)):
        app.router.add_get(path, handler)
    return app
