"""What a node's mempool gives a leader: fake user transactions, plus equivocation evidence it saw."""

from __future__ import annotations

from typing import TYPE_CHECKING

from consensus import events as ev
from primitives.limits import MAX_TRANSACTION_SIZE_BYTES
from tests.sim.config import USECS_PER_TICK
from tests.sim.evidence import encode_evidence_transaction
from tests.sim.node import SimInstance
from tests.sim.pos import Report

if TYPE_CHECKING:
    from tests.sim.world import World

# Transactions a leader puts in a block at most.
PAYLOAD_TRANSACTIONS_MAX = 3


def compute_payload(world: World, instance: SimInstance, effect: ev.RequestPayload) -> tuple[bytes, ...]:
    """Return the leader's payload: waiting evidence first, then 0..3 (at least the configured) fake transactions."""
    excluded = set(effect.excluded_payload)
    payload = [transaction for transaction in instance.evidence_pool.values() if transaction not in excluded]
    count = world.rng.randint(min(world.config.payload_transactions_min, PAYLOAD_TRANSACTIONS_MAX),
                              PAYLOAD_TRANSACTIONS_MAX)
    for _ in range(count):
        instance.transaction_count += 1
        transaction = f"tx:{instance.label}:{instance.transaction_count}".encode()
        if transaction not in excluded:
            payload.append(transaction)
    return tuple(payload)


def answer_payload(world: World, instance: SimInstance, effect: ev.RequestPayload) -> ev.PayloadReady:
    """Return the runtime's answer to RequestPayload (the world delivers it one tick later)."""
    payload = compute_payload(world, instance, effect)
    return ev.PayloadReady(effect.epoch, effect.round, payload, world.tick * USECS_PER_TICK)


def on_report(world: World, instance: SimInstance, effect: ev.ReportEquivocation) -> None:
    """Record a core's equivocation report; with slashing on, queue it as an evidence transaction."""
    world.pos.reports.append(Report(instance.label, instance.is_honest, world.tick, effect))
    world.trace.record(world.tick, instance.label, "EQUIVOCATION", f"kind {effect.kind} "
                       f"{effect.author.hex()[:6]} e{effect.epoch} r{effect.round}")
    accused = world.cluster.get_index().get(effect.author)
    is_checked = world.config.faults.twins or world.config.slash_evidence
    if is_checked and accused not in world.scenario.byzantine and world.false_evidence is None:
        # Honest validators never sign twice for a round: evidence against one is a false positive (or
        # the trace of a safety bug, which the other checkers get the first chance to name).
        detail = (f"{instance.label} reported v{accused} (honest) for kind {effect.kind} "
                  f"e{effect.epoch} r{effect.round}")
        world.false_evidence = (detail, world.trace.get_lines())
    if not world.config.slash_evidence:
        return
    transaction = encode_evidence_transaction(effect)
    if len(transaction) <= MAX_TRANSACTION_SIZE_BYTES:  # a larger one would make the proposal invalid
        instance.evidence_pool[(effect.kind, effect.author, effect.epoch, effect.round)] = transaction


def on_committed(instance: SimInstance, blocks: tuple, members: object) -> None:
    """Drop evidence that was committed, or whose author is no longer a member (slashed or gone)."""
    if not instance.evidence_pool:
        return
    committed = {transaction for block in blocks for transaction in block.payload}
    instance.evidence_pool = {
        key: transaction for key, transaction in instance.evidence_pool.items()
        if transaction not in committed and members.is_member(key[1])  # type: ignore[attr-defined]
    }
