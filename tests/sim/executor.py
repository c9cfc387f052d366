"""A deterministic fake executor: version, state root and accumulator root as pure functions."""

from __future__ import annotations

from dataclasses import dataclass

from consensus.events import BlockExecuted
from consensus.types import Block
from consensus.validators import ValidatorSet
from primitives.hashing import ZERO_HASH, sha3_256


@dataclass(frozen=True, slots=True)
class ExecutedResult:
    """The executed state after a block, its chain height and the validator set it hands over to."""

    version: int
    state_root: bytes
    accumulator_root: bytes
    height: int
    next_validator_set: ValidatorSet | None = None


GENESIS_RESULT = ExecutedResult(0, sha3_256(b"sim-genesis-state"), ZERO_HASH, 0)


class FakeExecutor:
    """Executes blocks on top of their parent's result; results are shared by every node.

    With epoch_interval > 0, every block at a height divisible by it reconfigures: its result
    carries next_validator_set (the same validators), so the next epoch starts after it commits.
    """

    def __init__(self, validators: ValidatorSet, epoch_interval: int = 0) -> None:
        self.validators = validators
        self.epoch_interval = epoch_interval
        self.results: dict[bytes, ExecutedResult] = {}
        # Blocks ordered after a reconfiguration block in the same epoch: never executed.
        self.suffix_ids: set[bytes] = set()

    def register_genesis(self, block: Block) -> None:
        """Record an epoch's genesis block: it carries on the state of the block it follows."""
        parent = self.results.get(block.parent_id, GENESIS_RESULT)
        self.results[block.id] = ExecutedResult(parent.version, parent.state_root,
                                                parent.accumulator_root, parent.height)

    def get_result(self, block_id: bytes) -> ExecutedResult | None:
        """Return the executed result of a block, or None if it never executed."""
        return self.results.get(block_id)

    def is_past_reconfiguration(self, block: Block) -> bool:
        """Return True when an ancestor in the block's epoch ended it: such blocks never execute."""
        if block.id in self.suffix_ids:
            return True
        parent = self.results.get(block.parent_id)
        is_suffix = block.parent_id in self.suffix_ids or (
            parent is not None and parent.next_validator_set is not None)
        if is_suffix:
            self.suffix_ids.add(block.id)
        return is_suffix

    def execute(self, block: Block) -> BlockExecuted | None:
        """Execute one block; None when its parent never executed (a runtime ordering error)."""
        parent = self.results.get(block.parent_id)
        if parent is None:
            return None
        result = self.results.get(block.id)
        if result is None:
            # One metadata transaction per block, as in Diem, plus the user transactions.
            version = parent.version + len(block.payload) + 1
            state_root = sha3_256(b"sim-state", parent.state_root, *block.payload)
            accumulator_root = sha3_256(b"sim-accumulator", parent.accumulator_root, block.id)
            height = parent.height + 1
            is_reconfiguration = self.epoch_interval > 0 and height % self.epoch_interval == 0
            next_set = self.validators if is_reconfiguration else None
            result = ExecutedResult(version, state_root, accumulator_root, height, next_set)
            self.results[block.id] = result
        return BlockExecuted(block.id, result.version, result.state_root, result.accumulator_root,
                             result.next_validator_set)
