"""The tree of known blocks of one epoch, rooted at the last committed block."""

from __future__ import annotations

from dataclasses import dataclass, field

from consensus.types import Block
from primitives.certified.blocks import QuorumCertificate
from primitives.errors import invariant

# Committed blocks kept in memory to answer block retrieval from peers that lag slightly.
RETAINED_COMMITTED_BLOCKS = 128


@dataclass(slots=True)
class BlockTree:
    """Blocks by id, the QC known for each certified block, the committed root and ordered tip."""

    blocks: dict[bytes, Block]
    certified: dict[bytes, QuorumCertificate]
    root_id: bytes
    ordered_id: bytes
    committed_ids: tuple[bytes, ...] = field(default=())  # retained committed ancestors, oldest first

    @classmethod
    def create(cls, root: Block, root_qc: QuorumCertificate | None = None) -> BlockTree:
        """Return a tree holding only root (committed and ordered)."""
        return cls({root.id: root}, {root.id: root_qc} if root_qc is not None else {}, root.id, root.id)

    def copy(self) -> BlockTree:
        """Return a copy whose containers can be changed without touching this tree."""
        return BlockTree(dict(self.blocks), dict(self.certified), self.root_id, self.ordered_id, self.committed_ids)

    def get_root(self) -> Block:
        """Return the last committed block."""
        return self.blocks[self.root_id]

    def get_ordered(self) -> Block:
        """Return the highest ordered block."""
        return self.blocks[self.ordered_id]

    def is_known(self, block_id: bytes) -> bool:
        """Return True iff the block is in the tree."""
        return block_id in self.blocks

    def is_insertable(self, block: Block) -> bool:
        """Return True iff block's parent is known and block is above the committed root."""
        return block.parent_id in self.blocks and block.round > self.get_root().round

    def insert(self, block: Block) -> bool:
        """Insert block (its parent must be known); return False if it was already there."""
        if block.id in self.blocks:
            return False
        invariant(self.is_insertable(block), "block inserted without its parent")
        self.blocks[block.id] = block
        if block.quorum_cert is not None:
            self.certified.setdefault(block.parent_id, block.quorum_cert)
        return True

    def get_path(self, ancestor_id: bytes, block_id: bytes) -> list[Block] | None:
        """Return the blocks after ancestor_id up to block_id (parent first), or None if not a descendant."""
        path: list[Block] = []
        current = self.blocks.get(block_id)
        while current is not None and current.id != ancestor_id:
            if current.round <= self.blocks[ancestor_id].round:
                return None
            path.append(current)
            current = self.blocks.get(current.parent_id)
        if current is None:
            return None
        path.reverse()
        return path

    def commit_to(self, block_id: bytes) -> list[Block]:
        """Make block_id the root; return the newly committed path and drop conflicting branches."""
        path = self.get_path(self.root_id, block_id)
        invariant(path is not None, "committed block does not extend the root")
        committed = self.committed_ids + (self.root_id,) + tuple(block.id for block in path[:-1])  # type: ignore[index]
        keep_committed = committed[-RETAINED_COMMITTED_BLOCKS:]
        self.root_id = block_id
        if self.get_path(block_id, self.ordered_id) is None:
            self.ordered_id = block_id
        self._prune(set(keep_committed))
        self.committed_ids = keep_committed
        return path  # type: ignore[return-value]

    def _prune(self, keep: set[bytes]) -> None:
        root_round = self.blocks[self.root_id].round
        descendants = {self.root_id}
        for block in sorted(self.blocks.values(), key=lambda candidate: candidate.round):
            if block.round > root_round and block.parent_id in descendants:
                descendants.add(block.id)
        survivors = descendants | keep
        self.blocks = {block_id: block for block_id, block in self.blocks.items() if block_id in survivors}
        self.certified = {block_id: qc for block_id, qc in self.certified.items() if block_id in survivors}

    def get_descendants(self, block_id: bytes) -> list[Block]:
        """Return every known block that descends from block_id, by round."""
        found = {block_id}
        result = []
        for block in sorted(self.blocks.values(), key=lambda candidate: candidate.round):
            if block.parent_id in found and block.id not in found:
                found.add(block.id)
                result.append(block)
        return result
