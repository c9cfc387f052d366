"""The explorer's pages over a real (in-process) node: verified figures, clear 4xx pages, no script injection."""

from __future__ import annotations

import json
import re

import pytest

from explorer.web import CONTENT_SECURITY_POLICY
from primitives.account_identifier import TESTNET_HRP, encode_account_identifier
from primitives.types.names import AccountAddress
from tests.explorer.conftest import ALICE, BOB, FUNDING_MICRO, PAYMENT_MICRO, Explorer
from wallet.client import Client

INJECTION = "<script>alert('x')</script>"


async def get_text(explorer: Explorer, path: str, status: int = 200) -> str:
    response = await explorer.http.get(path, allow_redirects=False)
    text = await response.text()
    assert response.status == status, f"{path}: HTTP {response.status}\n{text[:2000]}"
    return text


async def test_the_home_page_shows_the_payment_as_verified(explorer: Explorer) -> None:
    page = await get_text(explorer, "/")
    assert "Verified." in page and "pinned by the operator" in page
    row = re.search(rf'<tr data-version="{explorer.payment_version}">(.*?)</tr>', page, re.S)
    assert row is not None, "the payment is not among the latest transactions"
    assert ALICE.address.hex() in row.group(1) and BOB.address.hex() in row.group(1)
    assert "1.250000 XUS" in row.group(1)


async def test_the_latest_json_lists_the_payment_with_its_transfer(explorer: Explorer) -> None:
    data = json.loads(await get_text(explorer, "/latest.json"))
    payment = next(row for row in data["transactions"] if row["version"] == explorer.payment_version)
    assert payment["transfer"] == {"sender": ALICE.address.hex(), "receiver": BOB.address.hex(),
                                   "amount_micro": PAYMENT_MICRO, "currency": "XUS", "metadata": ""}
    assert data["verified_against"]["ledger_version"] >= explorer.payment_version


async def test_a_transaction_page_shows_its_certified_events(explorer: Explorer) -> None:
    page = await get_text(explorer, f"/tx/{explorer.payment_version}")
    assert "SentPaymentEvent" in page and "ReceivedPaymentEvent" in page
    assert "PaymentScripts::peer_to_peer_with_metadata" in page
    assert f"{PAYMENT_MICRO}" in page  # the certified event's amount, decoded from its bytes


@pytest.mark.parametrize("who", ["address", "identifier"])
async def test_both_accounts_show_the_payment_and_their_proven_balances(explorer: Explorer, who: str) -> None:
    for account, direction, balance in ((ALICE, "sent to", FUNDING_MICRO - PAYMENT_MICRO),
                                        (BOB, "received from", PAYMENT_MICRO + 1)):
        name = account.address.hex() if who == "address" else encode_account_identifier(
            TESTNET_HRP, AccountAddress(account.address))
        page = await get_text(explorer, f"/account/{name}")
        row = re.search(rf'<tr data-version="{explorer.payment_version}">(.*?)</tr>', page, re.S)
        assert row is not None and direction in row.group(1)
        whole, fraction = divmod(balance, 1_000_000)
        assert f'data-balance="XUS">{whole:,}.{fraction:06d}<' in page


async def test_the_validators_page_shows_the_certified_set(explorer: Explorer) -> None:
    page = await get_text(explorer, "/validators")
    assert page.count('data-label="Operator"') == 4
    assert "25.00 %" in page


async def test_reserves_page_and_json_show_the_same_proven_figures(explorer: Explorer) -> None:
    data = json.loads(await get_text(explorer, "/reserves.json"))
    page = await get_text(explorer, "/reserves")
    xus = next(item for item in data["currencies"] if item["currency"] == "XUS")
    whole, fraction = divmod(xus["total_supply_micro"], 1_000_000)
    assert f'data-field="total_supply">{whole:,}.{fraction:06d} XUS<' in page
    assert xus["latest_attestation"]["report_hash"] in page
    assert xus["margin_micro"] == xus["latest_attestation"]["amount_micro"] - xus["total_supply_micro"]
    assert data["synthetic_currencies"] == ["XDX"]
    assert 'id="chart-data"' in page and "/static/vendor/uplot/uPlot.iife.min.js" in page


