"""The compliance state genesis leaves behind, and its reproducibility."""

from __future__ import annotations

from contracts.framework import freezing, kyc, limits, pause, reserves
from contracts.framework.limits import ONE_DAY_US
from primitives.limits import U64_MAX
from tests.contracts.framework.compliance.helpers import AUDITOR, DD, DR, TC, XDX, XUS, make_chain


def test_genesis_publishes_compliance_state():
    chain = make_chain()
    ctx = chain.ctx()
    for ccy in (XUS, XDX):
        definition = limits.get_definition(ctx, DR, ccy)
        assert (definition.max_inflow, definition.max_outflow, definition.max_holding, definition.time_period) == (
            U64_MAX, U64_MAX, U64_MAX, ONE_DAY_US)
        assert limits.is_unrestricted(definition)
        assert not kyc.is_enforced(ctx.get(kyc.policy_type(ccy), DR))
    assert not pause.is_paused(ctx)
    assert all(not freezing.is_frozen(ctx, a) for a in (DR, TC, DD, AUDITOR))
    assert ctx.exists(freezing.FREEZING_BIT, AUDITOR)
    assert reserves.get_auditors(ctx) == (AUDITOR,)
    assert ctx.get(reserves.record_type(XUS), DR) is not None
    assert ctx.get(reserves.record_type(XDX), DR) is None          # synthetic: nothing to back


def test_genesis_is_reproducible():
    first, second = make_chain(), make_chain()
    assert first.state.values == second.state.values
