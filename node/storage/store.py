"""The node's durable store: one atomic synced batch per committed block, and typed readers."""

from __future__ import annotations

from collections.abc import Sequence

from node.storage import schema
from node.storage.backends import KeyValueBackend, LevelBackend, MemoryBackend
from node.storage.consensus_records import ConsensusRecords
from node.storage.batch import (
    TOMBSTONE,
    compute_block_puts,
    compute_state_puts,
    compute_transaction_puts,
    compute_write_set_puts,
    unpack_record,
)
from node.storage.records import (
    BlockCommit,
    EventRecord,
    LedgerInfoRecord,
    PrunedVersionError,
    StoredBlock,
    TransactionRecord,
)
from node.storage.state_cache import MISSING, LatestStateCache
from primitives.errors import invariant

# Page sizes match the JSON-RPC page limit (diem-compat §1.3) so a reader never asks for more.
SCAN_LIMIT_MAX = 1000


class StoreOpenError(Exception):
    """The database on disk cannot be used by this node (schema, chain id or genesis differ)."""


class Store:
    """Typed reads and writes over an ordered key-value backend; every key comes from schema."""

    def __init__(
        self, backend: KeyValueBackend, location: str, chain_id: int | None, genesis_hash: bytes | None
    ) -> None:
        self.backend = backend
        self.location = location
        self.records = ConsensusRecords(backend)
        try:
            self._check_identity(chain_id, genesis_hash)
        except StoreOpenError:
            backend.close()
            raise
        latest_version = self.get_latest_version()
        self.state_cache = LatestStateCache(-1 if latest_version is None else latest_version)
        self.oldest_ledger_version = self._get_u64(schema.META_OLDEST_LEDGER_VERSION_KEY) or 0
        self.oldest_state_version = self._get_u64(schema.META_OLDEST_STATE_VERSION_KEY) or 0

    def _check_identity(self, chain_id: int | None, genesis_hash: bytes | None) -> None:
        """Refuse a database of another schema, chain or genesis; stamp a new one."""
        puts: list[tuple[bytes, bytes]] = []
        stored_schema = self.backend.get(schema.SCHEMA_VERSION_KEY)
        if stored_schema is None:
            if not self.backend.is_empty():
                raise StoreOpenError(
                    f"{self.location}: not a stablechain database (no schema version key); "
                    "point the node at an empty directory"
                )
            puts.append((schema.SCHEMA_VERSION_KEY, schema.encode_u64(schema.SCHEMA_VERSION)))
        elif schema.decode_u64(stored_schema) != schema.SCHEMA_VERSION:
            raise StoreOpenError(
                f"{self.location}: written with storage schema version "
                f"{schema.decode_u64(stored_schema)}, this node reads version "
                f"{schema.SCHEMA_VERSION}; re-sync into an empty directory or run a matching node"
            )
        for key, expected, name in (
            (schema.META_CHAIN_ID_KEY, None if chain_id is None else schema.encode_u64(chain_id), "chain id"),
            (schema.META_GENESIS_HASH_KEY, genesis_hash, "genesis hash"),
        ):
            stored = self.backend.get(key)
            if expected is None:
                continue
            if stored is None:
                puts.append((key, expected))
            elif stored != expected:
                raise StoreOpenError(
                    f"{self.location}: belongs to {name} {stored.hex()}, "
                    f"this node is configured for {expected.hex()}"
                )
        if puts:
            self.backend.write(puts, [], sync=True)

    def close(self) -> None:
        """Release the database."""
        self.backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- writes -------------------------------------------------------------------------------

    def commit_block(self, commit: BlockCommit) -> None:
        """Write everything of one committed block in a single atomic batch, synced to disk."""
        self.commit_blocks([commit])

    def commit_blocks(self, commits: Sequence[BlockCommit], extra_puts: Sequence[tuple[bytes, bytes]] = ()) -> None:
        """Write consecutive committed blocks (one certificate's chain), plus extra_puts, in one atomic synced batch."""
        invariant(len(commits) > 0, "commit_blocks needs at least one block")
        latest_version = self.get_latest_version()
        latest_block = self.get_latest_epoch_round()
        next_version = 0 if latest_version is None else latest_version + 1
        puts: list[tuple[bytes, bytes]] = []
        deletes = []
        for commit in commits:
            position = (commit.ledger_info.epoch, commit.round_number)
            invariant(
                latest_block is None or position > latest_block,
                f"committed (epoch, round) must increase: {position} after {latest_block}",
            )
            for record in commit.transactions:
                invariant(
                    record.version == next_version,
                    f"transaction versions must be contiguous: got {record.version}, expected {next_version}",
                )
                next_version += 1
            # An ancestor committed by a descendant's certificate carries that later ledger info.
            invariant(
                commit.ledger_info.version >= next_version - 1,
                f"ledger info version {commit.ledger_info.version} below last version {next_version - 1}",
            )
            latest_block = position
            puts += compute_block_puts(commit) + compute_transaction_puts(commit) + compute_state_puts(commit)
            puts += compute_write_set_puts(commit)
            deletes.append(schema.pending_block_key(commit.block_id))
        last = commits[-1]
        invariant(
            last.ledger_info.version == next_version - 1,
            f"the last ledger info ends at {last.ledger_info.version}, transactions at {next_version - 1}",
        )
        puts.append((schema.META_LATEST_VERSION_KEY, schema.encode_u64(last.ledger_info.version)))
        puts.append((schema.META_LATEST_BLOCK_KEY, schema.encode_epoch_round(*latest_block)))
        # Derived entries (compliance indexes) ride in the same batch: a block is never written without them.
        puts.extend(extra_puts)
        writes = [(w.state_key_hash, w.version, w.value) for commit in commits for w in commit.state_values]
        self.state_cache.begin_commit(key for key, _, _ in writes)
        # Consensus records staged by the same step ride in this synced batch (ADR 0021).
        self.backend.write(self.records.take_staged_puts(deletes) + puts, deletes, sync=True)
        self.state_cache.end_commit(writes, last.ledger_info.version)

    # ---- reads --------------------------------------------------------------------------------

    def _get_u64(self, key: bytes) -> int | None:
        """Return a stored u64, or None."""
        data = self.backend.get(key)
        return None if data is None else schema.decode_u64(data)

    def get_chain_id(self) -> int | None:
        """Return the chain id the database belongs to."""
        return self._get_u64(schema.META_CHAIN_ID_KEY)

    def get_genesis_hash(self) -> bytes | None:
        """Return the genesis hash the database belongs to."""
        return self.backend.get(schema.META_GENESIS_HASH_KEY)

    def get_latest_version(self) -> int | None:
        """Return the version of the last committed transaction, or None before genesis."""
        return self._get_u64(schema.META_LATEST_VERSION_KEY)

    def get_latest_epoch_round(self) -> tuple[int, int] | None:
        """Return (epoch, round) of the last committed block, or None before genesis."""
        data = self.backend.get(schema.META_LATEST_BLOCK_KEY)
        return None if data is None else schema.decode_epoch_round(data)

    def get_block(self, epoch: int, round_number: int) -> StoredBlock | None:
        """Return the committed block of (epoch, round)."""
        data = self.backend.get(schema.block_key(epoch, round_number))
        if data is None:
            return None
        block_id, block = unpack_record(data)
        return StoredBlock(epoch, round_number, block_id, block)

    def get_block_epoch_round(self, block_id: bytes) -> tuple[int, int] | None:
        """Return (epoch, round) of a committed block by id."""
        data = self.backend.get(schema.block_id_key(block_id))
        return None if data is None else schema.decode_epoch_round(data)

    def get_blocks(self, start_epoch: int, start_round: int, limit: int) -> list[StoredBlock]:
        """Return up to limit committed blocks in commit order from (epoch, round) on."""
        rows = self._scan(schema.BLOCK_PREFIX, schema.block_key(start_epoch, start_round), limit)
        result = []
        for key, value in rows:
            epoch, round_number = schema.decode_epoch_round(key[len(schema.BLOCK_PREFIX):])
            block_id, block = unpack_record(value)
            result.append(StoredBlock(epoch, round_number, block_id, block))
        return result

    def get_leader_history(self, epoch: int, start_round: int, limit: int) -> list[bytes]:
        """Return up to limit leader-reputation records of epoch's committed blocks from start_round on."""
        rows = self._scan(schema.LEADER_HISTORY_PREFIX, schema.leader_history_key(epoch, start_round), limit)
        return [value for key, value in rows
                if schema.decode_epoch_round(key[len(schema.LEADER_HISTORY_PREFIX):])[0] == epoch]

    def get_quorum_cert(self, epoch: int, round_number: int) -> bytes | None:
        """Return the quorum certificate carried by the committed block of (epoch, round)."""
        return self.backend.get(schema.quorum_cert_key(epoch, round_number))

    def get_commit_cert(self, epoch: int, round_number: int) -> bytes | None:
        """Return the certificate that committed the block of (epoch, round)."""
        return self.backend.get(schema.commit_cert_key(epoch, round_number))

    def get_ledger_info(self, version: int) -> LedgerInfoRecord | None:
        """Return the certified ledger info ending at version."""
        data = self.backend.get(schema.ledger_info_key(version))
        if data is None:
            return None
        epoch, is_epoch_end, ledger_info = unpack_record(data)
        return LedgerInfoRecord(version, epoch, ledger_info, is_epoch_end)

    def get_latest_ledger_info(self) -> LedgerInfoRecord | None:
        """Return the certified ledger info of the last committed block."""
        version = self.get_latest_version()
        return None if version is None else self.get_ledger_info(version)

    def get_epoch_ending_ledger_info(self, epoch: int) -> LedgerInfoRecord | None:
        """Return the ledger info that ended an epoch (one link of an epoch-change proof)."""
        version = self._get_u64(schema.epoch_ledger_info_key(epoch))
        return None if version is None else self.get_ledger_info(version)

    def check_ledger_kept(self, version: int) -> None:
        """Raise PrunedVersionError when the transactions and events of version are no longer kept."""
        if version < self.oldest_ledger_version:
            raise PrunedVersionError(version, self.oldest_ledger_version, "transactions and events")

    def check_state_kept(self, version: int) -> None:
        """Raise PrunedVersionError when the state (values, tree nodes) of version is no longer kept."""
        if version < self.oldest_state_version:
            raise PrunedVersionError(version, self.oldest_state_version, "state")

    def get_transaction(self, version: int) -> TransactionRecord | None:
        """Return the committed transaction at a version with its info."""
        self.check_ledger_kept(version)
        data = self.backend.get(schema.transaction_key(version))
        if data is None:
            return None
        sender, sequence_number, transaction = unpack_record(data)
        info = self.backend.get(schema.transaction_info_key(version))
        invariant(info is not None, f"transaction {version} has no info: the batch was split")
        return TransactionRecord(version, transaction, info, sender, sequence_number)

    def get_transactions(self, start_version: int, limit: int) -> list[TransactionRecord]:
        """Return up to limit committed transactions from start_version on."""
        self.check_ledger_kept(start_version)
        start = schema.transaction_key(start_version)
        rows = self._scan(schema.TRANSACTION_PREFIX, start, limit)
        return [self._get_present_transaction(key, schema.TRANSACTION_PREFIX) for key, _ in rows]

    def _get_present_transaction(self, key: bytes, prefix: bytes) -> TransactionRecord:
        """Return the transaction whose version ends a scanned key."""
        record = self.get_transaction(schema.decode_u64(key[len(prefix):]))
        invariant(record is not None, "a scanned transaction disappeared")
        return record  # type: ignore[return-value]

    def get_account_transaction(self, sender: bytes, sequence_number: int) -> TransactionRecord | None:
        """Return the committed transaction of (sender, sequence number)."""
        version = self._get_u64(schema.account_transaction_key(sender, sequence_number))
        return None if version is None else self.get_transaction(version)

    def get_account_transactions(
        self, sender: bytes, start_sequence_number: int, limit: int
    ) -> list[TransactionRecord]:
        """Return up to limit committed transactions of sender from a sequence number on."""
        prefix = schema.account_transaction_prefix(sender)
        start = schema.account_transaction_key(sender, start_sequence_number)
        rows = self._scan(prefix, start, limit)
        if rows and self.oldest_ledger_version and schema.decode_u64(rows[0][0][-8:]) != start_sequence_number:
            # Sequence numbers are contiguous: a gap at the start is history pruned away.
            self.check_ledger_kept(schema.decode_u64(rows[0][1]) - 1)
        records = [self.get_transaction(schema.decode_u64(value)) for _, value in rows]
        invariant(all(record is not None for record in records), "index points to nothing")
        return records  # type: ignore[return-value]

    def get_transaction_info(self, version: int) -> bytes | None:
        """Return the transaction info at a version."""
        self.check_ledger_kept(version)
        return self.backend.get(schema.transaction_info_key(version))

    def get_events_by_version(self, version: int) -> list[EventRecord]:
        """Return the events emitted by the transaction at a version, in emission order."""
        self.check_ledger_kept(version)
        prefix = schema.event_by_version_prefix(version)
        rows = self._scan(prefix, prefix, SCAN_LIMIT_MAX)
        return [self._decode_event(key, value) for key, value in rows]

    def get_events_by_key(self, event_key: bytes, start_sequence_number: int, limit: int) -> list[EventRecord]:
        """Return up to limit events of one stream from a sequence number on."""
        prefix = schema.event_by_key_prefix(event_key)
        start = schema.event_by_key_key(event_key, start_sequence_number)
        events = []
        rows = self._scan(prefix, start, limit)
        if rows and self.oldest_ledger_version and schema.decode_u64(rows[0][0][-8:]) != start_sequence_number:
            # Event sequence numbers are contiguous: a gap at the start is history pruned away.
            self.check_ledger_kept(schema.decode_u64(rows[0][1][: schema.U64_LENGTH_BYTES]) - 1)
        for _, location in rows:
            version = schema.decode_u64(location[: schema.U64_LENGTH_BYTES])
            index = int.from_bytes(location[schema.U64_LENGTH_BYTES:], "big")
            key = schema.event_by_version_key(version, index)
            data = self.backend.get(key)
            invariant(data is not None, "event index points to nothing")
            events.append(self._decode_event(key, data))  # type: ignore[arg-type]
        return events

    def _decode_event(self, key: bytes, data: bytes) -> EventRecord:
        """Return the event stored under an event-by-version key."""
        suffix = key[len(schema.EVENT_BY_VERSION_PREFIX):]
        version = schema.decode_u64(suffix[: schema.U64_LENGTH_BYTES])
        index = int.from_bytes(suffix[schema.U64_LENGTH_BYTES:], "big")
        event_key, sequence_number, event = unpack_record(data)
        return EventRecord(event_key, sequence_number, version, index, event)

    def get_state_node(self, node_key: bytes) -> bytes | None:
        """Return a node of the authenticated state tree."""
        return self.backend.get(schema.state_node_key(node_key))

    def get_accumulator_node(self, position: int) -> bytes | None:
        """Return a node of the transaction accumulator."""
        return self.backend.get(schema.accumulator_node_key(position))

    def get_state_value(self, state_key_hash: bytes, version: int) -> bytes | None:
        """Return a state value as of a version (the latest write at or before it), or None."""
        if version < self.oldest_state_version:
            self.check_state_kept(version)
        cached = self.state_cache.get(state_key_hash, version)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        generation = self.state_cache.get_generation()
        prefix = schema.state_value_prefix(state_key_hash)
        start = schema.state_value_key(state_key_hash, version)
        written_version, value = -1, None
        for key, stored in self.backend.scan(prefix, start, True):
            written_version = schema.decode_u64(key[len(prefix):])
            value = None if stored == TOMBSTONE else stored[1:]
            break
        self.state_cache.remember(generation, state_key_hash, version, written_version, value)
        return value

    def _scan(self, prefix: bytes, start: bytes, limit: int) -> list[tuple[bytes, bytes]]:
        """Return up to limit (key, value) pairs under prefix from start on."""
        invariant(0 <= limit <= SCAN_LIMIT_MAX, f"scan limit {limit} above {SCAN_LIMIT_MAX}")
        rows = []
        for row in self.backend.scan(prefix, start, False):
            if len(rows) >= limit:
                break
            rows.append(row)
        return rows


class LevelStore(Store):
    """The store on LevelDB: one directory, one process at a time (LevelDB locks it)."""

    def __init__(self, path: str, *, chain_id: int | None = None, genesis_hash: bytes | None = None) -> None:
        super().__init__(LevelBackend(path), path, chain_id, genesis_hash)


class MemoryStore(Store):
    """The same store in memory, for tests and the simulator."""

    def __init__(self, *, chain_id: int | None = None, genesis_hash: bytes | None = None) -> None:
        super().__init__(MemoryBackend(), "<memory>", chain_id, genesis_hash)
