"""The consensus records a restart rebuilds from: safety data, sync info and certified uncommitted blocks.

One step of the core often persists several of them (a new sync info, the proposal's block, the vote's safety
data). Each used to be its own synced write, a disk flush each, with the event loop blocked. They are staged
here and synced together: with the commit batch when the step commits, else in one batch of their own before
any message of the step leaves the node (ADR 0021).
"""

from __future__ import annotations

from node.storage import schema
from node.storage.backends import KeyValueBackend


class ConsensusRecords:
    """Stages consensus records in memory and syncs them in one batch; reads see the staged ones."""

    def __init__(self, backend: KeyValueBackend) -> None:
        self.backend = backend
        self.staged: dict[bytes, bytes] = {}
        self.synced_batches = 0

    def stage_safety_data(self, safety_data: bytes) -> None:
        """Stage the consensus safety record (durable at the next flush)."""
        self.staged[schema.SAFETY_DATA_KEY] = safety_data

    def stage_sync_info(self, sync_info: bytes) -> None:
        """Stage the highest certificates seen (durable at the next flush)."""
        self.staged[schema.META_SYNC_INFO_KEY] = sync_info

    def stage_pending_block(self, block_id: bytes, block: bytes) -> None:
        """Stage a certified, uncommitted block (durable at the next flush)."""
        self.staged[schema.pending_block_key(block_id)] = block

    def flush(self) -> None:
        """Write every staged record in one synced batch (nothing to do when none is staged)."""
        if self.staged:
            self.backend.write(list(self.staged.items()), [], sync=True)
            self.staged = {}
            self.synced_batches += 1

    def take_staged_puts(self, deletes: list[bytes]) -> list[tuple[bytes, bytes]]:
        """Hand the staged records to a synced batch that also deletes `deletes` (a block it commits stays deleted)."""
        removed = set(deletes)
        puts = [(key, value) for key, value in self.staged.items() if key not in removed]
        self.staged = {}
        return puts

    def delete_pending_blocks(self, block_ids: list[bytes]) -> None:
        """Forget uncommitted blocks that were pruned from the block tree (staged or written)."""
        deletes = [schema.pending_block_key(block_id) for block_id in block_ids]
        for key in deletes:
            self.staged.pop(key, None)
        self.backend.write([], deletes, sync=False)

    def load_safety_data(self) -> bytes | None:
        """Return the last safety record, or None on a fresh node."""
        return self.load(schema.SAFETY_DATA_KEY)

    def load_sync_info(self) -> bytes | None:
        """Return the last sync info, or None on a fresh node."""
        return self.load(schema.META_SYNC_INFO_KEY)

    def load(self, key: bytes) -> bytes | None:
        """Return a record, staged or written."""
        return self.staged[key] if key in self.staged else self.backend.get(key)

    def get_pending_blocks(self) -> list[tuple[bytes, bytes]]:
        """Return every uncommitted block as (block id, block), in key order."""
        prefix = schema.PENDING_BLOCK_PREFIX
        blocks = dict(self.backend.scan(prefix, prefix, False))
        blocks.update((key, value) for key, value in self.staged.items() if key.startswith(prefix))
        return [(key[len(prefix):], value) for key, value in sorted(blocks.items())]
