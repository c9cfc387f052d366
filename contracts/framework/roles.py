"""Roles and CoreAddresses: one immutable RoleId per account, and the role/address assertions."""

from __future__ import annotations

from contracts.framework import DIEM_ROOT, TREASURY_COMPLIANCE
from contracts.vm.context import Context
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import KEY, Module, Signer, Struct, struct
from contracts.vm.values import U64

MODULE = Module("Roles")
_W = MODULE.claim()
CORE_ADDRESSES = Module("CoreAddresses")

ROLE_DIEM_ROOT = 0
ROLE_TREASURY_COMPLIANCE = 1
ROLE_DESIGNATED_DEALER = 2
ROLE_VALIDATOR = 3
ROLE_VALIDATOR_OPERATOR = 4
ROLE_PARENT_VASP = 5
ROLE_CHILD_VASP = 6
ROLE_RESERVE_AUDITOR = 7
# Validators and operators hold XUS to stake, to be paid their unbonded stake and fee rewards (ADR 0006).
BALANCE_HOLDING_ROLES = frozenset({
    ROLE_DESIGNATED_DEALER, ROLE_PARENT_VASP, ROLE_CHILD_VASP, ROLE_VALIDATOR, ROLE_VALIDATOR_OPERATOR,
})
VASP_ROLES = frozenset({ROLE_PARENT_VASP, ROLE_CHILD_VASP})

ERRORS = ErrorTable(MODULE, {
    "EROLE_ID": (0, " The signer didn't have the required role"),
    "EDIEM_ROOT": (1, " The signer didn't have the required Diem Root role"),
    "ETREASURY_COMPLIANCE": (2, " The signer didn't have the required Treasury & Compliance role"),
    "EPARENT_VASP": (3, " The signer didn't have the required Parent VASP role"),
    "EDESIGNATED_DEALER": (4, " The signer didn't have the required Designated Dealer role"),
    "EVALIDATOR": (5, " The signer didn't have the required Validator role"),
    "EVALIDATOR_OPERATOR": (6, " The signer didn't have the required Validator Operator role"),
    "EPARENT_VASP_OR_DESIGNATED_DEALER": (7, " The signer didn't have the required Parent VASP or Designated Dealer role"),
    "EPARENT_VASP_OR_CHILD_VASP": (9, " The signer didn't have the required Parent VASP or Child VASP role"),
})
CORE_ERRORS = ErrorTable(CORE_ADDRESSES, {
    "EDIEM_ROOT": (0, " The operation can only be performed by the account at 0xA550C18 (Diem Root)"),
    "ETREASURY_COMPLIANCE": (1, " The operation can only be performed by the account at 0xB1E55ED (Treasury & Compliance)"),
    "EVM": (2, " The operation can only be performed by the VM"),
    "ECURRENCY_INFO": (3, " The operation can only be performed by the account where currencies are registered"),
})


@struct(MODULE, KEY)
class RoleId(Struct):
    """The account's role (never changes once granted)."""

    __slots__ = ()
    FIELDS = (("role_id", U64),)


ROLE_ID = RoleId.rtype()


def grant_role(ctx: Context, new_account: Signer, role_id: int) -> None:
    """Publish the RoleId of a new account; aborts 6 (EROLE_ID) if it already has one."""
    if ctx.exists(ROLE_ID, new_account.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EROLE_ID")
    ctx.move_to(_W, new_account, RoleId(_W, role_id))


def get_role_id(ctx: Context, address: bytes) -> int | None:
    """Return the role id at address, or None when there is no account."""
    found = ctx.get(ROLE_ID, address)
    return None if found is None else found.role_id


def has_role(ctx: Context, address: bytes, role_id: int) -> bool:
    """Return True iff the account at address has the role."""
    return get_role_id(ctx, address) == role_id


def assert_diem_root(ctx: Context, account: Signer) -> None:
    """Abort unless the signer is Diem root (address, then role)."""
    if account.address != DIEM_ROOT:
        raise CORE_ERRORS.abort(Category.REQUIRES_ADDRESS, "EDIEM_ROOT")
    if not has_role(ctx, account.address, ROLE_DIEM_ROOT):
        raise ERRORS.abort(Category.REQUIRES_ROLE, "EDIEM_ROOT")


def assert_treasury_compliance(ctx: Context, account: Signer) -> None:
    """Abort 258 (CoreAddresses) unless the signer is 0xB1E55ED, then 515 (Roles) unless it has the TC role."""
    if account.address != TREASURY_COMPLIANCE:
        raise CORE_ERRORS.abort(Category.REQUIRES_ADDRESS, "ETREASURY_COMPLIANCE")
    if not has_role(ctx, account.address, ROLE_TREASURY_COMPLIANCE):
        raise ERRORS.abort(Category.REQUIRES_ROLE, "ETREASURY_COMPLIANCE")


def assert_parent_vasp_role(ctx: Context, account: Signer) -> None:
    """Abort 771 unless the signer is a parent VASP."""
    if not has_role(ctx, account.address, ROLE_PARENT_VASP):
        raise ERRORS.abort(Category.REQUIRES_ROLE, "EPARENT_VASP")


def assert_designated_dealer(ctx: Context, account: Signer) -> None:
    """Abort unless the signer is a designated dealer."""
    if not has_role(ctx, account.address, ROLE_DESIGNATED_DEALER):
        raise ERRORS.abort(Category.REQUIRES_ROLE, "EDESIGNATED_DEALER")


def is_vasp(ctx: Context, address: bytes) -> bool:
    """Return True iff the account is a parent or child VASP."""
    return get_role_id(ctx, address) in VASP_ROLES


def can_hold_balance(ctx: Context, address: bytes) -> bool:
    """Return True iff the role may hold balances (DD, parent or child VASP, validator, validator operator)."""
    return get_role_id(ctx, address) in BALANCE_HOLDING_ROLES
