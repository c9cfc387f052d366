"""Verification at the edge: wire messages become Verified* events only after every check passes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from consensus import events as ev
from consensus.election import compute_failed_authors, get_weighted_leader, is_well_formed_failed_authors
from consensus.types import (
    MAX_BLOCK_PAYLOAD_BYTES,
    Block,
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    CommitVoteMsg,
    EpochRetrievalRequest,
    EpochState,
    ProposalMsg,
    SyncInfo,
    SyncInfoMsg,
    TimeoutCertificate,
    TimeoutMsg,
    TimeoutSigningRepr,
    VoteMsg,
    WireMessage,
)
from primitives.certified.blocks import GENESIS_ROUND, QuorumCertificate, compute_block_id
from primitives.certified.domains import PROPOSAL_DOMAIN, TIMEOUT_DOMAIN, VOTE_DOMAIN, compute_signing_bytes
from primitives.certified.ledger_info import (
    EpochChangeProof,
    LedgerInfoWithSignatures,
    check_ledger_info_signatures,
    compute_commit_signing_bytes,
)
from primitives.certified.rejections import CertificateFault, CertificateRejection
from primitives.certified.signatures import SignatureScheme
from primitives.certified.trust import follow_epoch_change_proof
from primitives.certified.validators import ValidatorSet, check_signatures, check_signers
from primitives.limits import MAX_TRANSACTION_SIZE_BYTES

MAX_BLOCK_TXNS = 10_000
MAX_BLOCKS_PER_RETRIEVAL = 100
# An honest proposer's clock may run ahead of ours by at most this much (Diem: 5 minutes).
MAX_PROPOSAL_CLOCK_SKEW_USECS = 5 * 60 * 1_000_000
FUTURE_ROUND_WINDOW = 100  # rounds a vote or timeout may be past its sync info's highest (honest: 1)
_SIGNATURE_CACHE_LIMIT = 65_536
_QC_CACHE_LIMIT = 8_192


class RejectReason(IntEnum):
    """Why a wire message was rejected; codes are stable and never reused."""

    MALFORMED = 1
    PAST_EPOCH = 2
    FUTURE_EPOCH = 3
    NOT_A_MEMBER = 4
    BAD_SIGNATURE = 5
    NO_QUORUM = 6
    BAD_BLOCK_ID = 7
    NOT_LEADER = 8
    SENDER_MISMATCH = 9
    BAD_QC = 10
    BAD_TC = 11
    BAD_PROPOSAL_ROUND = 12
    BAD_CHAIN = 13
    TOO_LARGE = 14
    BAD_EPOCH_PROOF = 15
    DUPLICATE_SIGNER = 16
    TIMESTAMP_IN_FUTURE = 17
    BAD_FAILED_AUTHORS = 18
    UNJUSTIFIED_ROUND = 19
    NO_BLOCKS = 20  # an empty retrieval answer: the peer holds none of what we asked for (honest, not an attack)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused wire message: the reason code and a short human-readable detail."""

    reason: RejectReason
    detail: str = ""
    message_epoch: int = 0  # set for PAST_EPOCH / FUTURE_EPOCH: the epoch the message claimed
    # [SYNC-1] A proposal refused only for its proposer (NOT_LEADER, BAD_FAILED_AUTHORS: a view of reputation
    # that differs from ours while we lag) still carries certificates that verified: the receiver adopts them.
    sync_info: SyncInfo | None = None


@dataclass(frozen=True, slots=True)
class VerifyContext:
    """What verification needs: the current epoch's validators, the scheme and the chain id."""

    epoch_state: EpochState
    scheme: SignatureScheme
    chain_id: int
    get_leader: Callable[[int], bytes] | None = None  # round -> leader; None: power-weighted election
    now_usecs: int | None = None  # the runtime's clock, if it wants proposals from the future refused


class _Reject(Exception):
    def __init__(self, reason: RejectReason, detail: str = "", message_epoch: int = 0,
                 sync_info: SyncInfo | None = None) -> None:
        super().__init__(detail)
        self.rejection = Rejection(reason, detail, message_epoch, sync_info)


def _require(condition: bool, reason: RejectReason, detail: str = "") -> None:
    if not condition:
        raise _Reject(reason, detail)


