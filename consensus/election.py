"""Leader election: power-weighted ([ELECT-1]), or weighted by reputation from ordered history ([ELECT-2])."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from primitives.certified.validators import ValidatorSet
from primitives.hashing import sha3_256

# Leader election reads this many bytes of sha3(epoch, round) as the seed (Diem: first 8 bytes).
LEADER_SEED_BYTES = 8
# Reputation reads the ordered blocks of this many rounds for activity (proposals and QC signatures) ...
REPUTATION_WINDOW_ROUNDS = 40
# ... and remembers failed turns as leader this long ([ELECT-2]). A validator whose latest turn failed sits out
# PENALTY_ROUNDS after its first failure in the memory (a validator that missed one turn, e.g. while joining,
# is soon back) and the whole memory after a second one (a dead or flapping validator costs two failures, then
# stays out). 3,000 rounds is about a minute under load and ten minutes when idle.
REPUTATION_FAILURE_MEMORY_ROUNDS = 3000
REPUTATION_PENALTY_ROUNDS = 40
# ... both ending this many rounds before the elected round: every validator in sync has ordered them ([ELECT-3]).
REPUTATION_LAG_ROUNDS = 4
# Weights per unit of voting power ([ELECT-2]): active validators lead; a failed one leads about
# FAILED / (ACTIVE * n) of rounds (one in 3,000 with four validators); an inactive one, alive but absent from
# recent QCs (the slowest voter, a validator that just joined), still leads about 3 % of rounds with four,
# so it proposes, becomes active and is never starved.
REPUTATION_ACTIVE_WEIGHT = 1000
REPUTATION_INACTIVE_WEIGHT = 100
REPUTATION_FAILED_WEIGHT = 1
# A proposal names the elected leaders of at most this many rounds it skipped ([ELECT-4]).
FAILED_AUTHORS_ROUNDS_MAX = 10


@dataclass(frozen=True, slots=True)
class ReputationConfig:
    """Leader reputation ([ELECT-2]): active validators lead most, inactive ones some, failed ones almost never."""

    window_rounds: int = REPUTATION_WINDOW_ROUNDS
    failure_memory_rounds: int = REPUTATION_FAILURE_MEMORY_ROUNDS
    penalty_rounds: int = REPUTATION_PENALTY_ROUNDS
    lag_rounds: int = REPUTATION_LAG_ROUNDS
    active_weight: int = REPUTATION_ACTIVE_WEIGHT
    inactive_weight: int = REPUTATION_INACTIVE_WEIGHT
    failed_weight: int = REPUTATION_FAILED_WEIGHT

    def get_history_span(self) -> int:
        """Return how many rounds of ordered history must be kept: the longer window, its lag, the failed-author range."""
        return max(self.window_rounds, self.failure_memory_rounds) + self.lag_rounds + FAILED_AUTHORS_ROUNDS_MAX


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """What leader reputation reads of one ordered block: its round, author, QC signers and skipped leaders."""

    round: int
    author: bytes
    voters: tuple[bytes, ...]
    failed_authors: tuple[tuple[int, bytes], ...]


Turns = dict[bytes, tuple[tuple[int, bool], ...]]  # validator -> its turns as leader: (round, succeeded), by round


def get_window(history: tuple[HistoryEntry, ...], round_: int, config: ReputationConfig) -> tuple[HistoryEntry, ...]:
    """[ELECT-3] Return the entries of rounds [round - lag - window + 1, round - lag] (history is sorted by round)."""
    newest = round_ - config.lag_rounds
    oldest = newest - config.window_rounds + 1
    low = bisect_left(history, oldest, key=_get_round)
    high = bisect_right(history, newest, key=_get_round)
    return history[low:high]


def _get_round(entry: HistoryEntry | tuple[int, bool]) -> int:
    return entry.round if isinstance(entry, HistoryEntry) else entry[0]


def get_active(window: tuple[HistoryEntry, ...]) -> set[bytes]:
    """Return the validators that proposed a block or signed a QC in a window."""
    active: set[bytes] = set()
    for entry in window:
        active.add(entry.author)
        active.update(entry.voters)
    return active


def add_turns(turns: Turns, entries: tuple[HistoryEntry, ...], oldest_round: int) -> Turns:
    """Return turns with the entries' turns appended (skipped leaders failed, authors succeeded), older ones dropped."""
    added: dict[bytes, list[tuple[int, bool]]] = {}
    for entry in entries:
        for skipped, author in entry.failed_authors:
            added.setdefault(author, []).append((skipped, False))
        added.setdefault(entry.author, []).append((entry.round, True))
    updated = dict(turns)
    for author, new_turns in added.items():
        kept = updated.get(author, ())
        kept = kept[bisect_left(kept, oldest_round, key=_get_round):]
        updated[author] = kept + tuple(new_turns)
    return updated


