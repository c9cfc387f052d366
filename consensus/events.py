"""Inputs to step() (verified messages and local events) and the effects it asks the runtime to do."""

from __future__ import annotations

from dataclasses import dataclass

from consensus.safety import SafetyData
from consensus.types import (
    Block,
    BlockRetrievalRequest,
    CommitVoteMsg,
    EpochRetrievalRequest,
    EpochState,
    ProposalMsg,
    SyncInfo,
    TimeoutMsg,
    VoteMsg,
    WireMessage,
)
from primitives.certified.blocks import BlockData, VoteData
from primitives.certified.ledger_info import EpochChangeProof, LedgerInfoWithSignatures
from primitives.certified.validators import ValidatorSet
from primitives.errors import invariant

# ---------------------------------------------------------------------------------------------
# Events: verified messages (only consensus.verify builds these) and local events.


@dataclass(frozen=True, slots=True)
class VerifiedProposal:
    """A proposal whose block signature, QC, TC and sync info verified."""

    sender: bytes
    message: ProposalMsg


@dataclass(frozen=True, slots=True)
class VerifiedVote:
    """A vote whose signature verified, with its sender's verified sync info."""

    sender: bytes
    message: VoteMsg


@dataclass(frozen=True, slots=True)
class VerifiedTimeout:
    """A signed timeout that verified, with its sender's verified sync info."""

    sender: bytes
    message: TimeoutMsg


@dataclass(frozen=True, slots=True)
class VerifiedCommitVote:
    """A commit vote whose signature verified."""

    sender: bytes
    message: CommitVoteMsg


@dataclass(frozen=True, slots=True)
class VerifiedSyncInfo:
    """A bare sync info whose certificates verified."""

    sender: bytes
    sync_info: SyncInfo


@dataclass(frozen=True, slots=True)
class VerifiedBlockRetrievalRequest:
    """A peer asks for blocks."""

    sender: bytes
    request: BlockRetrievalRequest


@dataclass(frozen=True, slots=True)
class VerifiedBlocks:
    """A retrieval response whose blocks verified and link parent to child (newest first)."""

    sender: bytes
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class VerifiedEpochRetrievalRequest:
    """A peer asks for epoch-ending ledger infos."""

    sender: bytes
    request: EpochRetrievalRequest


@dataclass(frozen=True, slots=True)
class VerifiedEpochChangeProof:
    """An epoch-change proof that verified from our current epoch onwards."""

    sender: bytes
    proof: EpochChangeProof


@dataclass(frozen=True, slots=True)
class Start:
    """The runtime started (or restarted) the core: arm the timer, propose if leader."""


@dataclass(frozen=True, slots=True)
class LocalTimeout:
    """The timer armed by ScheduleTimeout(epoch, round) fired."""

    epoch: int
    round: int


@dataclass(frozen=True, slots=True)
class PayloadReady:
    """The runtime's answer to RequestPayload: transactions and the proposer's clock reading."""

    epoch: int
    round: int
    payload: tuple[bytes, ...]
    timestamp_usecs: int


@dataclass(frozen=True, slots=True)
class BlockExecuted:
    """The runtime executed an ordered block; next_validator_set is set iff it reconfigures."""

    block_id: bytes
    version: int
    state_root: bytes
    accumulator_root: bytes
    next_validator_set: ValidatorSet | None


Event = (
    VerifiedProposal
    | VerifiedVote
    | VerifiedTimeout
    | VerifiedCommitVote
    | VerifiedSyncInfo
    | VerifiedBlockRetrievalRequest
    | VerifiedBlocks
    | VerifiedEpochRetrievalRequest
    | VerifiedEpochChangeProof
    | Start
    | LocalTimeout
    | PayloadReady
    | BlockExecuted
)

# ---------------------------------------------------------------------------------------------
# Effects, carried out by the runtime strictly in the order given.


@dataclass(frozen=True, slots=True)
class PersistSafety:
    """Durably write the safety data (fsync) before carrying out any later effect."""

    safety_data: SafetyData


@dataclass(frozen=True, slots=True)
class PersistBlock:
    """Durably write a block that entered the block tree."""

    block: Block


