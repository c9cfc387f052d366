"""The asyncio shell: one TaskGroup running network, JSON-RPC, timers and the runtime; stops on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from aiohttp import web
import nacl.bindings

from consensus.events import LocalTimeout
from consensus.election import ReputationConfig
from consensus.keyring import get_held_public_keys
from consensus.pacemaker import PacemakerConfig
from consensus.state import CoreConfig
from node import catchup
from node.config import NodeConfig
from contracts.genesis import GenesisConfig
from node.evidence import EvidenceAccount
from node.execution import ContractsApplication, make_genesis_commit, make_genesis_transaction
from node.genesis_file import GenesisFileError, load_genesis_file
from node.keyring import NodeKeyring, follow_network_key
from node.keys import load_passphrase, load_private_key
from node.admission.wiring import build_compliance
from node.ledger import Ledger, make_submit
from node.logging import bind_position, get_logger
from node.mempool import Mempool, MempoolLimits
from node.metrics import METRICS_CONTENT_TYPE, NodeMetrics
from node.network import KeyPair, Network, NetworkConfig, PeerInfo
from node.runtime import (
    BroadcastData,
    CommitNotice,
    DeferPayload,
    Outbound,
    Runtime,
    RuntimeConfig,
    SendData,
    SetPeers,
    SetTimer,
    SubmitStatus,
    apply_genesis,
)
from node.storage import LevelStore, StoreOpenError
from primitives.certified.ledger_info import compute_genesis_hash
from primitives.certified.signatures import Ed25519Scheme, Ed25519Signer
from primitives.certified.validators import ValidatorSet
from primitives.errors import invariant
from primitives.keys import PrivateKey
from primitives.types.transactions import SignedTransaction

LOCAL_INBOX_MAX_EVENTS = 1_000
# An idle leader proposes an empty block after this long, so the ledger clock advances slowly when idle.
EMPTY_BLOCK_DELAY_MS = 200
CATCHUP_CHECK_INTERVAL_MS = 1_000
METRICS_REFRESH_INTERVAL_MS = 1_000
# Admission times kept for the submit-to-commit histogram; the oldest are forgotten beyond this.
SUBMIT_TIMES_MAX = 100_000
DATABASE_DIRECTORY = "db"
NETWORK_PROLOGUE_PREFIX = b"stablechain/network/v1/chain-"
USECS_PER_SEC = 1_000_000
MS_PER_SEC = 1_000

log = get_logger("stablechain.node")


class NodeStartError(Exception):
    """The node cannot start: the message says what to fix."""


class StopNode(Exception):
    """Raised inside the task group to stop every task (a signal arrived)."""


# ---- genesis and keys ------------------------------------------------------------------------------


def build_genesis_commit(genesis: GenesisConfig) -> tuple[Any, bytes, ValidatorSet]:
    """Return (version-0 commit, genesis hash, first validator set), deterministic for one genesis config.

    The first set is the one genesis execution installs (DiemSystem's ValidatorSet): with staking its voting
    powers are the capped stakes, not the configured ones.
    """
    from contracts.genesis import build_genesis

    output = build_genesis(genesis)
    validators = ContractsApplication().get_next_validator_set(output)
    if validators is None:
        raise NodeStartError("the genesis file installs no validator (with stake); check its validators")
    transaction = make_genesis_transaction(output.write_set, output.events)
    commit, certificate = make_genesis_commit(transaction, output.write_set, output.events, validators)
    return commit, compute_genesis_hash(certificate), validators


def compute_network_prologue(chain_id: int) -> bytes:
    """Return the Noise prologue of a chain: peers of another chain fail the handshake."""
    return NETWORK_PROLOGUE_PREFIX + bytes([chain_id])


def compute_network_public_key(ed25519_public_key: bytes) -> bytes:
    """Return the X25519 key the transport pins for a validator's Ed25519 network key."""
    return nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(ed25519_public_key)


def make_network_key_pair(key: PrivateKey) -> KeyPair:
    """Return our X25519 transport key pair from the Ed25519 network key file's key."""
    secret = nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(key.seed + key.public_key().data)
    return KeyPair.from_private_key(secret)


# ---- building a node ------------------------------------------------------------------------------


@dataclass(slots=True)
class NodeParts:
    """What run_node assembles before it starts any task."""

    runtime: Runtime
    network: Network
    ledger: Ledger
    store: LevelStore


def get_real_clock_usecs() -> int:
    """Return the wall clock in microseconds (proposal timestamps; the core keeps them increasing)."""
    return time.time_ns() // 1_000


def find_own_address(validators: ValidatorSet, consensus_public_keys: Collection[bytes],
                     account_address: bytes | None = None) -> bytes:
    """Return this node's address: the account key's when configured, else the genesis member with a key we hold."""
    holder = next((m.address for m in validators.members if m.consensus_public_key in consensus_public_keys), None)
    if account_address is None:
        if holder is None:
            raise NodeStartError("the consensus key is not in the genesis validator set; check keys.consensus_key_file "
                                 "(a node that joins the set later needs keys.account_key_file)")
        return holder
    if holder is not None and holder != account_address:
        raise NodeStartError(f"the consensus key belongs to validator {holder.hex()}, not to the account key's address "
                             f"{account_address.hex()}; check keys.consensus_key_file and keys.account_key_file")
    return account_address


class Membership(IntEnum):
    """This node's standing in a validator set; numbers are stable (logs)."""

    VALIDATOR = 0
    NOT_A_MEMBER = 1
    KEY_MISMATCH = 2  # the set lists our address with a consensus key we do not hold: the core signs nothing


def get_membership(validators: ValidatorSet, address: bytes, held_keys: Collection[bytes]) -> Membership:
    """Return whether this node votes in validators: listed, and holding the consensus key listed for it."""
    member = validators.get_member(address)
    if member is None:
        return Membership.NOT_A_MEMBER
    return Membership.VALIDATOR if member.consensus_public_key in held_keys else Membership.KEY_MISMATCH


def log_membership(epoch: int, validators: ValidatorSet, address: bytes, held_keys: Collection[bytes]) -> Membership:
    """Log this node's standing in the epoch's validator set."""
    membership = get_membership(validators, address, held_keys)
    fields = {"epoch": epoch, "address": address.hex(), "validators": len(validators.members)}
    if membership == Membership.VALIDATOR:
        log.info("validator in this epoch", **fields)
    elif membership == Membership.NOT_A_MEMBER:
        # The set's validators accept our connections (and serve catch-up) only once we are in it.
        log.info("not a validator in this epoch: waiting to be in the set", **fields)
    else:  # the runtime logs the registered and held keys (node.runtime.Runtime.check_consensus_keys)
        log.warning("in the validator set, without the consensus key it lists for us: signing nothing", **fields)
    return membership


def make_peers(config: NodeConfig, validators: ValidatorSet, own_address: bytes = b"") -> list[PeerInfo]:
    """Return the validator set's other members with the listening addresses the config gives for them.

    Membership and the pinned network key come from the set (on chain); the config only says where to dial.
    """
    by_address = {bytes.fromhex(peer.address): peer for peer in config.network.peers}
    peers = []
    for member in validators.members:
        peer = by_address.get(member.address)
        if member.address == own_address:
            continue
        if peer is None:
            log.warning("no network.peers entry for a validator: it cannot be dialled", address=member.address.hex())
            continue
        if bytes.fromhex(peer.network_public_key) != member.network_public_key:
            log.warning("network.peers key differs from the validator set's: pinning the set's", address=peer.address)
        peers.append(PeerInfo(member.address, compute_network_public_key(member.network_public_key), peer.host,
                              peer.port))
    return peers


def open_store(config: NodeConfig, commit: Any, genesis_hash: bytes) -> LevelStore:
    """Open (or create) the database; refuse one of another chain or genesis; write genesis if empty."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        store = LevelStore(str(config.data_dir / DATABASE_DIRECTORY), chain_id=config.chain_id,
                           genesis_hash=genesis_hash)
    except StoreOpenError as error:
        raise NodeStartError(str(error)) from None
    if apply_genesis(store, commit):
        log.info("genesis applied", version=0, genesis_hash=genesis_hash.hex())
    return store


def build_node(config: NodeConfig) -> NodeParts:
    """Load genesis, keys and the database; recover consensus; build the network (nothing started)."""
    try:
        genesis = load_genesis_file(config.genesis_file)
    except GenesisFileError as error:
        raise NodeStartError(str(error)) from None
    if genesis.chain_id != config.chain_id:
        raise NodeStartError(f"chain_id {config.chain_id} differs from the genesis file's {genesis.chain_id}")
    commit, genesis_hash, validators = build_genesis_commit(genesis)
    passphrase = load_passphrase(config.keys.passphrase_env)
    consensus_key = load_private_key(config.keys.consensus_key_file, passphrase)
    network_private_key = load_private_key(config.keys.network_key_file, passphrase)
    # [EPOCH-6] every consensus and network key we hold: the configured ones and the next ones (rotation)
    keyring = NodeKeyring.from_keys_config(config.keys, consensus_key, network_private_key, passphrase)
    account_key = (load_private_key(config.keys.account_key_file, passphrase)
                   if config.keys.account_key_file is not None else None)
    account_address = account_key.public_key().address() if account_key is not None else None
    author = find_own_address(validators, keyring.get_consensus_public_keys(), account_address)
    store = open_store(config, commit, genesis_hash)
    reputation = ReputationConfig() if config.consensus.leader_reputation else None
    pacemaker = PacemakerConfig(base_timeout_ms=config.consensus.round_timeout_ms, reputation=reputation)
    core = CoreConfig(author, Ed25519Signer(consensus_key), Ed25519Scheme(), config.chain_id, pacemaker=pacemaker)
    limits = MempoolLimits(capacity_txns=config.mempool.capacity_total,
                           capacity_per_account_txns=config.mempool.capacity_per_account)
    # The account key signs the equivocation evidence this node submits; without it, evidence is only logged.
    evidence_account = None if account_key is None else EvidenceAccount.from_key(account_key, author)
    empty_block_delay_ms = min(EMPTY_BLOCK_DELAY_MS, config.consensus.round_timeout_ms // 4)
    runtime_config = RuntimeConfig(core, block_transactions_max=config.consensus.block_transactions_max,
                                   empty_block_delay_ms=empty_block_delay_ms, evidence_account=evidence_account,
                                   keyring=keyring)
    runtime = Runtime(runtime_config, store,
                      ContractsApplication(), Mempool(limits), get_real_clock_usecs)
    current = runtime.state.epoch_state.validators
    # After a network key rotation, a restart uses the key the current set lists.
    network_key = keyring.get_network_key_pair(current, author) or make_network_key_pair(network_private_key)
    network_config = NetworkConfig(author, network_key, config.network.listen_host, config.network.listen_port,
                                   prologue=compute_network_prologue(config.chain_id),
                                   max_frame_bytes=config.network.frame_bytes_max)
    network = Network(network_config, make_peers(config, current, author))
    return NodeParts(runtime, network, Ledger(store, config.chain_id), store)


# ---- the running node -----------------------------------------------------------------------------


class NodeService:
    """Runs one node's tasks; every runtime call happens on the event loop, one at a time."""

    def __init__(self, config: NodeConfig, parts: NodeParts, metrics: NodeMetrics | None = None) -> None:
        self.config = config
        self.runtime = parts.runtime
        self.network = parts.network
        self.ledger = parts.ledger
        self.metrics = metrics or NodeMetrics()
        self.local_inbox: asyncio.Queue[LocalTimeout | None] = asyncio.Queue(maxsize=LOCAL_INBOX_MAX_EVENTS)
        self.timer: asyncio.TimerHandle | None = None
        self.stop_event = asyncio.Event()
        self.rpc_runner: web.AppRunner | None = None
        self.rpc_port = config.rpc.listen_port
        self.submit = make_submit(self.submit_signed)
        self.submit_times: dict[bytes, float] = {}
        self.compliance = build_compliance(config, self.ledger)
        self.runtime.commit_listeners.append(self.on_commit)
        self.runtime.commit_listeners.append(self.compliance.on_commit)
        epoch_state = self.runtime.state.epoch_state
        self.peer_epoch = epoch_state.epoch  # the epoch whose validator set the network was given (build_node)
        self.membership = self.log_membership()

    async def run(self, on_ready: Callable[[NodeService], None] | None = None) -> None:
        """Start everything, serve until stopped, then shut down in order (RPC, network, timers)."""
        try:
            async with asyncio.TaskGroup() as group:
                await self.network.start()
                await self.start_rpc()
                if self.config.regulator is not None:
                    await self.compliance.start(self.config.regulator.listen_host, self.config.regulator.listen_port)
                self.carry_out(self.runtime.start())
                self.carry_out(catchup.get_requests(self.runtime, is_startup=True))
                log.info("node started", peer_port=self.network.listen_port, rpc_port=self.rpc_port,
                         version=self.runtime.get_committed_version())
                if on_ready is not None:
                    on_ready(self)
                group.create_task(self.consume_network(), name="network-inbox")
                group.create_task(self.consume_local(), name="local-inbox")
                group.create_task(self.check_catchup(), name="catch-up")
                group.create_task(self.refresh_metrics(), name="metrics")
                group.create_task(self.wait_stop(), name="stop")
        except* StopNode:
            pass
        finally:
            await self.shut_down()

    async def wait_stop(self) -> None:
        """End the task group once a stop was asked for."""
        await self.stop_event.wait()
        raise StopNode()

    def request_stop(self) -> None:
        """Ask the node to stop (signal handlers call this)."""
        log.info("stopping")
        self.stop_event.set()

    async def shut_down(self) -> None:
        """Stop accepting requests, drop connections and timers; the caller closes the database."""
        if self.timer is not None:
            self.timer.cancel()
        if self.rpc_runner is not None:
            await self.rpc_runner.cleanup()
        await self.compliance.stop()
        await self.network.close()

    # ---- inputs --------------------------------------------------------------------------------

    async def consume_network(self) -> None:
        """Feed authenticated peer messages to the runtime."""
        while True:
            sender, data = await self.network.inbound.get()
            self.metrics.peer_messages.inc()
            rejected_before = self.runtime.rejected_messages
            with self.metrics.event_latency.time():
                self.carry_out(self.runtime.process_peer_data(sender, data))
            if self.runtime.rejected_messages > rejected_before:
                self.metrics.rejected_peer_messages.inc()

    async def consume_local(self) -> None:
        """Feed fired timers to the runtime."""
        while True:
            event = await self.local_inbox.get()
            if event is None:
                self.carry_out(self.runtime.process_deferred_payload())
                continue
            self.metrics.timeouts.inc()
            with self.metrics.event_latency.time():
                self.carry_out(self.runtime.process(event))

    async def check_catchup(self) -> None:
        """Periodically ask a peer for committed blocks when one showed a newer commit than ours."""
        progress = CatchUpProgress() if sys.stderr.isatty() else None
        while True:
            await asyncio.sleep(CATCHUP_CHECK_INTERVAL_MS / MS_PER_SEC)
            requests = catchup.get_requests(self.runtime)
            # A next network key file written after the boundary is picked up within a second (a stat).
            follow_network_key(self.runtime.config.keyring, self.network, self.runtime.state.epoch_state.validators,
                               self.runtime.config.core.author)
            if progress is not None:
                progress.update(self.runtime, bool(requests))
            self.carry_out(requests)

    async def refresh_metrics(self) -> None:
        """Copy gauges from the runtime and the network."""
        while True:
            state = self.runtime.state
            self.metrics.epoch.set(state.epoch_state.epoch)
            self.metrics.round.set(state.current_round)
            self.metrics.mempool_size.set(len(self.runtime.mempool))
            self.metrics.connected_peers.set(len(self.network.get_connected_peers()))
            self.metrics.inbound_queue.set(self.network.inbound.qsize())
            self.metrics.ledger_version.set(self.runtime.get_committed_version())
            self.metrics.catchup_applied.set(self.runtime.catchup_applied_count)
            await asyncio.sleep(METRICS_REFRESH_INTERVAL_MS / MS_PER_SEC)

    def submit_signed(self, signed: SignedTransaction):  # noqa: ANN201 - node.runtime.SubmitResult
        """Admit a transaction from JSON-RPC (already decoded there) and share it with the other validators."""
        result = self.runtime.submit_signed(signed)
        self.metrics.submitted_transactions.labels(SubmitStatus(result.status).name.lower()).inc()
        if result.status == SubmitStatus.ACCEPTED and result.txn_hash not in self.submit_times:
            if len(self.submit_times) >= SUBMIT_TIMES_MAX:
                self.submit_times.pop(next(iter(self.submit_times)))
            self.submit_times[result.txn_hash] = time.monotonic()
        self.carry_out(self.runtime.take_outbound())
        return result

    # ---- outputs -------------------------------------------------------------------------------

    def carry_out(self, outbound: list[Outbound]) -> None:
        """Send what the runtime produced; re-arm the round timer; switch peers at an epoch change."""
        for action in outbound:
            if isinstance(action, SendData):
                if len(action.data) <= self.network.max_payload_bytes:
                    self.network.send(action.to, action.data)
            elif isinstance(action, BroadcastData):
                if len(action.data) <= self.network.max_payload_bytes:
                    self.network.broadcast(action.data)
            elif isinstance(action, SetTimer):
                self.arm_timer(action)
            elif isinstance(action, SetPeers):
                self.follow_epoch()
            elif isinstance(action, DeferPayload):
                asyncio.get_running_loop().call_later(action.delay_ms / MS_PER_SEC, self.on_timer, None)
        self.follow_epoch()  # catch-up can cross a boundary without a SetPeers

    def follow_epoch(self) -> None:
        """At a new epoch: connect to its validator set only, and log whether this node votes in it."""
        epoch_state = self.runtime.state.epoch_state
        if epoch_state.epoch == self.peer_epoch:
            return
        self.peer_epoch = epoch_state.epoch
        author = self.runtime.config.core.author
        # Our Noise key first: the set may list the next one (a rotation); peers pinning it accept the re-dials.
        follow_network_key(self.runtime.config.keyring, self.network, epoch_state.validators, author)
        self.network.update_peers(make_peers(self.config, epoch_state.validators, author))
        self.membership = self.log_membership()
        self.metrics.epoch.set(epoch_state.epoch)

    def log_membership(self) -> Membership:
        """Log whether this node votes in the current epoch."""
        state = self.runtime.state
        return log_membership(state.epoch_state.epoch, state.epoch_state.validators, state.config.author,
                              get_held_public_keys(state))

    def arm_timer(self, action: SetTimer) -> None:
        """Replace the round timer; when it fires, LocalTimeout goes to the local inbox."""
        if self.timer is not None:
            self.timer.cancel()
        bind_position(action.epoch, action.round)
        event = LocalTimeout(action.epoch, action.round)
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(action.duration_ms / MS_PER_SEC, self.on_timer, event)

    def on_timer(self, event: LocalTimeout | None) -> None:
        """Queue a fired timer or a deferred proposal (None); dropped if the inbox is full."""
        try:
            self.local_inbox.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("local inbox full; timer dropped")

    def on_commit(self, notice: CommitNotice) -> None:
        """Count and log committed blocks; observe submit-to-commit latency of our own submissions."""
        now = time.monotonic()
        for txn_hash in notice.transaction_hashes:
            submitted = self.submit_times.pop(txn_hash, None)
            if submitted is not None:
                self.metrics.commit_latency.observe(now - submitted)
        self.metrics.committed_blocks.inc(notice.block_count)
        self.ledger.notify_commit(notice.version)
        self.metrics.committed_transactions.inc(len(notice.transaction_hashes))
        info = notice.certificate.ledger_info
        log.debug("committed", version=notice.version, epoch=info.epoch, round=info.round)

    # ---- JSON-RPC ------------------------------------------------------------------------------

    async def start_rpc(self) -> None:
        """Serve JSON-RPC, the faucet (if configured) and /metrics on the RPC port."""
        from node.rpc.faucet import create_faucet
        from node.rpc.methods import create_dispatcher
        from node.rpc.server import create_app_from_config

        rpc = self.config.rpc
        # Admission hooks guard what clients submit; the faucet's own mints go straight to the mempool.
        submit = self.compliance.wrap_submit(self.ledger, self.submit)
        dispatcher = create_dispatcher(self.ledger, submit, rpc.batch_size_max, rpc.body_bytes_max,
                                       rpc.page_size_max)
        faucet = create_faucet(self.config, self.ledger, self.submit)
        app = create_app_from_config(rpc, dispatcher, faucet, self.ledger)

        async def handle_metrics(_request: web.Request) -> web.Response:
            return web.Response(body=self.metrics.render(), headers={"Content-Type": METRICS_CONTENT_TYPE})

        app.router.add_get("/metrics", handle_metrics)
        self.rpc_runner = web.AppRunner(app, access_log=None)
        await self.rpc_runner.setup()
        site = web.TCPSite(self.rpc_runner, rpc.listen_host, rpc.listen_port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
        if sockets:
            self.rpc_port = sockets[0].getsockname()[1]


class CatchUpProgress:
    """A rich progress bar of committed rounds while this node is behind its peers."""

    def __init__(self) -> None:
        from rich.progress import Progress

        self.progress = Progress(transient=True)
        self.task: Any = None

    def update(self, runtime: Runtime, is_behind: bool) -> None:
        """Show, advance or remove the bar."""
        seen = runtime.highest_seen_commit
        current = runtime.state.tree.get_root().round
        if is_behind and seen is not None:
            if self.task is None:
                self.progress.start()
                self.task = self.progress.add_task("catching up", total=seen[1])
            self.progress.update(self.task, completed=current, total=seen[1])
        elif self.task is not None:
            self.progress.stop()
            self.task = None


async def run_node(config: NodeConfig, on_ready: Callable[[NodeService], None] | None = None) -> None:
    """Run a validator until SIGINT/SIGTERM: open storage, recover, connect, serve; close the database."""
    parts = build_node(config)
    try:
        service = NodeService(config, parts)
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, service.request_stop)
        try:
            await service.run(on_ready)
        finally:
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signal_number)
    finally:
        parts.store.close()
        log.info("database closed")


invariant(CATCHUP_CHECK_INTERVAL_MS > 0 and LOCAL_INBOX_MAX_EVENTS > 0, "service limits are positive")


def main(argv: list[str] | None = None) -> int:
    """`python -m node.service CONFIG [json|console]`: run one validator in the foreground."""
    from node.config import ConfigError, load_config
    from node.keys import KeyFileError
    from node.logging import configure_logging

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m node.service CONFIG.toml [json|console]", file=sys.stderr)
        return 2
    configure_logging(args[1] if len(args) > 1 else "console")
    try:
        asyncio.run(run_node(load_config(Path(args[0]))))
    except (ConfigError, KeyFileError, NodeStartError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
