"""Runtime rules: module-only access, linear coins, signers, overlays, gas, abort codes."""

from __future__ import annotations

import copy
import pickle

import pytest

from contracts.framework import DIEM_ROOT, TESTNET_DD, account, currency
from contracts.vm.context import Context, ExecutionFailure
from contracts.vm.errors import Category, LinearityError, explain
from contracts.vm.gas import DEFAULT_SCHEDULE, GasMeter, OutOfGas
from contracts.vm.storage import BlockState
from contracts.vm.structs import Signer
from tests.contracts.vm.helpers import XUS, make_chain


@pytest.fixture(scope="module")
def chain():
    return make_chain()


def test_foreign_module_cannot_pack_or_borrow_mut(chain) -> None:
    ctx = chain.ctx()
    with pytest.raises(LinearityError):
        account.DiemAccount(object(), b"", None, None, None, None, 0)
    with pytest.raises(LinearityError):
        ctx.borrow_mut(currency._W, account.ACCOUNT, TESTNET_DD)


def test_read_only_borrow_rejects_writes(chain) -> None:
    ctx = chain.ctx()
    view = ctx.borrow(account.Balance.of(XUS), TESTNET_DD)
    with pytest.raises(LinearityError):
        view.coin.value = 10**18


def test_coin_cannot_be_copied_or_pickled(chain) -> None:
    ctx = chain.ctx()
    coin = currency.zero(ctx, XUS)
    with pytest.raises(LinearityError):
        copy.copy(coin)
    with pytest.raises(LinearityError):
        pickle.dumps(coin)
    currency.destroy_zero(ctx, coin)


def test_undeposited_coin_aborts_the_transaction(chain) -> None:
    ctx = chain.ctx()
    balance = ctx.borrow_mut(account._W, account.Balance.of(XUS), TESTNET_DD)
    currency.withdraw(ctx, balance.coin, 5)
    with pytest.raises(LinearityError):
        ctx.finish()


def test_coin_used_after_move_raises(chain) -> None:
    ctx = chain.ctx()
    balance = ctx.borrow_mut(account._W, account.Balance.of(XUS), TESTNET_DD)
    coin = currency.withdraw(ctx, balance.coin, 5)
    currency.deposit(ctx, balance.coin, coin)
    with pytest.raises(LinearityError):
        currency.deposit(ctx, balance.coin, coin)


def test_nonzero_coin_cannot_be_destroyed(chain) -> None:
    ctx = chain.ctx()
    balance = ctx.borrow_mut(account._W, account.Balance.of(XUS), TESTNET_DD)
    coin = currency.withdraw(ctx, balance.coin, 5)
    with pytest.raises(Exception) as info:
        currency.destroy_zero(ctx, coin)
    assert info.value.code == currency.ERRORS.code(Category.INVALID_ARGUMENT, "EDESTRUCTION_OF_NONZERO_COIN")


def test_signer_only_from_vm() -> None:
    with pytest.raises(LinearityError):
        Signer(object(), DIEM_ROOT)


def test_overlay_discard_leaves_state_untouched(chain) -> None:
    state = BlockState(chain.state)
    ctx = Context(state, TESTNET_DD, GasMeter(DEFAULT_SCHEDULE, 10**6), 0)
    ctx.borrow_mut(account._W, account.Balance.of(XUS), TESTNET_DD).coin.value = 1
    del ctx
    assert account.get_balance(Context(state, TESTNET_DD, GasMeter(DEFAULT_SCHEDULE, 10**6), 0), TESTNET_DD, XUS) > 1


def test_missing_resource_is_execution_failure(chain) -> None:
    with pytest.raises(ExecutionFailure):
        chain.ctx().borrow(account.ACCOUNT, b"\x42" * 16)


def test_gas_meter_runs_out() -> None:
    meter = GasMeter(DEFAULT_SCHEDULE, 10)
    meter.charge(10)
    with pytest.raises(OutOfGas):
        meter.charge(1)


def test_explanation_of_insufficient_balance() -> None:
    found = explain("00000000000000000000000000000001::DiemAccount", 1288)
    assert (found.category, found.reason) == ("LIMIT_EXCEEDED", "EINSUFFICIENT_BALANCE")
    assert found.reason_description == " The account does not hold a large enough balance in the specified currency"


def test_capabilities_only_from_their_module_and_typed(chain) -> None:
    from contracts.framework import TREASURY_COMPLIANCE, account as acct_module
    from contracts.vm.structs import vm_signer
    with pytest.raises(LinearityError):
        currency.MintCapability.of(XUS).pack(acct_module._W, dummy_field=False)
    ctx = chain.ctx()
    cap = currency.borrow_mint_capability(ctx, vm_signer(TREASURY_COMPLIANCE), XUS)
    with pytest.raises(LinearityError):
        currency.mint_with_capability(ctx, cap, currency.tag_of_code(b"XDX"), 5)
    coin = currency.mint_with_capability(ctx, cap, XUS, 5)
    assert coin.value == 5 and currency.get_total_value(ctx, XUS) > 5
    currency.burn_now(ctx, currency.borrow_burn_capability(ctx, vm_signer(TREASURY_COMPLIANCE), XUS), coin, DIEM_ROOT)
    ctx.finish()


def test_non_tc_cannot_borrow_capabilities(chain) -> None:
    from contracts.vm.errors import MoveAbort
    from contracts.vm.structs import vm_signer
    with pytest.raises(MoveAbort) as info:
        currency.borrow_mint_capability(chain.ctx(), vm_signer(TESTNET_DD), XUS)
    assert info.value.code == 258
