"""The fault plan of one seed: who is Byzantine, where the twins live, when partitions come."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tests.sim.config import PARTITION_TICKS_MAX, PARTITION_TICKS_MIN, SimConfig

# Quiet time between two partition phases.
PARTITION_GAP_TICKS_MAX = 400
# A partition splits the instances into this many groups at most.
PARTITION_GROUPS_MAX = 3


@dataclass(frozen=True, slots=True)
class PartitionPhase:
    """From start_tick to end_tick, messages only flow inside each group of instances."""

    start_tick: int
    end_tick: int
    groups: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    """Instances (validator index per instance), Byzantine roles and the partition schedule."""

    validator_of_instance: tuple[int, ...]
    byzantine: frozenset[int]
    twins: frozenset[int]
    stale: frozenset[int]
    silent: frozenset[int]
    phases: tuple[PartitionPhase, ...]

    def is_honest_instance(self, instance: int) -> bool:
        """Return True for an instance of a validator that follows the protocol alone."""
        return self.validator_of_instance[instance] not in self.byzantine

    def get_instances(self, validator: int) -> list[int]:
        """Return every instance running the given validator's key."""
        return [i for i, v in enumerate(self.validator_of_instance) if v == validator]


def compute_scenario(rng: random.Random, config: SimConfig) -> Scenario:
    """Draw the Byzantine set, the twin copies and the partition phases for one seed."""
    byzantine = frozenset(rng.sample(range(config.validators), config.byzantine))
    twins = byzantine if config.faults.twins else frozenset()
    stale = byzantine - twins if config.faults.stale_leaders else frozenset()
    silent = byzantine - twins - stale
    validator_of_instance = list(range(config.validators))
    validator_of_instance.extend(sorted(twins))
    # Joiners (not in the genesis set) run one honest instance each, numbered after the twins.
    validator_of_instance.extend(range(config.validators, config.get_validator_count()))
    phases = compute_phases(rng, config, tuple(validator_of_instance))
    return Scenario(tuple(validator_of_instance), byzantine, twins, stale, silent, phases)


def compute_phases(
    rng: random.Random, config: SimConfig, validator_of_instance: tuple[int, ...]
) -> tuple[PartitionPhase, ...]:
    """Draw consecutive partition phases; twin copies always land in different groups."""
    phases = []
    tick = 0
    for _ in range(config.faults.partition_phases):
        start = tick + rng.randint(0, PARTITION_GAP_TICKS_MAX)
        end = start + rng.randint(PARTITION_TICKS_MIN, PARTITION_TICKS_MAX)
        groups = compute_groups(rng, validator_of_instance)
        phases.append(PartitionPhase(start, end, groups))
        tick = end
    return tuple(phases)


def compute_groups(
    rng: random.Random, validator_of_instance: tuple[int, ...]
) -> tuple[tuple[int, ...], ...]:
    """Split instances at random into 2..3 groups, keeping the two copies of a twin apart."""
    group_count = rng.randint(2, PARTITION_GROUPS_MAX)
    group_of: dict[int, int] = {}
    first_copy_group: dict[int, int] = {}
    for instance, validator in enumerate(validator_of_instance):
        group = rng.randrange(group_count)
        if validator in first_copy_group and group == first_copy_group[validator]:
            group = (group + 1 + rng.randrange(group_count - 1)) % group_count
        first_copy_group.setdefault(validator, group)
        group_of[instance] = group
    return tuple(
        tuple(i for i in range(len(validator_of_instance)) if group_of[i] == g)
        for g in range(group_count)
    )
