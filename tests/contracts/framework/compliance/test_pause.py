"""Scenarios: global pause / unpause of transfers (beyond Diem)."""

from __future__ import annotations

import pytest

from contracts.framework import pause
from tests.contracts.framework.compliance.helpers import (
    DD, DD_BALANCE, DD_KEY, TC, abort_of, assert_executed, events_of, make_chain, p2p, tc_call, u64, xus,
)


@pytest.fixture()
def chain():
    return make_chain()


@pytest.fixture()
def paused(chain):
    out = chain.tc("pause_transfers", [])
    assert_executed(out)
    assert events_of(out) == [("Pause::PauseEvent", {"initiator_address": TC})]
    return chain


def test_payment_while_paused_aborts_257_and_keeps_balances(paused):
    _, address = paused.create_parent("paused-vasp")
    out = paused.submit(DD_KEY, p2p(address, 10), sender=DD)
    assert abort_of(out) == ("Pause", 257)                    # INVALID_STATE ETRANSFERS_PAUSED
    assert out.status.explanation.reason == "ETRANSFERS_PAUSED"
    assert paused.balance(DD) == DD_BALANCE and paused.balance(address) == 0


def test_mint_and_preburn_while_paused_abort_257(paused):
    assert abort_of(paused.tc("tiered_mint", [DD, u64(5), u64(0)], xus())) == ("Pause", 257)
    out = paused.submit(DD_KEY, tc_call("preburn", [u64(5)], xus()), sender=DD)
    assert abort_of(out) == ("Pause", 257)


def test_compliance_actions_still_work_while_paused(paused):
    _, address = paused.create_parent("paused-vasp-2")
    assert_executed(paused.tc("freeze_account", [address]))
    assert_executed(paused.tc("wipe_frozen_account", [address], xus()))


def test_unpause_restores_payments(paused):
    _, address = paused.create_parent("paused-vasp-3")
    out = paused.tc("unpause_transfers", [])
    assert events_of(out) == [("Pause::UnpauseEvent", {"initiator_address": TC})]
    assert not pause.is_paused(paused.ctx())
    assert_executed(paused.submit(DD_KEY, p2p(address, 10), sender=DD))
    assert paused.balance(address) == 10


def test_double_pause_aborts_513(paused):
    assert abort_of(paused.tc("pause_transfers", [])) == ("Pause", 513)


def test_unpause_when_running_aborts_769(chain):
    assert abort_of(chain.tc("unpause_transfers", [])) == ("Pause", 769)


def test_pause_by_non_tc_aborts_258(chain):
    out = chain.submit(DD_KEY, tc_call("pause_transfers", [u64(0)]), sender=DD)
    assert abort_of(out) == ("CoreAddresses", 258)
    assert not pause.is_paused(chain.ctx())