# Verified (public key, message, signature) triples; pure memoisation, bounded.
_VERIFIED_SIGNATURES: set[tuple[bytes, bytes, bytes]] = set()
# Certificates already verified under (chain id, validator set fingerprint); bounded.
_VERIFIED_QCS: set[tuple[QuorumCertificate, int, bytes]] = set()
# What rejection details call the certificates the shared checks refuse.
QUORUM_CERT = "quorum certificate"
TIMEOUT_CERT = "timeout certificate"
# What the shared certificate checks found, as consensus's stable reject reasons.
_FAULT_REASONS = {
    CertificateFault.UNSORTED_SIGNERS: RejectReason.DUPLICATE_SIGNER,
    CertificateFault.NOT_A_MEMBER: RejectReason.NOT_A_MEMBER,
    CertificateFault.NO_QUORUM: RejectReason.NO_QUORUM,
    CertificateFault.BAD_SIGNATURE: RejectReason.BAD_SIGNATURE,
    CertificateFault.PROOF_TOO_LONG: RejectReason.TOO_LARGE,
}


@dataclass(frozen=True, slots=True)
class _MemoizedScheme:
    """A scheme that verifies each (public key, message, signature) triple once."""

    scheme: SignatureScheme

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        key = (public_key, message, signature)
        if key in _VERIFIED_SIGNATURES:
            return True
        if not self.scheme.verify(public_key, message, signature):
            return False
        if len(_VERIFIED_SIGNATURES) >= _SIGNATURE_CACHE_LIMIT:
            _VERIFIED_SIGNATURES.clear()
        _VERIFIED_SIGNATURES.add(key)
        return True


def _check_signature(scheme: SignatureScheme, public_key: bytes, message: bytes, signature: bytes) -> None:
    _require(_MemoizedScheme(scheme).verify(public_key, message, signature), RejectReason.BAD_SIGNATURE)


def _as_reject(rejection: CertificateRejection) -> _Reject:
    """Return a fault the shared certificate checks found as consensus's reject reason (epoch proofs: the rest)."""
    return _Reject(_FAULT_REASONS.get(rejection.fault, RejectReason.BAD_EPOCH_PROOF), rejection.message)


def _require_certified(rejection: CertificateRejection | None) -> None:
    if rejection is not None:
        raise _as_reject(rejection)


def _check_signer(validators: ValidatorSet, author: bytes) -> bytes:
    member = validators.get_member(author)
    _require(member is not None, RejectReason.NOT_A_MEMBER, author.hex())
    return member.consensus_public_key  # type: ignore[union-attr]


def _check_epoch(ctx: VerifyContext, epoch: int) -> None:
    if epoch > ctx.epoch_state.epoch:
        raise _Reject(RejectReason.FUTURE_EPOCH, "message from a later epoch", epoch)
    if epoch < ctx.epoch_state.epoch:
        raise _Reject(RejectReason.PAST_EPOCH, "message from an earlier epoch", epoch)


def check_quorum_cert(qc: QuorumCertificate, ctx: VerifyContext) -> None:
    """[VERIFY-2] Raise _Reject unless qc is the epoch's genesis QC or carries a quorum of valid votes."""
    data = qc.vote_data
    _check_epoch(ctx, data.proposed.epoch)
    _require(data.parent.epoch == data.proposed.epoch, RejectReason.BAD_QC, "parent in another epoch")
    if data.proposed.round == GENESIS_ROUND:
        is_genesis = data.proposed == data.parent and data.proposed.id == ctx.epoch_state.genesis_block_id
        _require(is_genesis and not qc.signatures, RejectReason.BAD_QC, "round-0 QC is not the genesis QC")
        return
    _require(data.proposed.round > data.parent.round, RejectReason.BAD_QC, "rounds do not increase")
    validators = ctx.epoch_state.validators
    cache_key = (qc, ctx.chain_id, validators.get_fingerprint())
    if cache_key in _VERIFIED_QCS:
        return  # the same certificate arrives in many messages; verify its signatures once
    _require_certified(check_signers(validators, [author for author, _ in qc.signatures], QUORUM_CERT))
    message = compute_signing_bytes(VOTE_DOMAIN, ctx.chain_id, data)
    _require_certified(check_signatures(validators, qc.signatures, message, _MemoizedScheme(ctx.scheme), QUORUM_CERT))
    if len(_VERIFIED_QCS) >= _QC_CACHE_LIMIT:
        _VERIFIED_QCS.clear()
    _VERIFIED_QCS.add(cache_key)


