"""Knobs of one simulated run: cluster shape, fault mix and budgets, all as named values."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# One logical tick is one simulated millisecond; nothing ever reads the wall clock.
USECS_PER_TICK = 1_000
NETWORK_DELAY_TICKS_MIN = 1
NETWORK_DELAY_TICKS_MAX = 40
# How long a crashed node stays down before it restarts from its disk.
CRASH_DOWNTIME_TICKS_MIN = 50
CRASH_DOWNTIME_TICKS_MAX = 2_000
# Partition phases: how long each lasts and how many phases a run may have at most.
PARTITION_TICKS_MIN = 200
PARTITION_TICKS_MAX = 2_000
PARTITION_PHASES_MAX = 3
# Liveness: after the heal, honest nodes must commit this many new blocks ...
LIVENESS_COMMITS_REQUIRED = 2
# ... before the highest honest round moves this many rounds past the heal round.
LIVENESS_ROUNDS_MAX = 30
# ... and before this many ticks pass (a backstop when rounds stop advancing at all).
LIVENESS_TICKS_MAX = 200_000
# A hard ceiling on events per seed so that a livelock cannot hang the run.
EVENTS_PER_SEED_MAX = 400_000
# How many trace lines a failure report shows.
TRACE_LINES_SHOWN = 30


@dataclass(frozen=True, slots=True)
class FaultMix:
    """Which faults the network and the nodes suffer before the heal."""

    drop_probability: float = 0.0
    duplicate_probability: float = 0.0
    delay_ticks_max: int = NETWORK_DELAY_TICKS_MAX
    # The shortest delay of a message: a datacenter-like network is a steady latency plus a little jitter.
    delay_ticks_min: int = NETWORK_DELAY_TICKS_MIN
    partition_phases: int = 0
    crash_probability: float = 0.0
    # How Byzantine validators misbehave: run as twins, or as stale leaders; otherwise silent.
    twins: bool = False
    stale_leaders: bool = False
    # A crashed honest node restarts with an empty disk: it is then no longer honest, so the
    # checkers are expected to fire (the "lost lock" case that persistence exists to prevent).
    disk_loss: bool = False


@dataclass(frozen=True, slots=True)
class SimConfig:
    """One simulated cluster: validator count and stakes, Byzantine count, faults, budgets."""

    validators: int = 4
    byzantine: int = 0
    faults: FaultMix = field(default_factory=FaultMix)
    # Chaos lasts until the highest honest round reaches this, then the network heals.
    rounds: int = 20
    stakes: tuple[int, ...] | None = None
    real_crypto: bool = False
    # Liveness is checked only when faulty power is below one third; tests may switch it off.
    check_liveness: bool = True
    check_persist_before_send: bool = True
    # Nodes that are offline (silent) from a tick to another; used by the weighted-stake scenario.
    offline: tuple[tuple[int, int, int], ...] = ()
    # Validators that stop for good (a process killed and never restarted): (validator, tick); tick 0 means the
    # validator never starts. Unlike crashes, stops are never healed.
    stops: tuple[tuple[int, int], ...] = ()
    # Ticks to run after the heal when liveness is not checked (e.g. a > 1/3 outage).
    tail_ticks: int = 0
    # Every block at a height divisible by this ends the epoch (0: a single epoch).
    epoch_interval: int = 0
    # Proof of stake. Validators numbered validators .. validators + joiners - 1 are not in the
    # genesis set: they run the core as non-validators until an epoch includes them.
    joiners: int = 0
    # (height, members of the next set): the block executed at that height ends the epoch and
    # hands over to that set (indices into genesis validators and joiners).
    set_changes: tuple[tuple[int, tuple[int, ...]], ...] = ()
    # > 0: stakes are raw stakes and each set's voting powers come from the framework's cap
    # (contracts.framework.staking_epoch.compute_capped_powers); 0: stakes are the powers.
    power_cap_bps: int = 0
    # Leaders put reported equivocations in their payload; the executor verifies them as the
    # framework does, records the slash and ends the epoch with the equivocator removed.
    slash_evidence: bool = False
    # Transactions per leader payload: at least this many (1 = every block carries load).
    payload_transactions_min: int = 0
    # Leader reputation ([ELECT-2]), as nodes run by default: recent committed authors lead more often.
    leader_reputation: bool = False

    def get_stakes(self) -> tuple[int, ...]:
        """Return each validator's stake (or voting power), genesis validators then joiners."""
        if self.stakes is None:
            return tuple(1 for _ in range(self.validators + self.joiners))
        return self.stakes

    def get_validator_count(self) -> int:
        """Return how many validator identities exist (genesis set and joiners)."""
        return self.validators + self.joiners

    def with_faults(self, **changes: object) -> SimConfig:
        """Return a copy with some fault knobs changed."""
        return replace(self, faults=replace(self.faults, **changes))
