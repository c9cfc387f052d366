"""One simulated validator instance: its core state, its in-memory disk and its bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass, field

from consensus.safety import SafetyData
from consensus.state import CoreConfig, CoreState
from consensus.types import Block, EpochState, SyncInfo
from primitives.certified.ledger_info import LedgerInfoWithSignatures
from primitives.certified.validators import ValidatorSet
from tests.sim.checkers import CommittedBlock


@dataclass(slots=True)
class Disk:
    """What survives a crash: exactly what the node persisted through its effects."""

    safety: SafetyData | None = None
    blocks: dict[bytes, Block] = field(default_factory=dict)
    sync_info: SyncInfo | None = None
    commit_certificate: LedgerInfoWithSignatures | None = None
    # The epoch the node entered last (a real node derives it from its committed ledger).
    epoch_state: EpochState | None = None


@dataclass(slots=True)
class SimInstance:
    """A running copy of one validator's core; twins are two instances with one key."""

    index: int
    validator: int
    label: str
    address: bytes
    is_honest: bool
    core_config: CoreConfig
    state: CoreState | None = None
    disk: Disk = field(default_factory=Disk)
    is_alive: bool = False
    # Set when the core raised InvariantViolation: the node stops and never restarts.
    is_halted: bool = False
    # Set when a scripted stop killed the node for good (SimConfig.stops): never restarted, not a finding.
    is_stopped: bool = False
    # Bumped on every crash so that timers and local answers armed before it are ignored.
    generation: int = 0
    timer_token: int = 0
    round: int = 0
    transaction_count: int = 0
    crash_count: int = 0
    # Set for a scripted Byzantine leader (tests.sim.byzantine.StaleLeader).
    stale_leader: object | None = None
    committed: list[CommittedBlock] = field(default_factory=list)
    committed_ids: set[bytes] = field(default_factory=set)
    # Broadcasts go to the members of the epoch the node is in as each effect is carried out (an
    # epoch's last commit vote still reaches a validator that leaves at the end of it).
    routing_validators: ValidatorSet | None = None
    # Evidence transactions waiting in this node's mempool, by (kind, author, epoch, round).
    evidence_pool: dict[tuple[int, bytes, int, int], bytes] = field(default_factory=dict)

    def get_committed_height(self) -> int:
        """Return how many blocks this instance committed (genesis excluded)."""
        return len(self.committed)
