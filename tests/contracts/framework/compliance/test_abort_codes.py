"""The compliance modules' abort codes are stable, unique and explained (JSON `explanation`)."""

from __future__ import annotations

import pytest

from contracts.framework import designated_dealer, freezing, kyc, limits, pause, reserves, treasury_scripts
from contracts.vm.errors import Category, explain

# (module, reason, category) -> code: these numbers are part of the public interface; never change them.
STABLE_CODES = {
    ("AccountFreezing", "ECANNOT_FREEZE_DIEM_ROOT", Category.INVALID_ARGUMENT): 775,
    ("AccountFreezing", "ECANNOT_FREEZE_TC", Category.INVALID_ARGUMENT): 1031,
    ("AccountFreezing", "EFREEZING_BIT", Category.NOT_PUBLISHED): 517,
    ("AccountFreezing", "EACCOUNT_FROZEN", Category.INVALID_STATE): 1281,
    ("AccountFreezing", "EACCOUNT_NOT_FROZEN", Category.INVALID_STATE): 1537,
    ("Pause", "ETRANSFERS_PAUSED", Category.INVALID_STATE): 257,
    ("Pause", "EALREADY_PAUSED", Category.INVALID_STATE): 513,
    ("Pause", "ENOT_PAUSED", Category.INVALID_STATE): 769,
    ("DesignatedDealer", "EDEALER", Category.NOT_PUBLISHED): 5,
    ("DesignatedDealer", "EINVALID_MINT_AMOUNT", Category.INVALID_ARGUMENT): 1031,
    ("Reserves", "ERESERVE_RECORD", Category.NOT_PUBLISHED): 5,
    ("Reserves", "ENOT_AUDITOR", Category.REQUIRES_ROLE): 259,
    ("Reserves", "ENO_ATTESTATION", Category.INVALID_STATE): 513,
    ("Reserves", "ESUPPLY_EXCEEDS_RESERVES", Category.LIMIT_EXCEEDED): 776,
    ("Reserves", "EATTESTATION_STALE", Category.INVALID_STATE): 1025,
    ("Reserves", "EINVALID_REPORT_HASH", Category.INVALID_ARGUMENT): 1287,
    ("Reserves", "EATTESTATION_IN_FUTURE", Category.INVALID_ARGUMENT): 1543,
    ("Reserves", "EATTESTATION_OUT_OF_ORDER", Category.INVALID_ARGUMENT): 1799,
    ("Reserves", "EAUDITOR_ALREADY_REGISTERED", Category.INVALID_ARGUMENT): 2055,
    ("Reserves", "EAUDITOR_NOT_FOUND", Category.INVALID_ARGUMENT): 2311,
    ("Reserves", "EINVALID_MAX_AGE", Category.INVALID_ARGUMENT): 2567,
    ("Reserves", "ETOO_MANY_AUDITORS", Category.LIMIT_EXCEEDED): 2824,
    ("KYC", "EKYC_RECORD", Category.NOT_PUBLISHED): 5,
    ("KYC", "EINVALID_TIER", Category.INVALID_ARGUMENT): 263,
    ("KYC", "ENOT_CHILD_OF_SENDER", Category.INVALID_ARGUMENT): 519,
    ("KYC", "ETIER_ABOVE_PARENT", Category.INVALID_ARGUMENT): 775,
    ("KYC", "EPAYER_TRANSFER_CAP", Category.LIMIT_EXCEEDED): 1032,
    ("KYC", "EPAYEE_TRANSFER_CAP", Category.LIMIT_EXCEEDED): 1288,
    ("KYC", "EOUTFLOW_LIMIT", Category.LIMIT_EXCEEDED): 1544,
    ("KYC", "EINFLOW_LIMIT", Category.LIMIT_EXCEEDED): 1800,
    ("KYC", "EHOLDING_LIMIT", Category.LIMIT_EXCEEDED): 2056,
    ("KYC", "EINVALID_TIER_LIMITS", Category.INVALID_ARGUMENT): 2567,
    ("KYC", "ENOT_KYC_SUBJECT", Category.INVALID_ARGUMENT): 3079,
    ("KYC", "EEXPIRATION_IN_PAST", Category.INVALID_ARGUMENT): 3335,
    ("KYC", "EPROVIDER_TOO_LONG", Category.INVALID_ARGUMENT): 3591,
    ("AccountLimits", "ELIMITS_DEFINITION", Category.NOT_PUBLISHED): 5,
    ("AccountLimits", "EWINDOW", Category.NOT_PUBLISHED): 261,
    ("AccountLimits", "EINVALID_LIMITS_DEFINITION", Category.INVALID_ARGUMENT): 775,
    ("AccountLimits", "EACCOUNT_NOT_FOUND", Category.NOT_PUBLISHED): 1029,
}
TABLES = {
    module.ERRORS.module.name: module.ERRORS
    for module in (freezing, pause, designated_dealer, reserves, kyc, limits, treasury_scripts)
}


@pytest.mark.parametrize(("key", "code"), sorted(STABLE_CODES.items(), key=lambda item: item[0][:2]))
def test_code_is_stable_and_explained(key, code):
    module, reason, category = key
    table = TABLES[module]
    assert table.code(category, reason) == code
    explanation = explain(table.module.location, code)
    assert explanation is not None and explanation.reason == reason and explanation.category == category.name
    assert explanation.reason_description.startswith(" ") and len(explanation.reason_description) > 10


@pytest.mark.parametrize("module", sorted(TABLES))
def test_reason_numbers_are_unique_per_module(module):
    numbers = [number for number, _ in TABLES[module].reasons.values()]
    assert len(numbers) == len(set(numbers))


def test_fixed_point32_rational():
    assert treasury_scripts.compute_fixed_point32_from_rational(1, 4) == 1 << 30
    assert treasury_scripts.compute_fixed_point32_from_rational(0, 7) == 0
    with pytest.raises(Exception) as too_small:
        treasury_scripts.compute_fixed_point32_from_rational(1, 1 << 40)
    assert too_small.value.code == 7 + (0x20005 << 8)
    with pytest.raises(Exception) as too_big:
        treasury_scripts.compute_fixed_point32_from_rational(1 << 40, 1)
    assert too_big.value.code == 8 + (0x20005 << 8)


def test_compliance_streams_are_listed_and_events_decode():
    from tests.contracts.framework.compliance.helpers import DD, TC, assert_executed, make_chain

    chain = make_chain()
    keys = treasury_scripts.get_compliance_event_keys(chain.ctx())
    assert len(keys) == 14 and len(set(keys.values())) == 14
    # Every compliance stream sits at Diem root, after the Diem-pinned counters 0..14.
    assert all(key[8:] == bytes.fromhex("0000000000000000000000000a550c18") for key in keys.values())
    assert min(int.from_bytes(key[:8], "little") for key in keys.values()) > 14
    out = chain.tc("freeze_account", [DD])
    assert_executed(out)
    assert out.events[0].key.hex() == keys["freeze_event_handle"].hex()
    fields = treasury_scripts.decode_event(out.events[0].type_tag.struct, out.events[0].event_data)
    assert fields == {"initiator_address": TC, "frozen_address": DD}
