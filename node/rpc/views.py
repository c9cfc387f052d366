"""Diem JSON views of transactions, scripts and VM statuses (diem-compat §1.5), key order as Diem's."""

from __future__ import annotations

from collections.abc import Callable

from contracts.vm.errors import Explanation
from contracts.vm.status import VMStatus
from node.rpc.jsonrpc import JsonObject
from primitives.hashing import ZERO_HASH, sha3_256
from primitives.types.ledger_transactions import BlockMetadata, Transaction
from primitives.types.scripts import Script, ScriptFunction, TransactionArgument, TransactionArgumentKind
from primitives.types.transactions import (
    AccountAuthenticator,
    Ed25519Authenticator,
    MultiAgentAuthenticator,
    MultiEd25519Authenticator,
    SignedTransaction,
)
from primitives.types.type_tags import TypeTag, TypeTagKind

SCHEME_ED25519 = "Scheme::Ed25519"
SCHEME_MULTI_ED25519 = "Scheme::MultiEd25519"
PEER_TO_PEER_SCRIPT_NAME = "peer_to_peer_with_metadata"
UNKNOWN = "unknown"

# Given a legacy script's code, return its Diem name (None when unknown).
ScriptNameLookup = Callable[[bytes], "str | None"]

_PRIMITIVE_TYPE_NAMES = {
    TypeTagKind.BOOL: "Bool",
    TypeTagKind.U8: "U8",
    TypeTagKind.U64: "U64",
    TypeTagKind.U128: "U128",
    TypeTagKind.ADDRESS: "Address",
    TypeTagKind.SIGNER: "Signer",
}


def compute_type_argument_view(tag: TypeTag) -> str:
    """Render a type argument as Diem does: a struct by its module name, primitives by name."""
    if tag.kind == TypeTagKind.STRUCT:
        return tag.struct.module  # type: ignore[union-attr]
    if tag.kind == TypeTagKind.VECTOR:
        return f"Vector<{compute_type_argument_view(tag.vector_element)}>"  # type: ignore[arg-type]
    return _PRIMITIVE_TYPE_NAMES[tag.kind]


def compute_argument_view(argument: TransactionArgument) -> str:
    """Render a legacy script argument as Diem's debug string, e.g. `{U64: 12}`."""
    kind, value = argument.kind, argument.value
    if kind == TransactionArgumentKind.ADDRESS:
        return f"{{ADDRESS: {value.hex().upper()}}}"  # type: ignore[union-attr]
    if kind == TransactionArgumentKind.U8_VECTOR:
        return f"{{U8Vector: 0x{value.hex()}}}"  # type: ignore[union-attr]
    if kind == TransactionArgumentKind.BOOL:
        return f"{{BOOL: {'true' if value else 'false'}}}"
    return f"{{{kind.name}: {value}}}"


def compute_script_view(payload_value: object, get_script_name: ScriptNameLookup) -> JsonObject:
    """Return the `script` object of a user transaction for any payload kind."""
    if isinstance(payload_value, ScriptFunction):
        return {
            "type": "script_function",
            "type_arguments": [compute_type_argument_view(tag) for tag in payload_value.ty_args],
            "arguments_bcs": [argument.hex() for argument in payload_value.args],
            "module_address": payload_value.module.address.hex(),
            "module_name": payload_value.module.name,
            "function_name": payload_value.function,
        }
    if isinstance(payload_value, Script):
        return compute_legacy_script_view(payload_value, get_script_name(payload_value.code))
    return {"type": UNKNOWN}


def compute_legacy_script_view(script: Script, name: str | None) -> JsonObject:
    """Render a legacy Script; for peer_to_peer_with_metadata also the payment fields."""
    view: JsonObject = {
        "type": name or UNKNOWN,
        "code": script.code.hex(),
        "arguments": [compute_argument_view(argument) for argument in script.args],
        "type_arguments": [compute_type_argument_view(tag) for tag in script.ty_args],
    }
    if name == PEER_TO_PEER_SCRIPT_NAME and is_payment_shape(script):
        receiver, amount, metadata, signature = (argument.value for argument in script.args)
        view.update(
            receiver=receiver.hex(),  # type: ignore[union-attr]
            amount=amount,
            currency=view["type_arguments"][0],
            metadata=metadata.hex(),  # type: ignore[union-attr]
            metadata_signature=signature.hex(),  # type: ignore[union-attr]
        )
    return view


def is_payment_shape(script: Script) -> bool:
    """Return True iff a script's arguments have the peer-to-peer shape (address, u64, bytes, bytes)."""
    expected = (
        TransactionArgumentKind.ADDRESS,
        TransactionArgumentKind.U64,
        TransactionArgumentKind.U8_VECTOR,
        TransactionArgumentKind.U8_VECTOR,
    )
    return len(script.ty_args) == 1 and tuple(argument.kind for argument in script.args) == expected


