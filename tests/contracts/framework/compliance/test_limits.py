"""Scenarios: AccountLimits definitions and windows (TC scripts with events) and their enforcement."""

from __future__ import annotations

import pytest

from contracts.framework import limits
from tests.contracts.framework.compliance.helpers import (
    DD, DD_KEY, DR, XUS, abort_of, assert_executed, events_of, make_chain, p2p, tc_call, u64, xus,
)

PERIOD_US = 10_000_000
BIG = 10**12


@pytest.fixture()
def world():
    chain = make_chain()
    p_key, parent = chain.create_parent("limits-parent")
    c_key, child = chain.create_child(p_key, "limits-child")
    q_key, other = chain.create_parent("limits-other")
    for address in (parent, child, other):
        chain.fund(address, 1_000)
    return chain, (p_key, parent), (c_key, child), (q_key, other)


def _define(chain, at, inflow=BIG, outflow=BIG, holding=BIG, period=PERIOD_US):
    args = [at, u64(inflow), u64(outflow), u64(holding), u64(period)]
    return chain.tc("publish_account_limit_definition", args, xus())


def _window(chain, parent, limit_address):
    return chain.tc("publish_account_limit_window", [parent, limit_address], xus())


def test_publish_definition_and_window_with_events(world):
    chain, (_, parent), _, _ = world
    out = _define(chain, parent, inflow=1, outflow=2, holding=3, period=4)
    assert events_of(out) == [("AccountLimits::LimitsDefinitionUpdateEvent", {
        "currency_code": b"XUS", "limit_address": parent, "max_inflow": 1, "max_outflow": 2, "max_holding": 3,
        "time_period": 4})]
    out = _window(chain, parent, parent)
    assert events_of(out) == [("AccountLimits::WindowUpdateEvent", {
        "currency_code": b"XUS", "window_address": parent, "limit_address": parent, "tracked_balance": 0})]
    window = limits.get_window(chain.ctx(), parent, XUS)
    assert (window.window_inflow, window.window_outflow, window.limit_address) == (0, 0, parent)


@pytest.mark.parametrize(("make_args", "expected"), [
    (lambda parent: [parent, u64(0), u64(1), u64(1), u64(1)], 775),    # INVALID_ARGUMENT EINVALID_LIMITS_DEFINITION
    (lambda parent: [b"\x42" * 16, u64(1), u64(1), u64(1), u64(1)], 1029),  # NOT_PUBLISHED EACCOUNT_NOT_FOUND
    (lambda parent: [DR, u64(1), u64(1), u64(1), u64(1)], 6),           # ALREADY_PUBLISHED (unrestricted at DR)
])
def test_publish_definition_aborts(world, make_args, expected):
    chain, (_, parent), _, _ = world
    out = chain.tc("publish_account_limit_definition", make_args(parent), xus())
    assert abort_of(out) == ("AccountLimits", expected)


def test_publish_window_aborts(world):
    chain, (_, parent), (_, child), _ = world
    assert abort_of(_window(chain, child, DR)) == ("Roles", 771)             # windows live on parents
    assert abort_of(_window(chain, parent, parent)) == ("AccountLimits", 5)  # no definition there
    assert_executed(_window(chain, parent, DR))
    assert abort_of(_window(chain, parent, DR)) == ("AccountLimits", 262)    # ALREADY_PUBLISHED EWINDOW


def test_limit_changes_by_non_tc_abort_258(world):
    chain, (_, parent), _, _ = world
    payload = tc_call("publish_account_limit_definition", [u64(0), parent, u64(1), u64(1), u64(1), u64(1)], xus())
    assert abort_of(chain.submit(DD_KEY, payload, sender=DD)) == ("CoreAddresses", 258)


def test_outflow_is_aggregated_per_vasp_and_resets(world):
    chain, (p_key, parent), (c_key, child), (_, other) = world
    assert_executed(_define(chain, parent, outflow=150))
    assert_executed(_window(chain, parent, parent))
    assert_executed(chain.submit(p_key, p2p(other, 100)))
    out = chain.submit(c_key, p2p(other, 60))                 # the child draws on its parent's window
    assert abort_of(out) == ("DiemAccount", 1544)
    assert_executed(chain.submit(p_key, p2p(child, 500)))     # intra-VASP moves are exempt
    assert limits.get_window(chain.ctx(), parent, XUS).window_outflow == 100
    chain.run(advance_us=PERIOD_US + 1)
    assert_executed(chain.submit(c_key, p2p(other, 60)))
    assert limits.get_window(chain.ctx(), parent, XUS).window_outflow == 60


def test_inflow_and_holding_limits_abort_776(world):
    chain, (_, parent), _, (q_key, _) = world
    assert_executed(_define(chain, parent, inflow=150, holding=120))
    assert_executed(_window(chain, parent, parent))
    assert_executed(chain.submit(q_key, p2p(parent, 100)))
    assert abort_of(chain.submit(q_key, p2p(parent, 30))) == ("DiemAccount", 776)   # holding 100 + 30 > 120
    assert_executed(chain.tc("update_account_limit_definition", [parent, u64(0), u64(0), u64(10_000), u64(0)],
                             xus()))
    assert abort_of(chain.submit(q_key, p2p(parent, 60))) == ("DiemAccount", 776)   # inflow 100 + 60 > 150
    window = limits.get_window(chain.ctx(), parent, XUS)
    assert (window.window_inflow, window.tracked_balance) == (100, 100)


def test_update_definition_zero_means_unchanged(world):
    chain, (_, parent), _, _ = world
    assert_executed(_define(chain, parent, inflow=1, outflow=2, holding=3, period=4))
    out = chain.tc("update_account_limit_definition", [parent, u64(0), u64(20), u64(0), u64(40)], xus())
    assert events_of(out)[0][1] == {"currency_code": b"XUS", "limit_address": parent, "max_inflow": 1,
                                    "max_outflow": 20, "max_holding": 3, "time_period": 40}
    missing = chain.tc("update_account_limit_definition", [DD, u64(1), u64(1), u64(1), u64(1)], xus())
    assert abort_of(missing) == ("AccountLimits", 5)


def test_update_window_info_rebalances_and_repoints(world):
    chain, (_, parent), _, _ = world
    assert_executed(_define(chain, parent))
    assert_executed(_window(chain, parent, DR))
    out = chain.tc("update_account_limit_window_info", [parent, u64(777), parent], xus())
    assert events_of(out) == [("AccountLimits::WindowUpdateEvent", {
        "currency_code": b"XUS", "window_address": parent, "limit_address": parent, "tracked_balance": 777})]
    assert abort_of(chain.tc("update_account_limit_window_info", [DD, u64(0), parent], xus())) == (
        "AccountLimits", 261)                                 # NOT_PUBLISHED EWINDOW
    assert abort_of(chain.tc("update_account_limit_window_info", [parent, u64(0), DD], xus())) == (
        "AccountLimits", 5)


def test_unrestricted_definition_tracks_nothing(world):
    chain, (p_key, parent), _, (_, other) = world
    assert_executed(_window(chain, parent, DR))
    assert_executed(chain.submit(p_key, p2p(other, 500)))
    window = limits.get_window(chain.ctx(), parent, XUS)
    assert (window.window_outflow, window.tracked_balance) == (0, 0)


def test_compute_window_after_reset_is_diem_rule():
    class W:
        window_start, window_inflow, window_outflow = 100, 5, 6
    assert limits.compute_window_after_reset(W, 10, 110) == (100, 5, 6)     # now == start + period: same window
    assert limits.compute_window_after_reset(W, 10, 111) == (111, 0, 0)
