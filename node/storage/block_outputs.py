"""Readers of what committed blocks produced (write set, infos, events), for catch-up to serve (ADR 0020)."""

from __future__ import annotations

from node.storage import schema
from node.storage.batch import unpack_record
from node.storage.records import BlockWriteSet
from node.storage.store import Store


def get_block_write_set(store: Store, epoch: int, round_number: int) -> BlockWriteSet | None:
    """Return what each transaction of the committed block of (epoch, round) wrote; None when not kept."""
    data = store.backend.get(schema.block_write_set_key(epoch, round_number))
    if data is None:
        return None
    first_version, last_version, changes = unpack_record(data)
    return BlockWriteSet(first_version, last_version, tuple(changes))


def get_transaction_infos(store: Store, start_version: int, end_version: int) -> list[bytes]:
    """Return the stored infos of versions [start_version, end_version) that are kept, in version order."""
    store.check_ledger_kept(start_version)
    end = schema.transaction_info_key(end_version)
    infos = []
    for key, value in store.backend.scan(schema.TRANSACTION_INFO_PREFIX, schema.transaction_info_key(start_version),
                                         False):
        if key >= end:
            break
        infos.append(value)
    return infos


def get_event_bytes(store: Store, start_version: int, end_version: int) -> list[list[bytes]]:
    """Return the BCS events emitted at each version of [start_version, end_version), in emission order."""
    store.check_ledger_kept(start_version)
    prefix_length = len(schema.EVENT_BY_VERSION_PREFIX)
    end = schema.event_by_version_prefix(end_version)
    events: list[list[bytes]] = [[] for _ in range(end_version - start_version)]
    for key, value in store.backend.scan(schema.EVENT_BY_VERSION_PREFIX,
                                         schema.event_by_version_prefix(start_version), False):
        if key >= end:
            break
        version = schema.decode_u64(key[prefix_length:prefix_length + schema.U64_LENGTH_BYTES])
        events[version - start_version].append(unpack_record(value)[2])
    return events
