"""The key-value entries one committed block adds to the store's batch; keys from schema.py, values msgpack."""

from __future__ import annotations

import msgpack

from node.storage import schema
from node.storage.records import BlockCommit

# A state value entry is a tombstone (deleted at that version) or PRESENT followed by the value.
TOMBSTONE = b"\x00"
PRESENT = b"\x01"


def pack_record(value: object) -> bytes:
    """Encode a stored record as msgpack (bytes stay bytes)."""
    return msgpack.packb(value, use_bin_type=True)


def unpack_record(data: bytes) -> list:
    """Decode a stored record written by pack_record."""
    return msgpack.unpackb(data, raw=False)


def compute_block_puts(commit: BlockCommit) -> list[tuple[bytes, bytes]]:
    """Return the block, certificate and ledger info entries of a commit."""
    info = commit.ledger_info
    epoch, round_number = info.epoch, commit.round_number
    version_be8 = schema.encode_u64(info.version)
    puts = [
        (schema.block_key(epoch, round_number), pack_record([commit.block_id, commit.block])),
        (schema.block_id_key(commit.block_id), schema.encode_epoch_round(epoch, round_number)),
        (schema.quorum_cert_key(epoch, round_number), commit.quorum_cert),
        (schema.commit_cert_key(epoch, round_number), commit.commit_cert),
        (schema.ledger_info_key(info.version), pack_record([info.epoch, info.is_epoch_end, info.ledger_info])),
    ]
    if info.is_epoch_end:
        puts.append((schema.epoch_ledger_info_key(info.epoch), version_be8))
    return puts


def compute_transaction_puts(commit: BlockCommit) -> list[tuple[bytes, bytes]]:
    """Return the transaction, index, info and event entries of a commit."""
    puts = []
    for record in commit.transactions:
        stored = pack_record([record.sender, record.sequence_number, record.transaction])
        puts.append((schema.transaction_key(record.version), stored))
        puts.append((schema.transaction_info_key(record.version), record.info))
        if record.sender is not None and record.sequence_number is not None:
            index_key = schema.account_transaction_key(record.sender, record.sequence_number)
            puts.append((index_key, schema.encode_u64(record.version)))
    for event in commit.events:
        location = schema.encode_u64(event.version) + event.index.to_bytes(
            schema.EVENT_INDEX_LENGTH_BYTES, "big"
        )
        stored = pack_record([event.event_key, event.sequence_number, event.event])
        puts.append((schema.event_by_version_key(event.version, event.index), stored))
        puts.append((schema.event_by_key_key(event.event_key, event.sequence_number), location))
    return puts


def compute_state_puts(commit: BlockCommit) -> list[tuple[bytes, bytes]]:
    """Return the state-tree, accumulator and state-value entries of a commit."""
    puts = [(schema.state_node_key(key), node) for key, node in commit.state_nodes]
    puts += [(schema.accumulator_node_key(pos), node) for pos, node in commit.accumulator_nodes]
    version = commit.ledger_info.version
    puts += [(schema.stale_state_node_key(version, node_key), b"") for node_key in commit.stale_state_nodes]
    for write in commit.state_values:
        value = TOMBSTONE if write.value is None else PRESENT + write.value
        puts.append((schema.state_value_key(write.state_key_hash, write.version), value))
    return puts


def compute_write_set_puts(commit: BlockCommit) -> list[tuple[bytes, bytes]]:
    """Return the entry that keeps what each transaction of a committed block wrote, with their versions (served by
    catch-up)."""
    if not commit.transactions or len(commit.transaction_state_changes) != len(commit.transactions):
        return []
    changes = list(commit.transaction_state_changes)
    record = pack_record([commit.transactions[0].version, commit.transactions[-1].version, changes])
    return [(schema.block_write_set_key(commit.ledger_info.epoch, commit.round_number), record)]
