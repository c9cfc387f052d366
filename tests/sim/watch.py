"""Watches every effect a node carries out and checks the safety invariants as they happen."""

from __future__ import annotations

from consensus import events as ev
from consensus.safety import SafetyData
from consensus.types import (
    Block,
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    CommitVoteMsg,
    EpochState,
    ProposalMsg,
    SyncInfoMsg,
    TimeoutMsg,
    VoteMsg,
)
from primitives.certified.blocks import QuorumCertificate
from primitives.certified.domains import COMMIT_VOTE_DOMAIN, VOTE_DOMAIN, compute_signing_bytes
from primitives.certified.validators import ValidatorSet
from tests.sim.checkers import (
    AGREEMENT,
    CHAIN_VALIDITY,
    PERSIST_BEFORE_SEND,
    CommitLedger,
    CommittedBlock,
    Violation,
    VoteLedger,
    check_chain_extension,
)
from tests.sim.cluster import SIM_CHAIN_ID, Cluster
from tests.sim.config import SimConfig
from tests.sim.executor import FakeExecutor
from tests.sim.node import SimInstance


class Watch:
    """The checkers' view of the run: signed votes per key, commits per height, certificates."""

    def __init__(self, config: SimConfig, cluster: Cluster, executor: FakeExecutor) -> None:
        self.config = config
        self.cluster = cluster
        self.executor = executor
        self.ledger = CommitLedger()
        self.votes = VoteLedger()
        self.commit_ticks: dict[int, int] = {}
        self._quorum_cache: dict[object, bool] = {}
        # Ordering is final (execution follows it), so honest nodes must agree on ordered blocks too.
        self.ordered_height_of: dict[bytes, int] = {cluster.epoch_state.genesis_block.id: 0}
        self.ordered_at: dict[int, tuple[bytes, str]] = {}
        # Every block seen on the wire (id -> parent id, round), to check certificates against order.
        genesis_block = cluster.epoch_state.genesis_block
        self.seen_blocks: dict[bytes, tuple[bytes, int, int]] = {
            genesis_block.id: (genesis_block.parent_id, genesis_block.epoch, 0)}
        self.ordered_tip: tuple[bytes, int, int] = (genesis_block.id, genesis_block.epoch, 0)
        self.validators_of_epoch: dict[int, ValidatorSet] = {
            cluster.epoch_state.epoch: cluster.validators}
        # An epoch's genesis block stands for the last block of the previous epoch.
        self.genesis_parent: dict[bytes, bytes] = {}
        genesis = cluster.epoch_state.genesis_block
        result = executor.get_result(genesis.id)
        self.genesis = CommittedBlock(genesis.id, genesis.parent_id, genesis.epoch, genesis.round,
                                      result.version, result.state_root)  # type: ignore[union-attr]

    def on_persist_safety(self, instance: SimInstance, safety: SafetyData) -> None:
        """A persisted last vote is a signed vote: record it for honest keys."""
        vote = safety.last_vote
        if instance.is_honest and vote is not None:
            self.votes.record_vote(vote.author, vote.epoch, vote.round, vote.vote_data, instance.label)

    def on_send(self, instance: SimInstance, message: object, tick: int) -> None:
        """Check that a signed message is covered by the disk, and record honest votes."""
        kind = type(message)
        if kind is VoteMsg:
            vote = message.vote  # type: ignore[attr-defined]
            if self.config.check_persist_before_send:
                self._check_vote_persisted(instance, vote)
            if instance.is_honest:
                self.votes.record_vote(vote.author, vote.epoch, vote.round, vote.vote_data, instance.label)
        elif kind is TimeoutMsg:
            timeout = message.timeout.timeout  # type: ignore[attr-defined]
            if self.config.check_persist_before_send:
                safety = instance.disk.safety
                if (safety is None or safety.epoch != timeout.epoch
                        or safety.highest_timeout_round < timeout.round):
                    raise Violation(PERSIST_BEFORE_SEND, f"{instance.label} sent a timeout for round "
                                    f"{timeout.round} but its disk holds {safety}")
            if instance.is_honest:
                self.votes.record_timeout(instance.address, timeout.epoch, timeout.round)
        elif kind is ProposalMsg and self.config.check_persist_before_send:
            block = message.block  # type: ignore[attr-defined]
            safety = instance.disk.safety
            if safety is None or safety.last_voted_round < block.round:
                raise Violation(PERSIST_BEFORE_SEND, f"{instance.label} proposed round {block.round} "
                                f"but its disk holds {safety}")

    def _check_vote_persisted(self, instance: SimInstance, vote: object) -> None:
        disk = instance.disk
        if disk.safety is None or disk.safety.last_vote != vote:
            raise Violation(PERSIST_BEFORE_SEND, f"{instance.label} sent a vote for round "
                            f"{vote.round} that its disk does not hold")  # type: ignore[attr-defined]
        if vote.vote_data.proposed.id not in disk.blocks:  # type: ignore[attr-defined]
            raise Violation(PERSIST_BEFORE_SEND, f"{instance.label} voted for a block it did not persist")

    def on_ordered(self, instance: SimInstance, block: Block) -> None:
        """Check that honest nodes order the same block at every height of the chain."""
        parent_height = self.ordered_height_of.get(block.parent_id)
        if parent_height is None:
            raise Violation(CHAIN_VALIDITY, f"{instance.label} ordered r{block.round} "
                            f"{block.id.hex()[:8]} whose parent was never ordered")
        height = parent_height + 1
        self.ordered_height_of.setdefault(block.id, height)
        if not instance.is_honest:
            return
        known = self.ordered_at.get(height)
        if known is None:
            self.ordered_at[height] = (block.id, instance.label)
            self.seen_blocks[block.id] = (block.parent_id, block.epoch, block.round)
            if (block.epoch, block.round) > self.ordered_tip[1:]:
                self.ordered_tip = (block.id, block.epoch, block.round)
        elif known[0] != block.id:
            raise Violation(AGREEMENT, f"height {height}: {instance.label} ordered "
                            f"{block.id.hex()[:8]}(e{block.epoch} r{block.round}) but {known[1]} "
                            f"ordered {known[0].hex()[:8]}")

    def on_new_epoch(self, epoch_state: EpochState) -> None:
        """Learn a new epoch: its validators, and its genesis as an alias of the block it follows."""
        genesis = epoch_state.genesis_block
        self.validators_of_epoch.setdefault(epoch_state.epoch, epoch_state.validators)
        self.genesis_parent[genesis.id] = genesis.parent_id
        parent_height = self.ordered_height_of.get(genesis.parent_id)
        if parent_height is not None:
            self.ordered_height_of.setdefault(genesis.id, parent_height)
        self.seen_blocks.setdefault(genesis.id, (genesis.parent_id, genesis.epoch, 0))

    def on_block_seen(self, block: Block) -> None:
        """[Jolteon lemma] Once a block is ordered, every later QC certifies a descendant of it."""
        if block.id in self.seen_blocks:
            return
        self.seen_blocks[block.id] = (block.parent_id, block.epoch, block.round)
        qc = block.quorum_cert
        tip_id, tip_epoch, tip_round = self.ordered_tip
        if qc is None or (qc.epoch, qc.round) < (tip_epoch, tip_round):
            return
        current = qc.certified_block.id
        while current != tip_id:
            known = self.seen_blocks.get(current)
            if known is None:
                return  # an ancestor never crossed the wire: nothing to conclude
            if known[1:] <= (tip_epoch, tip_round):
                raise Violation(AGREEMENT, f"QC of e{qc.epoch} r{qc.round} certifies "
                                f"{qc.certified_block.id.hex()[:8]}, which does not extend the "
                                f"ordered block {tip_id.hex()[:8]} of e{tip_epoch} r{tip_round}")
            current = known[0]

    def on_commit(self, instance: SimInstance, effect: ev.CommitBlocks, tick: int) -> None:
        """Check a commit: valid chain, certified by a quorum, agreeing with every honest node."""
        new_blocks = [block for block in effect.blocks if block.id not in instance.committed_ids]
        if not new_blocks:
            return
        previous = instance.committed[-1] if instance.committed else self.genesis
        committed = [self._to_committed(instance, block) for block in new_blocks]
        check_chain_extension(previous, committed, instance.label)
        for block in new_blocks:
            self._check_block_certified(instance, block)
        self._check_commit_certificate(instance, effect)
        for block in committed:
            instance.committed.append(block)
            instance.committed_ids.add(block.block_id)
            if instance.is_honest:
                height = len(instance.committed)
                self.ledger.record(height, block, instance.label)
                self.commit_ticks.setdefault(height, tick)

    def _to_committed(self, instance: SimInstance, block: Block) -> CommittedBlock:
        result = self.executor.get_result(block.id)
        if result is None:
            raise Violation(CHAIN_VALIDITY, f"{instance.label} committed {block.id.hex()[:8]} unexecuted")
        parent_id = self.genesis_parent.get(block.parent_id, block.parent_id)
        return CommittedBlock(block.id, parent_id, block.epoch, block.round, result.version,
                              result.state_root)

    def _check_block_certified(self, instance: SimInstance, block: Block) -> None:
        qc = block.quorum_cert
        if qc is None or qc.certified_block.id != block.parent_id:
            raise Violation(CHAIN_VALIDITY,
                            f"{instance.label}: block r{block.round} QC does not certify its parent")
        if qc.round > 0 and not self._is_qc_valid(qc):
            raise Violation(CHAIN_VALIDITY,
                            f"{instance.label}: block r{block.round} carries a QC without quorum")

    def _check_commit_certificate(self, instance: SimInstance, effect: ev.CommitBlocks) -> None:
        certificate = effect.ledger_info_with_signatures
        info = certificate.ledger_info
        last = effect.blocks[-1]
        result = self.executor.get_result(last.id)
        matches = (info.block_id == last.id and info.round == last.round and info.epoch == last.epoch
                   and result is not None and info.version == result.version
                   and info.state_root == result.state_root
                   and info.accumulator_root == result.accumulator_root)
        if not matches:
            raise Violation(CHAIN_VALIDITY, f"{instance.label}: ledger info {info} does not describe "
                            f"the executed block r{last.round}")
        if not self._is_quorum_signed(COMMIT_VOTE_DOMAIN, info, certificate.signatures, info.epoch):
            raise Violation(CHAIN_VALIDITY, f"{instance.label}: commit certificate for r{info.round} "
                            "lacks signatures of more than 2/3 of power")

    def _is_qc_valid(self, qc: QuorumCertificate) -> bool:
        return self._is_quorum_signed(VOTE_DOMAIN, qc.vote_data, qc.signatures, qc.epoch)

    def _is_quorum_signed(self, domain: str, value: object, signatures: tuple, epoch: int) -> bool:
        key = (domain, value, signatures)
        known = self._quorum_cache.get(key)
        if known is not None:
            return known
        validators = self.validators_of_epoch.get(epoch)
        if validators is None:
            return False
        message = compute_signing_bytes(domain, SIM_CHAIN_ID, value)
        signers = set()
        for author, signature in signatures:
            member = validators.get_member(author)
            scheme = self.cluster.scheme
            if member is not None and scheme.verify(member.consensus_public_key, message, signature):
                signers.add(author)
        known = validators.get_power_of(signers) >= validators.get_quorum_power()
        self._quorum_cache[key] = known
        return known


def describe(message: object) -> str:
    """Return a short label of a wire message for the trace."""
    kind = type(message)
    if kind is ProposalMsg:
        block = message.block  # type: ignore[attr-defined]
        return f"proposal r{block.round} {block.id.hex()[:6]} parent r{block.quorum_cert.round}"
    if kind is VoteMsg:
        vote = message.vote  # type: ignore[attr-defined]
        return f"vote r{vote.round} {vote.vote_data.proposed.id.hex()[:6]}"
    if kind is TimeoutMsg:
        timeout = message.timeout.timeout  # type: ignore[attr-defined]
        return f"timeout r{timeout.round} hqc r{timeout.high_qc.round}"
    if kind is CommitVoteMsg:
        return f"commit-vote r{message.commit_vote.ledger_info.round}"  # type: ignore[attr-defined]
    if kind is SyncInfoMsg:
        return f"sync r{message.sync_info.get_highest_round()}"  # type: ignore[attr-defined]
    if kind is BlockRetrievalRequest:
        return f"fetch {message.block_id.hex()[:6]} x{message.count}"  # type: ignore[attr-defined]
    if kind is BlockRetrievalResponse:
        return f"blocks x{len(message.blocks)}"  # type: ignore[attr-defined]
    return kind.__name__
