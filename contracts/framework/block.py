"""DiemBlock and DiemTimestamp: the block prologue, global time and NewBlockEvent."""

from __future__ import annotations

from contracts.framework import DIEM_ROOT, VM_RESERVED, roles
from contracts.vm import hooks
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import KEY, Module, Signer, Struct, struct
from contracts.vm.values import ADDRESS, U64, StructField, Vector, encode_values
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("DiemBlock")
_W = MODULE.claim()
TIMESTAMP = Module("DiemTimestamp")
_TW = TIMESTAMP.claim()
NEW_BLOCK_EVENT_TAG = StructTag(AccountAddress.CORE_CODE, "DiemBlock", "NewBlockEvent", ())
STAKING_PROLOGUE = True  # the prologue counts proposals and ends staking epochs (staking_epoch, looked up lazily)

ERRORS = ErrorTable(MODULE, {
    "EBLOCK_METADATA": (0, " The `BlockMetadata` resource is in an invalid state"),
    "EVM_OR_VALIDATOR": (1, " An invalid signer was provided. Expected the signer to be the VM or a Validator."),
})
TIMESTAMP_ERRORS = ErrorTable(TIMESTAMP, {
    "ETIMER": (0, " The `CurrentTimeMicroseconds` resource is in an invalid state"),
    "ETIMESTAMP": (1, " A timestamp that did not match the expected value was provided"),
})


@struct(MODULE, KEY)
class BlockMetadata(Struct):
    """Block height and the NewBlockEvent stream (at Diem root)."""

    __slots__ = ()
    FIELDS = (("height", U64), ("new_block_events", StructField(EventHandle)))


@struct(TIMESTAMP, KEY)
class CurrentTimeMicroseconds(Struct):
    """The global clock, set only by block prologues."""

    __slots__ = ()
    FIELDS = (("microseconds", U64),)


BLOCK = BlockMetadata.rtype()
CLOCK = CurrentTimeMicroseconds.rtype()


def initialize(ctx: Context, dr: Signer) -> None:
    """Publish the clock (0) and the block metadata (genesis)."""
    roles.assert_diem_root(ctx, dr)
    ctx.move_to(_TW, dr, CurrentTimeMicroseconds(_TW, 0))
    ctx.move_to(_W, dr, BlockMetadata(_W, 0, ctx.new_event_handle(dr)))


def now_microseconds(ctx: Context) -> int:
    """Return the on-chain time."""
    found = ctx.get(CLOCK, DIEM_ROOT)
    return 0 if found is None else found.microseconds


def block_prologue(
    ctx: Context, round_number: int, timestamp_us: int, previous_block_votes: tuple[bytes, ...], proposer: bytes
) -> None:
    """Advance time (strictly, except nil blocks by 0x0), bump height, emit NewBlockEvent, run staking's boundary."""
    clock = ctx.borrow_mut(_TW, CLOCK, DIEM_ROOT)
    if proposer == VM_RESERVED:
        if timestamp_us != clock.microseconds:
            raise TIMESTAMP_ERRORS.abort(Category.INVALID_ARGUMENT, "ETIMESTAMP")
    elif timestamp_us <= clock.microseconds:
        raise TIMESTAMP_ERRORS.abort(Category.INVALID_ARGUMENT, "ETIMESTAMP")
    clock.microseconds = timestamp_us
    metadata = ctx.borrow_mut(_W, BLOCK, DIEM_ROOT)
    metadata.height += 1
    payload = encode_values(
        (U64, round_number), (ADDRESS, proposer), (Vector(ADDRESS), tuple(previous_block_votes)), (U64, timestamp_us)
    )
    ctx.emit(metadata.new_block_events, NEW_BLOCK_EVENT_TAG, payload)
    # Lazy: staking_epoch imports this module. A boundary reconfigures here, so the block ends the epoch.
    staking_epoch = hooks.get_module("staking_epoch")
    if staking_epoch is not None and staking_epoch.staking.is_initialized(ctx):
        staking_epoch.on_block(ctx, proposer)
        if staking_epoch.is_epoch_due(ctx):
            staking_epoch.on_new_epoch(ctx)  # never aborts on a consistent state; writes DiemConfig's ValidatorSet
