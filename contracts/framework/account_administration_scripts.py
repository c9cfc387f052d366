"""AccountAdministrationScripts (and the TC Diem-ID domain scripts): rotation, currencies, domains."""

from __future__ import annotations

from contracts.framework import account, diem_id, dual_attestation, recovery_address, sliding_nonce
from contracts.scripts import ArgType, script_function
from contracts.vm.context import Context
from contracts.vm.structs import Signer
from primitives.types.type_tags import StructTag

A = ArgType


@script_function("AccountAdministrationScripts", "rotate_dual_attestation_info", 0, (A.VECTOR_U8, A.VECTOR_U8))
def rotate_dual_attestation_info(
    ctx: Context, sender: Signer, ty_args: tuple[StructTag, ...], new_url: bytes, new_key: bytes
) -> None:
    """Rotate the base URL then the compliance key (BaseUrlRotationEvent, ComplianceKeyRotationEvent)."""
    dual_attestation.rotate_base_url(ctx, sender, new_url)
    dual_attestation.rotate_compliance_public_key(ctx, sender, new_key)


@script_function("AccountAdministrationScripts", "rotate_authentication_key", 0, (A.VECTOR_U8,))
def rotate_authentication_key(ctx: Context, sender: Signer, ty_args: tuple[StructTag, ...], new_key: bytes) -> None:
    """Any account replaces its own authentication key (2305 if its capability is extracted, 2055 if not 32 bytes)."""
    account.rotate_authentication_key(ctx, sender, new_key)


@script_function("AccountAdministrationScripts", "rotate_authentication_key_with_nonce", 0, (A.U64, A.VECTOR_U8))
def rotate_authentication_key_with_nonce(
    ctx: Context, sender: Signer, ty_args: tuple[StructTag, ...], nonce: int, new_key: bytes
) -> None:
    """As rotate_authentication_key, after recording a sliding nonce (accounts that hold one: TC, Diem root)."""
    sliding_nonce.record_nonce_or_abort(ctx, sender, nonce)
    account.rotate_authentication_key(ctx, sender, new_key)


@script_function("AccountAdministrationScripts", "create_recovery_address", 0, ())
def create_recovery_address(ctx: Context, sender: Signer, ty_args: tuple[StructTag, ...]) -> None:
    """A VASP account becomes a recovery address (it gives up rotating its key the plain way)."""
    recovery_address.publish(ctx, sender)


@script_function("AccountAdministrationScripts", "add_recovery_rotation_capability", 0, (A.ADDRESS,))
def add_recovery_rotation_capability(ctx: Context, sender: Signer, ty_args: tuple[StructTag, ...],
                                     recovery: bytes) -> None:
    """Delegate the sender's key rotation to a recovery address of the same VASP."""
    recovery_address.add_rotation_capability(ctx, sender, recovery)


@script_function("AccountAdministrationScripts", "rotate_authentication_key_with_recovery_address", 0,
                 (A.ADDRESS, A.ADDRESS, A.VECTOR_U8))
def rotate_authentication_key_with_recovery_address(
    ctx: Context, sender: Signer, ty_args: tuple[StructTag, ...], recovery: bytes, to_recover: bytes, new_key: bytes
) -> None:
    """Replace a lost key: the recovery account (or the account itself) rotates to_recover's key."""
    recovery_address.rotate_authentication_key(ctx, sender, recovery, to_recover, new_key)


@script_function("AccountAdministrationScripts", "add_currency_to_account", 1, ())
def add_currency_to_account(ctx: Context, sender: Signer, ty_args: tuple[StructTag, ...]) -> None:
    """Publish a zero balance in ty_args[0] for the sender."""
    account.add_currency(ctx, sender, ty_args[0])


@script_function("TreasuryComplianceScripts", "add_diem_id_domain", 0, (A.ADDRESS, A.VECTOR_U8))
def add_diem_id_domain(ctx: Context, tc: Signer, ty_args: tuple[StructTag, ...], address: bytes, domain: bytes) -> None:
    """TC adds a Diem-ID domain to a parent VASP."""
    diem_id.add_diem_id_domain(ctx, tc, address, domain)


@script_function("TreasuryComplianceScripts", "remove_diem_id_domain", 0, (A.ADDRESS, A.VECTOR_U8))
def remove_diem_id_domain(
    ctx: Context, tc: Signer, ty_args: tuple[StructTag, ...], address: bytes, domain: bytes
) -> None:
    """TC removes a Diem-ID domain from a parent VASP."""
    diem_id.remove_diem_id_domain(ctx, tc, address, domain)
