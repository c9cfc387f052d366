"""Scenarios: tiered_mint, preburn, burn_with_amount, cancel_burn_with_amount (diem-compat §4.9, §A.3)."""

from __future__ import annotations

import pytest

from contracts.framework import designated_dealer
from tests.contracts.framework.compliance.helpers import (
    DD, DD_BALANCE, DD_KEY, INITIAL_RESERVES, TC, VM_RESERVED, abort_of, assert_executed, event_names,
    events_of, make_chain, tc_call, u64, xdx, xus,
)


@pytest.fixture()
def chain():
    return make_chain()


def _preburn(chain, amount, key=DD_KEY, sender=DD):
    return chain.submit(key, tc_call("preburn", [u64(amount)], xus()), sender=sender)


# ------------------------------------------------------------------ tiered_mint
def test_tiered_mint_credits_dd_and_emits_diem_events_in_order(chain):
    supply_before = chain.supply()
    out = chain.tc("tiered_mint", [DD, u64(1_234), u64(3)], xus())
    assert_executed(out)
    assert chain.balance(DD) == DD_BALANCE + 1_234
    assert chain.supply() == supply_before + 1_234
    assert events_of(out) == [
        ("DesignatedDealer::ReceivedMintEvent", {"currency_code": b"XUS", "destination_address": DD, "amount": 1_234}),
        ("Diem::MintEvent", {"amount": 1_234, "currency_code": b"XUS"}),
        ("DiemAccount::ReceivedPaymentEvent", {"amount": 1_234, "currency_code": b"XUS", "payer": VM_RESERVED,
                                                "metadata": b""}),
    ]
    # The DD's received-mint handle is its first (counter 0); mint events live at Diem root counter 5.
    assert out.events[0].key.get_counter() == 0 and out.events[0].sequence_number == 0
    assert out.events[1].key.hex() == "05000000000000000000000000000000000000000a550c18"


@pytest.mark.parametrize(("args", "ty_args", "expected"), [
    ([DD, u64(0), u64(0)], xus(), ("DesignatedDealer", 1031)),          # EINVALID_MINT_AMOUNT
    ([TC, u64(10), u64(0)], xus(), ("DesignatedDealer", 5)),            # EDEALER (no Dealer at address)
    ([DD, u64(10), u64(0)], xdx(), ("Diem", 1281)),                     # EMINTING_NOT_ALLOWED
])
def test_tiered_mint_aborts(chain, args, ty_args, expected):
    supply_before = chain.supply()
    out = chain.tc("tiered_mint", args, ty_args)
    assert abort_of(out) == expected
    assert out.events == () and chain.supply() == supply_before and chain.balance(DD) == DD_BALANCE


def test_tiered_mint_by_non_tc_aborts_258(chain):
    out = chain.submit(DD_KEY, tc_call("tiered_mint", [u64(0), DD, u64(10), u64(0)], xus()), sender=DD)
    # The DD has no SlidingNonce resource: sliding nonce 0 is a no-op, then the TC address check fails.
    assert abort_of(out) == ("CoreAddresses", 258)


def test_tiered_mint_to_frozen_dd_aborts_1281(chain):
    assert_executed(chain.tc("freeze_account", [DD]))
    out = chain.tc("tiered_mint", [DD, u64(10), u64(0)], xus())
    assert abort_of(out) == ("AccountFreezing", 1281)


def test_tiered_mint_reused_sliding_nonce_aborts(chain):
    assert_executed(chain.tc("tiered_mint", [DD, u64(10), u64(0)], xus()))
    chain.nonce -= 1
    out = chain.tc("tiered_mint", [DD, u64(10), u64(0)], xus())
    assert abort_of(out) == ("SlidingNonce", 775)


# ---------------------------------------------------------------------- preburn
def test_preburn_moves_balance_to_queue_with_events(chain):
    out = _preburn(chain, 300)
    assert_executed(out)
    assert chain.balance(DD) == DD_BALANCE - 300
    assert chain.preburn_value() == 300
    assert designated_dealer.get_preburns(chain.ctx(), DD, designated_dealer.currency.tag_of_code(b"XUS")) == (
        (300, b""),)
    assert events_of(out) == [
        ("DiemAccount::SentPaymentEvent", {"amount": 300, "currency_code": b"XUS", "payee": DD, "metadata": b""}),
        ("Diem::PreburnEvent", {"amount": 300, "currency_code": b"XUS", "preburn_address": DD}),
    ]


