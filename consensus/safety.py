"""Safety rules (the trusted core): what a validator may sign, and the data it must persist first."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from consensus.types import Block, CommitVote, SignedTimeout, Timeout, TimeoutCertificate, TimeoutSigningRepr, Vote
from primitives.certified.blocks import BlockData, BlockInfo, VoteData, compute_block_id
from primitives.certified.domains import (
    COMMIT_VOTE_DOMAIN,
    PROPOSAL_DOMAIN,
    TIMEOUT_DOMAIN,
    VOTE_DOMAIN,
    compute_signing_bytes,
)
from primitives.certified.ledger_info import LedgerInfo
from primitives.certified.signatures import Signer


@dataclass(frozen=True, slots=True)
class SafetyData:
    """What must survive a crash so that we never sign conflicting messages."""

    epoch: int
    last_voted_round: int = 0
    one_chain_round: int = 0  # highest QC round we extended with a vote ("highest_qc_round")
    highest_timeout_round: int = 0
    last_vote: Vote | None = None


class RefusalReason(IntEnum):
    """Why the safety rules refused to sign; codes are stable and never reused."""

    WRONG_EPOCH = 1
    ROUND_NOT_INCREASING = 2
    NOT_SAFE_TO_VOTE = 3
    NOT_SAFE_TO_TIMEOUT = 4
    TIMEOUT_QC_TOO_OLD = 5
    TIMEOUT_ROUND_TOO_OLD = 6
    NOT_THE_AUTHOR = 7
    PROPOSAL_ROUND_TOO_OLD = 8
    COMMIT_VOTE_NOT_ORDERED = 9


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused signing request with the values that broke the rule."""

    reason: RefusalReason
    values: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class SigningContext:
    """Who signs, with what, on which chain."""

    author: bytes
    signer: Signer
    chain_id: int


