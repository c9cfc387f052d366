"""The effect interpreter: owns consensus state, storage, executor and mempool; synchronous, no sockets."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from enum import IntEnum

from consensus import events as ev
from consensus.core import recover, step
from consensus.election import HistoryEntry, ReputationConfig
from consensus.epoch import compute_next_epoch_state
from consensus.keyring import add_signers, get_held_public_keys, is_key_missing
from consensus.safety import SafetyData
from consensus.state import CoreConfig, CoreState, make_history_entry
from consensus.types import Block, BlockRetrievalRequest, EpochState, SyncInfo, decode_message, encode_message
from consensus.verify import MAX_BLOCK_PAYLOAD_BYTES, RejectReason, Rejection, get_message_epoch, verify_message
from contracts.application import Application
from node.execution import (
    ExecutedBlock,
    SpeculativeExecutor,
    StoreStateView,
    compute_payload_hash,
    decode_block,
    make_block_commit,
    make_ledger_info,
)
from node import catchup
from node.compliance_index import commit_blocks_with_indexes
from node.evidence import EvidenceAccount, EvidenceReporter
from node.keyring import ConsensusKeySource, describe_missing_consensus_key
from node.logging import get_logger
from node.mempool import Mempool, MempoolStatus, verify_transaction
from node.storage import BlockCommit, Store
from node.storage.schema import leader_history_key
from primitives.certified.ledger_info import LedgerInfoWithSignatures, decode_ledger_info
from primitives.certified.plain import from_plain, to_plain
from primitives.certified.validators import ValidatorSet
from primitives.codec import pack, unpack
from primitives.errors import DecodeError, InvariantViolation, invariant
from primitives.types.transactions import SignedTransaction

# Peer messages travel as [channel, body]; channels are stable numbers.
CHANNEL_CONSENSUS = 0
CHANNEL_TRANSACTION = 1
CHANNEL_CATCHUP_REQUEST = 2
CHANNEL_CATCHUP_RESPONSE = 3
BLOCK_TRANSACTIONS_MAX = 2_000
BLOCK_PAYLOAD_BYTES_MAX = MAX_BLOCK_PAYLOAD_BYTES // 2
# Local follow-up events of one process() call; more means a feedback loop (a bug).
LOCAL_EVENTS_PER_CALL_MAX = 100_000
USECS_PER_SEC = 1_000_000
# Committed blocks a restart (and every applied catch-up response) gives back to the core: its root and the
# ancestors it serves to peers' block retrieval; each is read and decoded again.
RECOVERED_COMMITTED_BLOCKS = 50
RECOVERED_BLOCKS_MAX = RECOVERED_COMMITTED_BLOCKS + 1
# Rounds of leader-reputation records a restart reads back ([ELECT-3]): compact records, not blocks.
RECOVERED_HISTORY_ROUNDS = ReputationConfig().get_history_span()
HISTORY_PAGE_RECORDS = 1_000

log = get_logger("stablechain.runtime")

invariant(BLOCK_PAYLOAD_BYTES_MAX <= MAX_BLOCK_PAYLOAD_BYTES, "our proposals pass our own verification")


class SubmitStatus(IntEnum):
    """Outcome of a submitted transaction; numbers are stable."""

    ACCEPTED = 0
    MALFORMED = 1
    INVALID_SIGNATURE = 2
    VM_REJECTED = 3
    MEMPOOL_REJECTED = 4


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """What happened to a submitted transaction: our status, the VM code and the mempool status."""

    status: SubmitStatus
    txn_hash: bytes = b""
    vm_status_code: int = 0
    mempool_status: MempoolStatus | None = None


# ---- what the runtime asks the shell to do (carried out after the call returns) -------------------


@dataclass(frozen=True, slots=True)
class SendData:
    """Send encoded bytes to one peer."""

    to: bytes
    data: bytes


@dataclass(frozen=True, slots=True)
class BroadcastData:
    """Send encoded bytes to every other validator."""

    data: bytes


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Arm the one round timer: deliver LocalTimeout(epoch, round) after duration_ms."""

    epoch: int
    round: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class SetPeers:
    """Connect to this validator set from now on."""

    validators: ValidatorSet


