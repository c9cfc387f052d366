"""Off-chain API v2 objects (DIP-1, DIP-10): error codes, and strict parsing of JSON into checked objects.

Objects stay JSON-shaped (dicts with `null` fields dropped) because that is what is signed, stored and
compared field by field; the schema below is the one place that says which fields exist, which are
required, which values are allowed, and which may only be written once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
DESCRIPTION_LENGTH_MAX = 255
ACTOR_ADDRESS_LENGTH_MAX = 80


class ErrorType(str, Enum):
    """Protocol errors are retried later; command errors mean the command can never apply."""

    PROTOCOL = "protocol_error"
    COMMAND = "command_error"


class ErrorCode(str, Enum):
    """The DIP-1 / DIP-10 error codes, as the SDK spells them on the wire."""

    MISSING_HTTP_HEADER = "missing_http_header"
    INVALID_HTTP_HEADER = "invalid_http_header"
    INVALID_JWS = "invalid_jws"
    INVALID_JWS_SIGNATURE = "invalid_jws_signature"
    INVALID_JSON = "invalid_json"
    INVALID_OBJECT = "invalid_object"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_FIELD_VALUE = "invalid_field_value"
    UNKNOWN_COMMAND_TYPE = "unknown_command_type"
    UNKNOWN_ADDRESS = "unknown_address"
    UNSUPPORTED_CURRENCY = "unsupported_currency"
    NO_KYC_NEEDED = "no_kyc_needed"
    INVALID_RECIPIENT_SIGNATURE = "invalid_recipient_signature"
    INVALID_COMMAND_PRODUCER = "invalid_command_producer"
    INVALID_OVERWRITE = "invalid_overwrite"
    INVALID_TRANSITION = "invalid_transition"
    INVALID_INITIAL_OR_PRIOR_NOT_FOUND = "invalid_initial_or_prior_not_found"
    CONFLICT = "conflict"
    DUPLICATE_REFERENCE_ID = "duplicate_reference_id"
    INVALID_RECEIVER = "invalid_receiver"


class OffchainError(Exception):
    """An off-chain error to answer (or that the counterparty answered): type, code, field, message."""

    def __init__(self, error_type: ErrorType, code: ErrorCode, message: str, field_path: str | None = None) -> None:
        super().__init__(message)
        self.type = error_type
        self.code = code
        self.field = field_path
        self.message = message

    def to_json(self) -> dict[str, Any]:
        """Return the OffChainErrorObject."""
        body: dict[str, Any] = {"type": self.type.value, "code": self.code.value, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


def get_response_error(response: dict[str, Any]) -> OffchainError | None:
    """Return the error of a failure CommandResponseObject (None for success)."""
    if response.get("status") == "success":
        return None
    error = response.get("error") if isinstance(response.get("error"), dict) else {}
    error_type = ErrorType.COMMAND if error.get("type") == ErrorType.COMMAND.value else ErrorType.PROTOCOL
    try:
        code = ErrorCode(error.get("code"))
    except ValueError:
        code = ErrorCode.INVALID_OBJECT
    return OffchainError(error_type, code, str(error.get("message", "")), error.get("field"))


def protocol_error(code: ErrorCode, message: str, field_path: str | None = None) -> OffchainError:
    """Return a protocol_error."""
    return OffchainError(ErrorType.PROTOCOL, code, message, field_path)


def command_error(code: ErrorCode, message: str, field_path: str | None = None) -> OffchainError:
    """Return a command_error."""
    return OffchainError(ErrorType.COMMAND, code, message, field_path)


@dataclass(frozen=True)
class Field:
    """One field of a schema: its JSON kind, whether it is required, and its allowed values."""

    kind: Any  # str, int, list (of str), or a nested schema dict
    required: bool = False
    values: frozenset[Any] | re.Pattern[str] | None = None
    write_once: bool = False
    immutable: bool = False
    length_max: int | None = None
    defaults: dict[str, Any] = field(default_factory=dict)


Schema = dict[str, Field]

ADDRESS: Schema = {name: Field(str) for name in ("city", "country", "line1", "line2", "postal_code", "state")}
NATIONAL_ID: Schema = {"id_value": Field(str, required=True), "country": Field(str), "type": Field(str)}
KYC_DATA: Schema = {
    "type": Field(str, required=True, values=frozenset({"individual", "entity"})),
    "payload_version": Field(int, required=True, values=frozenset({1})),
    "given_name": Field(str), "surname": Field(str), "address": Field(ADDRESS), "dob": Field(str),
    "place_of_birth": Field(ADDRESS), "national_id": Field(NATIONAL_ID), "legal_entity_name": Field(str),
}
STATUSES = frozenset({"none", "needs_kyc_data", "ready_for_settlement", "abort", "soft_match"})
STATUS: Schema = {
    "status": Field(str, required=True, values=STATUSES),
    "abort_code": Field(str), "abort_message": Field(str),
}
ACTOR: Schema = {
    "address": Field(str, required=True, write_once=True, length_max=ACTOR_ADDRESS_LENGTH_MAX),
    "status": Field(STATUS, required=True),
    "kyc_data": Field(KYC_DATA, write_once=True),
    "metadata": Field(list),
    "additional_kyc_data": Field(str, write_once=True),
}
ACTION: Schema = {
    "amount": Field(int, required=True), "currency": Field(str, required=True),
    "action": Field(str, required=True, values=frozenset({"charge"})), "timestamp": Field(int, required=True),
}
PAYMENT: Schema = {
    "reference_id": Field(str, required=True, values=UUID_PATTERN),
    "sender": Field(ACTOR, required=True),
    "receiver": Field(ACTOR, required=True),
    "action": Field(ACTION, required=True, write_once=True),
    "original_payment_reference_id": Field(str, values=UUID_PATTERN, immutable=True),
    "recipient_signature": Field(str, write_once=True),
    "description": Field(str, write_once=True, length_max=DESCRIPTION_LENGTH_MAX),
}
PAYMENT_COMMAND: Schema = {
    "_ObjectType": Field(str, required=True, values=frozenset({"PaymentCommand"})),
    "payment": Field(PAYMENT, required=True),
}
REFERENCE_ID_COMMAND: Schema = {
    "_ObjectType": Field(str, required=True, values=frozenset({"ReferenceIDCommand"})),
    "sender": Field(str, required=True), "sender_address": Field(str, required=True),
    "receiver": Field(str, required=True), "reference_id": Field(str, required=True, values=UUID_PATTERN),
}
PING_COMMAND: Schema = {"_ObjectType": Field(str, required=True, values=frozenset({"PingCommand"}))}
REQUEST: Schema = {
    "_ObjectType": Field(str, required=True, values=frozenset({"CommandRequestObject"})),
    "cid": Field(str, required=True, values=UUID_PATTERN),
    "command_type": Field(str, required=True),
    "command": Field(dict, required=True),
}
ERROR_OBJECT: Schema = {
    "type": Field(str, required=True, values=frozenset(kind.value for kind in ErrorType)),
    "code": Field(str, required=True), "field": Field(str), "message": Field(str),
}
RESPONSE: Schema = {
    "_ObjectType": Field(str, required=True, values=frozenset({"CommandResponseObject"})),
    "status": Field(str, required=True, values=frozenset({"success", "failure"})),
    "error": Field(ERROR_OBJECT), "cid": Field(str), "result": Field(dict),
}


def join_path(path: str, name: str) -> str:
    """Return path.name (or name at the root)."""
    return f"{path}.{name}" if path else name


def parse_object(value: Any, schema: Schema, path: str, invalid_object: bool = False) -> dict[str, Any]:
    """Check value against schema and return it with null fields dropped; FieldProblem names the field."""
    if not isinstance(value, dict):
        code = ErrorCode.INVALID_OBJECT if invalid_object else ErrorCode.INVALID_FIELD_VALUE
        raise FieldProblem(code, path, f"{path or 'the body'} must be a JSON object")
    parsed: dict[str, Any] = {}
    for name, spec in schema.items():
        checked = parse_field(value.get(name), spec, join_path(path, name))
        if checked is not None:
            parsed[name] = checked
    unknown = sorted(set(value) - set(schema))
    if unknown:
        raise FieldProblem(ErrorCode.UNKNOWN_FIELD, join_path(path, unknown[0]), f"unknown field {unknown[0]!r}")
    return parsed


def parse_field(value: Any, spec: Field, path: str) -> Any:
    """Check one field's value (None when absent and optional)."""
    if value is None:
        if spec.required:
            raise FieldProblem(ErrorCode.MISSING_FIELD, path, f"missing field: {path}")
        return None
    if isinstance(spec.kind, dict):
        return parse_object(value, spec.kind, path)
    if not is_of_kind(value, spec.kind):
        raise FieldProblem(ErrorCode.INVALID_FIELD_VALUE, path, f"{path} must be a {spec.kind.__name__}")
    if spec.kind is list and not all(isinstance(item, str) for item in value):
        raise FieldProblem(ErrorCode.INVALID_FIELD_VALUE, path, f"{path} must be a list of strings")
    if not is_allowed(value, spec):
        raise FieldProblem(ErrorCode.INVALID_FIELD_VALUE, path, f"{path} has an invalid value: {value!r}")
    return value