def check_timeout_cert(tc: TimeoutCertificate, ctx: VerifyContext) -> None:
    """[VERIFY-3] Raise _Reject unless tc carries a quorum of valid timeouts and its highest QC."""
    _check_epoch(ctx, tc.epoch)
    _require(bool(tc.signatures), RejectReason.BAD_TC, "empty TC")
    validators = ctx.epoch_state.validators
    _require_certified(check_signers(validators, [author for author, _, _ in tc.signatures], TIMEOUT_CERT))
    _require(tc.high_qc.round == tc.get_highest_hqc_round(), RejectReason.BAD_TC, "high QC is not the highest")
    _require(tc.high_qc.round < tc.round, RejectReason.BAD_TC, "high QC not below the TC round")
    check_quorum_cert(tc.high_qc, ctx)
    for author, hqc_round, signature in tc.signatures:
        message = compute_signing_bytes(TIMEOUT_DOMAIN, ctx.chain_id, TimeoutSigningRepr(tc.epoch, tc.round, hqc_round))
        _check_signature(ctx.scheme, _check_signer(validators, author), message, signature)


def _check_commit_cert(
    liws: LedgerInfoWithSignatures, validators: ValidatorSet, scheme: SignatureScheme, chain_id: int
) -> None:
    """[VERIFY-5] Raise _Reject unless more than 2/3 of validators' power signed the ledger info."""
    _require_certified(check_ledger_info_signatures(liws, validators, _MemoizedScheme(scheme), chain_id))


def check_sync_info(sync_info: SyncInfo, ctx: VerifyContext) -> None:
    """[VERIFY-4] Raise _Reject unless every certificate in sync_info verifies in our epoch."""
    check_quorum_cert(sync_info.highest_quorum_cert, ctx)
    if sync_info.highest_ordered_cert is not None:
        check_quorum_cert(sync_info.highest_ordered_cert, ctx)
        ordered = sync_info.highest_ordered_cert.vote_data.get_ordered_block()
        _require(ordered is not None, RejectReason.BAD_QC, "ordered cert orders nothing")
    if sync_info.highest_timeout_cert is not None:
        check_timeout_cert(sync_info.highest_timeout_cert, ctx)
    if sync_info.highest_commit_cert is not None:
        _check_epoch(ctx, sync_info.highest_commit_cert.ledger_info.epoch)
        _check_commit_cert(sync_info.highest_commit_cert, ctx.epoch_state.validators, ctx.scheme, ctx.chain_id)


def check_block(block: Block, ctx: VerifyContext) -> None:
    """[VERIFY-1] Raise _Reject unless block is well formed, signed by its author and its QC verifies."""
    data = block.data
    _check_epoch(ctx, data.epoch)
    _require(compute_block_id(data) == block.id, RejectReason.BAD_BLOCK_ID)
    if data.round == GENESIS_ROUND:
        _require(block.id == ctx.epoch_state.genesis_block_id, RejectReason.BAD_BLOCK_ID, "foreign genesis")
        return
    _require(len(data.payload) <= MAX_BLOCK_TXNS, RejectReason.TOO_LARGE, "too many transactions")
    _require(all(len(txn) <= MAX_TRANSACTION_SIZE_BYTES for txn in data.payload), RejectReason.TOO_LARGE)
    _require(sum(map(len, data.payload)) <= MAX_BLOCK_PAYLOAD_BYTES, RejectReason.TOO_LARGE)
    qc = data.quorum_cert
    _require(qc is not None, RejectReason.BAD_QC, "block without parent QC")
    check_quorum_cert(qc, ctx)  # type: ignore[arg-type]
    parent = qc.certified_block  # type: ignore[union-attr]
    _require(data.parent_id == parent.id, RejectReason.BAD_CHAIN, "parent id differs from QC")
    _require(data.round > parent.round, RejectReason.BAD_CHAIN, "round not above parent")
    _require(data.timestamp_usecs > parent.timestamp_usecs, RejectReason.BAD_CHAIN, "timestamp not above parent")
    _require(is_well_formed_failed_authors(data.failed_authors, parent.round, data.round, ctx.epoch_state.validators),
             RejectReason.BAD_FAILED_AUTHORS, "failed authors must name members for exactly the skipped rounds")
    public_key = _check_signer(ctx.epoch_state.validators, data.author)
    message = compute_signing_bytes(PROPOSAL_DOMAIN, ctx.chain_id, block.id)
    _check_signature(ctx.scheme, public_key, message, block.signature)


def _get_leader(ctx: VerifyContext, epoch: int, round_: int) -> bytes:
    if ctx.get_leader is not None:
        return ctx.get_leader(round_)
    return get_weighted_leader(ctx.epoch_state.validators, epoch, round_)