@pytest.mark.parametrize("path, status, says", [
    ("/tx/abc", 400, "is not a ledger version"),
    ("/tx/-1", 400, "is not a ledger version"),
    ("/tx/18446744073709551616", 400, "is not a ledger version"),
    ("/tx/999999999", 404, "is not committed yet"),
    ("/account/zz", 400, "is not an account"),
    ("/account/tdm1qqqqqqq", 400, "is not a valid account identifier"),
    ("/account/" + "ab" * 16, 404, "there is no account"),
    ("/account/nobody@unknown.example", 404, "no VASP holds the Diem ID domain"),
    ("/search?q=", 400, "The search is empty"),
    ("/search?q=" + "9" * 300, 400, "longer than"),
    ("/no-such-page", 404, "There is no such page here"),
])
async def test_bad_input_gets_a_clear_page_never_a_server_error(explorer: Explorer, path: str, status: int,
                                                                 says: str) -> None:
    page = await get_text(explorer, path, status)
    assert says.lower() in page.lower()
    assert "Traceback" not in page


async def test_a_search_goes_to_the_page_it_names(explorer: Explorer) -> None:
    for query, location in ((str(explorer.payment_version), f"/tx/{explorer.payment_version}"),
                            (ALICE.address.hex().upper(), f"/account/{ALICE.address.hex().upper()}"),
                            ("reserves", "/reserves"), ("alice@vasp.example", "/account/alice@vasp.example")):
        response = await explorer.http.get("/search", params={"q": query}, allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (302, location)


async def test_script_in_a_search_is_shown_as_text_and_never_runs(explorer: Explorer) -> None:
    response = await explorer.http.get("/search", params={"q": INJECTION})
    page = await response.text()
    assert response.status == 400
    assert INJECTION not in page, "the search term reached the page unescaped"
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


async def test_every_response_carries_the_content_security_policy(explorer: Explorer) -> None:
    for path in ("/", "/reserves.json", "/tx/abc", "/static/site.css", "/nope"):
        response = await explorer.http.get(path)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY


async def test_pages_load_no_script_or_style_from_another_site(explorer: Explorer) -> None:
    for path in ("/", "/reserves", "/validators"):
        page = await get_text(explorer, path)
        assert not re.search(r'(src|href)="(https?:)?//', page), path
        assert "<script>" not in page and "style=" not in page  # inline script and styles are refused by the CSP


async def test_a_node_that_inflates_a_balance_gets_a_did_not_verify_page(explorer: Explorer) -> None:
    honest = await get_text(explorer, f"/account/{ALICE.address.hex()}")
    assert "7.750000" in honest
    explorer.proxy.tamper = lambda method, params, body: _rewrite_balance(method, body)
    page = await get_text(explorer, f"/account/{ALICE.address.hex()}", 502)
    assert "did not verify" in page and "1,000,000.000000" not in page


def _rewrite_balance(method: str, body: dict) -> dict:
    """Replace every proven balance value (8-byte coin) with a million XUS."""
    if method == "get_account_state_with_proof":
        for item in body["result"]["resources"]:
            if item["value"] is not None and len(item["value"]) == 16:
                item["value"] = (10**12).to_bytes(8, "little").hex()
    return body


async def test_an_unreachable_node_gets_a_503_page(explorer: Explorer) -> None:
    await explorer.proxy.stop()
    page = await get_text(explorer, "/validators", 503)
    assert "cannot answer right now" in page


async def test_a_diem_id_leads_to_the_vasp_that_holds_its_domain(explorer: Explorer) -> None:
    async with Client(explorer.node.url + "/v1", poll_interval_s=0.01) as client:
        await client.mint(ALICE.auth_key, 1, diem_id_domain="alicepay.example")
    page = await get_text(explorer, "/account/someone@alicepay.example")
    assert f"Account <code class=\"hex\">{ALICE.address.hex()}</code>" in page
    assert "belongs to this VASP" in page and "alicepay.example" in page
    assert "No VASP holds" in (await get_text(explorer, "/account/someone@other.example", 404))


NASTY = ["%00", "%F0%9F%98%80", "..%2F..%2Fetc%2Fpasswd", "%20%20", "0x", "1e9", "9" * 25, "a" * 300, "%25",
         "tdm1" + "q" * 60, "a@b@c", "@", "%3Cimg%20src=x%20onerror=alert(1)%3E", "-0", "+1", "１２３"]


async def test_no_input_in_a_url_or_the_search_gives_a_server_error(explorer: Explorer) -> None:
    for text in NASTY:
        for path in (f"/tx/{text}", f"/account/{text}", f"/search?q={text}"):
            response = await explorer.http.get(path, allow_redirects=False)
            assert response.status in (302, 400, 404), f"{path}: HTTP {response.status}"
