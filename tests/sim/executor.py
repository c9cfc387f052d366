"""A deterministic fake executor: version, state root and accumulator root as pure functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from consensus.epoch import GENESIS_EPOCH
from consensus.events import BlockExecuted
from consensus.types import Block
from primitives.certified.validators import ValidatorSet
from primitives.errors import invariant
from primitives.hashing import ZERO_HASH, sha3_256
from tests.sim.cluster import SIM_CHAIN_ID, Cluster
from tests.sim.config import SimConfig
from tests.sim.evidence import Slash, compute_slash_amount, decode_evidence_transaction, verify_evidence


@dataclass(frozen=True, slots=True)
class ExecutedResult:
    """The executed state after a block, its chain height and the validator set it hands over to."""

    version: int
    state_root: bytes
    accumulator_root: bytes
    height: int
    next_validator_set: ValidatorSet | None = None
    # Validators slashed on this chain so far (they never come back), and the slashes of this block.
    slashed: frozenset[bytes] = frozenset()
    slashes: tuple[Slash, ...] = ()


@dataclass(frozen=True, slots=True)
class Slashing:
    """What the executor needs to honour evidence: the chain id, raw stakes, and how powers are computed."""

    chain_id: int
    stake_of: Mapping[bytes, int]
    # Builds the set of the given members (powers recomputed from stakes, as at an epoch boundary).
    make_set: Callable[[list[bytes]], ValidatorSet]


GENESIS_RESULT = ExecutedResult(0, sha3_256(b"sim-genesis-state"), ZERO_HASH, 0)


class FakeExecutor:
    """Executes blocks on top of their parent's result; results are shared by every node.

    A block reconfigures (its result carries next_validator_set, so the next epoch starts after it
    commits) when its height is in set_changes (that set), when epoch_interval > 0 divides its
    height (the same set), or when it carries valid equivocation evidence against a member (the
    set without the slashed validators; slashed validators are also left out of every later set).
    """

    def __init__(self, validators: ValidatorSet, epoch_interval: int = 0,
                 set_changes: Mapping[int, ValidatorSet] | None = None, slashing: Slashing | None = None) -> None:
        self.validators = validators
        self.epoch_interval = epoch_interval
        self.set_changes = dict(set_changes or {})
        self.slashing = slashing
        self.results: dict[bytes, ExecutedResult] = {}
        # The set of each epoch, learnt when the block ending the previous epoch executes.
        self.validators_of_epoch: dict[int, ValidatorSet] = {GENESIS_EPOCH: validators}
        # Blocks ordered after a reconfiguration block in the same epoch: never executed.
        self.suffix_ids: set[bytes] = set()

    def register_genesis(self, block: Block) -> None:
        """Record an epoch's genesis block: it carries on the state of the block it follows."""
        parent = self.results.get(block.parent_id, GENESIS_RESULT)
        self.results[block.id] = ExecutedResult(parent.version, parent.state_root,
                                                parent.accumulator_root, parent.height,
                                                slashed=parent.slashed)

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
            result = self._compute_result(block, parent)
            self.results[block.id] = result
            if result.next_validator_set is not None:
                self.validators_of_epoch.setdefault(block.epoch + 1, result.next_validator_set)
        return BlockExecuted(block.id, result.version, result.state_root, result.accumulator_root,
                             result.next_validator_set)

    def _compute_result(self, block: Block, parent: ExecutedResult) -> ExecutedResult:
        # One metadata transaction per block, as in Diem, plus the user transactions.
        version = parent.version + len(block.payload) + 1
        state_root = sha3_256(b"sim-state", parent.state_root, *block.payload)
        accumulator_root = sha3_256(b"sim-accumulator", parent.accumulator_root, block.id)
        height = parent.height + 1
        current = self.validators_of_epoch.get(block.epoch, self.validators)
        slashes = self._find_slashes(block, parent.slashed, current)
        slashed = parent.slashed | {slash.author for slash in slashes}
        next_set = self.set_changes.get(height)
        if next_set is None and self.epoch_interval > 0 and height % self.epoch_interval == 0:
            next_set = current
        if next_set is None and slashes:
            next_set = current  # the staking framework ends the epoch right after a slash of a member
        if next_set is not None and slashed and self.slashing is not None:
            kept = [member.address for member in next_set.members if member.address not in slashed]
            invariant(bool(kept), "slashing removed every validator")
            next_set = self.slashing.make_set(kept)
        return ExecutedResult(version, state_root, accumulator_root, height, next_set, slashed, slashes)

    def _find_slashes(self, block: Block, slashed: frozenset[bytes], current: ValidatorSet) -> tuple[Slash, ...]:
        """Return the slashes of the block's valid evidence against current members not slashed before."""
        if self.slashing is None:
            return ()
        slashes: list[Slash] = []
        for transaction in block.payload:
            evidence = decode_evidence_transaction(transaction)
            if evidence is None or evidence.author in slashed or not current.is_member(evidence.author):
                continue  # not evidence, or EALREADY_SLASHED (a slashed pool is tombstoned)
            if any(slash.author == evidence.author for slash in slashes):
                continue
            checked = verify_evidence(evidence, self.slashing.chain_id, self.validators_of_epoch)
            if checked is None or checked[0] > block.epoch:
                continue  # invalid, or EFUTURE_EPOCH
            amount = compute_slash_amount(self.slashing.stake_of[evidence.author])
            slashes.append(Slash(evidence.author, checked[0], checked[1], evidence.kind, amount, block.id))
        return tuple(slashes)



def make_executor(cluster: Cluster, config: SimConfig) -> FakeExecutor:
    """Return the run's executor: epoch interval, scheduled set changes and, if on, slashing."""
    set_changes = {height: cluster.make_set(members) for height, members in config.set_changes}
    slashing = None
    if config.slash_evidence:
        index = cluster.get_index()
        slashing = Slashing(SIM_CHAIN_ID, {info.address: info.voting_power for info in cluster.infos},
                            lambda addresses: cluster.make_set(sorted(index[address] for address in addresses)))
    return FakeExecutor(cluster.validators, config.epoch_interval, set_changes, slashing)