@dataclass(frozen=True, slots=True)
class DeferPayload:
    """Nothing to propose: call process_deferred_payload() after delay_ms (or sooner, on a new transaction)."""

    delay_ms: int


Outbound = SendData | BroadcastData | SetTimer | SetPeers | DeferPayload


@dataclass(frozen=True, slots=True)
class CommitNotice:
    """Committed blocks, for waiters and metrics: last version, certificate, committed txn hashes."""

    version: int
    certificate: LedgerInfoWithSignatures
    transaction_hashes: tuple[bytes, ...]
    block_count: int


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """What the runtime needs besides its collaborators."""

    core: CoreConfig
    block_transactions_max: int = BLOCK_TRANSACTIONS_MAX
    block_payload_bytes_max: int = BLOCK_PAYLOAD_BYTES_MAX
    # An idle leader waits this long for transactions before proposing an empty block (0: never waits).
    empty_block_delay_ms: int = 0
    # Signs the equivocation evidence this node submits (the validator account's key); None: only log it.
    evidence_account: EvidenceAccount | None = None
    # [EPOCH-6] The consensus key ring's source (node.keyring.NodeKeyring): polled after commits and at each new
    # epoch, so a rotated key signs from the epoch's first round without a restart. None: core.signer(s) only.
    keyring: ConsensusKeySource | None = None


def encode_envelope(channel: int, body: bytes) -> bytes:
    """Return the peer bytes of one message."""
    return pack([channel, body])


def decode_envelope(data: bytes) -> tuple[int, bytes]:
    """Return (channel, body) or raise DecodeError."""
    plain = unpack(data)
    if not isinstance(plain, list) or len(plain) != 2 or type(plain[0]) is not int or not isinstance(plain[1], bytes):
        raise DecodeError("a peer message is [channel, bytes]")
    return plain[0], plain[1]


def decode_peer_value(decode: Callable[[bytes], object], body: bytes) -> Any:
    """Decode peer bytes; a value whose constructor refuses it (an invariant) is malformed input too."""
    try:
        return decode(body)
    except InvariantViolation as error:
        raise DecodeError(f"peer value violates an invariant: {error}") from None


def load_epoch_state(store: Store) -> tuple[EpochState, LedgerInfoWithSignatures]:
    """Return the current epoch (from the last epoch-ending ledger info) and the last committed certificate."""
    latest_record = store.get_latest_ledger_info()
    invariant(latest_record is not None, "the store holds genesis")
    latest = decode_ledger_info(latest_record.ledger_info)  # type: ignore[union-attr]
    if latest.ledger_info.is_epoch_ending():
        return compute_next_epoch_state(latest), latest
    ending = store.get_epoch_ending_ledger_info(latest.ledger_info.epoch - 1)
    invariant(ending is not None, f"no ledger info ended epoch {latest.ledger_info.epoch - 1}")
    return compute_next_epoch_state(decode_ledger_info(ending.ledger_info)), latest  # type: ignore[union-attr]


def load_leader_history(store: Store, rounds: int) -> tuple[HistoryEntry, ...]:
    """[ELECT-3] Return the reputation records of the last committed block's epoch from `rounds` rounds before it."""
    position = store.get_latest_epoch_round()
    if position is None:
        return ()
    epoch, last_round = position
    records: list[bytes] = []
    next_round = max(0, last_round - rounds)
    while next_round <= last_round:
        page = store.get_leader_history(epoch, next_round, HISTORY_PAGE_RECORDS)
        records += page
        if len(page) < HISTORY_PAGE_RECORDS:
            break
        next_round = from_plain(HistoryEntry, unpack(page[-1])).round + 1
    return tuple(from_plain(HistoryEntry, unpack(record)) for record in records)


