"""Round timeouts that grow exponentially while rounds fail to order blocks ([PACE-2])."""

from __future__ import annotations

from dataclasses import dataclass

from consensus.election import ReputationConfig

ROUND_TIMEOUT_BASE_MS = 1000
ROUND_TIMEOUT_GROWTH_PERCENT = 120
ROUND_TIMEOUT_MAX_EXPONENT = 6
# With a 2-chain commit the newest ordered block trails the current round by 2 in the happy path.
ORDERING_PIPELINE_ROUNDS = 2


@dataclass(frozen=True, slots=True)
class PacemakerConfig:
    """Liveness parameters: timer base, growth per failed round (percent), exponent cap, leader reputation."""

    base_timeout_ms: int = ROUND_TIMEOUT_BASE_MS
    growth_percent: int = ROUND_TIMEOUT_GROWTH_PERCENT
    max_exponent: int = ROUND_TIMEOUT_MAX_EXPONENT
    reputation: ReputationConfig | None = None  # None: plain power-weighted election


def compute_round_timeout_ms(config: PacemakerConfig, round_: int, ordered_round: int) -> int:
    """Return base * growth^k with k = rounds since the last ordering beyond the pipeline, capped."""
    exponent = min(config.max_exponent, max(0, round_ - ordered_round - ORDERING_PIPELINE_ROUNDS))
    return config.base_timeout_ms * config.growth_percent**exponent // 100**exponent


def compute_next_round(qc_round: int, tc_round: int) -> int:
    """[PACE-1] A validator is in the round after its highest QC or TC."""
    return max(qc_round, tc_round) + 1
