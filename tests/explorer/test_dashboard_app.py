"""The regulator's dashboard over the regulator API: tables, CSV exports, the audit verdict, loopback only."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from explorer.dashboard.routes import create_dashboard_app
from wallet.regulator import AuditFetch
from tests.explorer.fake_regulator import ALICE, CAROL, FakeRegulator

PORT = 8071


@pytest.fixture
async def regulator() -> FakeRegulator:
    return FakeRegulator()


@pytest.fixture
async def dashboard(regulator: FakeRegulator) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_dashboard_app(regulator, "127.0.0.1", PORT)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def get(dashboard: TestClient, path: str, status: int = 200, host: str = f"127.0.0.1:{PORT}") -> str:
    response = await dashboard.get(path, headers={"Host": host}, allow_redirects=False)
    text = await response.text()
    assert response.status == status, f"{path}: HTTP {response.status}\n{text[:2000]}"
    return text


async def test_every_page_renders_from_the_regulator_api(dashboard: TestClient) -> None:
    for path, says in (("/", "Total supply"), ("/transfers?threshold=0", "received_payment"),
                       ("/travel-rule", "Nothing in this range"), ("/rejections", "SANCTIONED_SENDER"),
                       ("/actions?type=freeze", "freeze"), (f"/account/{CAROL}", "Frozen."),
                       ("/audit", "The audit chain verifies."), ("/mica", "MiCA Art. 22 report"),
                       ("/mica?from=2026-01-01&to=2026-01-03", "(a) Holders at the end of the period")):
        assert says in await get(dashboard, path), path


async def test_each_table_downloads_its_whole_range_as_csv(dashboard: TestClient) -> None:
    for path, column in (("/transfers?threshold=0&format=csv", "counterparty"),
                         ("/rejections?format=csv", "code_name"), ("/actions?format=csv", "details.frozen_address"),
                         (f"/account/{ALICE}?format=csv", "events"), ("/audit?format=csv", "prev_hash"),
                         ("/?format=csv", "total_supply"),
                         ("/mica?from=2026-01-01&to=2026-01-03&format=csv", "average_value_per_day_micro"),
                         ("/mica?from=2026-01-01&to=2026-01-03&format=csv&table=daily", "value_micro")):
        response = await dashboard.get(path, headers={"Host": f"127.0.0.1:{PORT}"})
        assert response.status == 200 and response.content_type == "text/csv", path
        rows = list(csv.DictReader(io.StringIO(await response.text())))
        assert rows and column in rows[0], path


async def test_a_tampered_audit_log_is_reported_broken(dashboard: TestClient, regulator: FakeRegulator) -> None:
    regulator.audit[2]["result_bytes"] = 99_999  # an entry rewritten after the fact; its hash no longer matches
    page = await get(dashboard, "/audit")
    assert "The audit chain is broken." in page and "entry 2: hash does not match" in page
    assert page.count("NOT verified") == 3  # entries 2, 3 and 4: nothing after the broken link is trusted


async def test_other_regulators_entries_shown_by_their_hash_still_verify(dashboard: TestClient,
                                                                        regulator: FakeRegulator) -> None:
    regulator.audit[1] = {"seq": 1, "hash": regulator.audit[1]["hash"]}  # an "own" scope sees a stub here
    page = await get(dashboard, "/audit")
    assert "The audit chain verifies." in page and "1 entry of other regulators shown by hash only" in page
    regulator.audit[3] = {"seq": 3, "hash": "ee" * 32}  # a stub whose hash is not the one the next entry links to
    assert "entry 4: prev_hash does not match" in await get(dashboard, "/audit")


async def test_an_audit_log_cut_short_of_the_reported_head_is_broken(dashboard: TestClient,
                                                                     regulator: FakeRegulator) -> None:
    async def truncated() -> AuditFetch:
        return AuditFetch(regulator.audit[:3], regulator.sign_head(len(regulator.audit)))

    regulator.fetch_audit_log = truncated  # type: ignore[method-assign]
    assert "does not end at the head the node reported" in await get(dashboard, "/audit")


@pytest.mark.parametrize("path, says", [
    ("/account/zz", "is not an address"),
    ("/account?address=<script>", "is not an address"),
    ("/transfers?threshold=-5", "is not an amount"),
    ("/transfers?currency=<b>x</b>", "is not a currency code"),
    ("/actions?type=<script>", "there is no action type"),
    ("/actions?subject=1234", "is not an address"),
    ("/transfers?from=2026-13-01", "is not a date"),
    ("/transfers?from=2026-02-01&to=2026-01-01", "the period ends before it starts"),
    ("/mica?from=2026-01-01", "the date is empty"),
    ("/mica?from=2026-03-01&to=2026-01-01", "before it starts"),
    ("/transfers?cursor=abc", "is not a ledger version"),
])
async def test_bad_input_in_a_form_gets_a_400_page(dashboard: TestClient, path: str, says: str) -> None:
    page = await get(dashboard, path, 400)
    assert says.lower() in page.lower()
    assert "<script>" not in page.split("<body>")[1].replace('<script src="', "")


async def test_an_unknown_account_is_a_404(dashboard: TestClient) -> None:
    assert "There is no account" in await get(dashboard, "/account/" + "ee" * 16, 404)


async def test_a_value_from_the_node_is_escaped(dashboard: TestClient) -> None:
    page = await get(dashboard, "/rejections")
    assert "&lt;b&gt;listed&lt;/b&gt;" in page and "<b>listed</b>" not in page


async def test_a_request_addressed_to_another_host_is_refused(dashboard: TestClient,
                                                              regulator: FakeRegulator) -> None:
    # A page elsewhere that rebinds its own name to 127.0.0.1 sends its own Host: the dashboard must not answer.
    for host in ("evil.example", f"evil.example:{PORT}", "127.0.0.1:9999"):
        page = await get(dashboard, "/audit", 421, host=host)
        assert "answers only on this machine" in page
    assert regulator.calls == [] and "finma" not in page
    await get(dashboard, "/rejections", 200, host=f"localhost:{PORT}")


async def test_no_input_in_a_form_gives_a_server_error(dashboard: TestClient) -> None:
    nasty = ["%00", "%F0%9F%98%80", "9" * 25, "a" * 300, "-0", "1e9", "%3Cscript%3E", "１２３", "2026-02-30"]
    for text in nasty:
        for path in (f"/account/{text}", f"/transfers?threshold={text}", f"/transfers?currency={text}",
                     f"/transfers?from={text}", f"/actions?subject={text}", f"/travel-rule?address={text}",
                     f"/mica?from={text}&to={text}", f"/rejections?cursor={text}", f"/account?address={text}"):
            response = await dashboard.get(path, headers={"Host": f"127.0.0.1:{PORT}"}, allow_redirects=False)
            assert response.status in (400, 404), f"{path}: HTTP {response.status}"