def test_preburn_zero_aborts_diem_ecoin(chain):
    assert abort_of(_preburn(chain, 0)) == ("Diem", 1799)


def test_preburn_more_than_balance_aborts_1288(chain):
    assert abort_of(_preburn(chain, DD_BALANCE + 1)) == ("DiemAccount", 1288)


def test_preburn_by_vasp_aborts_role(chain):
    key, parent = chain.create_parent("preburn-vasp")
    chain.fund(parent, 50)
    out = _preburn(chain, 10, key=key, sender=parent)
    assert abort_of(out) == ("Roles", 3 + 4 * 256)       # REQUIRES_ROLE EDESIGNATED_DEALER
    assert chain.balance(parent) == 50


def test_preburn_queue_is_bounded_at_256(chain):
    for _ in range(designated_dealer.MAX_OUTSTANDING_PREBURNS):
        assert_executed(_preburn(chain, 1))
    out = _preburn(chain, 1)
    assert abort_of(out) == ("Diem", 2824)               # LIMIT_EXCEEDED EPREBURN_QUEUE
    assert out.status.explanation.reason == "EPREBURN_QUEUE"
    assert chain.preburn_value() == 256


def test_preburn_frozen_dd_is_rejected_before_execution(chain):
    assert_executed(chain.tc("freeze_account", [DD]))
    out = chain.submit(DD_KEY, tc_call("preburn", [u64(5)], xus()), sender=DD)
    assert not out.keep and out.discard_status.name == "SENDING_ACCOUNT_FROZEN"


# ------------------------------------------------------------------------- burn
def test_burn_takes_oldest_matching_preburn(chain):
    for amount in (100, 200, 100):
        assert_executed(_preburn(chain, amount))
    supply_before = chain.supply()
    out = chain.tc("burn_with_amount", [DD, u64(100)], xus())
    assert_executed(out)
    assert events_of(out) == [("Diem::BurnEvent", {"amount": 100, "currency_code": b"XUS", "preburn_address": DD})]
    assert chain.supply() == supply_before - 100 and chain.preburn_value() == 300
    queue = designated_dealer.get_preburns(chain.ctx(), DD, designated_dealer.currency.tag_of_code(b"XUS"))
    assert queue == ((200, b""), (100, b""))


def test_burn_without_matching_amount_aborts_3073(chain):
    assert_executed(_preburn(chain, 100))
    out = chain.tc("burn_with_amount", [DD, u64(99)], xus())
    assert abort_of(out) == ("Diem", 3073)               # INVALID_STATE EPREBURN_NOT_FOUND
    assert chain.preburn_value() == 100


def test_burn_without_queue_aborts_2821(chain):
    out = chain.tc("burn_with_amount", [TC, u64(1)], xus())
    assert abort_of(out) == ("Diem", 2821)               # NOT_PUBLISHED EPREBURN_QUEUE


def test_burn_and_cancel_without_burn_capability_abort_4(chain):
    assert_executed(_preburn(chain, 100))
    out = chain.submit(DD_KEY, tc_call("burn_with_amount", [u64(0), DD, u64(100)], xus()), sender=DD)
    assert abort_of(out) == ("Diem", 4)                  # REQUIRES_CAPABILITY EBURN_CAPABILITY, as in Diem
    out = chain.submit(DD_KEY, tc_call("cancel_burn_with_amount", [DD, u64(100)], xus()), sender=DD)
    assert abort_of(out) == ("Diem", 4)
    assert chain.preburn_value() == 100


# ------------------------------------------------------------------ cancel burn
def test_cancel_burn_returns_coins_to_dd(chain):
    assert_executed(_preburn(chain, 70))
    assert_executed(_preburn(chain, 30))
    supply_before = chain.supply()
    out = chain.tc("cancel_burn_with_amount", [DD, u64(30)], xus(), with_nonce=False)
    assert_executed(out)
    assert events_of(out) == [
        ("Diem::CancelBurnEvent", {"amount": 30, "currency_code": b"XUS", "preburn_address": DD}),
        ("DiemAccount::ReceivedPaymentEvent", {"amount": 30, "currency_code": b"XUS", "payer": DD, "metadata": b""}),
    ]
    assert chain.balance(DD) == DD_BALANCE - 70 and chain.preburn_value() == 70 and chain.supply() == supply_before