@dataclass(frozen=True, slots=True)
class PersistSyncInfo:
    """Durably write the highest certificates (QC, ordered QC, TC, commit certificate)."""

    sync_info: SyncInfo


@dataclass(frozen=True, slots=True)
class Send:
    """Send a message to one validator (address)."""

    to: bytes
    message: WireMessage


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Send a message to every other validator of the current epoch."""

    message: WireMessage


@dataclass(frozen=True, slots=True)
class ScheduleTimeout:
    """Deliver LocalTimeout(epoch, round) after duration_ms, replacing any earlier timer."""

    epoch: int
    round: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class RequestPayload:
    """We lead this round: answer with PayloadReady, leaving out transactions already pending."""

    epoch: int
    round: int
    excluded_payload: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ExecuteBlocks:
    """Execute these ordered blocks in order, on top of the last executed block; reply BlockExecuted each."""

    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class CommitBlocks:
    """These executed blocks are final: the certificate signs the last one's ledger info."""

    ledger_info_with_signatures: LedgerInfoWithSignatures
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class FetchBlocks:
    """Ask peer for count blocks ending at block_id (send a BlockRetrievalRequest)."""

    peer: bytes
    block_id: bytes
    count: int


@dataclass(frozen=True, slots=True)
class NewEpoch:
    """The epoch changed; discarded blocks were ordered after the reconfiguration: retry their txns."""

    epoch_state: EpochState
    ledger_info_with_signatures: LedgerInfoWithSignatures
    discarded_blocks: tuple[Block, ...]


EQUIVOCATION_KIND_VOTE = 0  # two VoteData of one (epoch, round), numbered as the Evidence module's kinds
EQUIVOCATION_KIND_PROPOSAL = 1  # two BlockData of one (epoch, round, author)


@dataclass(frozen=True, slots=True)
class ReportEquivocation:
    """A validator signed two different votes (or proposals) for one round: submit both as evidence."""

    kind: int
    author: bytes
    epoch: int
    round: int
    first: VoteData | BlockData
    first_signature: bytes
    second: VoteData | BlockData
    second_signature: bytes


Effect = (
    PersistSafety
    | PersistBlock
    | PersistSyncInfo
    | Send
    | Broadcast
    | ScheduleTimeout
    | RequestPayload
    | ExecuteBlocks
    | CommitBlocks
    | FetchBlocks
    | NewEpoch
    | ReportEquivocation
)


class PersistenceChecker:
    """[PERSIST-1] Follows one node's effects across steps; fails when a signed message leaves unpersisted."""

    def __init__(self, persisted: SafetyData | None = None, persisted_block_ids: object = ()) -> None:
        self.persisted = persisted
        self.persisted_block_ids: set[bytes] = set(persisted_block_ids)  # type: ignore[call-overload]

    def observe(self, effects: tuple[Effect, ...] | list[Effect]) -> None:
        """Check effects in order; raise InvariantViolation on a send not covered by persistence."""
        for effect in effects:
            if isinstance(effect, PersistSafety):
                self.persisted = effect.safety_data
            elif isinstance(effect, PersistBlock):
                self.persisted_block_ids.add(effect.block.id)
            elif isinstance(effect, (Send, Broadcast)):
                self._check_message(effect.message)

    def _check_message(self, message: WireMessage) -> None:
        safety = self.persisted
        if isinstance(message, VoteMsg):
            vote = message.vote
            invariant(safety is not None and safety.last_vote == vote, "vote sent before persisted")
            invariant(vote.vote_data.proposed.id in self.persisted_block_ids or vote.round == 0,
                      "vote sent before its block was persisted")
        elif isinstance(message, TimeoutMsg):
            timeout = message.timeout.timeout
            invariant(safety is not None and safety.epoch == timeout.epoch
                      and safety.highest_timeout_round >= timeout.round, "timeout sent before persisted")
        elif isinstance(message, ProposalMsg):
            block = message.block
            invariant(safety is not None and safety.epoch == block.epoch
                      and safety.last_voted_round >= block.round, "proposal sent before persisted")


def check_effects_order(effects: tuple[Effect, ...] | list[Effect], persisted: SafetyData | None) -> None:
    """Check one step's effects given the safety data persisted before the step."""
    PersistenceChecker(persisted).observe(effects)
