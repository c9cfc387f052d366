"""Recovery: rebuild the consensus core from what the store holds (safety data, blocks, certificates, history)."""

from __future__ import annotations

from consensus.election import HistoryEntry, ReputationConfig
from consensus.epoch import compute_next_epoch_state
from consensus.recovery import recover
from consensus.safety import SafetyData
from consensus.state import CoreConfig, CoreState
from consensus.types import Block, EpochState, SyncInfo
from node.storage.codecs import decode_block, decode_history_entry, decode_safety_data, decode_sync_info
from node.storage.store import Store
from primitives.certified.ledger_info import LedgerInfoWithSignatures
from primitives.certified.ledger_info import decode_ledger_info
from primitives.errors import invariant

# Committed blocks a restart (and every applied catch-up response) gives back to the core: its root and the
# ancestors it serves to peers' block retrieval; each is read and decoded again.
RECOVERED_COMMITTED_BLOCKS = 50
RECOVERED_BLOCKS_MAX = RECOVERED_COMMITTED_BLOCKS + 1
# Rounds of leader-reputation records a restart reads back ([ELECT-3]): compact records, not blocks.
RECOVERED_HISTORY_ROUNDS = ReputationConfig().get_history_span()
HISTORY_PAGE_RECORDS = 1_000


def load_epoch_state(store: Store) -> tuple[EpochState, LedgerInfoWithSignatures]:
    """Return the current epoch (from the last epoch-ending ledger info) and the last committed certificate."""
    latest_record = store.get_latest_ledger_info()
    invariant(latest_record is not None, "the store holds genesis")
    latest = decode_ledger_info(latest_record.ledger_info)  # type: ignore[union-attr]
    if latest.ledger_info.is_epoch_ending():
        return compute_next_epoch_state(latest), latest
    ending = store.get_epoch_ending_ledger_info(latest.ledger_info.epoch - 1)
    invariant(ending is not None, f"no ledger info ended epoch {latest.ledger_info.epoch - 1}")
    return compute_next_epoch_state(decode_ledger_info(ending.ledger_info)), latest  # type: ignore[union-attr]


def load_leader_history(store: Store, rounds: int) -> tuple[HistoryEntry, ...]:
    """[ELECT-3] Return the reputation records of the last committed block's epoch from `rounds` rounds before it."""
    position = store.get_latest_epoch_round()
    if position is None:
        return ()
    epoch, last_round = position
    records: list[bytes] = []
    next_round = max(0, last_round - rounds)
    while next_round <= last_round:
        page = store.get_leader_history(epoch, next_round, HISTORY_PAGE_RECORDS)
        records += page
        if len(page) < HISTORY_PAGE_RECORDS:
            break
        next_round = decode_history_entry(page[-1]).round + 1
    return tuple(decode_history_entry(record) for record in records)


def load_committed_block(store: Store) -> Block | None:
    """Return the last committed block, or None at genesis."""
    blocks = load_recent_committed_blocks(store, 0)
    return blocks[-1] if blocks else None


def load_recent_committed_blocks(store: Store, rounds: int) -> list[Block]:
    """Return the committed blocks of the last committed block's epoch from `rounds` rounds before it, oldest first."""
    position = store.get_latest_epoch_round()
    if position is None:
        return []
    epoch, last_round = position
    first_round = max(0, last_round - rounds)
    stored = store.get_blocks(epoch, first_round, min(last_round - first_round + 1, RECOVERED_BLOCKS_MAX))
    return [decode_block(entry.block) for entry in stored if entry.epoch == epoch and entry.block]


def load_safety_data(store: Store) -> SafetyData | None:
    """Return the persisted safety data, if any."""
    data = store.records.load_safety_data()
    return None if data is None else decode_safety_data(data)


def load_sync_info(store: Store) -> SyncInfo | None:
    """Return the persisted sync info, if any."""
    data = store.records.load_sync_info()
    return None if data is None else decode_sync_info(data)


def load_committed_timestamp_usecs(store: Store) -> int:
    """Return the ledger clock of the last committed block."""
    record = store.get_latest_ledger_info()
    invariant(record is not None, "the store holds genesis")
    return decode_ledger_info(record.ledger_info).ledger_info.timestamp_usecs  # type: ignore[union-attr]


def recover_core(store: Store, config: CoreConfig) -> tuple[CoreState, list[bytes]]:
    """Return the core rebuilt from the store, and the block ids that stand for the committed state."""
    epoch_state, committed = load_epoch_state(store)
    blocks = [decode_block(data) for _block_id, data in store.records.get_pending_blocks()]
    # The committed tail, not just the root: leader reputation needs the same recent history as
    # the validators that stayed up, or a restarted node disagrees with them on leaders.
    blocks += load_recent_committed_blocks(store, RECOVERED_COMMITTED_BLOCKS)
    state = recover(config, epoch_state, load_safety_data(store), blocks, load_sync_info(store), committed,
                    load_leader_history(store, RECOVERED_HISTORY_ROUNDS))
    return state, [committed.ledger_info.block_id, epoch_state.genesis_block_id]
