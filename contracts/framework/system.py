"""On-chain configuration: chain id, Diem version, script allow list, epoch and the validator set."""

from __future__ import annotations

from contracts.framework import DIEM_ROOT, roles
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.storage import MEMO_WATCHED_TYPES
from contracts.vm.structs import KEY, STORE, Module, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BOOL, BYTES, U8, U64, StructField, Vector

MODULE = Module("DiemConfig")
_W = MODULE.claim()
DEFAULT_DIEM_VERSION = 3
MAX_VALIDATORS = 256

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
    """A validator: address, stake, consensus and network public keys, name."""

    __slots__ = ()
    FIELDS = (
        ("addr", ADDRESS), ("stake", U64), ("consensus_public_key", BYTES), ("network_public_key", BYTES),
        ("human_name", BYTES),
    )


@struct(MODULE, KEY)
class ValidatorSet(Struct):
    """The permissioned validator set (staking logic comes later)."""

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


def set_validators(ctx: Context, dr: Signer, validators: tuple[tuple[bytes, int, bytes, bytes, bytes], ...]) -> None:
    """Publish the validator set from (address, stake, consensus key, network key, name) tuples."""
    roles.assert_diem_root(ctx, dr)
    if len(validators) > MAX_VALIDATORS or len({v[0] for v in validators}) != len(validators):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_VALIDATOR")
    infos = tuple(ValidatorInfo(_W, *entry) for entry in validators)
    ctx.move_to(_W, dr, ValidatorSet(_W, infos))


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