def test_cancel_burn_not_found_aborts_3073(chain):
    out = chain.tc("cancel_burn_with_amount", [DD, u64(5)], xus(), with_nonce=False)
    assert abort_of(out) == ("Diem", 3073)


def test_cancel_burn_to_frozen_dd_aborts_1281(chain):
    assert_executed(_preburn(chain, 5))
    assert_executed(chain.tc("freeze_account", [DD]))
    out = chain.tc("cancel_burn_with_amount", [DD, u64(5)], xus(), with_nonce=False)
    assert abort_of(out) == ("AccountFreezing", 1281)
    assert chain.preburn_value() == 5


# ------------------------------------------------------------- currency settings
def test_update_exchange_rate_emits_event(chain):
    out = chain.tc("update_exchange_rate", [u64(1), u64(4)], xus())
    assert_executed(out)
    assert events_of(out) == [("Diem::ToXDXExchangeRateUpdateEvent",
                               {"currency_code": b"XUS", "new_to_xdx_exchange_rate": 1 << 30})]


def test_update_exchange_rate_zero_denominator_aborts(chain):
    out = chain.tc("update_exchange_rate", [u64(1), u64(0)], xus())
    assert abort_of(out) == ("FixedPoint32", 7 + (0x10001 << 8))


def test_update_minting_ability_emits_event_and_blocks_mint(chain):
    out = chain.tc("update_minting_ability", [b"\x00"], xus(), with_nonce=False)
    assert_executed(out)
    assert events_of(out) == [("TreasuryComplianceScripts::MintingAbilityUpdateEvent",
                               {"currency_code": b"XUS", "can_mint": False})]
    assert abort_of(chain.tc("tiered_mint", [DD, u64(1), u64(0)], xus())) == ("Diem", 1281)
    assert_executed(chain.tc("update_minting_ability", [b"\x01"], xus(), with_nonce=False))
    assert_executed(chain.tc("tiered_mint", [DD, u64(1), u64(0)], xus()))


def test_update_dual_attestation_limit_emits_event(chain):
    out = chain.tc("update_dual_attestation_limit", [u64(5_000)])
    assert_executed(out)
    assert events_of(out) == [("DualAttestation::DualAttestationLimitUpdateEvent", {"new_micro_xdx_limit": 5_000})]


def test_mint_is_bounded_by_reserves(chain):
    headroom = INITIAL_RESERVES - chain.supply()
    out = chain.tc("tiered_mint", [DD, u64(headroom + 1), u64(0)], xus())
    assert abort_of(out) == ("Reserves", 776)            # LIMIT_EXCEEDED ESUPPLY_EXCEEDS_RESERVES
    assert_executed(chain.tc("tiered_mint", [DD, u64(headroom), u64(0)], xus()))
    assert chain.supply() == INITIAL_RESERVES
    over = chain.tc("tiered_mint", [DD, u64(1), u64(0)], xus())
    assert abort_of(over) == ("Reserves", 776) and event_names(over) == []


# --------------------------------------------------------------- dealer creation
def _create_dealer(chain, name, ty_args, add_all=False):
    from tests.contracts.framework.compliance.helpers import TC_KEY, boolean, call, key_for, vec

    key = key_for(name)
    address = key.public_key().address()
    prefix = key.public_key().auth_key()[:16]
    payload = call("AccountCreationScripts", "create_designated_dealer",
                   [u64(0), address, vec(prefix), vec(name.encode()), boolean(add_all)], ty_args)
    return address, chain.submit(TC_KEY, payload, sender=TC)


def test_new_dealer_gets_mint_handle_zero_and_an_empty_queue(chain):
    address, out = _create_dealer(chain, "dealer-2", xus(), add_all=True)
    assert_executed(out)
    ctx = chain.ctx()
    xus_tag = designated_dealer.currency.tag_of_code(b"XUS")
    assert designated_dealer.is_dealer(ctx, address)
    assert designated_dealer.get_mint_event_key(ctx, address) == u64(0) + address
    assert designated_dealer.get_preburns(ctx, address, xus_tag) == ()
    assert designated_dealer.get_preburn_total(ctx, address, xus_tag) == 0


def test_dealer_in_synthetic_currency_aborts_1543(chain):
    _, out = _create_dealer(chain, "dealer-xdx", xdx())
    assert abort_of(out) == ("Diem", 1543)               # INVALID_ARGUMENT EIS_SYNTHETIC_CURRENCY
