"""Leader election: power-weighted by default, optionally weighted by reputation from committed history."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from consensus.validators import LEADER_SEED_BYTES, ValidatorSet
from primitives.hashing import sha3_256

REPUTATION_WINDOW_ROUNDS = 40
# Only history at least this many rounds old counts, so that validators agree on it (commits lag).
REPUTATION_LAG_ROUNDS = 10
REPUTATION_ACTIVE_WEIGHT = 100
REPUTATION_INACTIVE_WEIGHT = 1


@dataclass(frozen=True, slots=True)
class ReputationConfig:
    """Leader reputation ([ELECT-2]): validators that recently authored committed blocks lead more often."""

    window_rounds: int = REPUTATION_WINDOW_ROUNDS
    lag_rounds: int = REPUTATION_LAG_ROUNDS
    active_weight: int = REPUTATION_ACTIVE_WEIGHT
    inactive_weight: int = REPUTATION_INACTIVE_WEIGHT

    def get_history_span(self) -> int:
        """Return how many rounds of committed history must be kept."""
        return self.window_rounds + self.lag_rounds


def get_reputation_leader(
    validators: ValidatorSet, epoch: int, round_: int, history: tuple[tuple[int, bytes], ...], config: ReputationConfig
) -> bytes:
    """[ELECT-2] Pick the leader with weight power * (active or inactive weight), seeded by (epoch, round)."""
    newest = round_ - config.lag_rounds
    oldest = newest - config.window_rounds
    active = {author for committed_round, author in history if oldest <= committed_round <= newest}
    if not active:
        return validators.get_leader(epoch, round_)  # no history yet: plain power-weighted election
    weights = [member.voting_power * (config.active_weight if member.address in active else config.inactive_weight)
               for member in validators.members]
    cumulative = list(accumulate(weights))
    seed = sha3_256(b"stablechain-reputation-leader", epoch.to_bytes(8, "big"), round_.to_bytes(8, "big"))
    ticket = int.from_bytes(seed[:LEADER_SEED_BYTES], "big") % cumulative[-1]
    return validators.members[bisect_right(cumulative, ticket)].address