def is_of_kind(value: Any, kind: type) -> bool:
    """Return True iff value has the JSON kind (a bool is not an int here)."""
    if kind is int:
        return type(value) is int and value >= 0
    return isinstance(value, kind)


def is_allowed(value: Any, spec: Field) -> bool:
    """Return True iff value is among the allowed values and within the length limit."""
    if spec.length_max is not None and len(value) > spec.length_max:
        return False
    if isinstance(spec.values, re.Pattern):
        return bool(spec.values.match(value))
    return spec.values is None or value in spec.values


class FieldProblem(ValueError):
    """A field-level schema violation, turned into a protocol or command error by the caller."""

    def __init__(self, code: ErrorCode, path: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.path = path

    def as_error(self, error_type: ErrorType) -> OffchainError:
        """Return the off-chain error of this problem with the given type."""
        return OffchainError(error_type, self.code, str(self), self.path or None)


def find_overwrite(new: dict[str, Any], prior: dict[str, Any], schema: Schema, path: str) -> str | None:
    """Return the first write-once or immutable field that new changes relative to prior, or None."""
    for name, spec in schema.items():
        new_value, prior_value = new.get(name), prior.get(name)
        here = join_path(path, name)
        if spec.immutable and new_value != prior_value:
            return here
        if spec.write_once and prior_value is not None and new_value != prior_value:
            return here
        if isinstance(spec.kind, dict) and isinstance(new_value, dict) and isinstance(prior_value, dict):
            nested = find_overwrite(new_value, prior_value, spec.kind, here)
            if nested:
                return nested
    return None
