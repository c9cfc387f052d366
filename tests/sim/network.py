"""A seeded packet simulator: delays (and so reorders), drops, duplicates and partitions."""

from __future__ import annotations

import random

from tests.sim.config import NETWORK_DELAY_TICKS_MIN, FaultMix


class SimNetwork:
    """Decides, for each message, whether and when each copy arrives; all draws use one RNG."""

    def __init__(self, rng: random.Random, faults: FaultMix, instance_count: int) -> None:
        self.rng = rng
        self.faults = faults
        self.instance_count = instance_count
        # group_of[i] is the partition group of instance i; None means fully connected.
        self.group_of: tuple[int, ...] | None = None
        self.is_healed = False
        self.sent_count = 0
        self.dropped_count = 0
        self.duplicated_count = 0

    def set_partition(self, groups: tuple[tuple[int, ...], ...]) -> None:
        """Split the instances into groups; messages only flow inside a group."""
        group_of = [0] * self.instance_count
        for group_index, group in enumerate(groups):
            for instance in group:
                group_of[instance] = group_index
        self.group_of = tuple(group_of)

    def clear_partition(self) -> None:
        """Reconnect every instance."""
        self.group_of = None

    def heal(self) -> None:
        """Stop every fault for good: no partition, no loss, no duplicates (delays remain)."""
        self.group_of = None
        self.is_healed = True

    def is_connected(self, sender: int, receiver: int) -> bool:
        """Return True when the current partition lets sender reach receiver."""
        if self.group_of is None:
            return True
        return self.group_of[sender] == self.group_of[receiver]

    def compute_delays(self, sender: int, receiver: int) -> list[int]:
        """Return the delivery delay of each copy of one message (empty when it is lost)."""
        self.sent_count += 1
        if sender == receiver:
            # A node's message to itself never crosses the network.
            return [0]
        if not self.is_connected(sender, receiver):
            self.dropped_count += 1
            return []
        rng = self.rng
        if not self.is_healed and rng.random() < self.faults.drop_probability:
            self.dropped_count += 1
            return []
        delay_min = max(NETWORK_DELAY_TICKS_MIN, self.faults.delay_ticks_min)
        delay_max = max(delay_min, self.faults.delay_ticks_max)
        delays = [rng.randint(delay_min, delay_max)]
        if not self.is_healed and rng.random() < self.faults.duplicate_probability:
            self.duplicated_count += 1
            delays.append(rng.randint(delay_min, delay_max * 2))
        return delays
