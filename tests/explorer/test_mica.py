"""The MiCA Art. 22 figures of a period, computed from the regulator API's answers."""

from __future__ import annotations

from datetime import date

from explorer.dashboard.mica import compute_daily_rows, compute_report_rows, fetch_mica_report
from tests.explorer.fake_regulator import XUS, FakeRegulator

FIRST, LAST = date(2026, 1, 1), date(2026, 1, 3)


async def test_a_quarterly_style_report_counts_payments_holders_issuance_and_reserve() -> None:
    # Pre-state: the dealer paid Alice and Bob on 1 Jan, Alice paid Carol on 2 Jan; after the period Bob paid
    # Alice everything he had and 50 XUS were minted.
    report = await fetch_mica_report(FakeRegulator(), "XUS", FIRST, LAST)

    assert (report.transactions, report.transactions_value_micro) == (3, 900 * XUS)
    assert compute_daily_rows(report) == [
        {"day": "2026-01-01", "transactions": 2, "value_micro": 800 * XUS},
        {"day": "2026-01-02", "transactions": 1, "value_micro": 100 * XUS},
        {"day": "2026-01-03", "transactions": 0, "value_micro": 0},
    ]
    row = compute_report_rows(report)[0]
    assert (row["days"], row["average_transactions_per_day"], row["average_value_per_day_micro"]) == (3, "1.00",
                                                                                                     300 * XUS)
    assert report.value_issued_micro == 1_000_000 * XUS  # today's supply less the mint after the period
    assert (report.reserve_micro, report.reserve_report_hash) == (2_000_000 * XUS, "ee" * 32)


async def test_a_holder_at_the_period_end_counts_even_if_empty_today() -> None:
    # Bob held 300 XUS at the end of the period and paid it all away afterwards; the zero address never holds.
    regulator = FakeRegulator()
    report = await fetch_mica_report(regulator, "XUS", FIRST, LAST)

    assert (report.holders, report.accounts_examined) == (4, 5)  # dealer, Alice, Bob, Carol of five participants
    asked = {params[0] for method, params in regulator.calls if method == "compliance_get_account_report"}
    assert len(asked) == 5


async def test_a_period_with_no_payments_averages_zero() -> None:
    report = await fetch_mica_report(FakeRegulator(), "XUS", date(2025, 6, 1), date(2025, 6, 30))
    assert (report.transactions, report.days, report.get_average_value_micro()) == (0, 30, 0)
    assert report.reserve_micro is None and report.holders == 1  # only the dealer held coins (since genesis)
