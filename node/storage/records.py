"""The typed values the store writes and returns; their bytes stay opaque to storage."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """A committed transaction with its info; sender and sequence are None for system txns."""

    version: int
    transaction: bytes
    info: bytes
    sender: bytes | None = None
    sequence_number: int | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event: its stream key and sequence, and where it was emitted."""

    event_key: bytes
    sequence_number: int
    version: int
    index: int
    event: bytes


@dataclass(frozen=True, slots=True)
class LedgerInfoRecord:
    """A certified ledger info (opaque bytes) with the version and epoch it covers."""

    version: int
    epoch: int
    ledger_info: bytes
    is_epoch_end: bool = False


@dataclass(frozen=True, slots=True)
class StateValueWrite:
    """A state value set (or deleted, when value is None) at a version."""

    state_key_hash: bytes
    version: int
    value: bytes | None


@dataclass(frozen=True, slots=True)
class BlockCommit:
    """Everything one committed block writes; the block's epoch is its certificate's epoch."""

    round_number: int
    block_id: bytes
    block: bytes
    quorum_cert: bytes
    commit_cert: bytes
    ledger_info: LedgerInfoRecord
    transactions: tuple[TransactionRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()
    state_nodes: tuple[tuple[bytes, bytes], ...] = ()
    accumulator_nodes: tuple[tuple[int, bytes], ...] = ()
    state_values: tuple[StateValueWrite, ...] = ()
    stale_state_nodes: tuple[bytes, ...] = ()  # tree nodes replaced at ledger_info.version (ADR 0018)
    # What each transaction wrote, in order, as its state change hash covers it (served by catch-up, ADR 0020).
    transaction_state_changes: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class BlockWriteSet:
    """What each transaction of one committed block wrote to the state (encoded state changes), and their versions."""

    first_version: int
    last_version: int
    state_changes: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class StoredBlock:
    """A committed block as read back: where it sits in the chain, its id and its bytes."""

    epoch: int
    round_number: int
    block_id: bytes
    block: bytes


class PrunedVersionError(LookupError):
    """A read or proof asked for history this node no longer keeps (pruned, or before its fast-sync snapshot)."""

    def __init__(self, version: int, oldest_version: int, what: str) -> None:
        super().__init__(f"{what} at version {version} is pruned: this node keeps {what} from version "
                         f"{oldest_version} on (ask an archive node)")
        self.version = version
        self.oldest_version = oldest_version
