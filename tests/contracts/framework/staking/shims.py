"""Stand-ins for the three framework hooks requested from the lead (docs/notes/requests.md), used only if absent.

Each mirrors the requested code exactly; once the lead applies a request, the real function is used instead.
"""

from __future__ import annotations

from contracts.framework import DIEM_ROOT, TREASURY_COMPLIANCE, block, currency, staking_epoch, system, transaction_fee
from contracts.vm.values import U64, encode_values
from primitives.types import AccountAddress, StructTag

NEW_EPOCH_EVENT_TAG = StructTag(AccountAddress.CORE_CODE, "DiemConfig", "NewEpochEvent", ())


def _withdraw_collected(ctx, ccy):  # noqa: ANN001, ANN202 - transaction_fee.withdraw_collected (request 2)
    rtype = transaction_fee.TransactionFee.of(ccy)
    pool = ctx.borrow_mut(transaction_fee._W, rtype, TREASURY_COMPLIANCE)
    return currency.withdraw(ctx, pool.balance, pool.balance.value)


def _reconfigure(ctx, validators):  # noqa: ANN001, ANN202 - system.reconfigure (request 1)
    if not validators or len(validators) > system.MAX_VALIDATORS or len({v[0] for v in validators}) != len(validators):
        raise system.ERRORS.abort(system.Category.INVALID_ARGUMENT, "EINVALID_VALIDATOR")
    infos = tuple(system.ValidatorInfo(system._W, *entry) for entry in validators)
    ctx.borrow_mut(system._W, system.VALIDATOR_SET, DIEM_ROOT).validators = infos
    config = ctx.borrow_mut(system._W, system.CONFIGURATION, DIEM_ROOT)
    config.epoch += 1
    config.last_reconfiguration_time = ctx.now_microseconds()
    ctx.emit(config.events, NEW_EPOCH_EVENT_TAG, encode_values((U64, config.epoch)))
    return config.epoch


_ORIGINAL_PROLOGUE = block.block_prologue


def _prologue_with_staking(ctx, round_number, timestamp_us, previous_block_votes, proposer):  # noqa: ANN001, ANN202
    _ORIGINAL_PROLOGUE(ctx, round_number, timestamp_us, previous_block_votes, proposer)  # request 3
    if staking_epoch.staking.is_initialized(ctx):
        staking_epoch.on_block(ctx, proposer)
        if staking_epoch.is_epoch_due(ctx):
            staking_epoch.on_new_epoch(ctx)


def install(monkeypatch) -> None:  # noqa: ANN001 - pytest's MonkeyPatch (undone after each test)
    """Install each stand-in whose real counterpart does not exist yet."""
    if not hasattr(transaction_fee, "withdraw_collected"):
        monkeypatch.setattr(transaction_fee, "withdraw_collected", _withdraw_collected, raising=False)
    if not hasattr(system, "reconfigure"):
        monkeypatch.setattr(system, "reconfigure", _reconfigure, raising=False)
    if not getattr(block, "STAKING_PROLOGUE", False):
        monkeypatch.setattr(block, "block_prologue", _prologue_with_staking)
        monkeypatch.setattr(block, "STAKING_PROLOGUE", True, raising=False)
