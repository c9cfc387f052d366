"""Block execution: block prologue, then each user transaction with keep/discard, status, gas, events, writes."""

from __future__ import annotations

import struct as _struct

from contracts import scripts
from contracts.framework import DIEM_ROOT, VM_RESERVED, account, block, currency, system
from contracts.ledger_trees import LedgerTrees, compute_ledger_update
from contracts.outputs import RETRY, BlockOutput, TransactionOutput
from contracts.vm import prologue
from contracts.vm.context import Context, ExecutionFailure
from contracts.vm.errors import LinearityError, MoveAbort, explain
from contracts.vm.gas import DEFAULT_SCHEDULE, GasMeter, GasSchedule, OutOfGas, UnmeteredGas
from contracts.vm.status import EXECUTED, MISCELLANEOUS_ERROR, OUT_OF_GAS, StatusCode, VMStatus, VMStatusKind
from contracts.vm.storage import BlockState, StateView
from contracts.vm.structs import vm_signer
from primitives.errors import InvariantViolation, invariant
from primitives.types.ledger_transactions import BlockMetadata
from primitives.types.transactions import SignedTransaction
from primitives.types.type_tags import StructTag

SCRIPT_LOCATION = "Script"
_UNMETERED = UnmeteredGas()  # shared: its limit (2**63 units) is unreachable, so accumulating is harmless
_RUNTIME_ERRORS = (ExecutionFailure, LinearityError, OverflowError, _struct.error, ArithmeticError)
_FATAL_ERRORS = (InvariantViolation, MemoryError, RecursionError)


class BlockRejected(Exception):
    """The block metadata transaction failed (bad timestamp): the block cannot be executed."""


def _abort_status(exc: Exception) -> VMStatus:
    if isinstance(exc, MoveAbort):
        return VMStatus(VMStatusKind.MOVE_ABORT, exc.location, exc.code, explain(exc.location, exc.code))
    if isinstance(exc, OutOfGas):
        return OUT_OF_GAS
    if isinstance(exc, scripts.InvalidPayload):
        return MISCELLANEOUS_ERROR
    location = exc.location if isinstance(exc, ExecutionFailure) else SCRIPT_LOCATION
    return VMStatus(VMStatusKind.EXECUTION_FAILURE, location)


def _commit(state: BlockState, ctx: Context) -> dict[bytes, bytes | None]:
    changes, encoded = ctx.finish()
    state.commit(changes, encoded)
    return state.get_state_keys(encoded)


def _discard(status: StatusCode) -> TransactionOutput:
    return TransactionOutput(False, None, status, 0, (), {})


_CONFIGURATION_KEY = system.CONFIGURATION.state_key(DIEM_ROOT)


def _ends_epoch(output: TransactionOutput) -> bool:
    """Return True iff a kept output emitted DiemConfig::NewEpochEvent (the rest of the block is Retry)."""
    # The event goes out on Configuration's handle after its epoch is bumped: no Configuration write, no event.
    if not output.keep or _CONFIGURATION_KEY not in output.write_set:
        return False
    tag = system.NEW_EPOCH_EVENT_TAG
    return any(event.type_tag == tag for event in output.runtime_events)


