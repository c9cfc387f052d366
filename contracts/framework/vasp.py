"""VASP: parent and child VASP records, the child count limit and same-VASP checks."""

from __future__ import annotations

from contracts.framework import roles
from contracts.vm.context import Context
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import KEY, Module, Signer, Struct, struct
from contracts.vm.values import ADDRESS, U64

MODULE = Module("VASP")
_W = MODULE.claim()
MAX_CHILD_ACCOUNTS = 65_536

ERRORS = ErrorTable(MODULE, {
    "EPARENT_OR_CHILD_VASP": (0, " The `ParentVASP` or `ChildVASP` resources are not in the required state"),
    "ETOO_MANY_CHILDREN": (1, " The creation of a new Child VASP account would exceed the number of children permitted for a VASP"),
    "ENOT_A_VASP": (2, " The account must be a Parent or Child VASP account"),
    "ENOT_A_PARENT_VASP": (3, " The creating account must be a Parent VASP account"),
})


@struct(MODULE, KEY)
class ParentVASP(Struct):
    """A parent VASP and its number of children."""

    __slots__ = ()
    FIELDS = (("num_children", U64),)


@struct(MODULE, KEY)
class ChildVASP(Struct):
    """A child VASP and the address of its parent."""

    __slots__ = ()
    FIELDS = (("parent_vasp_addr", ADDRESS),)


PARENT = ParentVASP.rtype()
CHILD = ChildVASP.rtype()


def publish_parent_vasp_credential(ctx: Context, vasp: Signer, tc: Signer) -> None:
    """Publish ParentVASP{0} on a new parent VASP (called by account creation, TC-signed)."""
    roles.assert_treasury_compliance(ctx, tc)
    if ctx.exists(PARENT, vasp.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EPARENT_OR_CHILD_VASP")
    ctx.move_to(_W, vasp, ParentVASP(_W, 0))


def publish_child_vasp_credential(ctx: Context, parent: Signer, child: Signer) -> None:
    """Publish ChildVASP{parent} and count the child (aborts 264 past MAX_CHILD_ACCOUNTS)."""
    if not ctx.exists(PARENT, parent.address):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ENOT_A_PARENT_VASP")
    if ctx.exists(CHILD, child.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EPARENT_OR_CHILD_VASP")
    record = ctx.borrow_mut(_W, PARENT, parent.address)
    if record.num_children + 1 > MAX_CHILD_ACCOUNTS:
        raise ERRORS.abort(Category.LIMIT_EXCEEDED, "ETOO_MANY_CHILDREN")
    record.num_children += 1
    ctx.move_to(_W, child, ChildVASP(_W, parent.address))


def is_parent(ctx: Context, address: bytes) -> bool:
    """Return True iff address is a parent VASP."""
    return roles.get_role_id(ctx, address) == roles.ROLE_PARENT_VASP


def is_child(ctx: Context, address: bytes) -> bool:
    """Return True iff address is a child VASP."""
    return roles.get_role_id(ctx, address) == roles.ROLE_CHILD_VASP


def is_vasp(ctx: Context, address: bytes) -> bool:
    """Return True iff address is a parent or child VASP (one RoleId read)."""
    return roles.get_role_id(ctx, address) in roles.VASP_ROLES


def parent_address(ctx: Context, address: bytes) -> bytes:
    """Return the parent VASP of a child, the address itself for a parent; abort 519 otherwise."""
    child = ctx.get(CHILD, address)
    if child is not None:
        return child.parent_vasp_addr
    if ctx.exists(PARENT, address):
        return address
    raise ERRORS.abort(Category.INVALID_ARGUMENT, "ENOT_A_VASP")


def is_same_vasp(ctx: Context, first: bytes, second: bytes) -> bool:
    """Return True iff both are VASPs with the same parent."""
    return is_vasp(ctx, first) and is_vasp(ctx, second) and parent_address(ctx, first) == parent_address(ctx, second)


def num_children(ctx: Context, address: bytes) -> int:
    """Return the parent's number of children (0 if not a parent)."""
    found = ctx.get(PARENT, address)
    return 0 if found is None else found.num_children
