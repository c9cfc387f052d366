"""Liveness: after the heal, with faulty power below one third, honest nodes must commit again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.sim.checkers import LIVENESS, Violation
from tests.sim.config import LIVENESS_COMMITS_REQUIRED, LIVENESS_ROUNDS_MAX, LIVENESS_TICKS_MAX

if TYPE_CHECKING:
    from tests.sim.world import World


def is_finished(world: World) -> bool:
    """Return True once liveness is shown; raise Violation when its bound is exceeded."""
    is_expected = is_liveness_expected(world)
    if world.config.tail_ticks:
        # A fixed-length run (e.g. an outage scenario): stop after the tail, whatever happened.
        is_over = world.tick >= world.heal_tick + world.config.tail_ticks
    else:
        if is_expected and has_progressed(world):
            return True
        is_over = (world.highest_honest_round > world.heal_round + LIVENESS_ROUNDS_MAX
                   or world.tick >= world.heal_tick + LIVENESS_TICKS_MAX)
    if is_over and is_expected and not has_progressed(world):
        raise Violation(LIVENESS, describe_progress(world))
    return is_over


def has_progressed(world: World) -> bool:
    """Return True when every running honest member of the newest epoch committed enough since the heal.

    A validator that left (or has not joined yet) is not expected to follow the chain.
    """
    validators_of_epoch = world.watch.validators_of_epoch
    newest = validators_of_epoch[max(validators_of_epoch)]
    for instance in world.instances:
        is_running = (not instance.is_halted and not instance.is_stopped
                      and instance.validator not in world.scenario.silent)
        if instance.is_honest and is_running and newest.is_member(instance.address):
            height = instance.get_committed_height()
            if height < world.heal_heights.get(instance.index, 0) + LIVENESS_COMMITS_REQUIRED:
                return False
    return True


def is_liveness_expected(world: World) -> bool:
    """Return True when the heal must be followed by commits: faulty power below one third."""
    if not world.config.check_liveness:
        return False
    validators = world.cluster.validators  # genesis powers (Byzantine and offline validators are genesis members)
    addresses = world.cluster.addresses
    faulty = sum(validators.get_power(addresses[v]) for v in world.scenario.byzantine)
    faulty += sum(validators.get_power(addresses[v]) for v, start, end in world.config.offline
                  if end > world.heal_tick)
    faulty += sum(validators.get_power(addresses[v]) for v, _ in world.config.stops)
    return faulty * 3 < validators.get_total_power()


def describe_progress(world: World) -> str:
    """Return each honest node's height at the heal and now, for the liveness report."""
    heights = ", ".join(
        f"{i.label}:{world.heal_heights.get(i.index, 0)}->{i.get_committed_height()}@r{i.round}"
        for i in world.instances if i.is_honest)
    return (f"no progress {LIVENESS_ROUNDS_MAX} rounds after the heal at round {world.heal_round} "
            f"(tick {world.heal_tick}); heights {heights}")
