"""Event proofs: one event, where it was emitted, and the proofs from a ledger accumulator root down to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contracts.state.accumulator import MerkleAccumulator
from contracts.state.accumulator_proof import AccumulatorProof, verify_inclusion
from contracts.state.hashes import EVENT_ACCUMULATOR_SALT, compute_event_hashes
from contracts.state.ledger_proof import TransactionInfoWithProof
from contracts.state.node_store import InMemoryAccumulatorStore
from contracts.state.transaction_info import TransactionInfo
from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError
from primitives.types.events import ContractEvent

# A transaction emits at most this many events in a proof we decode (the event accumulator's width).
EVENT_COUNT_MAX = 2**32


@dataclass(frozen=True, slots=True)
class EventWithProof:
    """One event, where it was emitted, and the proofs from a ledger accumulator root down to it."""

    transaction_version: int
    event_index: int
    event_count: int
    event: ContractEvent
    ledger_info_to_transaction_info_proof: AccumulatorProof
    transaction_info: TransactionInfo
    transaction_info_to_event_proof: AccumulatorProof

    def verify(self, accumulator_root: bytes, ledger_version: int) -> bool:
        """Return whether the event is event_index of the transaction at transaction_version under the root."""
        info = TransactionInfoWithProof(self.ledger_info_to_transaction_info_proof, self.transaction_info)
        if not info.verify(accumulator_root, self.transaction_version, ledger_version):
            return False
        leaf = compute_event_hashes((self.event,))[0]
        return verify_inclusion(self.transaction_info.event_root_hash, leaf, self.event_index, self.event_count,
                                self.transaction_info_to_event_proof, EVENT_ACCUMULATOR_SALT)

    def serialize(self, serializer: Serializer) -> None:
        """Write BCS: three u64, the event, accumulator proof, transaction info, event accumulator proof."""
        serializer.u64(self.transaction_version)
        serializer.u64(self.event_index)
        serializer.u64(self.event_count)
        self.event.serialize(serializer)
        self.ledger_info_to_transaction_info_proof.serialize(serializer)
        self.transaction_info.serialize(serializer)
        self.transaction_info_to_event_proof.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> EventWithProof:
        """Read a value written by serialize."""
        version, index, count = deserializer.u64(), deserializer.u64(), deserializer.u64()
        if count > EVENT_COUNT_MAX:
            raise DecodeError(f"event count {count} exceeds {EVENT_COUNT_MAX}")
        event = ContractEvent.deserialize(deserializer)
        accumulator_proof = AccumulatorProof.deserialize(deserializer)
        info = TransactionInfo.deserialize(deserializer)
        return cls(version, index, count, event, accumulator_proof, info, AccumulatorProof.deserialize(deserializer))

    def to_bcs(self) -> bytes:
        """Return the BCS bytes."""
        serializer = Serializer()
        self.serialize(serializer)
        return serializer.output()

    @classmethod
    def from_bcs(cls, data: bytes) -> EventWithProof:
        """Decode, raising DecodeError on malformed bytes."""
        deserializer = Deserializer(data)
        value = cls.deserialize(deserializer)
        deserializer.finish()
        return value


def compute_event_proof(events: Sequence[ContractEvent], index: int) -> AccumulatorProof:
    """Return the inclusion proof of events[index] in the transaction's event accumulator."""
    accumulator = MerkleAccumulator(InMemoryAccumulatorStore(), 0, EVENT_ACCUMULATOR_SALT)
    accumulator.append(compute_event_hashes(tuple(events)))
    return accumulator.get_proof(index)
