"""The web face in Chromium against a real 4-validator devnet: what a person sees after the CLIs acted.

The tests run in file order and tell one story: a wallet-CLI payment shows up live and on both accounts;
/reserves agrees with `stablechain regulator supply`; bad input gets a clear page; a freeze done with the
treasury CLI shows on the dashboard; the MiCA report agrees with its CLI export; and, last, a tampered audit
log is reported as broken. Every page is photographed at desktop and phone widths.
"""

from __future__ import annotations

import csv
import json
import urllib.request
from datetime import datetime, timezone

import pytest

from cli.main import app as stablechain_app
from explorer.web import format_amount
from tests.browser.conftest import Browser, Story, get_regulator_supply, in_thread, run_cli, run_wallet
from tests.browser.harness import take_screenshots
from tests.e2e_compliance.harness import CHAIN_ID

pytestmark = pytest.mark.timeout(300)
PAYMENT = "2.5"
INJECTION = "<script>alert('injected')</script>"
LIVE_WAIT_MS = 20_000


def test_a_wallet_cli_payment_appears_live_on_the_home_page_and_on_both_accounts(story: Story,
                                                                                  browser: Browser) -> None:
    page = browser.page
    for label in ("alice", "bob"):
        run_wallet(story, "new", "--label", label, "--passphrase-env", "BROWSER_TEST_PASSPHRASE")
        run_wallet(story, "faucet", "20", "--account", label, "--url", story.net.urls[0])
    page.goto(story.explorer.url + "/")
    paid = run_wallet(story, "send", run_wallet(story, "address", "bob")["address"], PAYMENT,
                      "--account", "alice", "--url", story.net.urls[0], "--passphrase-env", "BROWSER_TEST_PASSPHRASE")
    story.facts.update(version=paid["version"], alice=paid["sender"], bob=paid["receiver"])

    row = page.locator(f"tr[data-version='{paid['version']}']")
    row.wait_for(timeout=LIVE_WAIT_MS)  # the page refreshes itself: no reload
    assert f"{PAYMENT}00000 XUS" in row.inner_text() and "executed" in row.inner_text()
    assert page.locator("#verification").inner_text().startswith("✓")
    take_screenshots(page, "explorer-home")
    for who, direction in (("alice", "sent to"), ("bob", "received from")):
        page.goto(f"{story.explorer.url}/account/{story.facts[who]}")
        assert direction in page.locator(f"tr[data-version='{paid['version']}']").inner_text()
        take_screenshots(page, f"explorer-account-{who}")
    page.goto(f"{story.explorer.url}/tx/{paid['version']}")
    assert "SentPaymentEvent" in page.content()
    take_screenshots(page, "explorer-transaction")
    page.goto(story.explorer.url + "/validators")
    assert page.locator("tbody tr").count() == 4
    take_screenshots(page, "explorer-validators")
    assert browser.get_policy_violations() == []


def test_reserves_show_what_the_regulator_supply_report_says(story: Story, browser: Browser) -> None:
    page = browser.page
    supply = get_regulator_supply(story.net, story.net.root / "supply.jsonl")
    page.goto(story.explorer.url + "/reserves")
    facts = page.locator("[data-currency='XUS']")
    shown = {field: facts.locator(f"[data-field='{field}']").inner_text()
             for field in ("total_supply", "preburn", "reserves", "margin", "report_hash")}
    assert shown == {"total_supply": format_amount(supply["total_supply"], "XUS"),
                     "preburn": format_amount(supply["preburn"], "XUS"),
                     "reserves": format_amount(supply["latest_attestation"]["amount"], "XUS"),
                     "margin": format_amount(supply["margin"], "XUS"),
                     "report_hash": supply["latest_attestation"]["report_hash"]}
    assert "Fully backed." in page.content()
    assert page.locator(".chart-box canvas").count() >= 1, "the chart was not drawn"
    take_screenshots(page, "explorer-reserves")
    with urllib.request.urlopen(story.explorer.url + "/reserves.json", timeout=10) as response:
        xus = next(item for item in json.load(response)["currencies"] if item["currency"] == "XUS")
    assert (xus["total_supply_micro"], xus["margin_micro"]) == (supply["total_supply"], supply["margin"])
    assert len(xus["history"]["reserves"]) >= 2, "the new attestation is missing from the history"
    assert browser.get_policy_violations() == []


