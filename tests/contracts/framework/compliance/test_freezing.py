"""Scenarios: freeze / unfreeze (Diem AccountFreezing) and wipe of a frozen balance (beyond Diem)."""

from __future__ import annotations

import pytest

from contracts.framework import freezing
from tests.contracts.framework.compliance.helpers import (
    DD, DD_BALANCE, DD_KEY, DR, TC, abort_of, assert_executed, events_of, make_chain, p2p, tc_call, u64,
    xdx, xus,
)


@pytest.fixture()
def chain():
    return make_chain()


@pytest.fixture()
def vasp(chain):
    key, address = chain.create_parent("frozen-vasp")
    chain.fund(address, 1_000)
    return key, address


# ------------------------------------------------------------------ freezing
def test_freeze_sets_bit_and_emits_event(chain, vasp):
    _, address = vasp
    assert not freezing.is_frozen(chain.ctx(), address)
    out = chain.tc("freeze_account", [address])
    assert_executed(out)
    assert freezing.is_frozen(chain.ctx(), address)
    assert events_of(out) == [("AccountFreezing::FreezeAccountEvent", {"initiator_address": TC,
                                                                        "frozen_address": address})]


def test_frozen_account_cannot_send_or_receive_until_unfrozen(chain, vasp):
    key, address = vasp
    assert_executed(chain.tc("freeze_account", [address]))
    sent = chain.submit(key, p2p(DD, 10))
    assert not sent.keep and sent.discard_status.name == "SENDING_ACCOUNT_FROZEN"
    received = chain.submit(DD_KEY, p2p(address, 10), sender=DD)
    assert abort_of(received) == ("AccountFreezing", 1281)
    assert chain.balance(address) == 1_000 and chain.balance(DD) == DD_BALANCE - 1_000
    out = chain.tc("unfreeze_account", [address])
    assert events_of(out) == [("AccountFreezing::UnfreezeAccountEvent", {"initiator_address": TC,
                                                                          "unfrozen_address": address})]
    assert_executed(chain.submit(key, p2p(DD, 10)))
    assert chain.balance(address) == 990


@pytest.mark.parametrize(("target", "expected"), [
    (DR, ("AccountFreezing", 775)),          # INVALID_ARGUMENT ECANNOT_FREEZE_DIEM_ROOT
    (TC, ("AccountFreezing", 1031)),         # INVALID_ARGUMENT ECANNOT_FREEZE_TC
    (b"\x42" * 16, ("AccountFreezing", 517)),  # NOT_PUBLISHED EFREEZING_BIT (no account)
])
def test_freeze_aborts(chain, target, expected):
    assert abort_of(chain.tc("freeze_account", [target])) == expected


def test_unfreeze_unknown_account_aborts_517(chain):
    assert abort_of(chain.tc("unfreeze_account", [b"\x42" * 16])) == ("AccountFreezing", 517)


def test_freeze_by_non_tc_aborts_258(chain, vasp):
    _, address = vasp
    out = chain.submit(DD_KEY, tc_call("freeze_account", [u64(0), address]), sender=DD)
    assert abort_of(out) == ("CoreAddresses", 258)
    assert not freezing.is_frozen(chain.ctx(), address)


def test_freezing_a_parent_does_not_freeze_its_child(chain, vasp):
    key, parent = vasp
    _, child = chain.create_child(key, "frozen-vasp-child")
    assert_executed(chain.tc("freeze_account", [parent]))
    assert not freezing.is_frozen(chain.ctx(), child)


# ---------------------------------------------------------------------- wipe
def test_wipe_burns_frozen_balance_with_events(chain, vasp):
    _, address = vasp
    assert_executed(chain.tc("freeze_account", [address]))
    supply_before = chain.supply()
    out = chain.tc("wipe_frozen_account", [address], xus())
    assert_executed(out)
    assert chain.balance(address) == 0
    assert chain.supply() == supply_before - 1_000 and chain.preburn_value() == 0
    assert events_of(out) == [
        ("Diem::PreburnEvent", {"amount": 1_000, "currency_code": b"XUS", "preburn_address": address}),
        ("Diem::BurnEvent", {"amount": 1_000, "currency_code": b"XUS", "preburn_address": address}),
        ("AccountFreezing::WipeEvent", {"initiator_address": TC, "wiped_address": address, "currency_code": b"XUS",
                                        "amount": 1_000}),
    ]
    assert freezing.is_frozen(chain.ctx(), address)           # a wipe leaves the account frozen


def test_wipe_of_empty_frozen_balance_emits_only_wipe_event(chain):
    key, address = chain.create_parent("empty-vasp")
    assert_executed(chain.tc("freeze_account", [address]))
    out = chain.tc("wipe_frozen_account", [address], xus())
    assert events_of(out) == [("AccountFreezing::WipeEvent", {"initiator_address": TC, "wiped_address": address,
                                                               "currency_code": b"XUS", "amount": 0})]


def test_wipe_of_unfrozen_account_aborts_1537(chain, vasp):
    _, address = vasp
    out = chain.tc("wipe_frozen_account", [address], xus())
    assert abort_of(out) == ("AccountFreezing", 1537)         # INVALID_STATE EACCOUNT_NOT_FROZEN
    assert chain.balance(address) == 1_000


def test_wipe_by_non_tc_aborts_258(chain, vasp):
    _, address = vasp
    assert_executed(chain.tc("freeze_account", [address]))
    out = chain.submit(DD_KEY, tc_call("wipe_frozen_account", [u64(0), address], xus()), sender=DD)
    assert abort_of(out) == ("CoreAddresses", 258)
    assert chain.balance(address) == 1_000


def test_wipe_of_currency_not_held_aborts_4869(chain, vasp):
    _, address = vasp
    assert_executed(chain.tc("freeze_account", [address]))
    out = chain.tc("wipe_frozen_account", [address], xdx())
    assert abort_of(out) == ("DiemAccount", 4869)             # NOT_PUBLISHED EPAYER_DOESNT_HOLD_CURRENCY


def test_wipe_of_unknown_account_aborts_517(chain):
    assert abort_of(chain.tc("wipe_frozen_account", [b"\x42" * 16], xus())) == ("AccountFreezing", 517)


def test_tc_signer_check_happens_before_freeze_checks(chain):
    # A DD naming Diem root still gets the role abort, not ECANNOT_FREEZE_DIEM_ROOT.
    out = chain.submit(DD_KEY, tc_call("freeze_account", [u64(0), DR]), sender=DD)
    assert abort_of(out) == ("CoreAddresses", 258)
