"""The core's configuration and state; step() works on a copy and never changes its input."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field, fields

from consensus.block_tree import BlockTree
from consensus.election import HistoryEntry, Turns, add_turns, get_reputation_leader, get_weighted_leader
from consensus.events import Effect, PersistSyncInfo
from consensus.pacemaker import PacemakerConfig
from consensus.safety import SafetyData, SafetyRules, SigningContext
from consensus.types import Block, CommitVote, EpochState, SignedTimeout, SyncInfo, TimeoutCertificate, make_genesis_qc
from consensus.verify import VerifyContext
from primitives.certified.blocks import QuorumCertificate, VoteData
from primitives.certified.ledger_info import LedgerInfo, LedgerInfoWithSignatures
from primitives.certified.signatures import SignatureScheme, Signer
from primitives.errors import invariant

# The leader memo holds at most this many rounds (a peer's messages name rounds; the memo must stay small).
LEADER_CACHE_ROUNDS_MAX = 256


@dataclass(frozen=True, slots=True)
class CoreConfig:
    """What does not change while a validator runs: identity, keys, chain id, timers, rules."""

    author: bytes
    signer: Signer
    scheme: SignatureScheme
    chain_id: int
    pacemaker: PacemakerConfig = PacemakerConfig()
    safety_rules: SafetyRules = SafetyRules()
    # [EPOCH-6] signer and signers form the node's key ring; each epoch signs with the one whose public key the
    # epoch's set lists for author (the ring grows between steps: consensus.keyring.add_signers), e.g. the next
    # key before its rotation applies.
    signers: tuple[Signer, ...] = ()
    signers_by_key: dict[bytes, Signer] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Public keys are derived once here: selection runs on every signing decision.
        ring: dict[bytes, Signer] = {}
        for signer in (self.signer, *self.signers):
            ring.setdefault(signer.get_public_key(), signer)
        object.__setattr__(self, "signers_by_key", ring)

    def get_signer_for(self, public_key: bytes) -> Signer | None:
        """Return the held signer whose public key is public_key, or None."""
        return self.signers_by_key.get(public_key)


@dataclass(slots=True)
class CoreState:
    """Everything the core knows; treat as immutable (step returns a fresh copy)."""

    config: CoreConfig
    epoch_state: EpochState
    safety: SafetyData
    tree: BlockTree
    highest_qc: QuorumCertificate
    highest_ordered_cert: QuorumCertificate | None = None
    highest_tc: TimeoutCertificate | None = None
    highest_commit_cert: LedgerInfoWithSignatures | None = None
    current_round: int = 1
    proposed_round: int = 0  # the last round we asked for a payload in
    votes: dict[VoteData, dict[bytes, bytes]] = field(default_factory=dict)
    timeouts: dict[int, dict[bytes, SignedTimeout]] = field(default_factory=dict)
    commit_votes: dict[LedgerInfo, dict[bytes, bytes]] = field(default_factory=dict)
    executed: dict[bytes, LedgerInfo] = field(default_factory=dict)  # ordered, executed, uncommitted
    execution_sent_id: bytes = b""  # the last block handed to ExecuteBlocks
    pending_qcs: dict[bytes, QuorumCertificate] = field(default_factory=dict)  # waiting for blocks
    requested_blocks: frozenset[bytes] = frozenset()  # [SYNC-3] block ids asked for and not yet received
    pending_proposal: Block | None = None  # [SYNC-6] the newest proposal whose parent is still being fetched
    fetched_chain: tuple[Block, ...] = ()  # [SYNC-4] fetched blocks (newest first) waiting for the rest below them
    last_commit_vote: CommitVote | None = None
    epoch_proofs: tuple[LedgerInfoWithSignatures, ...] = ()
    persisted_sync_info: SyncInfo | None = None
    history: tuple[HistoryEntry, ...] = ()  # [ELECT-3] this epoch's ordered blocks, by round, for reputation
    turns: Turns = field(default_factory=dict)  # [ELECT-2] each validator's turns as leader, derived from history
    # Leaders already computed from this history: a pure memo, replaced (never cleared in place) when the
    # history changes, so copies that share it always agree with their own history.
    leader_cache: dict[int, bytes] = field(default_factory=dict)
    first_proposals: dict[tuple[int, bytes], Block] = field(default_factory=dict)  # [EVIDENCE-1] (round, author)
    reported_equivocations: frozenset[tuple[int, int, bytes]] = frozenset()  # (kind, round, author) this epoch

    def copy(self) -> CoreState:
        """Return a copy whose containers may be changed freely (inner vote maps are copy-on-write)."""
        values = {spec.name: getattr(self, spec.name) for spec in fields(self)}
        values["tree"] = self.tree.copy()
        for name in ("votes", "timeouts", "commit_votes", "executed", "pending_qcs", "first_proposals"):
            values[name] = dict(values[name])
        return CoreState(**values)

    def get_sync_info(self) -> SyncInfo:
        """Return our highest certificates."""
        return SyncInfo(self.highest_qc, self.highest_ordered_cert, self.highest_tc, self.highest_commit_cert)

    def get_verify_context(self) -> VerifyContext:
        """Return what verify_message needs to check messages for this node's epoch."""
        return VerifyContext(self.epoch_state, self.config.scheme, self.config.chain_id, self.get_leader)

    def get_signer(self) -> Signer | None:
        """[EPOCH-6] Return the held signer of the key the current set lists for us; None: we must not sign."""
        member = self.epoch_state.validators.get_member(self.config.author)
        return None if member is None else self.config.get_signer_for(member.consensus_public_key)

    def get_signing_context(self) -> SigningContext:
        """Return what the safety rules need to sign as this validator (only call it when is_validator())."""
        signer = self.get_signer()
        invariant(signer is not None, "signing without the consensus key the validator set lists for us")
        return SigningContext(self.config.author, signer, self.config.chain_id)  # type: ignore[arg-type]

    def is_validator(self) -> bool:
        """Return True iff the current set lists this node and we hold the consensus key it lists ([EPOCH-6])."""
        return self.get_signer() is not None

    def get_leader(self, round_: int) -> bytes:
        """[ELECT-1] Return the leader of round_ in the current epoch (with reputation if configured, [ELECT-2])."""
        reputation = self.config.pacemaker.reputation
        epoch = self.epoch_state.epoch
        if reputation is None:
            return get_weighted_leader(self.epoch_state.validators, epoch, round_)
        leader = self.leader_cache.get(round_)
        if leader is None:
            leader = get_reputation_leader(self.epoch_state.validators, epoch, round_, self.history, self.turns,
                                           reputation)
            if len(self.leader_cache) >= LEADER_CACHE_ROUNDS_MAX:
                self.leader_cache = {}
            self.leader_cache[round_] = leader
        return leader

    def record_ordered(self, blocks: list[Block]) -> None:
        """[ELECT-3] Remember what reputation reads of newly ordered blocks, bounded by its span."""
        self.record_history(tuple(make_history_entry(block) for block in blocks if block.round > 0))

    def record_history(self, entries: tuple[HistoryEntry, ...]) -> None:
        """[ELECT-3] Append history entries newer than the last one kept; drop what left the span."""
        reputation = self.config.pacemaker.reputation
        last_round = self.history[-1].round if self.history else -1
        entries = tuple(entry for entry in entries if entry.round > last_round)
        if reputation is None or not entries:
            return
        oldest = entries[-1].round - reputation.get_history_span()
        history = self.history + entries
        self.history = history[bisect_left(history, oldest, key=get_entry_round):]
        self.turns = add_turns(self.turns, entries, oldest)
        self.leader_cache = {}


