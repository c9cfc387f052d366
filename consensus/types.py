"""Consensus messages as typed frozen values; what they certify lives in primitives.certified."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from primitives.certified.blocks import (
    GENESIS_ROUND,
    BlockData,
    BlockInfo,
    QuorumCertificate,
    VoteData,
    compute_block_id,
)
from primitives.certified.ledger_info import EpochChangeProof, LedgerInfo, LedgerInfoWithSignatures
from primitives.certified.plain import from_plain, to_plain
from primitives.certified.validators import ValidatorSet
from primitives.codec import pack, unpack
from primitives.errors import DecodeError
from primitives.hashing import ZERO_HASH


MAX_BLOCK_PAYLOAD_BYTES = 8 * 1024 * 1024
# What a block's encoding adds to its payload at most: framing for MAX_BLOCK_TXNS entries (about 50 KiB), the
# header, failed authors and a QC signed by up to MAX_VALIDATORS members (about 25 KiB); rounded up generously.
MAX_BLOCK_OVERHEAD_BYTES = 512 * 1024
MAX_BLOCK_BYTES = MAX_BLOCK_PAYLOAD_BYTES + MAX_BLOCK_OVERHEAD_BYTES
# [NET-4] The largest consensus message: one block with the sync info that travels with it (a proposal), or a
# retrieval response, whose blocks fit MAX_BLOCK_BYTES ([SYNC-4]). Peer frames are sized from it.
MAX_CONSENSUS_MESSAGE_BYTES = MAX_BLOCK_BYTES + MAX_BLOCK_OVERHEAD_BYTES

@dataclass(frozen=True, slots=True)
class Block:
    """A block: its data, id = compute_block_id(data), and the author's signature over the id (empty for genesis)."""

    data: BlockData
    id: bytes
    signature: bytes

    @property
    def epoch(self) -> int:
        return self.data.epoch

    @property
    def round(self) -> int:
        return self.data.round

    @property
    def author(self) -> bytes:
        return self.data.author

    @property
    def parent_id(self) -> bytes:
        return self.data.parent_id

    @property
    def quorum_cert(self) -> QuorumCertificate | None:
        return self.data.quorum_cert

    @property
    def payload(self) -> tuple[bytes, ...]:
        return self.data.payload

    @property
    def timestamp_usecs(self) -> int:
        return self.data.timestamp_usecs

    def get_info(self) -> BlockInfo:
        """Return this block's BlockInfo."""
        return BlockInfo(self.data.epoch, self.data.round, self.id, self.data.timestamp_usecs)

    def is_genesis(self) -> bool:
        """Return True for an epoch's round-0 block."""
        return self.data.round == GENESIS_ROUND


def make_genesis_block(epoch: int, parent_id: bytes = ZERO_HASH, timestamp_usecs: int = 0) -> Block:
    """Return the deterministic round-0 block of an epoch (no author, no QC, no payload)."""
    data = BlockData(epoch, GENESIS_ROUND, timestamp_usecs, b"", parent_id, None, ())
    return Block(data, compute_block_id(data), b"")


def make_genesis_qc(genesis: Block) -> QuorumCertificate:
    """Return the unsigned QC that certifies an epoch's genesis block (accepted only for it)."""
    info = genesis.get_info()
    return QuorumCertificate(VoteData(info, info), ())


@dataclass(frozen=True, slots=True)
class EpochState:
    """One epoch: its number, validator set and deterministic genesis block (round 0)."""

    epoch: int
    validators: ValidatorSet
    genesis_block: Block

    @property
    def genesis_block_id(self) -> bytes:
        """Return the id of the epoch's genesis block."""
        return self.genesis_block.id


def make_epoch_state(epoch: int, validators: ValidatorSet, parent_id: bytes = ZERO_HASH,
                     timestamp_usecs: int = 0) -> EpochState:
    """Return the state of an epoch whose genesis follows parent_id (ZERO_HASH at chain genesis)."""
    return EpochState(epoch, validators, make_genesis_block(epoch, parent_id, timestamp_usecs))


@dataclass(frozen=True, slots=True)
class Vote:
    """A validator's signature over VoteData."""

    vote_data: VoteData
    author: bytes
    signature: bytes

    @property
    def round(self) -> int:
        return self.vote_data.proposed.round

    @property
    def epoch(self) -> int:
        return self.vote_data.proposed.epoch


@dataclass(frozen=True, slots=True)
class Timeout:
    """A validator's statement that round timed out, carrying its highest QC."""

    epoch: int
    round: int
    high_qc: QuorumCertificate


@dataclass(frozen=True, slots=True)
class TimeoutSigningRepr:
    """What a timeout signature covers: epoch, round and the signer's highest QC round."""

    epoch: int
    round: int
    hqc_round: int


