"""The outcome of one simulated seed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class SeedResult:
    """The outcome of one seed: the broken invariant (if any), the trace and some counters."""

    seed: int
    invariant_name: str = ""
    detail: str = ""
    trace_lines: list[str] = field(default_factory=list)
    trace_digest: str = ""
    committed_height: int = 0
    event_count: int = 0
    tick: int = 0
    heal_tick: int = 0
    crash_count: int = 0
    highest_epoch: int = 1
    commit_ticks: dict[int, int] = field(default_factory=dict)
    # Proof of stake: the longest run of rounds without a new commit, evidence seen, validators slashed.
    max_stall_rounds: int = 0
    honest_report_count: int = 0
    slashed_count: int = 0

    @property
    def is_ok(self) -> bool:
        """Return True when no invariant broke."""
        return not self.invariant_name

    def summary(self) -> str:
        """Return one line describing the run."""
        status = "ok" if self.is_ok else f"FAILED {self.invariant_name}"
        return (f"seed={self.seed} {status} height={self.committed_height} events={self.event_count} "
                f"ticks={self.tick} heal={self.heal_tick} crashes={self.crash_count} "
                f"epoch={self.highest_epoch} stall={self.max_stall_rounds} reports={self.honest_report_count} "
                f"slashed={self.slashed_count}")
