"""The simulated world: N validators running the unchanged core over a seeded network and disk."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable

from consensus import core
from consensus import events as ev
from consensus.safety import SafetyRules
from consensus.state import CoreState
from consensus.types import Block, BlockRetrievalRequest, EpochRetrievalRequest
from consensus.verify import RejectReason, Rejection, verify_message
from primitives.errors import InvariantViolation
from tests.sim.byzantine import StaleLeader
from tests.sim.checkers import CORE_CRASH, FALSE_EVIDENCE, LIVENESS, Violation
from tests.sim.cluster import Cluster, make_cluster
from tests.sim.config import (
    CRASH_DOWNTIME_TICKS_MAX,
    CRASH_DOWNTIME_TICKS_MIN,
    EVENTS_PER_SEED_MAX,
    SimConfig,
)
from tests.sim.executor import make_executor
from tests.sim.liveness import is_finished
from tests.sim.mempool import answer_payload, on_committed, on_report
from tests.sim.network import SimNetwork
from tests.sim.node import Disk, SimInstance
from tests.sim.pos import PosLog
from tests.sim.result import SeedResult
from tests.sim.scenario import Scenario, compute_scenario
from tests.sim.statesync import enter_epoch, get_recovered_epoch_state
from tests.sim.trace import Trace
from tests.sim.watch import Watch, describe

# Event kinds in the queue; ints keep heap entries cheap.
DELIVER, TIMER, LOCAL, RESTART, PARTITION_START, PARTITION_END, STOP = range(7)
# Chaos never lasts longer than this many ticks, whatever the round count.
CHAOS_TICKS_MAX = 60_000
# An epoch retrieval asks for every epoch change from ours up to this many epochs later.
EPOCH_RETRIEVAL_SPAN = 1_000

StepFunction = Callable[[CoreState, ev.Event], tuple[CoreState, tuple[ev.Effect, ...]]]


class World:
    """Runs one seed: every random choice comes from one Random(seed); time is logical ticks."""

    def __init__(self, seed: int, config: SimConfig, safety_rules: SafetyRules | None = None,
                 step: StepFunction | None = None) -> None:
        self.seed = seed
        self.config = config
        self.rng = random.Random(seed)
        self.step = step or core.step
        self.cluster: Cluster = make_cluster(config)
        self.scenario: Scenario = compute_scenario(self.rng, config)
        self.network = SimNetwork(self.rng, config.faults, len(self.scenario.validator_of_instance))
        self.executor = make_executor(self.cluster, config)
        self.executor.register_genesis(self.cluster.epoch_state.genesis_block)
        self.trace = Trace()
        self.queue: list[tuple[int, int, int, int, object]] = []
        self.sequence = 0
        self.tick = 0
        self.heal_tick = -1
        self.heal_round = 0
        self.heal_heights: dict[int, int] = {}
        # Rounds entered by honest nodes, as (epoch, round): rounds restart at every epoch.
        self.honest_rounds: set[tuple[int, int]] = set()
        self.highest_honest_round = 0
        self.crash_count = 0
        self.core_error: tuple[str, list[str]] | None = None
        self.false_evidence: tuple[str, list[str]] | None = None  # the first report naming an honest validator
        rules = safety_rules or SafetyRules()
        self.instances = self._make_instances(rules)
        self.instances_of: dict[bytes, list[SimInstance]] = {}
        # Every block any node persisted: what state sync can download from peers.
        self.known_blocks: dict[bytes, Block] = {}
        for instance in self.instances:
            self.instances_of.setdefault(instance.address, []).append(instance)
            if instance.validator in self.scenario.stale:
                instance.stale_leader = StaleLeader(self.rng)
        self.watch = Watch(config, self.cluster, self.executor)
        self.pos = PosLog()
        # Tests switch this off to show that a node which never asks for the epoch proof is stuck.
        self.route_epoch_requests = True

    def _make_instances(self, rules: SafetyRules) -> list[SimInstance]:
        instances = []
        copies: dict[int, int] = {}
        for index, validator in enumerate(self.scenario.validator_of_instance):
            copy = copies.get(validator, 0)
            copies[validator] = copy + 1
            instances.append(SimInstance(
                index=index, validator=validator, label=f"v{validator}" + "'" * copy,
                address=self.cluster.addresses[validator],
                is_honest=self.scenario.is_honest_instance(index),
                core_config=self.cluster.get_core_config(validator, rules)))
        return instances

    # ------------------------------------------------------------------------------ queue

    def push(self, tick: int, kind: int, instance: int, data: object) -> None:
        """Schedule something to happen at a tick; ties keep insertion order."""
        self.sequence += 1
        heapq.heappush(self.queue, (tick, self.sequence, kind, instance, data))

    def run(self) -> SeedResult:
        """Run the seed to its end; return the result with the first violation, if any."""
        result = SeedResult(self.seed)
        try:
            self._start()
            self._loop()
        except Violation as violation:
            result.invariant_name = violation.invariant_name
            result.detail = violation.detail
            if violation.invariant_name == LIVENESS and self.core_error is not None:
                result.invariant_name = ""  # the halt explains the stall: report it instead
        except InvariantViolation as error:
            result.invariant_name = CORE_CRASH
            result.detail = f"simulator: InvariantViolation: {error}"
        result.trace_lines = self.trace.get_lines()
        if result.is_ok and self.core_error is not None:
            # No checker fired, but a core stopped on its own invariant: that is a finding too.
            result.invariant_name = CORE_CRASH
            result.detail, result.trace_lines = self.core_error
        if result.is_ok and self.false_evidence is not None:
            result.invariant_name = FALSE_EVIDENCE
            result.detail, result.trace_lines = self.false_evidence
        result.trace_digest = self.trace.get_digest()
        result.committed_height = self.watch.ledger.get_height()
        result.event_count = self.trace.event_count
        result.tick = self.tick
        result.heal_tick = self.heal_tick
        result.crash_count = self.crash_count
        result.highest_epoch = max(self.watch.validators_of_epoch)
        result.commit_ticks = dict(self.watch.commit_ticks)
        self.pos.on_end(self.highest_honest_round)
        result.max_stall_rounds = self.pos.max_stall_rounds
        result.honest_report_count = len(self.pos.get_honest_reports())
        result.slashed_count = sum(len(self.executor.results[block.block_id].slashes)
                                   for block, _ in self.watch.ledger.by_height.values())
        return result

    def _start(self) -> None:
        for phase_index, phase in enumerate(self.scenario.phases):
            self.push(phase.start_tick, PARTITION_START, -1, phase_index)
            self.push(phase.end_tick, PARTITION_END, -1, phase_index)
        stop_ticks = dict(self.config.stops)
        for instance in self.instances:
            if instance.validator in stop_ticks:
                self.push(stop_ticks[instance.validator], STOP, instance.index, None)
            if instance.validator in self.scenario.silent or stop_ticks.get(instance.validator) == 0:
                instance.is_stopped = instance.validator not in self.scenario.silent
                continue  # a silent Byzantine validator (or one stopped from the start) never runs
            instance.state = core.make_initial_state(instance.core_config, self.cluster.epoch_state)
            instance.routing_validators = self.cluster.validators
            instance.is_alive = True
            self.trace.record(0, instance.label, "start")
            self.process(instance, ev.Start())

    def _loop(self) -> None:
        while self.queue:
            if self.trace.event_count > EVENTS_PER_SEED_MAX:
                raise Violation(LIVENESS, f"event budget {EVENTS_PER_SEED_MAX} exhausted")
            tick, _, kind, index, data = heapq.heappop(self.queue)
            self.tick = tick
            self._dispatch(kind, index, data)
            if self.heal_tick < 0:
                if self.highest_honest_round >= self.config.rounds or tick >= CHAOS_TICKS_MAX:
                    self.heal()
            elif is_finished(self):
                return
        raise Violation(LIVENESS, "nothing left to happen (every timer stopped)")

    def _dispatch(self, kind: int, index: int, data: object) -> None:
        if kind == DELIVER:
            self._deliver(self.instances[index], data)  # type: ignore[arg-type]
        elif kind == TIMER:
            instance = self.instances[index]
            generation, token, event = data  # type: ignore[misc]
            if instance.is_alive and generation == instance.generation and token == instance.timer_token:
                self.trace.record(self.tick, instance.label, "timeout", event.round)
                self.process(instance, event)
        elif kind == LOCAL:
            instance = self.instances[index]
            generation, event = data  # type: ignore[misc]
            if instance.is_alive and generation == instance.generation:
                self.process(instance, event)
        elif kind == RESTART:
            self.restart(self.instances[index])
        elif kind == STOP:
            self.stop(self.instances[index])
        elif kind == PARTITION_START and self.heal_tick < 0:
            groups = self.scenario.phases[data].groups  # type: ignore[index]
            self.trace.record(self.tick, "net", "partition", groups)
            self.network.set_partition(groups)
        elif kind == PARTITION_END and self.heal_tick < 0:
            self.trace.record(self.tick, "net", "reconnect")
            self.network.clear_partition()

    # ------------------------------------------------------------------------------ nodes

    def _deliver(self, instance: SimInstance, data: tuple[bytes, int, object]) -> None:
        sender_address, sender_index, message = data
        if not instance.is_alive or self.is_offline(instance, self.tick):
            return
        if not self.network.is_connected(sender_index, instance.index):
            return  # a partition formed while the message was in flight
        self.trace.record(self.tick, instance.label, "<-", self.instances[sender_index].label,
                          describe(message))
        event = verify_message(message, sender_address, instance.state.get_verify_context())
        self.pos.on_verified(sender_address, instance.state.epoch_state.epoch, event)
        if isinstance(event, Rejection) and event.sync_info is not None:
            event = ev.VerifiedSyncInfo(sender_address, event.sync_info)  # [SYNC-1], as the runtime does
        if isinstance(event, Rejection):
            if event.reason == RejectReason.FUTURE_EPOCH and self.route_epoch_requests:
                # As the API asks: fetch the epoch-change proof from the peer that is ahead.
                my_epoch = instance.state.epoch_state.epoch
                request = EpochRetrievalRequest(my_epoch, my_epoch + EPOCH_RETRIEVAL_SPAN)
                self.trace.record(self.tick, instance.label, "future-epoch", event.detail)
                self.route(instance, sender_address, request)
            return
        if type(event) is ev.VerifiedProposal:
            self.watch.on_block_seen(event.message.block)
        self.process(instance, event)
        if instance.stale_leader is not None and instance.is_alive:
            self._attack(instance, getattr(message, "sync_info", None))

    def _attack(self, instance: SimInstance, sync_info: object) -> None:
        """Let a stale leader broadcast its stale proposal when a TC gives it the chance."""
        leader = instance.stale_leader
        attack = leader.get_attack(instance.state, sync_info, self.tick)  # type: ignore[union-attr]
        if attack is None:
            return
        self.trace.record(self.tick, instance.label, "STALE-PROPOSAL", describe(attack))
        peer, leak = leader.get_leak(instance.state, self.cluster.addresses)  # type: ignore[union-attr]
        self.route(instance, peer, leak)
        for address in self.cluster.addresses:
            if address != instance.address:
                self.route(instance, address, attack)

    def process(self, instance: SimInstance, event: ev.Event) -> None:
        """Step the core and carry out its effects in order; the node may crash in between."""
        try:
            state, effects = self.step(instance.state, event)
        except InvariantViolation as error:
            self.halt(instance, error)
            return
        instance.state = state
        crash_at = -1
        if (instance.is_honest and self.heal_tick < 0 and self.config.faults.crash_probability
                and self.rng.random() < self.config.faults.crash_probability):
            crash_at = self.rng.randint(0, len(effects))
        for position, effect in enumerate(effects):
            if position == crash_at:
                break
            self.apply(instance, effect)
        if crash_at >= 0:
            self.crash(instance, crash_at, len(effects))

    def halt(self, instance: SimInstance, error: InvariantViolation) -> None:
        """A core that trips its own invariant stops for good, as a node would; the run goes on."""
        instance.is_alive = False
        instance.is_halted = True
        instance.state = None
        instance.generation += 1
        self.trace.record(self.tick, instance.label, "HALT", str(error))
        if self.core_error is None:
            detail = f"{instance.label} halted: InvariantViolation: {error}"
            self.core_error = (detail, self.trace.get_lines())

    def crash(self, instance: SimInstance, position: int, effect_count: int) -> None:
        """Kill a node: memory, timers and pending answers are lost; the disk stays."""
        self.crash_count += 1
        instance.crash_count += 1
        instance.is_alive = False
        instance.state = None
        instance.generation += 1
        self.trace.record(self.tick, instance.label, "CRASH", f"after {position}/{effect_count} effects")
        downtime = self.rng.randint(CRASH_DOWNTIME_TICKS_MIN, CRASH_DOWNTIME_TICKS_MAX)
        self.push(self.tick + downtime, RESTART, instance.index, instance.generation)

    def stop(self, instance: SimInstance) -> None:
        """Kill a node for good (a scripted stop): it never restarts, even at the heal."""
        instance.is_alive = False
        instance.is_stopped = True
        instance.state = None
        instance.generation += 1
        self.trace.record(self.tick, instance.label, "STOP")

    def restart(self, instance: SimInstance) -> None:
        """Rebuild a node from its disk only, then start it."""
        if instance.is_alive or instance.is_halted or instance.is_stopped:
            return
        if self.config.faults.disk_loss:
            instance.disk = Disk()
        disk: Disk = instance.disk
        epoch_state = get_recovered_epoch_state(self, disk)
        if disk.safety is None:
            instance.state = core.make_initial_state(instance.core_config, epoch_state)
        else:
            instance.state = core.recover(instance.core_config, epoch_state, disk.safety,
                                          tuple(disk.blocks.values()), disk.sync_info,
                                          disk.commit_certificate)
        instance.routing_validators = epoch_state.validators
        instance.is_alive = True
        self.trace.record(self.tick, instance.label, "RESTART")
        self.process(instance, ev.Start())

    def is_offline(self, instance: SimInstance, tick: int) -> bool:
        """Return True while a configured outage cuts this validator off the network."""
        for validator, start, end in self.config.offline:
            if validator == instance.validator and start <= tick < end:
                return True
        return False

    # ------------------------------------------------------------------------------ effects

    def apply(self, instance: SimInstance, effect: ev.Effect) -> None:
        """Carry out one effect exactly as a node runtime would."""
        kind = type(effect)
        disk = instance.disk
        if kind is ev.PersistSafety:
            disk.safety = effect.safety_data
            self.watch.on_persist_safety(instance, effect.safety_data)
        elif kind is ev.PersistBlock:
            disk.blocks[effect.block.id] = effect.block
            self.known_blocks[effect.block.id] = effect.block
        elif kind is ev.PersistSyncInfo:
            disk.sync_info = effect.sync_info
        elif kind is ev.Send:
            self.watch.on_send(instance, effect.message, self.tick)
            self.pos.on_send(instance.address, effect.message)
            self.route(instance, effect.to, effect.message)
        elif kind is ev.Broadcast:
            self.watch.on_send(instance, effect.message, self.tick)
            self.pos.on_send(instance.address, effect.message)
            if instance.stale_leader is not None and instance.stale_leader.is_withheld(effect.message):
                self.trace.record(self.tick, instance.label, "WITHHOLD", describe(effect.message))
                self._attack(instance, getattr(effect.message, "sync_info", None))
                return
            for member in (instance.routing_validators or instance.state.epoch_state.validators).members:
                if member.address != instance.address:
                    self.route(instance, member.address, effect.message)
        elif kind is ev.ScheduleTimeout:
            self._schedule_timeout(instance, effect)
        elif kind is ev.RequestPayload:
            ready = answer_payload(self, instance, effect)
            self.push(self.tick + 1, LOCAL, instance.index, (instance.generation, ready))
        elif kind is ev.ExecuteBlocks:
            self._execute(instance, effect)
        elif kind is ev.CommitBlocks:
            disk.commit_certificate = effect.ledger_info_with_signatures
            for block in effect.blocks:
                disk.blocks[block.id] = block
            self.watch.on_commit(instance, effect, self.tick)
            self.note_progress()
            on_committed(instance, effect.blocks,
                         instance.routing_validators or instance.state.epoch_state.validators)
        elif kind is ev.FetchBlocks:
            request = BlockRetrievalRequest(effect.block_id, effect.count)
            self.route(instance, effect.peer, request)
        elif kind is ev.NewEpoch:
            enter_epoch(self, instance, effect)
        elif kind is ev.ReportEquivocation:
            on_report(self, instance, effect)

    def note_progress(self) -> None:
        """Measure stalls: rounds entered between two new heights committed by honest nodes."""
        self.pos.on_progress(self.watch.ledger.get_height(), self.highest_honest_round)

    def route(self, sender: SimInstance, address: bytes, message: object) -> None:
        """Put a message on the wire to every instance that runs the addressed validator."""
        if self.is_offline(sender, self.tick):
            return
        for receiver in self.instances_of.get(address, ()):
            for delay in self.network.compute_delays(sender.index, receiver.index):
                self.push(self.tick + delay, DELIVER, receiver.index, (sender.address, sender.index, message))

    def _schedule_timeout(self, instance: SimInstance, effect: ev.ScheduleTimeout) -> None:
        instance.timer_token += 1
        instance.round = effect.round
        if instance.is_honest and (effect.epoch, effect.round) not in self.honest_rounds:
            # Progress is counted in distinct rounds entered, so it keeps growing across epochs.
            self.honest_rounds.add((effect.epoch, effect.round))
            self.highest_honest_round = len(self.honest_rounds)
        event = ev.LocalTimeout(effect.epoch, effect.round)
        data = (instance.generation, instance.timer_token, event)
        self.push(self.tick + effect.duration_ms, TIMER, instance.index, data)

    def _execute(self, instance: SimInstance, effect: ev.ExecuteBlocks) -> None:
        for block in effect.blocks:
            if self.executor.is_past_reconfiguration(block):
                continue  # ordered after the epoch ended: discarded, never executed
            self.watch.on_ordered(instance, block)
            executed = self.executor.execute(block)
            if executed is None:
                raise InvariantViolation(f"{instance.label} asked to execute {block.id.hex()[:8]} "
                                         "whose parent never executed")
            self.push(self.tick + 1, LOCAL, instance.index, (instance.generation, executed))

    # ------------------------------------------------------------------------------ phases

    def heal(self) -> None:
        """End the chaos: heal the network, restart crashed nodes, start the liveness clock."""
        self.heal_tick = self.tick
        self.heal_round = self.highest_honest_round
        self.network.heal()
        self.trace.record(self.tick, "net", "HEAL", f"round {self.heal_round}")
        for instance in self.instances:
            if instance.validator not in self.scenario.silent and not instance.is_alive:
                self.restart(instance)
        self.heal_heights = {i.index: i.get_committed_height() for i in self.instances if i.is_honest}

def run_seed(seed: int, config: SimConfig, safety_rules: SafetyRules | None = None,
             step: StepFunction | None = None) -> SeedResult:
    """Run one seed and return its result; the same arguments always give the same run."""
    return World(seed, config, safety_rules, step).run()