def test_script_in_the_search_box_gets_a_clear_page_and_never_runs(story: Story, browser: Browser) -> None:
    page = browser.page
    page.goto(story.explorer.url + "/")
    page.get_by_label("Search").fill(INJECTION)
    with page.expect_response(lambda response: "/search" in response.url) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 400
    assert "Nothing matches" in page.locator(".error-message").inner_text()
    assert INJECTION in page.locator(".error-message").inner_text()  # shown as text
    take_screenshots(page, "explorer-bad-search")
    for path, status in (("/tx/not-a-version", 400), ("/account/" + "ee" * 16, 404), ("/tx/99999999999", 404)):
        assert page.goto(story.explorer.url + path).status == status, path
    assert browser.dialogs == [], "a script from the search ran"


def test_the_dashboard_shows_a_freeze_done_with_the_treasury_cli(story: Story, browser: Browser) -> None:
    page, bob = browser.page, story.facts["bob"]
    frozen = in_thread(story.net.treasury, "freeze", bob)
    assert frozen.exit_code == 0, frozen.output
    page.goto(story.dashboard.url + "/actions?type=freeze")
    assert bob[:8] in page.locator("tbody").inner_text()
    take_screenshots(page, "dashboard-actions")
    page.goto(f"{story.dashboard.url}/account/{bob}")
    assert page.locator("[data-field='frozen']").inner_text() == "frozen"
    take_screenshots(page, "dashboard-account")
    page.goto(f"{story.explorer.url}/account/{bob}")
    assert "Frozen." in page.content()
    for path, name in (("/", "dashboard-supply"), ("/transfers?threshold=1", "dashboard-transfers"),
                       ("/travel-rule", "dashboard-travel-rule"), ("/rejections", "dashboard-rejections")):
        page.goto(story.dashboard.url + path)
        take_screenshots(page, name)
    assert browser.get_policy_violations() == []


def test_the_mica_report_page_agrees_with_its_cli_export(story: Story, browser: Browser) -> None:
    page = browser.page
    today = datetime.now(timezone.utc).date().isoformat()
    page.goto(story.dashboard.url + "/mica")
    page.get_by_label("First day").fill(today)
    page.get_by_label("Last day").fill(today)
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector("#mica-summary")
    take_screenshots(page, "dashboard-mica")
    export = story.net.root / "mica.csv"
    run_cli(stablechain_app, "regulator", "mica-report", "--currency", "XUS", "--from", today, "--to", today,
            "--url", story.net.regulator_url, "--key-file", str(story.net.get_key_file("finma")), "--chain-id",
            str(CHAIN_ID), "--export", "csv", str(export))
    row = next(csv.DictReader(export.open()))
    assert page.locator("[data-field='holders']").inner_text().split()[0] == row["holders"]
    assert page.locator("[data-field='transactions']").inner_text().split()[0] == row["transactions"]
    assert int(row["transactions"]) >= 3 and int(row["holders"]) >= 2  # the faucet's and the wallet's payments


def test_the_audit_log_page_reports_a_tampered_log_as_broken(story: Story, browser: Browser) -> None:
    page = browser.page
    page.goto(story.dashboard.url + "/audit")
    assert "The audit chain verifies." in page.locator("#audit-verdict").inner_text()
    take_screenshots(page, "dashboard-audit")
    tamper_with_audit_entry(story.net.audit_path, seq=1)
    page.reload()
    verdict = page.locator("#audit-verdict").inner_text()
    assert "The audit chain is broken." in verdict and "entry 1" in verdict
    take_screenshots(page, "dashboard-audit-broken")


def tamper_with_audit_entry(path: object, seq: int) -> None:
    """Rewrite one entry of the node's audit file in place (same length), as someone covering their tracks."""
    lines = path.read_bytes().splitlines(keepends=True)  # type: ignore[attr-defined]
    entry = json.loads(lines[seq])
    old = f'"time_ms":{entry["time_ms"]}'.encode()
    new = f'"time_ms":{entry["time_ms"] + 1 if entry["time_ms"] % 10 != 9 else entry["time_ms"] - 1}'.encode()
    assert len(old) == len(new) and old in lines[seq]
    lines[seq] = lines[seq].replace(old, new)
    path.write_bytes(b"".join(lines))  # type: ignore[attr-defined]
