"""PaymentScripts: peer_to_peer_with_metadata."""

from __future__ import annotations

from contracts.framework import account
from contracts.scripts import ArgType, script_function
from contracts.vm.context import Context
from contracts.vm.structs import Signer
from primitives.types.type_tags import StructTag

A = ArgType


@script_function("PaymentScripts", "peer_to_peer_with_metadata", 1, (A.ADDRESS, A.U64, A.VECTOR_U8, A.VECTOR_U8))
def peer_to_peer_with_metadata(
    ctx: Context, payer: Signer, ty_args: tuple[StructTag, ...], payee: bytes, amount: int, metadata: bytes,
    metadata_signature: bytes,
) -> None:
    """Pay amount of ty_args[0] from the sender to payee, metadata copied into both events."""
    account.pay_from(ctx, payer, payee, ty_args[0], amount, metadata, metadata_signature)
