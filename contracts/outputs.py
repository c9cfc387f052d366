"""What executing a block returns: per-transaction outputs, the block's write set and its ledger update."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from contracts.state import TransactionInfo
from contracts.vm.context import Event
from contracts.vm.status import StatusCode, VMStatus
from primitives.errors import InvariantViolation
from primitives.types.events import ContractEvent, EventKey
from primitives.types.type_tags import StructTag, TypeTag


class TransactionOutput:
    """Result of one transaction; discarded ones carry their validation status and change nothing."""

    __slots__ = ("keep", "status", "discard_status", "gas_used", "runtime_events", "write_set", "_events")

    def __init__(self, keep: bool, status: VMStatus | None, discard_status: StatusCode | None, gas_used: int,
                 runtime_events: tuple[Event, ...], write_set: dict[bytes, bytes | None]) -> None:
        self.keep = keep
        self.status = status
        self.discard_status = discard_status
        self.gas_used = gas_used
        self.runtime_events = runtime_events
        self.write_set = write_set
        self._events: tuple[ContractEvent, ...] | None = None

    @property
    def events(self) -> tuple[ContractEvent, ...]:
        """The events as primitives ContractEvents (converted on first use)."""
        if self._events is None:
            self._events = to_contract_events(self.runtime_events)
        return self._events

    def __repr__(self) -> str:
        return (f"TransactionOutput(keep={self.keep}, status={self.status}, discard_status={self.discard_status}, "
                f"gas_used={self.gas_used}, events={len(self.runtime_events)})")


@dataclass(frozen=True, slots=True)
class LedgerUpdate:
    """What a block adds to the ledger trees: infos of kept transactions, the new roots, and the nodes to store."""

    infos: tuple[TransactionInfo, ...]
    last_version: int
    state_root: bytes
    accumulator_root: bytes
    state_nodes: dict[bytes, bytes]
    accumulator_leaves: int
    accumulator_nodes: dict[int, bytes]
    stale_state_nodes: tuple[bytes, ...] = ()  # old tree nodes this block's version replaced (for pruning)


@dataclass(frozen=True, slots=True)
class BlockOutput:
    """Outputs in order (block metadata first), the merged write set and, executed on ledger trees, their update."""

    transactions: tuple[TransactionOutput, ...]
    write_set: dict[bytes, bytes | None]
    ledger_update: LedgerUpdate | None = None

    def get_ledger_update(self) -> LedgerUpdate:
        """Return the ledger update of a block executed on ledger trees (asking it of any other is a bug)."""
        if self.ledger_update is None:
            raise InvariantViolation("the block was executed without ledger trees: it has no ledger update")
        return self.ledger_update


@lru_cache(maxsize=1024)
def _type_tag(tag: StructTag) -> TypeTag:
    return TypeTag.struct_of(tag)


def to_contract_events(events: tuple[Event, ...] | list[Event]) -> tuple[ContractEvent, ...]:
    """Convert runtime events to primitives ContractEvents."""
    return tuple(ContractEvent(EventKey(e.key), e.sequence_number, _type_tag(e.type_tag), e.data) for e in events)


# Diem's Retry: a transaction after a NewEpochEvent in its block is neither executed, kept nor discarded with a
# status (keep=False, discard_status=None); the node returns it to the mempool for the next epoch.
RETRY = TransactionOutput(False, None, None, 0, (), {})


def is_retry(output: TransactionOutput) -> bool:
    """Return True iff the transaction was not executed because the epoch ended earlier in its block."""
    return not output.keep and output.discard_status is None