class SafetyRules:
    """The signing rules of SPEC.md; stateless, so a test may subclass it to inject a bug."""

    def construct_and_sign_vote(
        self, safety: SafetyData, block: Block, tc: TimeoutCertificate | None, ctx: SigningContext
    ) -> tuple[SafetyData, Vote] | Refusal:
        """Vote for block (extending its QC, or a TC of the previous round) or refuse."""
        # [VOTE-1] only sign for the epoch we are in.
        if block.epoch != safety.epoch:
            return Refusal(RefusalReason.WRONG_EPOCH, (("epoch", safety.epoch), ("block_epoch", block.epoch)))
        # [VOTE-2] asked again for the round we voted in: return the same vote, never a second one.
        if safety.last_vote is not None and safety.last_vote.round == block.round:
            return safety, safety.last_vote
        # [VOTE-3] vote in strictly increasing rounds.
        if not self.is_round_increasing(block.round, safety.last_voted_round):
            return Refusal(RefusalReason.ROUND_NOT_INCREASING,
                           (("round", block.round), ("last_voted_round", safety.last_voted_round)))
        qc = block.quorum_cert
        qc_round = qc.round if qc is not None else 0
        # [VOTE-4] extend the previous round's QC, or a TC of the previous round with a QC no older
        # than any QC reported in that TC.
        if not self.is_safe_to_vote(block.round, qc_round, tc):
            hqc = tc.get_highest_hqc_round() if tc is not None else 0
            tc_round = tc.round if tc is not None else 0
            return Refusal(RefusalReason.NOT_SAFE_TO_VOTE, (("round", block.round), ("qc_round", qc_round),
                                                            ("tc_round", tc_round), ("tc_hqc_round", hqc)))
        parent = qc.certified_block if qc is not None else block.get_info()
        vote_data = VoteData(block.get_info(), parent)
        signature = ctx.signer.sign(compute_signing_bytes(VOTE_DOMAIN, ctx.chain_id, vote_data))
        vote = Vote(vote_data, ctx.author, signature)
        updated = replace(safety, last_voted_round=block.round,
                          one_chain_round=max(safety.one_chain_round, qc_round), last_vote=vote)
        return updated, vote

    def is_round_increasing(self, round_: int, last_voted_round: int) -> bool:
        """[VOTE-3] A vote's round must exceed every round we voted or timed out in."""
        return round_ > last_voted_round

    def is_safe_to_vote(self, round_: int, qc_round: int, tc: TimeoutCertificate | None) -> bool:
        """[VOTE-4] The 2-chain voting rule of Jolteon."""
        if round_ == qc_round + 1:
            return True
        return tc is not None and round_ == tc.round + 1 and qc_round >= tc.get_highest_hqc_round()

    def sign_timeout(
        self, safety: SafetyData, timeout: Timeout, tc: TimeoutCertificate | None, ctx: SigningContext
    ) -> tuple[SafetyData, SignedTimeout] | Refusal:
        """Sign a timeout for timeout.round carrying our highest QC, or refuse."""
        # [TIMEOUT-1] only sign for the epoch we are in.
        if timeout.epoch != safety.epoch:
            return Refusal(RefusalReason.WRONG_EPOCH, (("epoch", safety.epoch), ("timeout_epoch", timeout.epoch)))
        qc_round = timeout.high_qc.round
        tc_round = tc.round if tc is not None else 0
        # [TIMEOUT-2] the round must have been entered through a QC or a TC of the previous round.
        if timeout.round != qc_round + 1 and timeout.round != tc_round + 1:
            return Refusal(RefusalReason.NOT_SAFE_TO_TIMEOUT,
                           (("round", timeout.round), ("qc_round", qc_round), ("tc_round", tc_round)))
        # [TIMEOUT-3] never report a QC older than one we already extended with a vote.
        if qc_round < safety.one_chain_round:
            return Refusal(RefusalReason.TIMEOUT_QC_TOO_OLD,
                           (("qc_round", qc_round), ("one_chain_round", safety.one_chain_round)))
        # [TIMEOUT-4] never time out a round older than our last vote.
        if timeout.round < safety.last_voted_round:
            return Refusal(RefusalReason.TIMEOUT_ROUND_TOO_OLD,
                           (("round", timeout.round), ("last_voted_round", safety.last_voted_round)))
        signed_repr = TimeoutSigningRepr(timeout.epoch, timeout.round, qc_round)
        signature = ctx.signer.sign(compute_signing_bytes(TIMEOUT_DOMAIN, ctx.chain_id, signed_repr))
        # [TIMEOUT-5] after timing out a round we never vote in it.
        updated = replace(safety, last_voted_round=max(safety.last_voted_round, timeout.round),
                          highest_timeout_round=max(safety.highest_timeout_round, timeout.round))
        return updated, SignedTimeout(timeout, ctx.author, signature)

    def sign_proposal(self, safety: SafetyData, data: BlockData, ctx: SigningContext) -> Block | Refusal:
        """Sign our own proposal for a round we have not voted in yet, or refuse."""
        # [PROPOSE-2] we sign only our own blocks, in our epoch.
        if data.author != ctx.author:
            return Refusal(RefusalReason.NOT_THE_AUTHOR)
        if data.epoch != safety.epoch:
            return Refusal(RefusalReason.WRONG_EPOCH, (("epoch", safety.epoch), ("block_epoch", data.epoch)))
        # [PROPOSE-3] one proposal per round: the leader votes for it before it leaves.
        if data.round <= safety.last_voted_round:
            return Refusal(RefusalReason.PROPOSAL_ROUND_TOO_OLD,
                           (("round", data.round), ("last_voted_round", safety.last_voted_round)))
        block_id = compute_block_id(data)
        signature = ctx.signer.sign(compute_signing_bytes(PROPOSAL_DOMAIN, ctx.chain_id, block_id))
        return Block(data, block_id, signature)

    def sign_commit_vote(
        self, safety: SafetyData, ledger_info: LedgerInfo, ordered: BlockInfo, ctx: SigningContext
    ) -> CommitVote | Refusal:
        """Sign an executed ledger info for a block that a QC ordered, or refuse."""
        if ledger_info.epoch != safety.epoch:
            return Refusal(RefusalReason.WRONG_EPOCH, (("epoch", safety.epoch), ("li_epoch", ledger_info.epoch)))
        # [COMMIT-3] the ledger info must describe exactly the ordered block.
        same = (ledger_info.block_id == ordered.id and ledger_info.round == ordered.round
                and ledger_info.epoch == ordered.epoch and ledger_info.timestamp_usecs == ordered.timestamp_usecs)
        if not same:
            return Refusal(RefusalReason.COMMIT_VOTE_NOT_ORDERED,
                           (("li_round", ledger_info.round), ("ordered_round", ordered.round)))
        signature = ctx.signer.sign(compute_signing_bytes(COMMIT_VOTE_DOMAIN, ctx.chain_id, ledger_info))
        return CommitVote(ledger_info, ctx.author, signature)
