"""AccountCreationScripts: parent VASP, child VASP and designated dealer accounts."""

from __future__ import annotations

from contracts.framework import account, sliding_nonce
from contracts.scripts import ArgType, script_function
from contracts.vm.context import Context
from contracts.vm.structs import Signer
from primitives.types.type_tags import StructTag

A = ArgType


@script_function("AccountCreationScripts", "create_child_vasp_account", 1, (A.ADDRESS, A.VECTOR_U8, A.BOOL, A.U64))
def create_child_vasp_account(
    ctx: Context, parent: Signer, ty_args: tuple[StructTag, ...], child_address: bytes, auth_key_prefix: bytes,
    add_all_currencies: bool, child_initial_balance: int,
) -> None:
    """Create a child VASP of the sender and optionally fund it from the parent."""
    ccy = ty_args[0]
    account.create_child_vasp_account(ctx, parent, ccy, child_address, auth_key_prefix, add_all_currencies)
    if child_initial_balance > 0:
        account.pay_from(ctx, parent, child_address, ccy, child_initial_balance, b"", b"")


@script_function(
    "AccountCreationScripts", "create_parent_vasp_account", 1,
    (A.U64, A.ADDRESS, A.VECTOR_U8, A.VECTOR_U8, A.BOOL),
)
def create_parent_vasp_account(
    ctx: Context, tc: Signer, ty_args: tuple[StructTag, ...], nonce: int, address: bytes, auth_key_prefix: bytes,
    human_name: bytes, add_all_currencies: bool,
) -> None:
    """TC creates a parent VASP (sliding nonce checked first)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, nonce)
    account.create_parent_vasp_account(ctx, tc, ty_args[0], address, auth_key_prefix, human_name, add_all_currencies)


@script_function(
    "AccountCreationScripts", "create_designated_dealer", 1,
    (A.U64, A.ADDRESS, A.VECTOR_U8, A.VECTOR_U8, A.BOOL),
)
def create_designated_dealer(
    ctx: Context, tc: Signer, ty_args: tuple[StructTag, ...], nonce: int, address: bytes, auth_key_prefix: bytes,
    human_name: bytes, add_all_currencies: bool,
) -> None:
    """TC creates a designated dealer (sliding nonce checked first)."""
    sliding_nonce.record_nonce_or_abort(ctx, tc, nonce)
    account.create_designated_dealer(ctx, tc, ty_args[0], address, auth_key_prefix, human_name, add_all_currencies)
