"""Typed JSON-RPC results (diem-compat §1.5) as frozen dataclasses, parsed strictly from the node's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wallet.errors import InvalidServerResponse

_MISSING = object()


def _get(view: dict, name: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
    """Return view[name] checked against kind; absent or null gives default (or an error if required)."""
    value = view.get(name)
    if value is None:
        if default is _MISSING:
            raise InvalidServerResponse(f"field {name!r} missing from {sorted(view)}")
        return default
    if kind is int and (type(value) is not int or value < 0):
        raise InvalidServerResponse(f"field {name!r} must be a non-negative integer, got {value!r}")
    if not isinstance(value, kind) or (type(value) is bool and kind is not bool):
        raise InvalidServerResponse(f"field {name!r} has the wrong type: {value!r}")
    return value


def _as_dict(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidServerResponse(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _as_list(value: Any, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidServerResponse(f"{what} must be a JSON array, got {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount of micro-units of one currency."""

    amount: int
    currency: str

    @classmethod
    def from_json(cls, view: Any) -> Amount:
        view = _as_dict(view, "amount")
        return cls(_get(view, "amount", int), _get(view, "currency", str))


@dataclass(frozen=True, slots=True)
class Metadata:
    """get_metadata: the ledger version, its accumulator root and time, and the on-chain configs."""

    version: int
    accumulator_root_hash: str
    timestamp: int
    chain_id: int
    dual_attestation_limit: int | None = None
    diem_version: int | None = None
    module_publishing_allowed: bool | None = None
    script_hash_allow_list: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, view: Any) -> Metadata:
        view = _as_dict(view, "metadata")
        return cls(
            _get(view, "version", int), _get(view, "accumulator_root_hash", str), _get(view, "timestamp", int),
            _get(view, "chain_id", int), _get(view, "dual_attestation_limit", int, None),
            _get(view, "diem_version", int, None), _get(view, "module_publishing_allowed", bool, None),
            tuple(_get(view, "script_hash_allow_list", list, [])),
        )


@dataclass(frozen=True, slots=True)
class Currency:
    """get_currencies: one registered currency."""

    code: str
    scaling_factor: int
    fractional_part: int
    to_xdx_exchange_rate: float
    mint_events_key: str = ""
    burn_events_key: str = ""
    preburn_events_key: str = ""
    cancel_burn_events_key: str = ""
    exchange_rate_update_events_key: str = ""

    @classmethod
    def from_json(cls, view: Any) -> Currency:
        view = _as_dict(view, "currency")
        keys = [_get(view, name, str, "") for name in ("mint_events_key", "burn_events_key", "preburn_events_key",
                                                        "cancel_burn_events_key", "exchange_rate_update_events_key")]
        return cls(_get(view, "code", str), _get(view, "scaling_factor", int), _get(view, "fractional_part", int),
                   float(_get(view, "to_xdx_exchange_rate", (int, float))), *keys)


@dataclass(frozen=True, slots=True)
class AccountRole:
    """An account's role: its type and the role fields the wallet reads (the rest stays in raw)."""

    type: str
    parent_vasp_address: str | None = None
    human_name: str | None = None
    base_url: str | None = None
    compliance_key: str | None = None
    num_children: int | None = None
    diem_id_domains: tuple[str, ...] = ()
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, view: Any) -> AccountRole:
        view = _as_dict(view or {"type": "unknown"}, "role")
        return cls(
            _get(view, "type", str), _get(view, "parent_vasp_address", str, None), _get(view, "human_name", str, None),
            _get(view, "base_url", str, None), _get(view, "compliance_key", str, None),
            _get(view, "num_children", int, None), tuple(_get(view, "diem_id_domains", list, [])), view,
        )


@dataclass(frozen=True, slots=True)
class Account:
    """get_account: balances, sequence number, keys, event streams, role, read at `version`."""

    address: str
    balances: tuple[Amount, ...]
    sequence_number: int
    authentication_key: str
    sent_events_key: str
    received_events_key: str
    delegated_key_rotation_capability: bool
    delegated_withdrawal_capability: bool
    is_frozen: bool
    role: AccountRole
    version: int

    @classmethod
    def from_json(cls, view: Any) -> Account:
        view = _as_dict(view, "account")
        return cls(
            _get(view, "address", str), tuple(Amount.from_json(item) for item in _as_list(view.get("balances"), "balances")),
            _get(view, "sequence_number", int), _get(view, "authentication_key", str),
            _get(view, "sent_events_key", str), _get(view, "received_events_key", str),
            _get(view, "delegated_key_rotation_capability", bool, False),
            _get(view, "delegated_withdrawal_capability", bool, False), _get(view, "is_frozen", bool, False),
            AccountRole.from_json(view.get("role")), _get(view, "version", int, 0),
        )

    def get_balance(self, currency: str = "XUS") -> int:
        """Return the balance in micro-units of currency (0 when the account holds none)."""
        return next((item.amount for item in self.balances if item.currency == currency), 0)


