"""Proof-of-stake bookkeeping of a run: who signed in which epoch, what was accepted from whom, stalls."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from consensus import events as ev
from consensus.types import (
    EpochState,
    SignedTimeout,
    SyncInfo,
    Timeout,
    TimeoutMsg,
    TimeoutSigningRepr,
    make_genesis_qc,
)
from consensus.verify import Rejection, get_message_epoch
from primitives.certified.domains import TIMEOUT_DOMAIN, compute_signing_bytes
from primitives.certified.signatures import Signer
from tests.sim.cluster import SIM_CHAIN_ID

if TYPE_CHECKING:
    from tests.sim.world import World


@dataclass(frozen=True, slots=True)
class Report:
    """A ReportEquivocation effect as a node emitted it."""

    label: str
    is_honest: bool
    tick: int
    report: ev.ReportEquivocation


@dataclass(slots=True)
class PosLog:
    """What the proof-of-stake scenarios assert on; filled as effects and deliveries happen."""

    # Epochs in which each address sent a signed proposal, vote, timeout or commit vote.
    signed_epochs: dict[bytes, set[int]] = field(default_factory=dict)
    reports: list[Report] = field(default_factory=list)
    # (sender address, receiver's epoch) -> messages that passed verification.
    accepted: Counter = field(default_factory=Counter)
    # (sender address, receiver's epoch, reason) -> rejected messages.
    rejected: Counter = field(default_factory=Counter)
    # Forged messages sent by removed Byzantine validators: (epoch, address).
    forged: list[tuple[int, bytes]] = field(default_factory=list)
    # Liveness across epoch changes: honest rounds entered between two new committed heights.
    last_height: int = 0
    rounds_at_last_height: int = 0
    max_stall_rounds: int = 0
    max_stall_height: int = 0  # the height whose commit ended the longest stall

    def on_send(self, address: bytes, message: object) -> None:
        """Record the epoch of a signed message leaving a node."""
        epoch = get_message_epoch(message)
        if epoch is not None:
            self.signed_epochs.setdefault(address, set()).add(epoch)

    def on_verified(self, sender: bytes, receiver_epoch: int, outcome: object) -> None:
        """Count what a receiver accepted or rejected from a sender, by the receiver's epoch."""
        if isinstance(outcome, Rejection):
            self.rejected[(sender, receiver_epoch, outcome.reason)] += 1
        else:
            self.accepted[(sender, receiver_epoch)] += 1

    def on_progress(self, height: int, honest_rounds: int) -> None:
        """Measure the rounds entered since the last new committed height when the height grows."""
        if height <= self.last_height:
            return
        stall = honest_rounds - self.rounds_at_last_height
        if stall > self.max_stall_rounds:
            self.max_stall_rounds = stall
            self.max_stall_height = height
        self.last_height = height
        self.rounds_at_last_height = honest_rounds

    def on_end(self, honest_rounds: int) -> None:
        """Count the rounds after the last commit as a stall too."""
        self.max_stall_rounds = max(self.max_stall_rounds, honest_rounds - self.rounds_at_last_height)

    def get_honest_reports(self) -> list[Report]:
        """Return the equivocation reports emitted by honest nodes."""
        return [report for report in self.reports if report.is_honest]


def make_forged_timeout(author: bytes, signer: Signer, chain_id: int, epoch_state: EpochState) -> TimeoutMsg:
    """Return a correctly signed timeout for round 1 of an epoch the author is not a member of."""
    genesis_qc = make_genesis_qc(epoch_state.genesis_block)
    timeout = Timeout(epoch_state.epoch, 1, genesis_qc)
    signed_repr = TimeoutSigningRepr(timeout.epoch, timeout.round, genesis_qc.round)
    signature = signer.sign(compute_signing_bytes(TIMEOUT_DOMAIN, chain_id, signed_repr))
    return TimeoutMsg(SignedTimeout(timeout, author, signature), SyncInfo(genesis_qc, None, None, None))


def forge_as_removed(world: World, epoch_state: EpochState) -> None:
    """Byzantine validators removed from a new epoch sign for it anyway; honest nodes must refuse them."""
    previous = world.watch.validators_of_epoch.get(epoch_state.epoch - 1)
    members = epoch_state.validators
    for validator in sorted(world.scenario.byzantine):
        address = world.cluster.addresses[validator]
        if previous is None or not previous.is_member(address) or members.is_member(address):
            continue
        forged = make_forged_timeout(address, world.cluster.signers[validator], SIM_CHAIN_ID, epoch_state)
        for sender in world.instances_of.get(address, ()):
            world.pos.forged.append((epoch_state.epoch, address))
            world.trace.record(world.tick, sender.label, "FORGED", f"timeout e{epoch_state.epoch} r1")
            for member in members.members:
                world.route(sender, member.address, forged)