def compute_history_puts(blocks: tuple[Block, ...]) -> list[tuple[bytes, bytes]]:
    """Return the leader-reputation records of committed blocks, written in their commit batch ([ELECT-3])."""
    return [(leader_history_key(block.epoch, block.round), pack(to_plain(make_history_entry(block))))
            for block in blocks if not block.is_genesis()]


def load_committed_block(store: Store) -> Block | None:
    """Return the last committed block, or None at genesis."""
    blocks = load_recent_committed_blocks(store, 0)
    return blocks[-1] if blocks else None


def load_recent_committed_blocks(store: Store, rounds: int) -> list[Block]:
    """Return the committed blocks of the last committed block's epoch from `rounds` rounds before it, oldest first."""
    position = store.get_latest_epoch_round()
    if position is None:
        return []
    epoch, last_round = position
    first_round = max(0, last_round - rounds)
    stored = store.get_blocks(epoch, first_round, min(last_round - first_round + 1, RECOVERED_BLOCKS_MAX))
    return [decode_block(entry.block) for entry in stored if entry.epoch == epoch and entry.block]


class Runtime:
    """Carries out the core's effects strictly in order; returns what must leave the process."""

    def __init__(self, config: RuntimeConfig, store: Store, application: Application, mempool: Mempool,
                 clock_usecs: Callable[[], int]) -> None:
        self.config = config
        self.store = store
        self.application = application
        self.mempool = mempool
        self.clock_usecs = clock_usecs
        self.executor = SpeculativeExecutor(store, application, self.get_verified)
        self.state: CoreState = self.recover_core()
        self.pending: deque[ev.Event] = deque()
        self.outbound: list[Outbound] = []
        self.commit_listeners: list[Callable[[CommitNotice], None]] = []
        # Tests inject crashes here: called before each effect is carried out.
        self.effect_hook: Callable[[ev.Effect], None] | None = None
        self.highest_seen_commit: tuple[int, int, bytes] | None = None  # (epoch, round, sender)
        self.committed_block_count = 0
        self.rejected_messages = 0
        self.deferred_payload: ev.RequestPayload | None = None
        self.catchup_last_position: tuple[int, int] | None = None  # (epoch, round) at the last check
        self.catchup_in_flight_usecs: int | None = None  # when the outstanding catch-up request was sent
        self.last_catchup_status: int | None = None
        self.catchup_applied_count = 0
        self.catchup_served: dict[bytes, tuple[object, int]] = {}  # peer -> (last request, when served)
        self.committed_timestamp_usecs = self.load_committed_timestamp_usecs()
        self.pending_block_ids: set[bytes] = {block_id for block_id, _ in self.store.get_pending_blocks()}
        self.evidence = EvidenceReporter(config.evidence_account)
        self.is_key_check_due = True  # [EPOCH-6] poll the key ring after the next call
        self.key_missing_epochs: list[int] = []  # epochs whose set lists a consensus key we lacked (logged once)

    # ---- start-up and recovery ----------------------------------------------------------------------

    def recover_core(self) -> CoreState:
        """Rebuild the core from what the store holds: safety data, blocks, sync info, last commit."""
        epoch_state, committed = load_epoch_state(self.store)
        blocks = [decode_block(data) for _block_id, data in self.store.get_pending_blocks()]
        # The committed tail, not just the root: leader reputation needs the same recent history as
        # the validators that stayed up, or a restarted node disagrees with them on leaders.
        blocks += load_recent_committed_blocks(self.store, RECOVERED_COMMITTED_BLOCKS)
        self.executor.set_roots([committed.ledger_info.block_id, epoch_state.genesis_block_id])
        return recover(self.get_core_config(), epoch_state, self.load_safety_data(), blocks, self.load_sync_info(),
                       committed, load_leader_history(self.store, RECOVERED_HISTORY_ROUNDS))

    def get_core_config(self) -> CoreConfig:
        """Return the core config with every consensus key the keyring holds in its ring ([EPOCH-6])."""
        keyring, core = self.config.keyring, self.config.core
        if keyring is None:
            return core
        keyring.poll_consensus_keys()
        return replace(core, signers=core.signers + keyring.get_consensus_signers())

    def load_safety_data(self) -> SafetyData | None:
        """Return the persisted safety data, if any."""
        data = self.store.load_safety_data()
        return None if data is None else from_plain(SafetyData, unpack(data))

    def load_sync_info(self) -> SyncInfo | None:
        """Return the persisted sync info, if any."""
        data = self.store.load_sync_info()
        return None if data is None else from_plain(SyncInfo, unpack(data))

    def start(self) -> list[Outbound]:
        """Start (or restart) the core."""
        self.is_key_check_due = True
        return self.process(ev.Start())

    # ---- events -------------------------------------------------------------------------------------

    def process(self, event: ev.Event) -> list[Outbound]:
        """Step the core with event and every local event it leads to; return what must be sent."""
        self.pending.append(event)
        self.run_pending()
        self.check_consensus_keys()
        self.evidence.flush(self)  # after every effect of the steps: a submission may step the core again
        outbound, self.outbound = self.outbound, []
        return outbound

    def run_pending(self) -> None:
        """Step the core with every pending event, carrying out the effects in order."""
        steps = 0
        while self.pending:
            steps += 1
            invariant(steps <= LOCAL_EVENTS_PER_CALL_MAX, "local events do not converge")
            self.state, effects = step(self.state, self.pending.popleft())
            for effect in effects:
                self.apply(effect)

    def check_consensus_keys(self) -> None:
        """[EPOCH-6] After commits or a new epoch: add a next consensus key that appeared; log a missing key once."""
        if not self.is_key_check_due:
            return
        self.is_key_check_due = False
        keyring = self.config.keyring
        if keyring is not None and keyring.poll_consensus_keys():
            self.state, effects = add_signers(self.state, keyring.get_consensus_signers())
            for effect in effects:
                self.apply(effect)
            self.run_pending()
        epoch_state = self.state.epoch_state
        if is_key_missing(self.state) and epoch_state.epoch not in self.key_missing_epochs:
            self.key_missing_epochs.append(epoch_state.epoch)
            log.error("the validator set lists another consensus key for this node: it signs nothing this epoch; "
                      "write that key to keys.next_consensus_key_file (read at every commit)", epoch=epoch_state.epoch,
                      **describe_missing_consensus_key(epoch_state.validators, self.state.config.author,
                                                       get_held_public_keys(self.state)))

    def process_peer_data(self, sender: bytes, data: bytes) -> list[Outbound]:
        """Handle bytes from an authenticated peer; anything malformed is counted and dropped."""
        try:
            channel, body = decode_envelope(data)
            if channel == CHANNEL_CONSENSUS:
                message = decode_peer_value(decode_message, body)
                return self.process_consensus_message(sender, message)
            if channel == CHANNEL_TRANSACTION:
                self.submit_transaction(body, is_from_peer=True)
                return self.take_outbound()
            if channel == CHANNEL_CATCHUP_REQUEST:
                return catchup.process_request(self, sender, decode_peer_value(catchup.decode_request, body))
            if channel == CHANNEL_CATCHUP_RESPONSE:
                return catchup.process_response(self, sender, decode_peer_value(catchup.decode_response, body))
        except DecodeError:
            pass
        self.rejected_messages += 1
        return []

    def process_consensus_message(self, sender: bytes, message: object) -> list[Outbound]:
        """Verify a consensus message at the edge, then step the core with the verified event."""
        verified = verify_message(message, sender, self.state.get_verify_context())  # type: ignore[arg-type]
        if isinstance(verified, Rejection):
            self.rejected_messages += 1
            log.debug("consensus message rejected", reason=verified.reason.name, detail=verified.detail,
                      kind=type(message).__name__, sender=sender.hex())
            epoch = get_message_epoch(message)
            if verified.reason == RejectReason.FUTURE_EPOCH and epoch is not None:
                # The ledger must reach the epoch first: catch-up fetches the blocks (the core's epoch
                # jump without them would execute the new epoch on a stale state).
                self.note_future_epoch(sender, epoch)
            if verified.sync_info is not None:  # [SYNC-1] a refused proposal's certificates still verified
                return self.process_consensus_event(sender, ev.VerifiedSyncInfo(sender, verified.sync_info))
            return []
        return self.process_consensus_event(sender, verified)

    def process_consensus_event(self, sender: bytes, verified: ev.Event) -> list[Outbound]:
        """Step the core with a verified peer event, after noting the commit it shows."""
        self.note_commit_cert(sender, verified)
        return self.process(verified)

    def note_commit_cert(self, sender: bytes, event: ev.Event) -> None:
        """Remember the highest commit certificate a peer showed us (what catch-up aims for)."""
        message = getattr(event, "message", None)
        sync_info = getattr(message, "sync_info", None) or getattr(event, "sync_info", None)
        certificate = getattr(sync_info, "highest_commit_cert", None)
        if certificate is None:
            return
        info = certificate.ledger_info
        seen = self.highest_seen_commit
        if seen is None or (info.epoch, info.round) > seen[:2]:
            self.highest_seen_commit = (info.epoch, info.round, sender)

    def note_future_epoch(self, sender: bytes, epoch: int) -> None:
        """Remember that a peer is in a later epoch (catch-up aims there)."""
        seen = self.highest_seen_commit
        if seen is None or (epoch, 0) > seen[:2]:
            self.highest_seen_commit = (epoch, 0, sender)

    def take_outbound(self) -> list[Outbound]:
        """Return and clear what is waiting to leave."""
        outbound, self.outbound = self.outbound, []
        return outbound

    # ---- effects ------------------------------------------------------------------------------------

    def apply(self, effect: ev.Effect) -> None:
        """Carry out one effect; persistence is synced before the next effect runs."""
        if self.effect_hook is not None:
            self.effect_hook(effect)
        kind = type(effect)
        if kind is ev.PersistSafety:
            self.store.save_safety_data(pack(to_plain(effect.safety_data)))
        elif kind is ev.PersistBlock:
            self.store.save_pending_block(effect.block.id, pack(to_plain(effect.block)))
            self.pending_block_ids.add(effect.block.id)
        elif kind is ev.PersistSyncInfo:
            self.save_sync_info(effect.sync_info)
        elif kind is ev.Send:
            self.send_consensus(effect.to, effect.message)
        elif kind is ev.Broadcast:
            self.outbound.append(BroadcastData(encode_envelope(CHANNEL_CONSENSUS, encode_message(effect.message))))
        elif kind is ev.ScheduleTimeout:
            self.outbound.append(SetTimer(effect.epoch, effect.round, effect.duration_ms))
        elif kind is ev.RequestPayload:
            self.request_payload(effect)
        elif kind is ev.ExecuteBlocks:
            self.execute_blocks(effect.blocks)
        elif kind is ev.CommitBlocks:
            self.commit_blocks(effect.ledger_info_with_signatures, effect.blocks)
            self.is_key_check_due = True
        elif kind is ev.FetchBlocks:
            if not catchup.is_far_behind(self):  # [SYNC-7] a far gap is catch-up's: retrieval would race it
                self.send_consensus(effect.peer, BlockRetrievalRequest(effect.block_id, effect.count))
            log.debug("fetch blocks", peer=effect.peer.hex(), count=effect.count, root=self.state.tree.get_root().round,
                      suppressed=catchup.is_far_behind(self))
        elif kind is ev.NewEpoch:
            self.executor.set_roots([effect.ledger_info_with_signatures.ledger_info.block_id,
                                     effect.epoch_state.genesis_block_id])
            self.outbound.append(SetPeers(effect.epoch_state.validators))
            self.is_key_check_due = True  # [EPOCH-6] a key file written late still applies in this epoch
        elif kind is ev.ReportEquivocation:
            self.evidence.on_report(effect)

    def send_consensus(self, to: bytes, message: object) -> None:
        """Queue a consensus message for one peer."""
        self.outbound.append(SendData(to, encode_envelope(CHANNEL_CONSENSUS, encode_message(message))))  # type: ignore[arg-type]

    def save_sync_info(self, sync_info: SyncInfo) -> None:
        """Persist the highest certificates (synced)."""
        self.store.save_sync_info(pack(to_plain(sync_info)))

    def request_payload(self, effect: ev.RequestPayload) -> None:
        """Answer RequestPayload now, or later when nothing waits (mempool empty, no uncommitted txns)."""
        ready = self.make_payload(effect)
        # Uncommitted transactions need the next rounds to commit them: never delay those rounds.
        if ready.payload or effect.excluded_payload or self.config.empty_block_delay_ms <= 0:
            self.deferred_payload = None
            self.pending.append(ready)
            return
        self.deferred_payload = effect
        self.outbound.append(DeferPayload(self.config.empty_block_delay_ms))

    def process_deferred_payload(self) -> list[Outbound]:
        """Propose for the deferred round now (stale rounds are ignored by the core)."""
        effect, self.deferred_payload = self.deferred_payload, None
        if effect is None:
            return self.take_outbound()
        return self.process(self.make_payload(effect))

    def make_payload(self, effect: ev.RequestPayload) -> ev.PayloadReady:
        """Answer RequestPayload from the mempool, leaving out transactions of uncommitted blocks."""
        excluded = {compute_payload_hash(entry) for entry in effect.excluded_payload}
        batch = self.mempool.get_batch(self.config.block_transactions_max, self.config.block_payload_bytes_max,
                                       excluded)
        payload = tuple(txn.transaction.to_bcs() for txn in batch)
        return ev.PayloadReady(effect.epoch, effect.round, payload, self.clock_usecs())

    def execute_blocks(self, blocks: tuple[Block, ...]) -> None:
        """Execute ordered blocks in order and feed BlockExecuted; stop after a reconfiguration."""
        for block in blocks:
            executed = self.executor.execute(block)
            self.pending.append(ev.BlockExecuted(block.id, executed.last_version, executed.state_root,
                                                 executed.accumulator_root, executed.next_validator_set))
            if executed.next_validator_set is not None:
                return

    def commit_blocks(self, certificate: LedgerInfoWithSignatures, blocks: tuple[Block, ...]) -> None:
        """Write every committed block in one synced batch, then update the mempool and the waiters."""
        executed_blocks: list[ExecutedBlock] = []
        commits: list[BlockCommit] = []
        for index, block in enumerate(blocks):
            executed = self.executor.get_executed(block.id)
            invariant(executed is not None, f"committing block {block.id.hex()[:8]} that never executed")
            is_last = index == len(blocks) - 1
            ledger_info = certificate if is_last else LedgerInfoWithSignatures(make_ledger_info(block, executed), ())
            commits.append(make_block_commit(block, executed, ledger_info, is_last))  # type: ignore[arg-type]
            executed_blocks.append(executed)  # type: ignore[arg-type]
        self.save_commits(commits, compute_history_puts(blocks))
        self.executor.on_committed(executed_blocks)
        self.forget_pruned_blocks()
        self.on_committed(certificate, executed_blocks)

    def forget_pruned_blocks(self) -> None:
        """Delete persisted blocks the block tree no longer holds (committed or on dead forks)."""
        pruned = [block_id for block_id in self.pending_block_ids if not self.state.tree.is_known(block_id)]
        if pruned:
            self.store.delete_pending_blocks(pruned)
            self.pending_block_ids.difference_update(pruned)

    def save_commits(self, commits: list[BlockCommit], extra_puts: list[tuple[bytes, bytes]]) -> None:
        """Write every commit, with its compliance indexes and reputation records, in one atomic synced batch."""
        if commits:
            commit_blocks_with_indexes(self.store, commits, extra_puts)

    def on_committed(self, certificate: LedgerInfoWithSignatures, executed_blocks: list[ExecutedBlock]) -> None:
        """Advance the mempool past committed transactions and tell the waiters."""
        for executed in executed_blocks:
            self.mempool.commit(executed.get_committed_pairs())
            self.mempool.remove(executed.skipped_hashes)
        self.mempool.gc(certificate.ledger_info.timestamp_usecs // USECS_PER_SEC)
        self.committed_block_count += len(executed_blocks)
        self.committed_timestamp_usecs = certificate.ledger_info.timestamp_usecs
        hashes = tuple(txn.info.transaction_hash for executed in executed_blocks for txn in executed.transactions)
        notice = CommitNotice(certificate.ledger_info.version, certificate, hashes, len(executed_blocks))
        for listener in list(self.commit_listeners):
            listener(notice)

    # ---- transactions -------------------------------------------------------------------------------

    def get_verified(self, txn_hash: bytes) -> SignedTransaction | None:
        """Return a transaction whose signature this node already checked (it sits in the mempool)."""
        verified = self.mempool.get(txn_hash)
        return None if verified is None else verified.transaction

    def submit_transaction(self, data: bytes, is_from_peer: bool = False) -> SubmitResult:
        """Admit a BCS SignedTransaction: decode, then submit_signed."""
        try:
            signed = SignedTransaction.from_bcs(data)
        except DecodeError:
            return SubmitResult(SubmitStatus.MALFORMED)
        return self.submit_signed(signed, is_from_peer)

    def submit_signed(self, signed: SignedTransaction, is_from_peer: bool = False) -> SubmitResult:
        """Admit a decoded transaction: verify once, validate on committed state, add to the mempool, share."""
        data = signed.to_bcs()  # cached: the bytes it was decoded from
        txn_hash = signed.hash()
        if self.mempool.get(txn_hash) is not None:
            return SubmitResult(SubmitStatus.ACCEPTED, txn_hash, 0, MempoolStatus.ALREADY_PRESENT)
        verified = verify_transaction(signed, len(data))
        if verified is None:
            return SubmitResult(SubmitStatus.INVALID_SIGNATURE, txn_hash)
        view = StoreStateView(self.store, self.executor.committed_version)
        block_time_us = self.get_committed_timestamp_usecs()
        code = self.application.validate_transaction(view, signed, block_time_us)
        if code != 0:
            return SubmitResult(SubmitStatus.VM_REJECTED, txn_hash, code)
        sequence_number = self.application.get_sequence_number(view, signed.sender)
        status = self.mempool.add(verified, sequence_number, block_time_us // USECS_PER_SEC)
        if status not in (MempoolStatus.ACCEPTED, MempoolStatus.REPLACED, MempoolStatus.ALREADY_PRESENT):
            return SubmitResult(SubmitStatus.MEMPOOL_REJECTED, txn_hash, 0, status)
        if not is_from_peer and status != MempoolStatus.ALREADY_PRESENT:
            self.outbound.append(BroadcastData(encode_envelope(CHANNEL_TRANSACTION, data)))
        if self.deferred_payload is not None:
            produced = self.process_deferred_payload()  # swaps self.outbound: evaluate before extending
            self.outbound.extend(produced)
        return SubmitResult(SubmitStatus.ACCEPTED, txn_hash, 0, status)

    def get_committed_timestamp_usecs(self) -> int:
        """Return the ledger clock of the last committed block."""
        return self.committed_timestamp_usecs

    def load_committed_timestamp_usecs(self) -> int:
        """Read the ledger clock of the last committed block from the store."""
        record = self.store.get_latest_ledger_info()
        invariant(record is not None, "the store holds genesis")
        return decode_ledger_info(record.ledger_info).ledger_info.timestamp_usecs  # type: ignore[union-attr]

    def get_committed_version(self) -> int:
        """Return the last committed version."""
        return self.executor.committed_version


def apply_genesis(store: Store, commit: BlockCommit) -> bool:
    """Write the genesis commit into an empty store; return False when the store already holds a ledger."""
    if store.get_latest_version() is not None:
        return False
    commit_blocks_with_indexes(store, [commit])
    return True