@dataclass(frozen=True, slots=True)
class SignedTimeout:
    """A timeout and its author's signature over TimeoutSigningRepr."""

    timeout: Timeout
    author: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class TimeoutCertificate:
    """Timeouts of more than 2/3 of power for one round; high_qc is the highest QC among them."""

    epoch: int
    round: int
    high_qc: QuorumCertificate
    signatures: tuple[tuple[bytes, int, bytes], ...]  # (author, hqc_round, signature) by author

    def get_highest_hqc_round(self) -> int:
        """Return the highest QC round reported by any signer."""
        return max(hqc_round for _, hqc_round, _ in self.signatures)


@dataclass(frozen=True, slots=True)
class CommitVote:
    """A validator's signature over an executed LedgerInfo."""

    ledger_info: LedgerInfo
    author: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class SyncInfo:
    """Certificates a message carries so that a lagging receiver can catch up."""

    highest_quorum_cert: QuorumCertificate
    highest_ordered_cert: QuorumCertificate | None
    highest_timeout_cert: TimeoutCertificate | None
    highest_commit_cert: LedgerInfoWithSignatures | None

    def get_highest_round(self) -> int:
        """Return the highest round certified by the QC or the TC."""
        tc_round = self.highest_timeout_cert.round if self.highest_timeout_cert else 0
        return max(self.highest_quorum_cert.round, tc_round)


@dataclass(frozen=True, slots=True)
class ProposalMsg:
    """A leader's proposal and the certificates that justify its round."""

    block: Block
    sync_info: SyncInfo


@dataclass(frozen=True, slots=True)
class VoteMsg:
    """A vote sent to the next leader, with the voter's sync info."""

    vote: Vote
    sync_info: SyncInfo


@dataclass(frozen=True, slots=True)
class TimeoutMsg:
    """A signed timeout broadcast to all, with the sender's sync info."""

    timeout: SignedTimeout
    sync_info: SyncInfo


@dataclass(frozen=True, slots=True)
class CommitVoteMsg:
    """A commit vote broadcast to all validators."""

    commit_vote: CommitVote


@dataclass(frozen=True, slots=True)
class SyncInfoMsg:
    """A bare sync info, sent to a peer that is behind."""

    sync_info: SyncInfo


@dataclass(frozen=True, slots=True)
class BlockRetrievalRequest:
    """Ask for count blocks ending at block_id, walking parent links (newest first)."""

    block_id: bytes
    count: int


class BlockRetrievalStatus(IntEnum):
    """Outcome of a block retrieval; codes are stable."""

    SUCCEEDED = 0
    ID_NOT_FOUND = 1
    NOT_ENOUGH_BLOCKS = 2


@dataclass(frozen=True, slots=True)
class BlockRetrievalResponse:
    """Blocks newest first, starting with the requested id."""

    status: int
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class EpochRetrievalRequest:
    """Ask for the epoch-ending ledger infos from start_epoch up to end_epoch."""

    start_epoch: int
    end_epoch: int


# What the transport may hand to verify.py; each tag is stable.
WIRE_MESSAGE_TAGS: dict[type, int] = {
    ProposalMsg: 1,
    VoteMsg: 2,
    TimeoutMsg: 3,
    CommitVoteMsg: 4,
    SyncInfoMsg: 5,
    BlockRetrievalRequest: 6,
    BlockRetrievalResponse: 7,
    EpochRetrievalRequest: 8,
    EpochChangeProof: 9,
}
WireMessage = (
    ProposalMsg
    | VoteMsg
    | TimeoutMsg
    | CommitVoteMsg
    | SyncInfoMsg
    | BlockRetrievalRequest
    | BlockRetrievalResponse
    | EpochRetrievalRequest
    | EpochChangeProof
)
# What the transport decodes is unverified until consensus.verify turns it into a Verified* event.
UnverifiedMessage = WireMessage
_TAG_TO_TYPE: dict[int, type] = {tag: cls for cls, tag in WIRE_MESSAGE_TAGS.items()}


def to_wire(message: WireMessage) -> list:
    """Return [tag, fields...] as plain lists of ints/bytes, ready for canonical msgpack."""
    return [WIRE_MESSAGE_TAGS[type(message)], to_plain(message)]


def from_wire(plain: object) -> WireMessage:
    """Rebuild a wire message from its plain form; raise DecodeError on anything malformed."""
    if not isinstance(plain, (list, tuple)) or len(plain) != 2 or not isinstance(plain[0], int):
        raise DecodeError("a wire message is [tag, body]")
    cls = _TAG_TO_TYPE.get(plain[0])
    if cls is None:
        raise DecodeError(f"unknown wire message tag {plain[0]}")
    return from_plain(cls, plain[1])


def compute_block_bytes(block: Block) -> int:
    """Return the size of a block's canonical encoding (what it adds to a retrieval response)."""
    return len(pack(to_plain(block)))


def encode_message(message: WireMessage) -> bytes:
    """Return the canonical msgpack bytes of a wire message."""
    return pack(to_wire(message))


def decode_message(data: bytes) -> WireMessage:
    """Decode canonical msgpack bytes into a wire message; raise DecodeError on anything malformed."""
    return from_wire(unpack(data))