def compute_script_hash_and_bytes(payload_value: object) -> tuple[str, str]:
    """Return (`script_hash`, `script_bytes`): sha3 of a Script's code, and the payload's inner BCS."""
    if isinstance(payload_value, Script):
        return sha3_256(payload_value.code).hex(), payload_value.to_bcs().hex()
    if isinstance(payload_value, ScriptFunction):
        return ZERO_HASH.hex(), payload_value.to_bcs().hex()
    return ZERO_HASH.hex(), ""


def compute_authenticator_fields(authenticator: object) -> JsonObject:
    """Return the signature fields of a user transaction, secondary lists included."""
    if isinstance(authenticator, MultiAgentAuthenticator):
        fields = _compute_single_signer_fields(authenticator.sender.value)
        secondary = [_compute_single_signer_fields(signer.value) for signer in authenticator.secondary_signers]
        fields.update(
            secondary_signers=[address.hex() for address in authenticator.secondary_signer_addresses],
            secondary_signature_schemes=[item["signature_scheme"] for item in secondary],
            secondary_signatures=[item["signature"] for item in secondary],
            secondary_public_keys=[item["public_key"] for item in secondary],
        )
        return fields
    fields = _compute_single_signer_fields(authenticator)
    fields.update(secondary_signers=[], secondary_signature_schemes=[], secondary_signatures=[], secondary_public_keys=[])
    return fields


def _compute_single_signer_fields(authenticator: object) -> JsonObject:
    if isinstance(authenticator, AccountAuthenticator):
        authenticator = authenticator.value
    if isinstance(authenticator, MultiEd25519Authenticator):
        scheme = SCHEME_MULTI_ED25519
    else:
        scheme = SCHEME_ED25519
    return {
        "signature_scheme": scheme,
        "signature": authenticator.signature.hex(),
        "public_key": authenticator.public_key.hex(),
    }


def compute_user_transaction_view(signed: SignedTransaction, get_script_name: ScriptNameLookup) -> JsonObject:
    """Return the `transaction` object of a user transaction, keys in Diem's order."""
    raw = signed.raw_txn
    payload_value = raw.payload.value
    script_hash, script_bytes = compute_script_hash_and_bytes(payload_value)
    signer_fields = compute_authenticator_fields(signed.authenticator.value)
    view: JsonObject = {"type": "user", "sender": raw.sender.hex()}
    view.update(
        (key, signer_fields[key])
        for key in ("signature_scheme", "signature", "public_key", "secondary_signers",
                    "secondary_signature_schemes", "secondary_signatures", "secondary_public_keys")
    )
    view.update(
        sequence_number=raw.sequence_number,
        chain_id=raw.chain_id.value,
        max_gas_amount=raw.max_gas_amount,
        gas_unit_price=raw.gas_unit_price,
        gas_currency=raw.gas_currency_code,
        expiration_timestamp_secs=raw.expiration_timestamp_secs,
        script_hash=script_hash,
        script_bytes=script_bytes,
        script=compute_script_view(payload_value, get_script_name),
    )
    return view


def compute_transaction_data_view(transaction: Transaction, get_script_name: ScriptNameLookup) -> JsonObject:
    """Return the `transaction` object for any kind of ledger transaction."""
    value = transaction.value
    if isinstance(value, SignedTransaction):
        return compute_user_transaction_view(value, get_script_name)
    if isinstance(value, BlockMetadata):
        return {"type": "blockmetadata", "timestamp_usecs": value.timestamp_usecs}
    return {"type": "writeset"}


def compute_vm_status_view(status: VMStatus) -> JsonObject:
    """Return the `vm_status` object of a committed transaction."""
    view: JsonObject = {"type": status.kind}
    if status.kind == "move_abort":
        view.update(location=status.location, abort_code=status.abort_code,
                    explanation=_compute_explanation_view(status.explanation))
    elif status.kind == "execution_failure":
        view.update(location=status.location, function_index=status.function_index,
                    code_offset=status.code_offset)
    return view


def _compute_explanation_view(explanation: Explanation | None) -> dict[str, str] | None:
    if explanation is None:
        return None
    return {
        "category": explanation.category,
        "category_description": explanation.category_description,
        "reason": explanation.reason,
        "reason_description": explanation.reason_description,
    }


def compute_transaction_view(
    version: int,
    transaction: Transaction,
    status: VMStatus,
    gas_used: int,
    events: list[JsonObject],
    get_script_name: ScriptNameLookup,
) -> JsonObject:
    """Return the full `Transaction` view; events are already rendered (empty unless asked for)."""
    return {
        "version": version,
        "transaction": compute_transaction_data_view(transaction, get_script_name),
        "hash": transaction.hash().hex(),
        "bytes": transaction.to_bcs().hex(),
        "events": events,
        "vm_status": compute_vm_status_view(status),
        "gas_used": gas_used,
    }
