"""What both web apps share: templates that escape, security headers, error pages, formatting and CSV."""

# Every response carries a Content-Security-Policy that allows only this server's own scripts, styles and
# images, so even a value that slipped past escaping could not run script. Errors a person can cause
# (bad input, unknown names) are 4xx pages that say what was expected; a node that answers something
# that does not verify is a 502; an unreachable node a 503. Nothing ever shows a traceback.

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from explorer.inputs import BadInput, NotFound
from wallet.errors import VerificationError, WalletError

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
MICROS_PER_UNIT = 1_000_000
MICROS_PER_SECOND = 1_000_000
SHORT_HEX_HEAD = 8
SHORT_HEX_TAIL = 4
JINJA_KEY = web.AppKey("jinja", jinja2.Environment)
SITE_KEY = web.AppKey("site", dict)

logger = logging.getLogger("stablechain.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# ---- formatting (template filters) -------------------------------------------------------------------


def format_amount(amount_micro: int | None, code: str = "") -> str:
    """Return micro-units as units with thousands separators and 6 decimals, e.g. 1,234.500000 XUS."""
    if amount_micro is None:
        return "—"
    sign = "-" if amount_micro < 0 else ""
    whole, fraction = divmod(abs(amount_micro), MICROS_PER_UNIT)
    return f"{sign}{whole:,}.{fraction:06d}{' ' + code if code else ''}"


def format_time(time_us: int | None) -> str:
    """Return Unix microseconds as a UTC date and time to the second."""
    if time_us is None:
        return "—"
    if time_us == 0:
        return "genesis"
    moment = datetime.fromtimestamp(time_us / MICROS_PER_SECOND, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(duration_us: int | None) -> str:
    """Return a duration in the two largest units a person reads (2 d 3 h, 4 min 5 s)."""
    if duration_us is None:
        return "—"
    seconds = max(0, duration_us // MICROS_PER_SECOND)
    parts = [(seconds // 86_400, "d"), (seconds // 3_600 % 24, "h"), (seconds // 60 % 60, "min"), (seconds % 60, "s")]
    shown = [f"{value} {unit}" for value, unit in parts if value][:2]
    return " ".join(shown) if shown else "0 s"


def shorten_hex(text: str | None) -> str:
    """Return a long hex string as its head and tail (the full value stays in links and titles)."""
    if not text:
        return "—"
    if len(text) <= SHORT_HEX_HEAD + SHORT_HEX_TAIL + 1:
        return text
    return f"{text[:SHORT_HEX_HEAD]}…{text[-SHORT_HEX_TAIL:]}"


def format_bps(share_bps: int) -> str:
    """Return basis points as a percentage with two decimals."""
    return f"{share_bps // 100}.{share_bps % 100:02d} %"


def create_jinja_environment() -> jinja2.Environment:
    """Return the template environment: autoescaping on for every template, undefined names are errors."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    environment.filters.update(amount=format_amount, time=format_time, duration=format_duration,
                               short=shorten_hex, bps=format_bps)
    return environment


# ---- responses ---------------------------------------------------------------------------------------


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """Return a rendered HTML page with the site's shared context."""
    environment = request.app[JINJA_KEY]
    page = environment.get_template(template).render(site=request.app[SITE_KEY], path=request.path,
                                                     query=request.query.get("q", ""), **context)
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")


def respond_json(data: Any, status: int = 200) -> web.Response:
    """Return a JSON answer (sorted keys, so equal data gives equal bytes)."""
    return web.Response(text=json.dumps(data, sort_keys=True), status=status, content_type="application/json")


def compose_csv(rows: list[dict[str, Any]]) -> str:
    """Return rows as CSV, the columns being the union of keys in first-seen order."""
    columns = list(dict.fromkeys(name for row in rows for name in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def respond_csv(rows: list[dict[str, Any]], filename: str) -> web.Response:
    """Return rows as a CSV download named filename."""
    response = web.Response(text=compose_csv(rows), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---- middlewares -------------------------------------------------------------------------------------


@web.middleware
async def add_security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add the CSP and the other protective headers to every response, error pages included."""
    try:
        response = await handler(request)
    except web.HTTPException as raised:  # redirects travel as exceptions: they get the headers too
        raised.headers.update(SECURITY_HEADERS)
        raise
    response.headers.update(SECURITY_HEADERS)
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def get_error(exception: BaseException) -> tuple[int, str, str]:
    """Return (status, title, message) for an exception a page may raise."""
    if isinstance(exception, BadInput):
        return 400, "That is not something this page understands", str(exception)
    if isinstance(exception, NotFound):
        return 404, "Not found", str(exception)
    if isinstance(exception, VerificationError):
        return 502, "The node's answer did not verify", (
            f"Nothing from that answer is shown, because it is not what the validators certified: {exception}")
    if isinstance(exception, WalletError):
        return 503, "The node cannot answer right now", f"Try again in a moment. ({exception})"
    if isinstance(exception, web.HTTPException):
        return exception.status, exception.reason, "There is no such page here."
    return 500, "Something went wrong on this server", "The error was logged; the page cannot be shown."


@web.middleware
async def render_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every exception into a page (or a JSON error for .json paths) with a fitting status."""
    try:
        return await handler(request)
    except web.HTTPRedirection:
        raise
    except Exception as exception:  # every failure becomes a page; only unexpected ones are logged loudly
        status, title, message = get_error(exception)
        if status == 500:
            logger.exception("unexpected error serving %s", request.path)
        if request.path.endswith(".json") or request.path.endswith(".csv"):
            return respond_json({"error": title, "message": message}, status)
        message = message[:1].upper() + message[1:]
        return render(request, "error.html", status=status, title=title, message=message, status_code=status)


def create_base_app(site: dict[str, Any], middlewares: tuple[Any, ...] = ()) -> web.Application:
    """Return an application with templates, static files, error pages and security headers."""
    app = web.Application(middlewares=[add_security_headers, *middlewares, render_errors])
    app[JINJA_KEY] = create_jinja_environment()
    app[SITE_KEY] = site
    app.router.add_static("/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
    return app