def _verify_proposal(msg: ProposalMsg, sender: bytes, ctx: VerifyContext) -> ev.VerifiedProposal:
    block = msg.block
    _require(block.author == sender, RejectReason.SENDER_MISMATCH)
    _require(block.round > GENESIS_ROUND, RejectReason.BAD_PROPOSAL_ROUND, "genesis is never proposed")
    if ctx.now_usecs is not None:
        _require(block.timestamp_usecs <= ctx.now_usecs + MAX_PROPOSAL_CLOCK_SKEW_USECS,
                 RejectReason.TIMESTAMP_IN_FUTURE)
    check_block(block, ctx)
    check_sync_info(msg.sync_info, ctx)
    try:
        _check_proposer(block, ctx)
    except _Reject as rejected:
        refused = rejected.rejection
        raise _Reject(refused.reason, refused.detail, sync_info=msg.sync_info) from None
    # [PROPOSE-4] the proposal extends the highest QC it carries, in the round right after it.
    _require(block.quorum_cert == msg.sync_info.highest_quorum_cert, RejectReason.BAD_PROPOSAL_ROUND, "QC")
    _require(block.round == msg.sync_info.get_highest_round() + 1, RejectReason.BAD_PROPOSAL_ROUND, "round")
    return ev.VerifiedProposal(sender, msg)


def _check_proposer(block: Block, ctx: VerifyContext) -> None:
    """[PROPOSE-4] The author is the leader we elect for the round, naming the failed leaders we elect ([ELECT-4])."""
    _require(block.author == _get_leader(ctx, block.epoch, block.round), RejectReason.NOT_LEADER)
    # A proposer cannot blame anyone but the leaders we elect for the rounds it skipped.
    qc_round = block.quorum_cert.round  # type: ignore[union-attr]
    expected = compute_failed_authors(lambda skipped: _get_leader(ctx, block.epoch, skipped), qc_round, block.round)
    _require(block.data.failed_authors == expected, RejectReason.BAD_FAILED_AUTHORS, "failed authors differ from ours")


def _verify_vote(msg: VoteMsg, sender: bytes, ctx: VerifyContext) -> ev.VerifiedVote:
    vote = msg.vote
    _require(vote.author == sender, RejectReason.SENDER_MISMATCH)
    _check_epoch(ctx, vote.epoch)
    data = vote.vote_data
    _require(data.parent.epoch == data.proposed.epoch and data.proposed.round > data.parent.round,
             RejectReason.MALFORMED, "vote data rounds")
    # [VERIFY-6] no round far past what the vote's own sync info certifies
    _require(data.proposed.round <= msg.sync_info.get_highest_round() + FUTURE_ROUND_WINDOW, RejectReason.UNJUSTIFIED_ROUND)
    public_key = _check_signer(ctx.epoch_state.validators, vote.author)
    _check_signature(ctx.scheme, public_key, compute_signing_bytes(VOTE_DOMAIN, ctx.chain_id, data), vote.signature)
    check_sync_info(msg.sync_info, ctx)
    return ev.VerifiedVote(sender, msg)



def _verify_timeout(msg: TimeoutMsg, sender: bytes, ctx: VerifyContext) -> ev.VerifiedTimeout:
    signed = msg.timeout
    timeout = signed.timeout
    _require(signed.author == sender, RejectReason.SENDER_MISMATCH)
    _check_epoch(ctx, timeout.epoch)
    _require(timeout.high_qc.round < timeout.round, RejectReason.MALFORMED, "high QC not below round")
    _require(timeout.round <= msg.sync_info.get_highest_round() + FUTURE_ROUND_WINDOW, RejectReason.UNJUSTIFIED_ROUND)
    public_key = _check_signer(ctx.epoch_state.validators, signed.author)
    signed_repr = TimeoutSigningRepr(timeout.epoch, timeout.round, timeout.high_qc.round)
    message = compute_signing_bytes(TIMEOUT_DOMAIN, ctx.chain_id, signed_repr)
    _check_signature(ctx.scheme, public_key, message, signed.signature)
    check_quorum_cert(timeout.high_qc, ctx)
    check_sync_info(msg.sync_info, ctx)
    return ev.VerifiedTimeout(sender, msg)