def get_entry_round(entry: HistoryEntry) -> int:
    """Return the round of a history entry (the sort key of the history)."""
    return entry.round


def make_history_entry(block: Block) -> HistoryEntry:
    """Return the reputation record of an ordered block: round, author, its QC's signers, its failed authors."""
    voters = tuple(author for author, _ in block.quorum_cert.signatures) if block.quorum_cert is not None else ()
    return HistoryEntry(block.round, block.author, voters, block.data.failed_authors)


class Work:
    """One step in progress: the working state copy and the effects emitted so far, in order."""

    __slots__ = ("state", "effects")

    def __init__(self, state: CoreState) -> None:
        self.state = state
        self.effects: list[Effect] = []

    def emit(self, effect: Effect) -> None:
        """Append an effect; the runtime carries them out in this order."""
        self.effects.append(effect)

    def persist_sync_info_if_changed(self) -> None:
        """Emit PersistSyncInfo when the highest certificates moved since the last one persisted."""
        sync_info = self.state.get_sync_info()
        if sync_info != self.state.persisted_sync_info:
            self.state.persisted_sync_info = sync_info
            self.emit(PersistSyncInfo(sync_info))


def make_initial_state(config: CoreConfig, epoch_state: EpochState) -> CoreState:
    """Return the state of a validator starting an epoch from its genesis block."""
    genesis = epoch_state.genesis_block
    genesis_qc = make_genesis_qc(genesis)
    return CoreState(config, epoch_state, SafetyData(epoch_state.epoch), BlockTree.create(genesis, genesis_qc),
                     genesis_qc, execution_sent_id=genesis.id)
