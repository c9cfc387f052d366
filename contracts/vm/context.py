"""The per-transaction session: journaled overlay, storage operators, events, linear-value tracking."""

from __future__ import annotations

import struct as _struct
from typing import Any, NamedTuple

from contracts.vm.errors import LinearityError
from contracts.vm.gas import GasMeter, OutOfGas
from contracts.vm.storage import BlockState, ResourceKey
from contracts.vm.structs import KEY, STORE, Module, ResourceType, Signer, Struct, struct, vm_signer
from contracts.vm.values import ADDRESS, BYTES, U64
from primitives.types.type_tags import StructTag

EVENT_MODULE = Module("Event")
_EW = EVENT_MODULE.claim()
_MISSING = object()
_COUNTER = _struct.Struct("<Q")
MICROS_PER_SECOND = 1_000_000


class ExecutionFailure(Exception):
    """A runtime error that is not an abort (missing resource, arithmetic, resource safety)."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location


@struct(EVENT_MODULE, KEY)
class EventHandleGenerator(Struct):
    """Per-account counter from which event keys are derived (Event.move)."""

    __slots__ = ()
    FIELDS = (("counter", U64), ("addr", ADDRESS))


@struct(EVENT_MODULE, STORE)
class EventHandle(Struct):
    """An event stream: `guid` is the 24-byte event key, `counter` the next sequence number."""

    __slots__ = ()
    FIELDS = (("counter", U64), ("guid", BYTES))


class Event(NamedTuple):
    """An emitted event: key, per-stream sequence number, Move type and BCS data (a tuple: cheap to make)."""

    key: bytes
    sequence_number: int
    type_tag: StructTag
    data: bytes


class Context:
    """One transaction's view of the ledger; its writes are discarded unless the executor commits them."""

    __slots__ = ("block", "sender", "meter", "now_us", "writes", "events", "live")

    def __init__(self, block: BlockState, sender: bytes, meter: GasMeter, now_us: int) -> None:
        self.block = block
        self.sender = sender
        self.meter = meter
        self.now_us = now_us
        self.writes: dict[ResourceKey, Any] = {}
        self.events: list[Event] = []
        self.live: dict[int, Any] = {}

    # ------------------------------------------------------------------ time
    def now_microseconds(self) -> int:
        """Return the block timestamp in microseconds."""
        return self.now_us

    def now_seconds(self) -> int:
        """Return the block timestamp in whole seconds."""
        return self.now_us // MICROS_PER_SECOND

    # --------------------------------------------------------------- storage
    def _read(self, key: ResourceKey) -> Any:
        value = self.writes.get(key, _MISSING)
        if value is _MISSING:
            meter = self.meter
            meter.used += meter.schedule.resource_read_units
            if meter.used > meter.limit:
                raise OutOfGas(f"used {meter.used} > limit {meter.limit}")
            value = self.block.values.get(key, _MISSING)
            if value is _MISSING:
                value = self.block.read(key)
        return value

    def exists(self, rtype: ResourceType, address: bytes) -> bool:
        """Return True iff a value of rtype is published at address."""
        return self.get(rtype, address) is not None

    def get(self, rtype: ResourceType, address: bytes) -> Any:
        """Return a read-only view of the value, or None (the hot path: _read inlined)."""
        key = (address, rtype)
        value = self.writes.get(key, _MISSING)
        if value is _MISSING:
            meter = self.meter
            meter.used += meter.schedule.resource_read_units
            if meter.used > meter.limit:
                raise OutOfGas(f"used {meter.used} > limit {meter.limit}")
            value = self.block.values.get(key, _MISSING)
            if value is _MISSING:
                value = self.block.read(key)
        return value

    def borrow(self, rtype: ResourceType, address: bytes) -> Any:
        """Return a read-only view of the value; missing data is an execution failure."""
        value = self._read((address, rtype))
        if value is None:
            raise ExecutionFailure(rtype.module.location, f"missing {rtype.struct_tag} at {address.hex()}")
        return value

    def borrow_mut(self, witness: object, rtype: ResourceType, address: bytes) -> Any:
        """Return a mutable private copy of the value in this transaction's overlay (owner module only)."""
        if witness is not rtype.module._witness:
            raise LinearityError(f"borrow_mut of {rtype.struct_tag} outside its module")
        key = (address, rtype)
        value = self.writes.get(key, _MISSING)
        if value is _MISSING or (value is not None and value._frozen):
            base = self._read(key) if value is _MISSING else value
            if base is None:
                raise ExecutionFailure(rtype.module.location, f"missing {rtype.struct_tag} at {address.hex()}")
            self.meter.charge(self.meter.schedule.resource_write_units)
            value = self.writes[key] = base.clone()
        elif value is None:
            raise ExecutionFailure(rtype.module.location, f"missing {rtype.struct_tag} at {address.hex()}")
        return value

    def move_to(self, witness: object, signer: Signer, value: Struct) -> None:
        """Publish value under the signer's address (owner module only; fails if already present)."""
        rtype = value._type
        if rtype is None or witness is not rtype.module._witness:
            raise LinearityError(f"move_to of {type(value).__name__} outside its module")
        if not rtype.cls.ABILITIES & KEY:
            raise LinearityError(f"{rtype.struct_tag} lacks the key ability")
        if type(signer) is not Signer:
            raise LinearityError("move_to needs a signer")
        key = (signer.address, rtype)
        if self._read(key) is not None:
            raise ExecutionFailure(rtype.module.location, f"{rtype.struct_tag} already published")
        self.meter.charge(self.meter.schedule.resource_write_units)
        self.writes[key] = value

    def move_to_address(self, witness: object, address: bytes, value: Struct) -> None:
        """Publish value at an address whose signer the module does not hold (framework modules only)."""
        self.move_to(witness, vm_signer(address), value)

    def move_from(self, witness: object, rtype: ResourceType, address: bytes) -> Any:
        """Remove and return the value (owner module only)."""
        if witness is not rtype.module._witness:
            raise LinearityError(f"move_from of {rtype.struct_tag} outside its module")
        key = (address, rtype)
        value = self._read(key)
        if value is None:
            raise ExecutionFailure(rtype.module.location, f"missing {rtype.struct_tag} at {address.hex()}")
        self.meter.charge(self.meter.schedule.resource_write_units)
        self.writes[key] = None
        return value.clone() if value._frozen else value

    # ---------------------------------------------------------------- events
    def new_event_handle(self, signer: Signer) -> EventHandle:
        """Return a fresh handle whose key is the account's generator counter (8 bytes LE) || address."""
        address = signer.address
        rtype = EventHandleGenerator.rtype()
        if self._read((address, rtype)) is None:
            self.move_to(_EW, signer, EventHandleGenerator(_EW, 0, address))
        generator = self.borrow_mut(_EW, rtype, address)
        guid = _COUNTER.pack(generator.counter) + address
        generator.counter += 1
        return EventHandle(_EW, 0, guid)

    def emit(self, handle: EventHandle, type_tag: StructTag, data: bytes) -> None:
        """Append an event to the handle's stream (the handle must be held mutably)."""
        if handle._frozen:
            raise LinearityError("emit through a read-only event handle")
        schedule = self.meter.schedule
        self.meter.charge(schedule.event_units + schedule.event_per_byte_units * len(data))
        self.events.append(Event(handle.guid, handle.counter, type_tag, data))
        handle.counter += 1

    def charge(self, units: int) -> None:
        """Charge extra gas units."""
        self.meter.charge(units)

    # -------------------------------------------------------- linear values
    def track(self, value: Any) -> None:
        """Register a newly created linear value (it must be consumed before the transaction ends)."""
        self.live[id(value)] = value

    def consume(self, value: Any) -> None:
        """Mark a linear value as moved; a second use raises."""
        if self.live.pop(id(value), None) is None:
            raise LinearityError(f"use of moved or foreign {type(value).__name__}")

    def finish(self) -> tuple[dict[ResourceKey, Any], dict[ResourceKey, bytes | None]]:
        """Check no linear value leaked; freeze and encode the overlay's writes for commit."""
        if self.live:
            leaked = next(iter(self.live.values()))
            raise LinearityError(f"transaction ended holding a live {type(leaked).__name__}")
        encoded: dict[ResourceKey, bytes | None] = {}
        for key, value in self.writes.items():
            if value is None:
                encoded[key] = None
            else:
                value.freeze()
                out = bytearray()
                value.encode_into(out)
                encoded[key] = bytes(out)
        return self.writes, encoded
