"""Durable node storage on LevelDB, with an in-memory twin; keys come from schema.py."""

from node.storage.records import (
    BlockCommit,
    EventRecord,
    LedgerInfoRecord,
    StateValueWrite,
    StoredBlock,
    TransactionRecord,
)
from node.storage.store import LevelStore, MemoryStore, Store, StoreOpenError

__all__ = [
    "BlockCommit",
    "EventRecord",
    "LedgerInfoRecord",
    "LevelStore",
    "MemoryStore",
    "StateValueWrite",
    "Store",
    "StoreOpenError",
    "StoredBlock",
    "TransactionRecord",
]