@dataclass(frozen=True, slots=True)
class MoveAbortExplanation:
    """The named category and reason of a Move abort code."""

    category: str
    category_description: str
    reason: str
    reason_description: str


@dataclass(frozen=True, slots=True)
class VMStatus:
    """A committed transaction's status; only type "executed" is success."""

    type: str
    location: str | None = None
    abort_code: int | None = None
    explanation: MoveAbortExplanation | None = None

    @classmethod
    def from_json(cls, view: Any) -> VMStatus:
        view = _as_dict(view, "vm_status")
        raw = view.get("explanation")
        explanation = None
        if isinstance(raw, dict):
            explanation = MoveAbortExplanation(*(_get(raw, name, str, "") for name in (
                "category", "category_description", "reason", "reason_description")))
        return cls(_get(view, "type", str), _get(view, "location", str, None), _get(view, "abort_code", int, None),
                   explanation)

    def is_executed(self) -> bool:
        """Return True iff the transaction executed successfully."""
        return self.type == "executed"

    def describe(self) -> str:
        """Return a one-line summary such as "move_abort 1288 EINSUFFICIENT_BALANCE"."""
        parts = [self.type]
        if self.abort_code is not None:
            parts.append(str(self.abort_code))
        if self.explanation is not None and self.explanation.reason:
            parts.append(self.explanation.reason)
        if self.location:
            parts.append(f"at {self.location}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class EventData:
    """An event's decoded data: its type and the payment fields (the rest stays in raw)."""

    type: str
    amount: Amount | None = None
    sender: str | None = None
    receiver: str | None = None
    metadata: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, view: Any) -> EventData:
        view = _as_dict(view, "event data")
        amount = view.get("amount")
        return cls(_get(view, "type", str), None if amount is None else Amount.from_json(amount),
                   _get(view, "sender", str, None), _get(view, "receiver", str, None), _get(view, "metadata", str, None),
                   view)


@dataclass(frozen=True, slots=True)
class Event:
    """One event: its stream key, sequence number in that stream, transaction version and data."""

    key: str
    sequence_number: int
    transaction_version: int
    data: EventData

    @classmethod
    def from_json(cls, view: Any) -> Event:
        view = _as_dict(view, "event")
        return cls(_get(view, "key", str), _get(view, "sequence_number", int), _get(view, "transaction_version", int),
                   EventData.from_json(view.get("data") or {"type": "unknown"}))


@dataclass(frozen=True, slots=True)
class TransactionData:
    """The transaction itself: type ("user", "blockmetadata", "writeset") and, for user ones, its fields."""

    type: str
    sender: str | None = None
    sequence_number: int | None = None
    chain_id: int | None = None
    expiration_timestamp_secs: int | None = None
    gas_currency: str | None = None
    script: dict = field(default_factory=dict, compare=False)
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, view: Any) -> TransactionData:
        view = _as_dict(view, "transaction data")
        return cls(_get(view, "type", str), _get(view, "sender", str, None), _get(view, "sequence_number", int, None),
                   _get(view, "chain_id", int, None), _get(view, "expiration_timestamp_secs", int, None),
                   _get(view, "gas_currency", str, None), _get(view, "script", dict, {}), view)


@dataclass(frozen=True, slots=True)
class Transaction:
    """A committed transaction: version, data, hash, BCS bytes, events (when asked for), status, gas."""

    version: int
    transaction: TransactionData
    hash: str
    bytes: str
    events: tuple[Event, ...]
    vm_status: VMStatus
    gas_used: int

    @classmethod
    def from_json(cls, view: Any) -> Transaction:
        view = _as_dict(view, "transaction")
        return cls(
            _get(view, "version", int), TransactionData.from_json(view.get("transaction")), _get(view, "hash", str),
            _get(view, "bytes", str, ""), tuple(Event.from_json(item) for item in _as_list(view.get("events"), "events")),
            VMStatus.from_json(view.get("vm_status")), _get(view, "gas_used", int, 0),
        )
