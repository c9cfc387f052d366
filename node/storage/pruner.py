"""Pruning (ADR 0018): history older than the retention windows is deleted in bounded batches, in the background.

Three kinds of history, each with its own floor (the oldest version still readable, kept in the store's meta):
transactions, their infos, events and the blocks and certificates that carried them; state values superseded
before the state floor; and tree nodes that a version at or below the state floor replaced (the commit batch
lists them under STALE_STATE_NODE_PREFIX). The accumulator, epoch-ending ledger infos and the compliance indexes
are kept: the first two are small and prove everything after the floors, the indexes answer regulators.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.storage import schema
from node.storage.batch import unpack_record
from node.storage.store import Store
from primitives.certified.ledger_info import decode_ledger_info

# The shortest retention window honoured: a node serving fast sync keeps its snapshot versions for a while.
RETENTION_VERSIONS_MIN = 100
# State-value rows read per step of the sweep (it walks every key's versions, then starts again).
STATE_VALUE_ROWS_PER_STEP = 5_000
# A pass of the sweep walks every kept row, most of them above the floor: a new pass starts only once the floor
# moved by this fraction of the state window since the last one began, so the walks cost a few rows per version
# (back to back, they took a quarter of a validator's time in a soak) and superseded values stay below
# 1 + 1/SWEEP_WINDOW_DIVISOR windows.
SWEEP_WINDOW_DIVISOR = 2
STALE_NODES_PER_STEP = 20_000
# Ledger info, block, id index, quorum certificate, commit certificate, reputation record, write set.
BLOCK_KEYS = 7
BLOCK_KEYS_PER_STEP = 1_000 * BLOCK_KEYS
# Blocks of the last this many rounds are never pruned: a restart reads them back (RECOVERED_COMMITTED_BLOCKS)
# with their leader-reputation records (RECOVERED_HISTORY_ROUNDS).
ROUNDS_KEPT_MIN = 4_000


@dataclass(frozen=True, slots=True)
class PruneConfig:
    """How much history to keep (0: everything) and how much to delete per step."""

    ledger_retention_versions: int = 0
    state_retention_versions: int = 0
    batch_versions: int = 1_000
    rounds_kept_min: int = ROUNDS_KEPT_MIN
    retention_versions_min: int = RETENTION_VERSIONS_MIN


@dataclass(slots=True)
class PruneProgress:
    """What the pruner deleted so far, and where the state-value sweep stands."""

    ledger_versions: int = 0
    blocks: int = 0
    state_values: int = 0
    tree_nodes: int = 0
    sweep_cursor: bytes = schema.STATE_VALUE_PREFIX
    sweep_floor: int = -1  # the state floor when the running (or last) pass began; -1 before the first
    block_cursor: bytes = schema.LEDGER_INFO_PREFIX
    # Where the stale-node index still holds entries: scanning from its start again would step over every
    # deleted entry's tombstone until LevelDB compacts them away (5 % of a validator's time in a soak).
    tree_cursor: bytes = schema.STALE_STATE_NODE_PREFIX


def get_target_floor(store: Store, retention_versions: int, retention_versions_min: int) -> int:
    """Return the floor a retention window asks for now (0 when it keeps everything)."""
    latest = store.get_latest_version() or 0
    if retention_versions <= 0:
        return 0
    return max(0, latest + 1 - max(retention_versions, retention_versions_min))


def compute_ledger_deletes(store: Store, first: int, end: int) -> list[bytes]:
    """Return the keys of the transactions, their infos and index entries, and the events of versions [first, end)."""
    backend = store.backend
    deletes: list[bytes] = []
    for version in range(first, end):
        data = backend.get(schema.transaction_key(version))
        if data is not None:
            sender, sequence_number, _ = unpack_record(data)
            if sender is not None and sequence_number is not None:
                deletes.append(schema.account_transaction_key(sender, sequence_number))
        deletes += [schema.transaction_key(version), schema.transaction_info_key(version)]
        prefix = schema.event_by_version_prefix(version)
        for key, value in backend.scan(prefix, prefix, False):
            event_key, sequence_number, _ = unpack_record(value)
            deletes += [key, schema.event_by_key_key(event_key, sequence_number)]
    return deletes


def prune_ledger_step(store: Store, config: PruneConfig, progress: PruneProgress) -> int:
    """Delete up to batch_versions versions of transactions and events below the target floor; return how many."""
    first = store.oldest_ledger_version
    end = min(get_target_floor(store, config.ledger_retention_versions, config.retention_versions_min), first + config.batch_versions)
    if end <= first:
        return 0
    deletes = compute_ledger_deletes(store, first, end)
    store.oldest_ledger_version = end  # readers see "pruned" before the rows go
    store.backend.write([(schema.META_OLDEST_LEDGER_VERSION_KEY, schema.encode_u64(end))], deletes, sync=False)
    progress.ledger_versions += end - first
    return end - first


def prune_blocks_step(store: Store, config: PruneConfig, progress: PruneProgress) -> int:
    """Delete the blocks, certificates and ledger infos of versions below the ledger floor, except the last
    ROUNDS_KEPT_MIN rounds (a restart reads them back) and epoch-ending ledger infos; return how many blocks."""
    latest = store.get_latest_epoch_round() or (0, 0)
    deletes: list[bytes] = []
    cursor = progress.block_cursor
    for key, data in store.backend.scan(schema.LEDGER_INFO_PREFIX, cursor, False):
        version = schema.decode_u64(key[len(schema.LEDGER_INFO_PREFIX):])
        epoch, is_epoch_end, encoded = unpack_record(data)
        info = decode_ledger_info(encoded).ledger_info
        if version >= store.oldest_ledger_version or len(deletes) >= BLOCK_KEYS_PER_STEP or (
                epoch == latest[0] and info.round + config.rounds_kept_min > latest[1]):
            break
        cursor = schema.ledger_info_key(version + 1)
        if not is_epoch_end:  # epoch-change proofs link through it, and its block is the next epoch's parent
            deletes += [key, schema.block_key(epoch, info.round), schema.block_id_key(info.block_id),
                        schema.quorum_cert_key(epoch, info.round), schema.commit_cert_key(epoch, info.round),
                        schema.leader_history_key(epoch, info.round), schema.block_write_set_key(epoch, info.round)]
    progress.block_cursor = cursor
    if deletes:
        store.backend.write([], deletes, sync=False)
    progress.blocks += len(deletes) // BLOCK_KEYS
    return len(deletes) // BLOCK_KEYS


def prune_tree_step(store: Store, floor: int, progress: PruneProgress) -> int:
    """Delete tree nodes replaced at or below floor (no kept version reads them); return how many."""
    prefix = schema.STALE_STATE_NODE_PREFIX
    deletes: list[bytes] = []
    # Entries are keyed by the version that made them stale, and later commits only add higher versions:
    # everything before the cursor is gone.
    for key, _ in store.backend.scan(prefix, progress.tree_cursor, False):
        if schema.decode_u64(key[len(prefix):len(prefix) + schema.U64_LENGTH_BYTES]) > floor \
                or len(deletes) >= 2 * STALE_NODES_PER_STEP:
            break
        deletes += [key, schema.state_node_key(key[len(prefix) + schema.U64_LENGTH_BYTES:])]
    if deletes:
        store.backend.write([], deletes, sync=False)
        progress.tree_cursor = deletes[-2]
    progress.tree_nodes += len(deletes) // 2
    return len(deletes) // 2


def sweep_state_values_step(store: Store, floor: int, progress: PruneProgress, gap_versions: int = 1) -> int:
    """Walk the next rows of state values; delete each key's versions superseded at or below floor (a new pass
    only once floor is gap_versions past the last pass's)."""
    prefix = schema.STATE_VALUE_PREFIX
    if progress.sweep_cursor == prefix:
        if progress.sweep_floor >= 0 and floor < progress.sweep_floor + gap_versions:
            return 0
        progress.sweep_floor = floor
    key_length = len(prefix) + schema.STATE_KEY_HASH_LENGTH_BYTES
    deletes: list[bytes] = []
    group: list[bytes] = []  # the current state key's rows at or below the floor, oldest first
    current, rows, cursor = b"", 0, prefix
    for key, _ in store.backend.scan(prefix, progress.sweep_cursor, False):
        if key[:key_length] != current:
            deletes += group[:-1]  # the newest at or below the floor is what reads at the floor see
            group, current = [], key[:key_length]
            if rows >= STATE_VALUE_ROWS_PER_STEP:
                cursor = key
                break
        rows += 1
        if schema.decode_u64(key[key_length:]) <= floor:
            group.append(key)
    else:
        deletes += group[:-1]
    progress.sweep_cursor = cursor  # back to the start after the last key
    if deletes:
        store.backend.write([], deletes, sync=False)
    progress.state_values += len(deletes)
    return len(deletes)


def prune_state_step(store: Store, config: PruneConfig, progress: PruneProgress) -> int:
    """Raise the state floor to its target, then delete one batch of what lies below it; return rows deleted."""
    target = get_target_floor(store, config.state_retention_versions, config.retention_versions_min)
    if target > store.oldest_state_version:
        store.oldest_state_version = target
        store.backend.write([(schema.META_OLDEST_STATE_VERSION_KEY, schema.encode_u64(target))], [], sync=False)
    floor = store.oldest_state_version
    if floor == 0:
        return 0
    gap_versions = max(1, config.state_retention_versions // SWEEP_WINDOW_DIVISOR)
    return prune_tree_step(store, floor, progress) + sweep_state_values_step(store, floor, progress, gap_versions)


def prune_step(store: Store, config: PruneConfig, progress: PruneProgress) -> int:
    """One bounded step of every kind of pruning; return what it deleted (0: nothing left to do now)."""
    return (prune_ledger_step(store, config, progress) + prune_blocks_step(store, config, progress)
            + prune_state_step(store, config, progress))
