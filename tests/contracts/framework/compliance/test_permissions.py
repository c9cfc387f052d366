"""Every compliance script refuses the wrong sender, and genesis-only initialisers refuse a second run."""

from __future__ import annotations

import pytest

from contracts.framework import designated_dealer, freezing, kyc, limits, pause, reserves, treasury_scripts
from contracts.vm.errors import MoveAbort
from contracts.vm.structs import vm_signer
from tests.contracts.framework.compliance.helpers import (
    AUDITOR_KEY, DD, DD_KEY, DR, TC, TC_KEY, XUS, abort_of, compliance_call, make_chain, tc_call, u64, vec, xdx, xus,
)

NOBODY = b"\x42" * 16
ADDRESS_ARG = DD

# TC scripts: (function, args after the sliding nonce or None when the script takes no nonce, type args, abort).
TC_ONLY = [
    ("tiered_mint", [ADDRESS_ARG, u64(1), u64(0)], xus(), ("CoreAddresses", 258)),
    ("burn_with_amount", [ADDRESS_ARG, u64(1)], xus(), ("Diem", 4)),
    ("update_exchange_rate", [u64(1), u64(1)], xus(), ("CoreAddresses", 258)),
    ("update_dual_attestation_limit", [u64(1)], (), ("CoreAddresses", 258)),
    ("freeze_account", [ADDRESS_ARG], (), ("CoreAddresses", 258)),
    ("unfreeze_account", [ADDRESS_ARG], (), ("CoreAddresses", 258)),
    ("wipe_frozen_account", [ADDRESS_ARG], xus(), ("CoreAddresses", 258)),
    ("pause_transfers", [], (), ("CoreAddresses", 258)),
    ("unpause_transfers", [], (), ("CoreAddresses", 258)),
    ("set_kyc_record", [ADDRESS_ARG, u64(1), u64(10**15), vec(b"x")], (), ("CoreAddresses", 258)),
    ("revoke_kyc_record", [ADDRESS_ARG], (), ("CoreAddresses", 258)),
    ("set_kyc_tier_limits", [u64(0), u64(1), u64(1), u64(1), u64(1), u64(1)], xus(), ("CoreAddresses", 258)),
    ("remove_kyc_tier_limits", [u64(0)], xus(), ("CoreAddresses", 258)),
    ("publish_account_limit_definition", [ADDRESS_ARG, u64(1), u64(1), u64(1), u64(1)], xus(),
     ("CoreAddresses", 258)),
    ("update_account_limit_definition", [DR, u64(1), u64(1), u64(1), u64(1)], xus(), ("CoreAddresses", 258)),
    ("publish_account_limit_window", [ADDRESS_ARG, DR], xus(), ("CoreAddresses", 258)),
    ("update_account_limit_window_info", [ADDRESS_ARG, u64(0), DR], xus(), ("CoreAddresses", 258)),
]
TC_NO_NONCE = [
    ("cancel_burn_with_amount", [ADDRESS_ARG, u64(1)], xus(), ("Diem", 4)),
    ("update_minting_ability", [b"\x00"], xus(), ("CoreAddresses", 258)),
]
DR_ONLY = [
    ("add_reserve_auditor", [NOBODY], ()),
    ("remove_reserve_auditor", [NOBODY], ()),
    ("set_max_reserve_age", [u64(1)], xus()),
]


@pytest.fixture(scope="module")
def vasp_world():
    chain = make_chain()
    key, address = chain.create_parent("intruder")
    return chain, key, address


@pytest.mark.parametrize(("function", "args", "ty_args", "expected"), TC_ONLY + TC_NO_NONCE,
                         ids=[case[0] for case in TC_ONLY + TC_NO_NONCE])
def test_tc_scripts_refuse_a_vasp_sender(vasp_world, function, args, ty_args, expected):
    chain, key, _ = vasp_world
    nonce = [] if (function, args, ty_args, expected) in TC_NO_NONCE else [u64(0)]
    out = chain.submit(key, tc_call(function, nonce + args, ty_args))
    assert abort_of(out) == expected
    assert out.events == ()


@pytest.mark.parametrize(("function", "args", "ty_args"), DR_ONLY, ids=[case[0] for case in DR_ONLY])
def test_diem_root_scripts_refuse_treasury_compliance(vasp_world, function, args, ty_args):
    chain = vasp_world[0]
    out = chain.submit(TC_KEY, compliance_call(function, [u64(0)] + args, ty_args), sender=TC)
    assert abort_of(out) == ("CoreAddresses", 2)             # REQUIRES_ADDRESS EDIEM_ROOT


def test_child_kyc_scripts_refuse_a_dealer(vasp_world):
    chain = vasp_world[0]
    out = chain.submit(DD_KEY, compliance_call("set_child_kyc_record", [NOBODY, u64(0), u64(10**15), vec(b"")]),
                       sender=DD)
    assert abort_of(out) == ("Roles", 771)                   # REQUIRES_ROLE EPARENT_VASP


def test_attestation_of_a_currency_without_reserve_record_aborts_5(vasp_world):
    chain = vasp_world[0]
    when = chain.time_us + 1_000_000
    payload = compliance_call("record_reserve_attestation", [u64(1), vec(bytes(32)), u64(when)], xdx())
    assert abort_of(chain.submit(AUDITOR_KEY, payload)) == ("Reserves", 5)


# --------------------------------------------------------------- genesis-only entry points
@pytest.mark.parametrize(("initialize", "expected"), [
    (lambda ctx: freezing.initialize(ctx, vm_signer(DR)), ("AccountFreezing", 262)),
    (lambda ctx: pause.initialize(ctx, vm_signer(DR)), ("Pause", 6)),
    (lambda ctx: limits.initialize(ctx, vm_signer(DR)), ("AccountLimits", 518)),
    (lambda ctx: kyc.initialize(ctx, vm_signer(DR)), ("KYC", 2822)),
    (lambda ctx: reserves.initialize(ctx, vm_signer(DR), None), ("Reserves", 3078)),
    (lambda ctx: reserves.publish_record(ctx, vm_signer(DR), XUS, 1), ("Reserves", 6)),
    (lambda ctx: treasury_scripts.initialize_compliance(ctx, vm_signer(DR), vm_signer(TC)), ("AccountFreezing", 262)),
    (lambda ctx: freezing.publish_freezing_bit(ctx, vm_signer(DD)), ("AccountFreezing", 518)),
    (lambda ctx: designated_dealer.publish_dealer(ctx, vm_signer(DD), XUS, False), ("DesignatedDealer", 6)),
    (lambda ctx: designated_dealer.publish_dealer(ctx, vm_signer(TC), XUS, False), ("Roles", 1027)),
])
def test_genesis_entry_points_refuse_to_run_twice(vasp_world, initialize, expected):
    ctx = vasp_world[0].ctx()
    with pytest.raises(MoveAbort) as raised:
        initialize(ctx)
    assert (raised.value.location.split("::")[1], raised.value.code) == expected


def test_unknown_kyc_subject_and_unknown_window_owner(vasp_world):
    chain = vasp_world[0]
    assert abort_of(chain.tc("set_kyc_record", [NOBODY, u64(1), u64(10**15), vec(b"")])) == ("KYC", 3079)
    assert abort_of(chain.tc("publish_account_limit_window", [NOBODY, DR], xus())) == ("Roles", 771)
