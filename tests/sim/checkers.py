"""Invariants checked after every step: agreement, one vote per round, valid chains, liveness."""

from __future__ import annotations

from dataclasses import dataclass, field

AGREEMENT = "agreement"
DOUBLE_VOTE = "no-double-vote"
VOTE_ORDER = "votes-in-increasing-rounds"
CHAIN_VALIDITY = "committed-chain-valid"
PERSIST_BEFORE_SEND = "persist-before-send"
LIVENESS = "liveness"
CORE_CRASH = "core-raised"
FALSE_EVIDENCE = "evidence-names-byzantine"


class Violation(Exception):
    """An invariant broke; carries its name and what was seen."""

    def __init__(self, invariant_name: str, detail: str) -> None:
        super().__init__(f"{invariant_name}: {detail}")
        self.invariant_name = invariant_name
        self.detail = detail


@dataclass(frozen=True, slots=True)
class CommittedBlock:
    """What the checkers need to know of a committed block."""

    block_id: bytes
    parent_id: bytes
    epoch: int
    round: int
    version: int
    state_root: bytes


@dataclass(slots=True)
class CommitLedger:
    """Every honest commit, by height: the first committer fixes the block for that height."""

    by_height: dict[int, tuple[CommittedBlock, str]] = field(default_factory=dict)
    by_version: dict[int, tuple[bytes, str]] = field(default_factory=dict)

    def record(self, height: int, block: CommittedBlock, committer: str) -> None:
        """Check one honest commit against all earlier ones; raise Violation on a fork."""
        known = self.by_height.get(height)
        if known is None:
            self.by_height[height] = (block, committer)
        elif known[0] != block:
            raise Violation(
                AGREEMENT,
                f"height {height}: {committer} committed {describe(block)} but "
                f"{known[1]} committed {describe(known[0])}",
            )
        seen = self.by_version.get(block.version)
        if seen is None:
            self.by_version[block.version] = (block.block_id, committer)
        elif seen[0] != block.block_id and block.version != 0:
            raise Violation(
                AGREEMENT,
                f"version {block.version}: {committer} committed {block.block_id.hex()[:8]} "
                f"but {seen[1]} committed {seen[0].hex()[:8]}",
            )

    def get_height(self) -> int:
        """Return the highest height any honest node committed."""
        return max(self.by_height, default=0)


@dataclass(slots=True)
class VoteLedger:
    """Every vote and timeout signed by an honest key, across restarts of its node."""

    by_slot: dict[tuple[bytes, int, int], tuple[object, str]] = field(default_factory=dict)
    highest_vote_round: dict[tuple[bytes, int], int] = field(default_factory=dict)
    highest_timeout_round: dict[tuple[bytes, int], int] = field(default_factory=dict)

    def record_vote(self, author: bytes, epoch: int, round: int, vote_data: object, signer: str) -> None:
        """Remember a signed vote; raise Violation on a second vote for a round or a step back."""
        slot = (author, epoch, round)
        known = self.by_slot.get(slot)
        if known is not None:
            if known[0] != vote_data:
                raise Violation(DOUBLE_VOTE, f"{signer} signed two votes for epoch {epoch} round "
                                f"{round}: {describe_vote(known[0])} (by {known[1]}) and "
                                f"{describe_vote(vote_data)}")
            return
        key = (author, epoch)
        last_vote_round = self.highest_vote_round.get(key, 0)
        if round <= last_vote_round:
            raise Violation(VOTE_ORDER, f"{signer} voted in round {round} after voting in {last_vote_round}")
        timeout_round = self.highest_timeout_round.get(key, 0)
        if round <= timeout_round:
            raise Violation(VOTE_ORDER,
                            f"{signer} voted in round {round} after timing out in {timeout_round}")
        self.by_slot[slot] = (vote_data, signer)
        self.highest_vote_round[key] = round

    def record_timeout(self, author: bytes, epoch: int, round: int) -> None:
        """Remember that a key timed out a round (it must never vote in that round afterwards)."""
        key = (author, epoch)
        if round > self.highest_timeout_round.get(key, 0):
            self.highest_timeout_round[key] = round


def check_chain_extension(
    previous: CommittedBlock | None, blocks: list[CommittedBlock], committer: str
) -> None:
    """Check that newly committed blocks link to the last one with increasing rounds."""
    for block in blocks:
        if previous is not None:
            if block.parent_id != previous.block_id:
                raise Violation(
                    CHAIN_VALIDITY,
                    f"{committer}: {describe(block)} does not extend {describe(previous)}",
                )
            is_later = (block.epoch, block.round) > (previous.epoch, previous.round)
            if not is_later and block.epoch == previous.epoch:
                raise Violation(
                    CHAIN_VALIDITY,
                    f"{committer}: round {block.round} after round {previous.round}",
                )
            if block.version < previous.version:
                raise Violation(
                    CHAIN_VALIDITY,
                    f"{committer}: version {block.version} after {previous.version}",
                )
        previous = block


def describe(block: CommittedBlock) -> str:
    """Return a short label for a committed block."""
    return f"{block.block_id.hex()[:8]}(e{block.epoch} r{block.round} v{block.version})"


def describe_vote(vote_data: object) -> str:
    """Return a short label for signed vote data: the proposed block and its parent."""
    proposed = vote_data.proposed  # type: ignore[attr-defined]
    parent = vote_data.parent  # type: ignore[attr-defined]
    return f"{proposed.id.hex()[:8]}(r{proposed.round} on r{parent.round})"