def _verify_commit_vote(msg: CommitVoteMsg, sender: bytes, ctx: VerifyContext) -> ev.VerifiedCommitVote:
    vote = msg.commit_vote
    _require(vote.author == sender, RejectReason.SENDER_MISMATCH)
    _check_epoch(ctx, vote.ledger_info.epoch)
    public_key = _check_signer(ctx.epoch_state.validators, vote.author)
    message = compute_commit_signing_bytes(vote.ledger_info, ctx.chain_id)
    _check_signature(ctx.scheme, public_key, message, vote.signature)
    return ev.VerifiedCommitVote(sender, msg)


def _verify_blocks(msg: BlockRetrievalResponse, sender: bytes, ctx: VerifyContext) -> ev.VerifiedBlocks:
    _require(len(msg.blocks) > 0, RejectReason.NO_BLOCKS, f"status {msg.status}")
    _require(len(msg.blocks) <= MAX_BLOCKS_PER_RETRIEVAL, RejectReason.TOO_LARGE, "block count")
    for block in msg.blocks:
        check_block(block, ctx)
    for child, parent in zip(msg.blocks, msg.blocks[1:]):
        _require(child.parent_id == parent.id, RejectReason.BAD_CHAIN, "blocks do not link")
    return ev.VerifiedBlocks(sender, msg.blocks)


def verify_message(message: WireMessage, sender: bytes, ctx: VerifyContext) -> ev.Event | Rejection:
    """Return the Verified* event for a wire message from sender, or why it was rejected."""
    try:
        _check_signer(ctx.epoch_state.validators, sender)
        return _dispatch(message, sender, ctx)
    except _Reject as rejected:
        return rejected.rejection


def _dispatch(message: WireMessage, sender: bytes, ctx: VerifyContext) -> ev.Event:
    if isinstance(message, ProposalMsg):
        return _verify_proposal(message, sender, ctx)
    if isinstance(message, VoteMsg):
        return _verify_vote(message, sender, ctx)
    if isinstance(message, TimeoutMsg):
        return _verify_timeout(message, sender, ctx)
    if isinstance(message, CommitVoteMsg):
        return _verify_commit_vote(message, sender, ctx)
    if isinstance(message, SyncInfoMsg):
        check_sync_info(message.sync_info, ctx)
        return ev.VerifiedSyncInfo(sender, message.sync_info)
    if isinstance(message, BlockRetrievalRequest):
        _require(0 < message.count <= MAX_BLOCKS_PER_RETRIEVAL, RejectReason.TOO_LARGE, "count")
        return ev.VerifiedBlockRetrievalRequest(sender, message)
    if isinstance(message, BlockRetrievalResponse):
        return _verify_blocks(message, sender, ctx)
    if isinstance(message, EpochRetrievalRequest):
        _require(message.start_epoch <= message.end_epoch, RejectReason.MALFORMED, "epoch range")
        return ev.VerifiedEpochRetrievalRequest(sender, message)
    if isinstance(message, EpochChangeProof):
        _follow_epoch_change_proof(message, ctx.epoch_state.epoch, ctx.epoch_state.validators,
                                   ctx.scheme, ctx.chain_id)
        return ev.VerifiedEpochChangeProof(sender, message)
    raise _Reject(RejectReason.MALFORMED, f"not a wire message: {type(message).__name__}")


def _follow_epoch_change_proof(
    proof: EpochChangeProof, epoch: int, validators: ValidatorSet, scheme: SignatureScheme, chain_id: int
) -> tuple[int, ValidatorSet]:
    """[EPOCH-4] Follow proof from (epoch, validators); return the last epoch and set it proves, or raise."""
    change = follow_epoch_change_proof(proof, epoch, validators, _MemoizedScheme(scheme), chain_id)
    if isinstance(change, CertificateRejection):
        raise _as_reject(change)
    _require(bool(change.verified), RejectReason.BAD_EPOCH_PROOF, "proof does not move past our epoch")
    return change.epoch, change.validators


def get_message_epoch(message: object) -> int | None:
    """Return the epoch a signed consensus message claims (None for unsigned ones, e.g. sync info)."""
    kind = type(message)
    if kind is ProposalMsg:
        return message.block.epoch  # type: ignore[attr-defined]
    if kind is VoteMsg:
        return message.vote.epoch  # type: ignore[attr-defined]
    if kind is TimeoutMsg:
        return message.timeout.timeout.epoch  # type: ignore[attr-defined]
    if kind is CommitVoteMsg:
        return message.commit_vote.ledger_info.epoch  # type: ignore[attr-defined]
    return None
