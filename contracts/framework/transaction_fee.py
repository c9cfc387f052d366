"""TransactionFee: per-currency fee pools at treasury compliance, filled by the epilogue."""

from __future__ import annotations

from contracts.framework import TREASURY_COMPLIANCE, currency, roles
from contracts.vm.context import Context
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import KEY, Module, Signer, Struct, struct
from contracts.vm.values import StructField
from primitives.types.type_tags import StructTag

MODULE = Module("TransactionFee")
_W = MODULE.claim()

ERRORS = ErrorTable(MODULE, {
    "ETRANSACTION_FEE": (0, " A `TransactionFee` resource is not in the required state"),
})


@struct(MODULE, KEY, type_params=1)
class TransactionFee(Struct):
    """Collected fees in one currency (burned by TC in Diem; here paid to validators at each epoch boundary)."""

    __slots__ = ()
    FIELDS = (("balance", StructField(currency.Coin, inherit_type_args=True)),)


def is_coin_initialized(ctx: Context, ccy: StructTag) -> bool:
    """Return True iff ccy can pay fees."""
    return ctx.exists(TransactionFee.of(ccy), TREASURY_COMPLIANCE)


def add_txn_fee_currency(ctx: Context, tc: Signer, ccy: StructTag) -> None:
    """Accept ccy for fees (TC only, genesis)."""
    roles.assert_treasury_compliance(ctx, tc)
    rtype = TransactionFee.of(ccy)
    if ctx.exists(rtype, tc.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "ETRANSACTION_FEE")
    ctx.move_to(_W, tc, rtype.pack(_W, balance=currency.new_stored_zero(ccy)))


def pay_fee(ctx: Context, coin: currency.Coin) -> None:
    """Add a live coin to the fee pool of its currency."""
    ccy = currency.currency_of(coin)
    rtype = TransactionFee.of(ccy)
    if not ctx.exists(rtype, TREASURY_COMPLIANCE):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ETRANSACTION_FEE")
    currency.deposit(ctx, ctx.borrow_mut(_W, rtype, TREASURY_COMPLIANCE).balance, coin)


def get_collected(ctx: Context, ccy: StructTag) -> int:
    """Return the fees collected in ccy."""
    found = ctx.get(TransactionFee.of(ccy), TREASURY_COMPLIANCE)
    return 0 if found is None else found.balance.value


def withdraw_collected(ctx: Context, ccy: StructTag) -> currency.Coin:
    """Take every collected fee in ccy as a live coin (staking distributes it at each epoch boundary)."""
    if not ctx.exists(TransactionFee.of(ccy), TREASURY_COMPLIANCE):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ETRANSACTION_FEE")
    pool = ctx.borrow_mut(_W, TransactionFee.of(ccy), TREASURY_COMPLIANCE)
    return currency.withdraw(ctx, pool.balance, pool.balance.value)