class _Executor:
    """Runs the transactions of one block against a BlockState."""

    def __init__(self, state: BlockState, schedule: GasSchedule) -> None:
        self.state = state
        self.schedule = schedule
        self.now_us = block.now_microseconds(Context(state, VM_RESERVED, UnmeteredGas(schedule), 0))

    def run_block_metadata(self, metadata: BlockMetadata) -> TransactionOutput:
        """Run DiemBlock::block_prologue; any failure rejects the block."""
        ctx = Context(self.state, VM_RESERVED, UnmeteredGas(self.schedule), self.now_us)
        votes = tuple(address.value for address in metadata.previous_block_votes)
        try:
            block.block_prologue(ctx, metadata.round, metadata.timestamp_usecs, votes, metadata.proposer.value)
        except (MoveAbort, *_RUNTIME_ERRORS) as exc:
            raise BlockRejected(str(exc)) from exc
        self.now_us = metadata.timestamp_usecs
        write_set = _commit(self.state, ctx)
        return TransactionOutput(True, EXECUTED, None, 0, tuple(ctx.events), write_set)

    def run_user(self, txn: SignedTransaction) -> TransactionOutput:
        """Validate, execute, run the epilogue (or the failure epilogue in a fresh overlay)."""
        raw = txn.raw_txn
        size = len(txn.to_bcs())
        ctx = Context(self.state, raw.sender.value, _UNMETERED, self.now_us)
        status = _validate(ctx, txn, size, self.schedule, exact_sequence=True)
        if status is not StatusCode.ACCEPTED:
            return _discard(status)
        meter = ctx.meter = GasMeter(self.schedule, raw.max_gas_amount)
        try:
            meter.charge(self.schedule.get_intrinsic_gas_units(size))
            spec, ty_args, args = scripts.resolve(raw.payload.value)
            meter.charge(self.schedule.call_units)
            spec.handler(ctx, vm_signer(raw.sender.value), ty_args, *args)
            gas_used = meter.used
            ctx.meter = _UNMETERED
            fee = gas_used * raw.gas_unit_price
            account.run_epilogue(ctx, raw.sender.value, raw.sequence_number, _fee_currency(raw), fee)
            write_set = _commit(self.state, ctx)
        except (MoveAbort, OutOfGas, scripts.InvalidPayload, *_RUNTIME_ERRORS) as exc:
            gas_used = raw.max_gas_amount if isinstance(exc, OutOfGas) else min(meter.used, raw.max_gas_amount)
            return self._failure_epilogue(txn, _abort_status(exc), gas_used)
        except _FATAL_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - a framework bug: discard deterministically, as Diem does
            return _discard(StatusCode.UNKNOWN_INVARIANT_VIOLATION_ERROR)
        return TransactionOutput(True, EXECUTED, None, gas_used, tuple(ctx.events), write_set)

    def _failure_epilogue(self, txn: SignedTransaction, status: VMStatus, gas_used: int) -> TransactionOutput:
        raw = txn.raw_txn
        ctx = Context(self.state, raw.sender.value, _UNMETERED, self.now_us)
        fee = gas_used * raw.gas_unit_price
        try:
            account.run_epilogue(ctx, raw.sender.value, raw.sequence_number, _fee_currency(raw), fee)
            write_set = _commit(self.state, ctx)
        except (MoveAbort, *_RUNTIME_ERRORS) as exc:
            invariant(False, f"failure epilogue cannot fail (prologue checked the fee): {exc}")
        return TransactionOutput(True, status, None, gas_used, (), write_set)


def _validate(
    ctx: Context, txn: SignedTransaction, size: int, schedule: GasSchedule, *, exact_sequence: bool
) -> StatusCode:
    """Size/gas, payload/currency and prologue checks; a framework bug here discards (never crashes)."""
    try:
        status = prologue.check_gas_and_size(txn, size, schedule)
        if status is StatusCode.ACCEPTED:
            status = prologue.check_payload_and_currency(ctx, txn)
        if status is StatusCode.ACCEPTED:
            status = prologue.check_prologue(ctx, txn, exact_sequence=exact_sequence)
    except _FATAL_ERRORS:
        raise
    except Exception:  # noqa: BLE001 - as in run_user: deterministic discard of a framework bug
        return StatusCode.UNKNOWN_INVARIANT_VIOLATION_ERROR
    return status


def _fee_currency(raw) -> StructTag | None:  # noqa: ANN001 - RawTransaction
    return currency.tag_of_code(raw.gas_currency_code.encode("ascii")) if raw.gas_unit_price else None


def execute_block(
    state_view: StateView,
    block_metadata: BlockMetadata,
    signed_txns: list[SignedTransaction],
    *,
    trees: LedgerTrees | None = None,
    verify_signatures: bool = False,
    schedule: GasSchedule = DEFAULT_SCHEDULE,
) -> BlockOutput:
    """Execute a block (Retry every transaction after a NewEpochEvent); on ledger trees also compute their update."""
    state = BlockState(state_view)
    executor = _Executor(state, schedule)
    outputs = [executor.run_block_metadata(block_metadata)]
    ended = _ends_epoch(outputs[0])
    for txn in signed_txns:
        if ended:
            outputs.append(RETRY)
        elif verify_signatures and not txn.is_signature_valid():
            outputs.append(_discard(StatusCode.INVALID_SIGNATURE))
        else:
            outputs.append(executor.run_user(txn))
            ended = _ends_epoch(outputs[-1])
    write_set = state.get_write_set()
    update = None if trees is None else compute_ledger_update(trees, outputs, write_set, block_metadata, signed_txns)
    return BlockOutput(tuple(outputs), write_set, update)


def validate_transaction(
    state_view: StateView, signed_txn: SignedTransaction, block_time_us: int, *, check_signature: bool = True,
    schedule: GasSchedule = DEFAULT_SCHEDULE,
) -> StatusCode:
    """Submit-time checks (§4.2): signature, size and gas, currency, payload, prologue (future seq allowed)."""
    if check_signature and not signed_txn.is_signature_valid():
        return StatusCode.INVALID_SIGNATURE
    ctx = Context(BlockState(state_view), signed_txn.raw_txn.sender.value, UnmeteredGas(schedule), block_time_us)
    return _validate(ctx, signed_txn, len(signed_txn.to_bcs()), schedule, exact_sequence=False)
