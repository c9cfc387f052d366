"""What the runtime needs besides its collaborators: the core's config, block limits, keys and index writers."""

from __future__ import annotations

from dataclasses import dataclass

from consensus.state import CoreConfig
from consensus.verify import MAX_BLOCK_PAYLOAD_BYTES
from node.keys.ring import ConsensusKeySource
from node.runtime.commit import CONSENSUS_INDEX_WRITERS, IndexWriter
from node.runtime.evidence import EvidenceAccount
from primitives.errors import invariant

BLOCK_TRANSACTIONS_MAX = 2_000
BLOCK_PAYLOAD_BYTES_MAX = MAX_BLOCK_PAYLOAD_BYTES // 2

invariant(BLOCK_PAYLOAD_BYTES_MAX <= MAX_BLOCK_PAYLOAD_BYTES, "our proposals pass our own verification")


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """What the runtime needs besides its collaborators."""

    core: CoreConfig
    block_transactions_max: int = BLOCK_TRANSACTIONS_MAX
    block_payload_bytes_max: int = BLOCK_PAYLOAD_BYTES_MAX
    # An idle leader waits this long for transactions before proposing an empty block (0: never waits).
    empty_block_delay_ms: int = 0
    # Signs the equivocation evidence this node submits (the validator account's key); None: only log it.
    evidence_account: EvidenceAccount | None = None
    # [EPOCH-6] The consensus key ring's source (node.keys.ring.NodeKeyring): polled after commits and at each new
    # epoch, so a rotated key signs from the epoch's first round without a restart. None: core.signer(s) only.
    keyring: ConsensusKeySource | None = None
    # What each commit's batch writes besides the chain (node.runtime.commit), given at start-up.
    index_writers: tuple[IndexWriter, ...] = CONSENSUS_INDEX_WRITERS
    # A fresh node installs a verified state snapshot from a peer instead of replaying history (ADR 0018).
    fast_sync: bool = False

    def get_payload_limits(self) -> tuple[int, int]:
        """Return (transactions, bytes) a proposed block's payload may hold."""
        return self.block_transactions_max, self.block_payload_bytes_max
