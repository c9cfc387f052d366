"""RecoveryAddress: a VASP account that holds other accounts' key-rotation capabilities, to recover lost keys.

An account of a VASP delegates its KeyRotationCapability to a recovery account of the same VASP;
afterwards the recovery account (whose key can be kept offline) can replace the delegating account's
key when it is lost, and the delegating account can still rotate its own key through the resource.
"""

from __future__ import annotations

from contracts.framework import account, vasp
from contracts.vm.context import Context
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import KEY, Module, Signer, Struct, struct
from contracts.vm.values import StructField, Vector

MODULE = Module("RecoveryAddress")
_W = MODULE.claim()
MAX_REGISTERED_KEYS = 256

ERRORS = ErrorTable(MODULE, {
    "ENOT_A_VASP": (0, " Only VASPs can create a recovery address"),
    "EKEY_ROTATION_DEPENDENCY_CYCLE": (1, " A cycle would have been created would be created"),
    "ECANNOT_ROTATE_KEY": (2, " The signer doesn't have the appropriate privileges to rotate the account's key"),
    "EINVALID_KEY_ROTATION_DELEGATION": (3, " Only accounts belonging to the same VASP can delegate their key rotation capability"),
    "EACCOUNT_NOT_RECOVERABLE": (4, " The account address couldn't be found in the account recovery resource"),
    "ERECOVERY_ADDRESS": (5, " A `RecoveryAddress` resource was in an unexpected state"),
    "EMAX_KEYS_REGISTERED": (6, " The maximum allowed number of keys have been registered with this recovery address."),
})


@struct(MODULE, KEY)
class RecoveryAddress(Struct):
    """The rotation capabilities delegated to this account (its own first, so no recovery cycle can form)."""

    __slots__ = ()
    FIELDS = (("rotation_caps", Vector(StructField(account.KeyRotationCapability))),)


RECOVERY = RecoveryAddress.rtype()


def publish(ctx: Context, recovery_account: Signer) -> None:
    """Make a VASP account a recovery address holding its own rotation capability."""
    capability = account.extract_key_rotation_capability(ctx, recovery_account)
    if not vasp.is_vasp(ctx, recovery_account.address):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ENOT_A_VASP")
    if ctx.exists(RECOVERY, recovery_account.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "ERECOVERY_ADDRESS")
    ctx.move_to(_W, recovery_account, RecoveryAddress(_W, (capability,)))


def add_rotation_capability(ctx: Context, to_recover: Signer, recovery_address: bytes) -> None:
    """Delegate to_recover's rotation capability to a recovery address of the same VASP."""
    capability = account.extract_key_rotation_capability(ctx, to_recover)
    if not ctx.exists(RECOVERY, recovery_address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ERECOVERY_ADDRESS")
    if not vasp.is_same_vasp(ctx, recovery_address, to_recover.address):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_KEY_ROTATION_DELEGATION")
    record = ctx.borrow_mut(_W, RECOVERY, recovery_address)
    if len(record.rotation_caps) >= MAX_REGISTERED_KEYS:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "EMAX_KEYS_REGISTERED")
    record.rotation_caps = record.rotation_caps + (capability,)


def rotate_authentication_key(ctx: Context, sender: Signer, recovery_address: bytes, to_recover: bytes,
                              new_key: bytes) -> None:
    """The recovery account (or the account itself) replaces to_recover's key with a delegated capability."""
    if not ctx.exists(RECOVERY, recovery_address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ERECOVERY_ADDRESS")
    if sender.address not in (to_recover, recovery_address):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ECANNOT_ROTATE_KEY")
    for capability in ctx.borrow(RECOVERY, recovery_address).rotation_caps:
        if capability.account_address == to_recover:
            account.rotate_with_capability(ctx, capability, new_key)
            return
    raise ERRORS.abort(Category.INVALID_ARGUMENT, "EACCOUNT_NOT_RECOVERABLE")
