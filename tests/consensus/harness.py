"""A tiny hand-driven cluster for consensus scenario tests: FIFO delivery, partitions, fake executor."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from consensus import events as ev
from consensus.core import CoreConfig, CoreState, make_genesis_epoch_state, make_initial_state, recover, step
from consensus.events import PersistenceChecker
from consensus.pacemaker import PacemakerConfig
from consensus.types import Block, BlockRetrievalRequest, EpochRetrievalRequest, SyncInfo, VoteMsg, from_wire, to_wire
from consensus.verify import RejectReason, Rejection, verify_message
from primitives.certified.ledger_info import LedgerInfoWithSignatures
from primitives.certified.signatures import InsecureHashScheme, InsecureHashSigner
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.hashing import sha3_256

CHAIN_ID = 2
RECONFIGURE_TXN_PREFIX = b"reconfigure:"


def make_address(index: int) -> bytes:
    return bytes([index + 1]) * 16


def make_public_key(index: int) -> bytes:
    return sha3_256(b"consensus-test-key", bytes([index]))


def make_validators(powers: list[int]) -> ValidatorSet:
    return ValidatorSet.create([ValidatorInfo(make_address(i), make_public_key(i), make_public_key(i), power)
                                for i, power in enumerate(powers)])


def make_config(index: int, pacemaker: PacemakerConfig | None = None) -> CoreConfig:
    return CoreConfig(make_address(index), InsecureHashSigner(make_public_key(index)), InsecureHashScheme(), CHAIN_ID,
                      pacemaker or PacemakerConfig())


@dataclass
class Node:
    """One validator: core state plus what its runtime persisted and committed."""

    index: int
    state: CoreState
    safety: object = None
    blocks: dict = field(default_factory=dict)
    sync_info: SyncInfo | None = None
    committed: list[Block] = field(default_factory=list)
    commit_certs: list[LedgerInfoWithSignatures] = field(default_factory=list)
    executed: dict = field(default_factory=dict)  # block id -> (version, root)
    last_executed: tuple[int, bytes] = (0, b"\0" * 32)
    timer: tuple[int, int] | None = None
    sent_votes: dict = field(default_factory=dict)  # (epoch, round) -> vote
    new_epochs: list = field(default_factory=list)
    checker: PersistenceChecker = field(default_factory=PersistenceChecker)


class Cluster:
    """N validators; messages queue FIFO and are delivered by run(); blocked nodes lose messages."""

    def __init__(self, powers: list[int], payload_size: int = 1, pacemaker: PacemakerConfig | None = None) -> None:
        self.validators = make_validators(powers)
        self.epoch_state = make_genesis_epoch_state(self.validators)
        self.pacemaker = pacemaker
        self.nodes = [Node(i, make_initial_state(make_config(i, pacemaker), self.epoch_state))
                      for i in range(len(powers))]
        self.queue: deque = deque()
        self.blocked: set[int] = set()
        self.payload_size = payload_size
        self.clock_usecs = 1_000_000
        self.reconfigure_next: ValidatorSet | None = None
        self.rejections: list[Rejection] = []
        self.by_address = {make_address(i): i for i in range(len(powers))}

    def start(self) -> None:
        for node in self.nodes:
            self.apply(node, ev.Start())

    def apply(self, node: Node, event: ev.Event) -> None:
        node.state, effects = step(node.state, event)
        node.checker.observe(effects)
        for effect in effects:
            self._carry_out(node, effect)

    def _carry_out(self, node: Node, effect: ev.Effect) -> None:
        if isinstance(effect, ev.PersistSafety):
            node.safety = effect.safety_data
        elif isinstance(effect, ev.PersistBlock):
            node.blocks[effect.block.id] = effect.block
        elif isinstance(effect, ev.PersistSyncInfo):
            node.sync_info = effect.sync_info
        elif isinstance(effect, ev.Send):
            self._record_vote(node, effect.message)
            self.queue.append((node.index, self.by_address[effect.to], to_wire(effect.message)))
        elif isinstance(effect, ev.Broadcast):
            self._record_vote(node, effect.message)
            for other in self.nodes:
                if other.index != node.index:
                    self.queue.append((node.index, other.index, to_wire(effect.message)))
        elif isinstance(effect, ev.ScheduleTimeout):
            node.timer = (effect.epoch, effect.round)
        elif isinstance(effect, ev.RequestPayload):
            self._propose(node, effect)
        elif isinstance(effect, ev.ExecuteBlocks):
            self._execute(node, effect.blocks)
        elif isinstance(effect, ev.CommitBlocks):
            node.committed.extend(effect.blocks)
            node.commit_certs.append(effect.ledger_info_with_signatures)
        elif isinstance(effect, ev.FetchBlocks):
            self.queue.append((node.index, self.by_address[effect.peer],
                               to_wire(BlockRetrievalRequest(effect.block_id, effect.count))))
        elif isinstance(effect, ev.NewEpoch):
            node.new_epochs.append(effect)
            info = effect.ledger_info_with_signatures.ledger_info
            node.last_executed = (info.version, info.state_root)  # state sync to the epoch-ending ledger info
            if self.reconfigure_next == effect.epoch_state.validators:
                self.reconfigure_next = None

    def _record_vote(self, node: Node, message) -> None:
        if isinstance(message, VoteMsg):
            key = (message.vote.epoch, message.vote.round)
            previous = node.sent_votes.setdefault(key, message.vote)
            assert previous == message.vote, f"node {node.index} signed two votes for {key}"

    def _propose(self, node: Node, request: ev.RequestPayload) -> None:
        self.clock_usecs += 1000
        payload = tuple(b"txn-%d-%d" % (request.round, i) for i in range(self.payload_size))
        if self.reconfigure_next is not None:
            payload = (RECONFIGURE_TXN_PREFIX + b"x",)
        self.apply(node, ev.PayloadReady(request.epoch, request.round, payload, self.clock_usecs))

    def _execute(self, node: Node, blocks: tuple[Block, ...]) -> None:
        for block in blocks:
            version, root = node.last_executed
            version += len(block.payload)
            root = sha3_256(root, *block.payload)
            node.last_executed = (version, root)
            reconfig = any(txn.startswith(RECONFIGURE_TXN_PREFIX) for txn in block.payload)
            next_set = self.reconfigure_next if reconfig else None
            self.apply(node, ev.BlockExecuted(block.id, version, root, sha3_256(b"acc", root), next_set))
            if next_set is not None:
                break

    def deliver_one(self, position: int = 0, duplicate: bool = False) -> None:
        """Deliver the queued message at position (FIFO by default); a duplicate stays queued."""
        self.queue.rotate(-position)
        sender, receiver, wire = self.queue.popleft() if not duplicate else self.queue[0]
        self.queue.rotate(position)
        if sender in self.blocked or receiver in self.blocked:
            return
        node = self.nodes[receiver]
        verified = verify_message(from_wire(wire), make_address(sender), node.state.get_verify_context())
        if isinstance(verified, Rejection):
            self.rejections.append(verified)
            if verified.reason == RejectReason.FUTURE_EPOCH:
                request = EpochRetrievalRequest(node.state.epoch_state.epoch, verified.message_epoch)
                self.queue.append((receiver, sender, to_wire(request)))
            return
        self.apply(node, verified)

    def run(self, max_messages: int = 10_000) -> int:
        delivered = 0
        while self.queue and delivered < max_messages:
            self.deliver_one()
            delivered += 1
        return delivered

    def fire_timeouts(self, indexes: list[int] | None = None) -> None:
        for node in self.nodes:
            if (indexes is None or node.index in indexes) and node.timer is not None and node.index not in self.blocked:
                self.apply(node, ev.LocalTimeout(*node.timer))

    def restart(self, index: int) -> None:
        node = self.nodes[index]
        committed = node.commit_certs[-1] if node.commit_certs else None
        epoch_state = node.state.epoch_state
        state = recover(make_config(index, self.pacemaker), epoch_state, node.safety, list(node.blocks.values()), node.sync_info,
                        committed)
        node.state = state
        node.last_executed = self._committed_execution(node)
        node.checker = PersistenceChecker(node.safety, node.blocks.keys())
        self.apply(node, ev.Start())

    def _committed_execution(self, node: Node) -> tuple[int, bytes]:
        if not node.commit_certs:
            return (0, b"\0" * 32)
        info = node.commit_certs[-1].ledger_info
        return (info.version, info.state_root)

    def get_committed_rounds(self, index: int) -> list[int]:
        return [block.round for block in self.nodes[index].committed]
