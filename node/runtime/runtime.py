"""The effect interpreter: owns consensus state, storage, executor and mempool; synchronous, no sockets."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

from consensus import events as ev
from consensus.core import step
from consensus.keyring import add_signers, get_held_public_keys, is_key_missing
from consensus.state import CoreConfig, CoreState
from consensus.types import Block, BlockRetrievalRequest, WireMessage, decode_message, encode_message
from consensus.verify import RejectReason, Rejection, get_message_epoch, verify_message
from contracts.application import Application
from node.keys.ring import describe_missing_consensus_key
from node.logging import get_logger
from node.mempool import Mempool, MempoolStatus
from node.runtime.catchup import CatchUp, CatchUpResponse, CatchUpStatus, Position, get_committed_position
from node.runtime.catchup_wire import decode_request, decode_response
from node.runtime.commit import make_block_commit, make_ledger_info, save_commits
from node.runtime.config import RuntimeConfig
from node.runtime.containment import PeerGuard
from node.runtime.evidence import EvidenceReporter
from node.runtime.executor import ExecutedBlock, SpeculativeExecutor
from node.runtime.recovery import load_committed_timestamp_usecs, recover_core
from node.runtime.snapshot import FastSync, SnapshotServer, decode_snapshot_request, decode_snapshot_response
from node.runtime.submit import SubmitResult, SubmitStatus, admit_transaction, compute_next_sequence_number, make_payload
from node.runtime.wire import CHANNEL_CATCHUP_REQUEST, CHANNEL_CATCHUP_RESPONSE, CHANNEL_CONSENSUS, CHANNEL_TRANSACTION
from node.runtime.wire import CHANNEL_SNAPSHOT_REQUEST, CHANNEL_SNAPSHOT_RESPONSE, BroadcastData, CommitNotice
from node.runtime.wire import DeferPayload, Outbound, SendData, SetPeers, SetTimer, decode_envelope
from node.runtime.wire import decode_peer_value, encode_envelope
from node.storage.codecs import encode_block, encode_safety_data, encode_sync_info
from node.storage.records import BlockCommit
from node.storage.snapshots import install_snapshot
from node.storage.store import Store
from node.storage.views import StoreStateView
from primitives.certified.ledger_info import LedgerInfoWithSignatures
from primitives.errors import DecodeError, invariant
from primitives.types.transactions import SignedTransaction

# Local follow-up events of one process() call; more means a feedback loop (a bug).
LOCAL_EVENTS_PER_CALL_MAX = 100_000
USECS_PER_SEC = 1_000_000

log = get_logger("stablechain.runtime")


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
        self.catchup = CatchUp(store, self.executor, clock_usecs)
        is_fresh = (store.get_latest_version() or 0) == 0
        self.fast_sync = FastSync(store, clock_usecs, config.fast_sync and is_fresh)
        self.snapshot_server = SnapshotServer(store, clock_usecs)
        self.state: CoreState = self.recover_core()
        self.pending: deque[ev.Event] = deque()
        self.outbound: list[Outbound] = []
        self.commit_listeners: list[Callable[[CommitNotice], None]] = []
        # Tests inject crashes here: called before each effect is carried out.
        self.effect_hook: Callable[[ev.Effect], None] | None = None
        self.committed_block_count = 0
        self.rejected_messages = 0
        self.peer_guard = PeerGuard(clock_usecs)
        self.deferred_payload: ev.RequestPayload | None = None
        self.committed_timestamp_usecs = load_committed_timestamp_usecs(store)
        self.pending_block_ids: set[bytes] = {block_id for block_id, _ in self.store.records.get_pending_blocks()}
        self.evidence = EvidenceReporter(config.evidence_account, config.core.chain_id, self.get_next_sequence_number,
                                         self.submit_signed, clock_usecs)
        self.is_key_check_due = True  # [EPOCH-6] poll the key ring after the next call
        self.key_missing_epochs: list[int] = []  # epochs whose set lists a consensus key we lacked (logged once)
        self.is_catchup_deferred = False  # the service applies checked catch-up responses after sending on
        self.deferred_catchup: tuple[bytes, CatchUpResponse] | None = None

    def recover_core(self) -> CoreState:
        """Rebuild the core from what the store holds: safety data, blocks, sync info, last commit."""
        state, root_ids = recover_core(self.store, self.get_core_config())
        self.executor.set_roots(root_ids)
        return state

    def get_core_config(self) -> CoreConfig:
        """Return the core config with every consensus key the keyring holds in its ring ([EPOCH-6])."""
        keyring, core = self.config.keyring, self.config.core
        if keyring is None:
            return core
        keyring.poll_consensus_keys()
        return replace(core, signers=core.signers + keyring.get_consensus_signers())

    def start(self) -> list[Outbound]:
        """Start (or restart) the core."""
        self.is_key_check_due = True
        return self.process(ev.Start())

    def process(self, event: ev.Event) -> list[Outbound]:
        """Step the core with event and every local event it leads to; return what must be sent."""
        self.pending.append(event)
        self.run_pending()
        self.check_consensus_keys()
        self.evidence.flush()  # after every effect of the steps: a submission may step the core again
        return self.take_outbound()

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
        """Handle bytes from an authenticated peer; a message that is malformed or fails is counted and dropped."""
        rejected_before = self.rejected_messages
        outbound = self.peer_guard.run(sender, lambda: self.dispatch_peer_data(sender, data))
        self.rejected_messages += outbound is None
        self.peer_guard.on_refused(sender, self.rejected_messages - rejected_before)
        return outbound or []

    def dispatch_peer_data(self, sender: bytes, data: bytes) -> list[Outbound] | None:
        """Decode a peer's envelope and hand it to its channel."""
        channel, body = decode_envelope(data)
        if channel == CHANNEL_CONSENSUS:
            return self.process_consensus_message(sender, decode_peer_value(decode_message, body))
        if channel == CHANNEL_TRANSACTION:
            self.submit_transaction(body, is_from_peer=True)
            return self.take_outbound()
        if channel == CHANNEL_CATCHUP_REQUEST:
            return self.catchup.process_request(sender, decode_peer_value(decode_request, body), self.state.epoch_state.epoch)
        if channel == CHANNEL_CATCHUP_RESPONSE:
            return self.process_catchup_response(sender, decode_peer_value(decode_response, body))
        if channel in (CHANNEL_SNAPSHOT_REQUEST, CHANNEL_SNAPSHOT_RESPONSE):
            return self.process_snapshot_message(sender, channel, body)
        return None  # an unknown channel

    def process_consensus_message(self, sender: bytes, message: WireMessage) -> list[Outbound]:
        """Verify a consensus message at the edge, then step the core with the verified event."""
        verified = verify_message(message, sender, self.state.get_verify_context())
        if isinstance(verified, Rejection):
            self.rejected_messages += 1
            log.debug("consensus message rejected", reason=verified.reason.name, detail=verified.detail,
                      kind=type(message).__name__, sender=sender.hex())
            epoch = get_message_epoch(message)
            if verified.reason == RejectReason.FUTURE_EPOCH and epoch is not None:
                # The ledger must reach the epoch first: catch-up fetches the blocks (the core's epoch
                # jump without them would execute the new epoch on a stale state).
                self.catchup.on_future_epoch(sender, epoch)
            if verified.sync_info is not None:  # [SYNC-1] a refused proposal's certificates still verified
                return self.process_consensus_event(sender, ev.VerifiedSyncInfo(sender, verified.sync_info))
            return []
        return self.process_consensus_event(sender, verified)

    def process_consensus_event(self, sender: bytes, verified: ev.Event) -> list[Outbound]:
        """Step the core with a verified peer event, after noting the commit it shows."""
        self.catchup.on_peer_event(sender, verified)
        return self.process(verified)

    def take_outbound(self) -> list[Outbound]:
        """Sync the staged consensus records, then return and clear what is waiting to leave ([PERSIST-1])."""
        self.store.records.flush()
        outbound, self.outbound = self.outbound, []
        return outbound

    def get_committed_position(self) -> Position:
        """Return (epoch, round) of the last committed block in the current epoch (round 0: genesis)."""
        return get_committed_position(self.state)

    def get_catchup_requests(self, is_startup: bool = False) -> list[Outbound]:
        """Return the catch-up requests due now: to every peer at start-up, else when a peer showed a newer commit."""
        if self.fast_sync.is_active:
            return self.fast_sync.get_requests()
        return self.catchup.get_requests(self.get_committed_position(), is_startup)

    def process_snapshot_message(self, sender: bytes, channel: int, body: bytes) -> list[Outbound]:
        """Serve a snapshot chunk, or take one; once the snapshot is verified, install it and restart from it."""
        if channel == CHANNEL_SNAPSHOT_REQUEST:
            return self.snapshot_server.process_request(sender, decode_peer_value(decode_snapshot_request, body))
        response = decode_peer_value(decode_snapshot_response, body)
        _status, requests, install = self.fast_sync.process_response(sender, response, self.state)
        if install is None:
            return requests
        install_snapshot(self.store, install)
        self.executor.load_committed()
        self.committed_timestamp_usecs = load_committed_timestamp_usecs(self.store)
        self.state = self.recover_core()
        log.info("fast sync installed a snapshot", version=self.get_committed_version(), sender=sender.hex())
        return [*self.catchup.get_requests(self.get_committed_position(), is_startup=True), *self.start()]

    def process_catchup_response(self, sender: bytes, response: CatchUpResponse) -> list[Outbound]:
        """Check a peer's blocks and ask for the next ones; apply these now, or (is_catchup_deferred) once the service
        sent that request (apply_deferred_catchup), so the peer reads the next blocks while we apply these."""
        if self.fast_sync.is_active:
            return []  # the snapshot comes first; blocks after it are asked for once it is installed
        result = self.catchup.process_response(sender, response, self.state)
        if result.status != CatchUpStatus.APPLIED:
            return []
        self.deferred_catchup = (sender, response)
        if self.is_catchup_deferred:
            return list(result.next_requests)
        return [*result.next_requests, *self.apply_deferred_catchup()]

    def apply_deferred_catchup(self) -> list[Outbound]:
        """Apply and commit the checked catch-up response waiting, if any; restart consensus from the new root."""
        pending, self.deferred_catchup = self.deferred_catchup, None
        if pending is None or self.catchup.apply_checked(pending[1], self.state) != CatchUpStatus.APPLIED:
            return []
        sender, response = pending
        self.commit_blocks(response.certificate, response.blocks)  # type: ignore[arg-type]
        log.info("caught up", blocks=len(response.blocks), version=self.get_committed_version(), sender=sender.hex())
        self.state = self.recover_core()
        return self.start()

    def apply(self, effect: ev.Effect) -> None:
        """Carry out one effect; consensus records are staged, synced with a commit or before anything leaves."""
        if self.effect_hook is not None:
            self.effect_hook(effect)
        kind = type(effect)
        if kind is ev.PersistSafety:
            self.store.records.stage_safety_data(encode_safety_data(effect.safety_data))
        elif kind is ev.PersistBlock:
            self.store.records.stage_pending_block(effect.block.id, encode_block(effect.block))
            self.pending_block_ids.add(effect.block.id)
        elif kind is ev.PersistSyncInfo:
            self.store.records.stage_sync_info(encode_sync_info(effect.sync_info))
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
        else:
            self.apply_epoch_effect(effect)

    def apply_epoch_effect(self, effect: ev.Effect) -> None:
        """Carry out the effects of block retrieval, a new epoch and an equivocation report."""
        kind = type(effect)
        if kind is ev.FetchBlocks:
            is_suppressed = self.fast_sync.is_active or self.catchup.is_closing_gap(self.get_committed_position())
            if not is_suppressed:  # [SYNC-7] a gap catch-up is closing: retrieval would race it
                self.send_consensus(effect.peer, BlockRetrievalRequest(effect.block_id, effect.count))
            log.debug("fetch blocks", peer=effect.peer.hex(), count=effect.count, root=self.state.tree.get_root().round,
                      suppressed=is_suppressed)
        elif kind is ev.NewEpoch:
            self.executor.set_roots([effect.ledger_info_with_signatures.ledger_info.block_id,
                                     effect.epoch_state.genesis_block_id])
            self.outbound.append(SetPeers(effect.epoch_state.validators))
            self.is_key_check_due = True  # [EPOCH-6] a key file written late still applies in this epoch
        elif kind is ev.ReportEquivocation:
            self.evidence.on_report(effect)

    def send_consensus(self, to: bytes, message: WireMessage) -> None:
        """Queue a consensus message for one peer."""
        self.outbound.append(SendData(to, encode_envelope(CHANNEL_CONSENSUS, encode_message(message))))

    def request_payload(self, effect: ev.RequestPayload) -> None:
        """Answer RequestPayload now, or later when nothing waits (mempool empty, no uncommitted txns)."""
        ready = make_payload(self.mempool, effect, self.config.get_payload_limits(), self.clock_usecs())
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
        return self.process(make_payload(self.mempool, effect, self.config.get_payload_limits(), self.clock_usecs()))

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
            executed = self.get_executed(block)
            is_last = index == len(blocks) - 1
            ledger_info = certificate if is_last else LedgerInfoWithSignatures(make_ledger_info(block, executed), ())
            commits.append(make_block_commit(block, executed, ledger_info, is_last))
            executed_blocks.append(executed)
        self.save_commits(blocks, commits)
        self.executor.on_committed(executed_blocks)
        self.forget_pruned_blocks()
        self.on_committed(certificate, executed_blocks)

    def get_executed(self, block: Block) -> ExecutedBlock:
        """Return the speculative result of a block about to be committed."""
        executed = self.executor.get_executed(block.id)
        invariant(executed is not None, f"committing block {block.id.hex()[:8]} that never executed")
        return executed  # type: ignore[return-value]

    def save_commits(self, blocks: Sequence[Block], commits: Sequence[BlockCommit]) -> None:
        """Write every commit, with the index writers' entries, in one atomic synced batch."""
        if commits:
            save_commits(self.store, blocks, commits, self.config.index_writers)

    def forget_pruned_blocks(self) -> None:
        """Delete persisted blocks the block tree no longer holds (committed or on dead forks)."""
        pruned = [block_id for block_id in self.pending_block_ids if not self.state.tree.is_known(block_id)]
        if pruned:
            self.store.records.delete_pending_blocks(pruned)
            self.pending_block_ids.difference_update(pruned)

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
        view = StoreStateView(self.store, self.executor.committed_version)
        result = admit_transaction(signed, self.mempool, self.application, view, self.committed_timestamp_usecs, self.clock_usecs())
        if not result.is_accepted:
            return result
        if not is_from_peer and result.mempool_status != MempoolStatus.ALREADY_PRESENT:
            data = signed.to_bcs()  # cached: the bytes it was decoded from
            self.outbound.append(BroadcastData(encode_envelope(CHANNEL_TRANSACTION, data)))
        if self.deferred_payload is not None:
            produced = self.process_deferred_payload()  # swaps self.outbound: evaluate before extending
            self.outbound.extend(produced)
        return result

    def get_next_sequence_number(self, address: bytes) -> int:
        """Return an account's committed sequence number, past its transactions already waiting in the mempool."""
        view = StoreStateView(self.store, self.get_committed_version())
        return compute_next_sequence_number(address, self.mempool, self.application, view)

    def get_committed_timestamp_usecs(self) -> int:
        """Return the ledger clock of the last committed block."""
        return self.committed_timestamp_usecs

    def get_committed_version(self) -> int:
        """Return the last committed version."""
        return self.executor.committed_version
