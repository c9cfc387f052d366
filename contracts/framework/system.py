"""On-chain configuration: chain id, Diem version, script allow list, epoch and the validator set."""

from __future__ import annotations

from contracts.framework import DIEM_ROOT, block, roles
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.storage import MEMO_WATCHED_TYPES
from contracts.vm.structs import KEY, STORE, Module, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BOOL, BYTES, U8, U64, StructField, Vector, encode_values
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("DiemConfig")
_W = MODULE.claim()
DEFAULT_DIEM_VERSION = 3
MAX_VALIDATORS = 256
NEW_EPOCH_EVENT_TAG = StructTag(AccountAddress.CORE_CODE, "DiemConfig", "NewEpochEvent", ())

ERRORS = ErrorTable(MODULE, {
    "ECONFIGURATION": (0, " The `Configuration` resource is in an invalid state"),
    "EINVALID_VALIDATOR": (1, " A validator entry is invalid or duplicated"),
})


@struct(MODULE, KEY)
class ChainId(Struct):
    """The chain id every transaction must carry."""

    __slots__ = ()
    FIELDS = (("id", U8),)


@struct(MODULE, KEY)
class DiemVersion(Struct):
    """The protocol version (>= 2 enables script functions)."""

    __slots__ = ()
    FIELDS = (("major", U64),)


@struct(MODULE, KEY)
class TransactionPublishingOption(Struct):
    """Allowed legacy-script hashes (script functions are always allowed) and module publishing."""

    __slots__ = ()
    FIELDS = (("script_allow_list", Vector(BYTES)), ("module_publishing_allowed", BOOL))


@struct(MODULE, KEY)
class Configuration(Struct):
    """The epoch, last reconfiguration time and the NewEpochEvent stream."""

    __slots__ = ()
    FIELDS = (("epoch", U64), ("last_reconfiguration_time", U64), ("events", StructField(EventHandle)))


@struct(MODULE, STORE)
class ValidatorInfo(Struct):
    """A validator: address, stake, consensus and network public keys, name, and where peers reach it."""

    __slots__ = ()
    FIELDS = (
        ("addr", ADDRESS), ("stake", U64), ("consensus_public_key", BYTES), ("network_public_key", BYTES),
        ("human_name", BYTES), ("network_addresses", Vector(BYTES)),
    )


@struct(MODULE, KEY)
class ValidatorSet(Struct):
    """The validator set; `stake` is the voting power staking computed (capped) for the current epoch."""

    __slots__ = ()
    FIELDS = (("validators", Vector(StructField(ValidatorInfo))),)


MEMO_WATCHED_TYPES.update({ChainId, DiemVersion, TransactionPublishingOption})
CHAIN_ID = ChainId.rtype()
VERSION = DiemVersion.rtype()
PUBLISHING = TransactionPublishingOption.rtype()
CONFIGURATION = Configuration.rtype()
VALIDATOR_SET = ValidatorSet.rtype()


def initialize(ctx: Context, dr: Signer, chain_id: int, script_allow_list: tuple[bytes, ...]) -> None:
    """Publish the configs at Diem root (genesis; the NewEpoch stream is DR's next handle)."""
    roles.assert_diem_root(ctx, dr)
    ctx.move_to(_W, dr, ChainId(_W, chain_id))
    ctx.move_to(_W, dr, DiemVersion(_W, DEFAULT_DIEM_VERSION))
    ctx.move_to(_W, dr, TransactionPublishingOption(_W, tuple(script_allow_list), False))
    ctx.move_to(_W, dr, Configuration(_W, 0, 0, ctx.new_event_handle(dr)))


def _check_validators(validators: tuple[tuple, ...]) -> None:
    if len(validators) > MAX_VALIDATORS or len({v[0] for v in validators}) != len(validators):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_VALIDATOR")


def set_validators(ctx: Context, dr: Signer, validators: tuple[tuple, ...]) -> None:
    """Publish the validator set from (address, stake, consensus key, network key, name, addresses) tuples."""
    roles.assert_diem_root(ctx, dr)
    _check_validators(validators)
    infos = tuple(ValidatorInfo(_W, *entry) for entry in validators)
    ctx.move_to(_W, dr, ValidatorSet(_W, infos))


def reconfigure(ctx: Context, validators: tuple[tuple, ...]) -> int:
    """Replace the validator set, bump the epoch and emit NewEpochEvent (only staking_epoch.on_new_epoch calls it)."""
    _check_validators(validators)
    if not validators:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_VALIDATOR")
    ctx.borrow_mut(_W, VALIDATOR_SET, DIEM_ROOT).validators = tuple(ValidatorInfo(_W, *entry) for entry in validators)
    config = ctx.borrow_mut(_W, CONFIGURATION, DIEM_ROOT)
    config.epoch += 1
    # The block clock: the prologue that reconfigures has already advanced it to this block's time.
    config.last_reconfiguration_time = block.now_microseconds(ctx)
    ctx.emit(config.events, NEW_EPOCH_EVENT_TAG, encode_values((U64, config.epoch)))
    return config.epoch


def get_epoch(ctx: Context) -> int:
    """Return DiemConfig's epoch (0 at genesis, +1 per NewEpochEvent)."""
    return ctx.borrow(CONFIGURATION, DIEM_ROOT).epoch


def get_chain_id(ctx: Context) -> int:
    """Return the on-chain chain id."""
    return ctx.borrow(CHAIN_ID, DIEM_ROOT).id


def get_diem_version(ctx: Context) -> int:
    """Return the on-chain Diem version."""
    return ctx.borrow(VERSION, DIEM_ROOT).major


def get_script_allow_list(ctx: Context) -> tuple[bytes, ...]:
    """Return the allowed legacy-script hashes."""
    return ctx.borrow(PUBLISHING, DIEM_ROOT).script_allow_list


def is_script_allowed(ctx: Context, script_hash: bytes) -> bool:
    """Return True iff the allow list is empty or contains the hash."""
    allowed = get_script_allow_list(ctx)
    return not allowed or script_hash in allowed
