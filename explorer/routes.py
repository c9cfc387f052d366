"""The public explorer's pages and JSON endpoints over a ChainReader."""

from __future__ import annotations

import time
from dataclasses import asdict
from urllib.parse import quote

from aiohttp import web

from explorer.accounts import get_account_view
from explorer.chain import ChainReader
from explorer.inputs import parse_account_ref, parse_search, parse_version
from explorer.models import Recent
from explorer.reserves import compute_reserves_json, compute_trust_json, get_reserves_view
from explorer.validators import get_validator_set
from explorer.web import create_base_app, render, respond_json

READER_KEY = web.AppKey("reader", ChainReader)
RECENT_CACHE_KEY = web.AppKey("recent_cache", dict)
RECENT_CACHE_S = 1.0  # the live home page polls; one verified scan serves every viewer for this long
LIVE_POLL_MS = 4_000
SITE = {"name": "stablechain explorer", "kind": "explorer", "nav": (
    ("/", "Latest"), ("/validators", "Validators"), ("/reserves", "Reserves"))}


async def get_recent_cached(request: web.Request) -> Recent:
    """Return the latest blocks and transactions, scanned at most once per RECENT_CACHE_S."""
    cache = request.app[RECENT_CACHE_KEY]
    now = time.monotonic()
    if cache.get("until", 0.0) <= now:
        cache["recent"] = await request.app[READER_KEY].get_recent()
        cache["until"] = time.monotonic() + RECENT_CACHE_S
    return cache["recent"]


async def show_home(request: web.Request) -> web.Response:
    """The latest blocks and user transactions, refreshed live by a small script."""
    recent = await get_recent_cached(request)
    return render(request, "index.html", recent=recent, trust=recent.trust, poll_ms=LIVE_POLL_MS)


async def show_latest_json(request: web.Request) -> web.Response:
    """The home page's data, for the live refresh."""
    recent = await get_recent_cached(request)
    return respond_json({"verified_against": compute_trust_json(recent.trust),
                         "blocks": [asdict(block) for block in recent.blocks],
                         "transactions": [asdict(row) for row in recent.transactions],
                         "scanned_from_version": recent.scanned_from_version})


async def show_transaction(request: web.Request) -> web.Response:
    """One transaction by version."""
    version = parse_version(request.match_info["version"])
    detail = await request.app[READER_KEY].get_transaction(version)
    trust = await request.app[READER_KEY].get_trust()
    return render(request, "transaction.html", detail=detail, trust=trust)


async def show_account(request: web.Request) -> web.Response:
    """One account by address, account identifier or Diem ID."""
    ref = parse_account_ref(request.match_info["account"])
    view = await get_account_view(request.app[READER_KEY], ref)
    return render(request, "account.html", account=view, trust=view.trust, ref=ref)


async def show_validators(request: web.Request) -> web.Response:
    """The validator set: stake, voting power, proposals, epoch."""
    view = await get_validator_set(request.app[READER_KEY])
    return render(request, "validators.html", validators=view, trust=view.trust)


async def show_reserves(request: web.Request) -> web.Response:
    """The public proof of reserves, with its chart."""
    view = await get_reserves_view(request.app[READER_KEY])
    charts = {item.currency: item.get_chart().to_json() for item in view.currencies}
    return render(request, "reserves.html", reserves=view, trust=view.trust, charts=charts)


async def show_reserves_json(request: web.Request) -> web.Response:
    """The proof of reserves, machine-readable."""
    return respond_json(compute_reserves_json(await get_reserves_view(request.app[READER_KEY])))


async def search(request: web.Request) -> web.Response:
    """Send a search to the page it names, or say clearly why nothing matches."""
    target = parse_search(request.query.get("q", ""))
    locations = {"transaction": "/tx/{}", "account": "/account/{}", "validators": "/validators",
                 "reserves": "/reserves"}
    raise web.HTTPFound(locations[target.kind].format(quote(target.value, safe="")))


async def close_reader(app: web.Application) -> None:
    """Close the node session when the server stops."""
    await app[READER_KEY].close()


def create_explorer_app(reader: ChainReader) -> web.Application:
    """Return the explorer application over reader."""
    app = create_base_app(SITE)
    app[READER_KEY] = reader
    app[RECENT_CACHE_KEY] = {}
    app.router.add_get("/", show_home)
    app.router.add_get("/latest.json", show_latest_json)
    app.router.add_get("/tx/{version}", show_transaction)
    app.router.add_get("/account/{account}", show_account)
    app.router.add_get("/validators", show_validators)
    app.router.add_get("/reserves", show_reserves)
    app.router.add_get("/reserves.json", show_reserves_json)
    app.router.add_get("/search", search)
    app.on_cleanup.append(close_reader)
    return app
