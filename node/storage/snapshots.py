"""Fast sync's write: a verified state snapshot becomes the store's committed base, in one synced batch (ADR 0018)."""

from __future__ import annotations

from dataclasses import dataclass

from node.storage import schema
from node.storage.batch import compute_block_puts, compute_state_puts
from node.storage.records import BlockCommit, LedgerInfoRecord, StateValueWrite
from node.storage.state_cache import LatestStateCache
from node.storage.store import Store
from primitives.errors import invariant


@dataclass(frozen=True, slots=True)
class SnapshotInstall:
    """Everything a verified snapshot at a certified version writes: the new base of the chain."""

    ledger_info: LedgerInfoRecord  # certified, signatures included
    round_number: int
    block_id: bytes
    block: bytes  # the certified block: consensus restarts from it
    state_nodes: tuple[tuple[bytes, bytes], ...]  # the tree rebuilt from the snapshot's leaves
    accumulator_nodes: tuple[tuple[int, bytes], ...]  # the frozen subtrees at the version
    state_values: tuple[StateValueWrite, ...]  # every value at the version, and a tombstone for every other key
    leader_history: tuple[tuple[bytes, bytes], ...] = ()  # (key, record) of the epoch's recent rounds
    transaction_info: bytes = b""  # the version's TransactionInfo: its state root proves the snapshot to wallets


def install_snapshot(store: Store, install: SnapshotInstall) -> None:
    """Write a snapshot as the last committed state; history before its version is then absent (pruned)."""
    version = install.ledger_info.version
    latest = store.get_latest_version()
    invariant(latest is None or latest < version, f"a snapshot at {version} cannot go below the ledger ({latest})")
    commit = BlockCommit(install.round_number, install.block_id, install.block, b"", install.ledger_info.ledger_info,
                         install.ledger_info, state_nodes=install.state_nodes,
                         accumulator_nodes=install.accumulator_nodes, state_values=install.state_values)
    puts = compute_block_puts(commit) + compute_state_puts(commit) + list(install.leader_history)
    puts.append((schema.transaction_info_key(version), install.transaction_info))
    puts += [
        (schema.META_LATEST_VERSION_KEY, schema.encode_u64(version)),
        (schema.META_LATEST_BLOCK_KEY, schema.encode_epoch_round(install.ledger_info.epoch, install.round_number)),
        (schema.META_OLDEST_LEDGER_VERSION_KEY, schema.encode_u64(version)),
        (schema.META_OLDEST_STATE_VERSION_KEY, schema.encode_u64(version)),
    ]
    # Uncommitted blocks seen while syncing hang below no root the node knows any more.
    store.records.flush()  # staged ones too: written first, then deleted with the others
    deletes = [key for key, _ in store.backend.scan(schema.PENDING_BLOCK_PREFIX, schema.PENDING_BLOCK_PREFIX, False)]
    store.backend.write(puts, deletes, sync=True)
    store.oldest_ledger_version = version
    store.oldest_state_version = version
    store.state_cache = LatestStateCache(version)
