"""What a node's runtime does around epochs: state sync after an epoch jump, epoch on restart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from consensus import events as ev
from consensus.epoch import compute_next_epoch_state
from consensus.types import Block, EpochState
from primitives.certified.ledger_info import LedgerInfoWithSignatures
from primitives.errors import InvariantViolation
from tests.sim.mempool import on_committed
from tests.sim.node import Disk, SimInstance
from tests.sim.pos import forge_as_removed

if TYPE_CHECKING:
    from tests.sim.world import World


def sync_ledger(world: World, instance: SimInstance, certificate: LedgerInfoWithSignatures) -> None:
    """State sync: a node that jumped epochs commits the blocks up to the proof's ledger info."""
    target = certificate.ledger_info.block_id
    if target in instance.committed_ids:
        return
    path: list[Block] = []
    current = target
    last_committed = (instance.committed[-1] if instance.committed else world.watch.genesis).block_id
    while current != last_committed:
        block = world.known_blocks.get(current)
        if block is None:
            current = world.watch.genesis_parent.get(current, b"")
            if not current:
                raise InvariantViolation(f"{instance.label}: state sync to {target.hex()[:8]} "
                                         "found no path to its last committed block")
            continue
        path.append(block)
        current = block.parent_id
    path.reverse()
    for block in path:
        if world.executor.get_result(block.id) is None:
            world.executor.execute(block)
    world.trace.record(world.tick, instance.label, "state-sync", f"{len(path)} blocks")
    instance.disk.commit_certificate = certificate
    world.watch.on_commit(instance, ev.CommitBlocks(certificate, tuple(path)), world.tick)


def enter_epoch(world: World, instance: SimInstance, effect: ev.NewEpoch) -> None:
    """Carry out NewEpoch: remember the epoch, route to its members, state-sync, drop stale evidence."""
    epoch_state = effect.epoch_state
    instance.disk.epoch_state = epoch_state
    instance.routing_validators = epoch_state.validators
    world.executor.register_genesis(epoch_state.genesis_block)
    is_new = epoch_state.epoch not in world.watch.validators_of_epoch
    world.watch.on_new_epoch(epoch_state)
    sync_ledger(world, instance, effect.ledger_info_with_signatures)
    world.note_progress()
    on_committed(instance, (), epoch_state.validators)
    world.trace.record(world.tick, instance.label, "new-epoch", epoch_state.epoch)
    if is_new and world.config.slash_evidence:
        forge_as_removed(world, epoch_state)


def get_recovered_epoch_state(world: World, disk: Disk) -> EpochState:
    """Return the epoch a restarting node is in, from what its ledger holds."""
    epoch_state = disk.epoch_state or world.cluster.epoch_state
    certificate = disk.commit_certificate
    # A crash between committing the epoch-ending block and NewEpoch: the ledger says next epoch.
    if (certificate is not None and certificate.ledger_info.is_epoch_ending()
            and certificate.ledger_info.epoch == epoch_state.epoch):
        epoch_state = compute_next_epoch_state(certificate)
        # The ledger now says so: a later restart (after commits of this epoch replaced the
        # epoch-ending certificate on disk) must not fall back to the older epoch.
        disk.epoch_state = epoch_state
        world.executor.register_genesis(epoch_state.genesis_block)
        world.watch.on_new_epoch(epoch_state)
    return epoch_state