def is_failed(turns: tuple[tuple[int, bool], ...], round_: int, config: ReputationConfig) -> bool:
    """[ELECT-2] Return True iff the latest turn by round - lag failed and its penalty is not over.

    The penalty is penalty_rounds after a failure with no other in the memory before it, else the whole memory.
    """
    newest = round_ - config.lag_rounds
    position = bisect_right(turns, newest, key=_get_round)
    if position == 0:
        return False
    turn_round, succeeded = turns[position - 1]
    if succeeded:
        return False
    oldest = turn_round - config.failure_memory_rounds  # the failures this one found in the memory
    failures = sum(1 for past_round, ok in turns[:position] if not ok and past_round > oldest)
    penalty = config.penalty_rounds if failures <= 1 else config.failure_memory_rounds
    return turn_round > newest - penalty


def get_reputation_weight(is_active: bool, has_failed: bool, config: ReputationConfig) -> int:
    """[ELECT-2] Return the failed, active or inactive weight per unit of power."""
    if has_failed:
        return config.failed_weight
    return config.active_weight if is_active else config.inactive_weight


def get_weighted_leader(validators: ValidatorSet, epoch: int, round_: int) -> bytes:
    """[ELECT-1] Return the leader of (epoch, round): a power-weighted pick seeded by sha3(epoch, round)."""
    seed_bytes = sha3_256(b"stablechain-leader", epoch.to_bytes(8, "big"), round_.to_bytes(8, "big"))
    ticket = int.from_bytes(seed_bytes[:LEADER_SEED_BYTES], "big") % validators.get_total_power()
    return validators.members[bisect_right(validators.get_cumulative_powers(), ticket)].address


def get_reputation_leader(validators: ValidatorSet, epoch: int, round_: int, history: tuple[HistoryEntry, ...],
                          turns: Turns, config: ReputationConfig) -> bytes:
    """[ELECT-2] Pick the leader with weight power * reputation weight, seeded by (epoch, round)."""
    window = get_window(history, round_, config)
    if not window:
        return get_weighted_leader(validators, epoch, round_)  # no history yet: plain power-weighted election
    active = get_active(window)
    weights = [member.voting_power * get_reputation_weight(member.address in active,
                                                           is_failed(turns.get(member.address, ()), round_, config),
                                                           config)
               for member in validators.members]
    cumulative = list(accumulate(weights))
    seed = sha3_256(b"stablechain-reputation-leader", epoch.to_bytes(8, "big"), round_.to_bytes(8, "big"))
    ticket = int.from_bytes(seed[:LEADER_SEED_BYTES], "big") % cumulative[-1]
    return validators.members[bisect_right(cumulative, ticket)].address


def compute_failed_authors(get_leader: Callable[[int], bytes], qc_round: int, round_: int) -> tuple[tuple[int, bytes], ...]:
    """[ELECT-4] Return (round, elected leader) of the rounds a block at round_ skips after its QC (the newest ten)."""
    first = max(qc_round + 1, round_ - FAILED_AUTHORS_ROUNDS_MAX)
    return tuple((skipped, get_leader(skipped)) for skipped in range(first, round_))


def is_well_formed_failed_authors(failed: tuple[tuple[int, bytes], ...], qc_round: int, round_: int,
                                  validators: ValidatorSet) -> bool:
    """[ELECT-4] Return True iff failed authors name members for exactly the newest rounds skipped after the QC."""
    first = max(qc_round + 1, round_ - FAILED_AUTHORS_ROUNDS_MAX)
    return ([skipped for skipped, _ in failed] == list(range(first, round_))
            and all(validators.get_member(author) is not None for _, author in failed))
