"""The asyncio service: one TaskGroup running network, JSON-RPC, timers and the runtime; stops on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Callable

from aiohttp import web

from consensus.events import LocalTimeout
from consensus.keyring import get_held_public_keys
from node.compliance.wiring import build_compliance
from node.config import NodeConfig
from node.keys.ring import follow_network_key
from node.logging import bind_node, bind_position, bind_version, get_logger
from node.metrics import METRICS_CONTENT_TYPE, NodeMetrics
from node.rpc.faucet import create_faucet
from node.rpc.methods import create_dispatcher
from node.rpc.connlimit import ConnectionLimits, LimitedSite
from node.rpc.server import create_app_from_config, create_probe_app
from node.service.descriptors import ensure_descriptor_budget
from node.runtime.submit import SubmitResult, SubmitStatus
from node.runtime.wire import BroadcastData, CommitNotice, DeferPayload, Outbound, SendData, SetPeers, SetTimer
from node.runtime.wire import is_consensus_message
from node.service.assembly import NodeParts, build_node, make_peers
from node.service.follower import ChainFollower
from node.service.readiness import add_operations_routes, refresh_node_gauges
from node.service.membership import Membership, log_membership
from node.service.progress import CatchUpProgress
from node.service.pruning import make_prune_config, run_pruner
from primitives.errors import invariant
from primitives.types.transactions import SignedTransaction

LOCAL_INBOX_MAX_EVENTS = 1_000
CATCHUP_CHECK_INTERVAL_MS = 1_000
# The start-up catch-up request waits (at most this long) for a first connected peer: a request to nobody is lost,
# and the next one would leave only when it timed out (CATCHUP_RESPONSE_TIMEOUT_USECS).
CATCHUP_STARTUP_PEER_WAIT_MS = 2_000
PEER_POLL_INTERVAL_MS = 20
METRICS_REFRESH_INTERVAL_MS = 1_000
# Admission times kept for the submit-to-commit histogram; the oldest are forgotten beyond this.
SUBMIT_TIMES_MAX = 100_000
MS_PER_SEC = 1_000

invariant(CATCHUP_CHECK_INTERVAL_MS > 0 and LOCAL_INBOX_MAX_EVENTS > 0, "service limits are positive")

log = get_logger("stablechain.node")


class StopNode(Exception):
    """Raised inside the task group to stop every task (a signal arrived)."""


class NodeService:
    """Runs one node's tasks; every runtime call happens on the event loop, one at a time."""

    def __init__(self, config: NodeConfig, parts: NodeParts, metrics: NodeMetrics | None = None) -> None:
        self.config = config
        self.runtime = parts.runtime
        self.runtime.is_catchup_deferred = True
        self.network = parts.network
        self.ledger = parts.ledger
        self.metrics = metrics or NodeMetrics()
        self.local_inbox: asyncio.Queue[LocalTimeout | None] = asyncio.Queue(maxsize=LOCAL_INBOX_MAX_EVENTS)
        self.timer: asyncio.TimerHandle | None = None
        self.stop_event = asyncio.Event()
        self.rpc_runner: web.AppRunner | None = None
        self.rpc_port = config.rpc.listen_port
        self.submit_times: dict[bytes, float] = {}
        self.compliance = build_compliance(config, self.ledger, parts.index, parts.network_key)
        self.runtime.commit_listeners.append(self.on_commit)
        self.runtime.commit_listeners.append(self.compliance.on_commit)
        epoch_state = self.runtime.state.epoch_state
        self.peer_epoch = epoch_state.epoch  # the epoch whose validator set the network was given (build_node)
        self.membership = self.log_membership()
        self.follower = ChainFollower(self.runtime, self.network, self.is_follower)
        self.runtime.commit_listeners.append(self.follower.on_commit)
        self.network.set_follower(self.is_follower())
        bind_node(config.name or self.runtime.config.core.author.hex())

    def is_follower(self) -> bool:
        """Return True outside the current validator set (a full node, a joiner): follow, never take part."""
        return not self.runtime.state.epoch_state.validators.is_member(self.runtime.config.core.author)

    async def run(self, on_ready: Callable[[NodeService], None] | None = None) -> None:
        """Start everything, serve until stopped, then shut down in order (RPC, network, timers)."""
        try:
            async with asyncio.TaskGroup() as group:
                await self.network.start()
                await self.start_rpc()
                if self.config.regulator is not None:
                    await self.compliance.start(self.config.regulator.listen_host, self.config.regulator.listen_port)
                self.carry_out(self.runtime.start())
                log.info("node started", role=self.config.role, peer_port=self.network.listen_port,
                         rpc_port=self.rpc_port, version=self.runtime.get_committed_version())
                if on_ready is not None:
                    on_ready(self)
                group.create_task(self.consume_network(), name="network-inbox")
                group.create_task(self.consume_local(), name="local-inbox")
                group.create_task(self.check_catchup(), name="catch-up")
                group.create_task(self.start_catchup(), name="catch-up-start")
                group.create_task(self.refresh_metrics(), name="metrics")
                group.create_task(self.follower.run(), name="follower")
                prune_config = make_prune_config(self.config.storage)
                if prune_config is not None:
                    group.create_task(run_pruner(self.runtime.store, prune_config), name="pruner")
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
            self.metrics.peer_messages_by_peer.labels(sender.hex()).inc()
            rejected_before = self.runtime.rejected_messages
            with self.metrics.event_latency.time():
                self.carry_out(self.runtime.process_peer_data(sender, data))
            if self.runtime.deferred_catchup is not None:
                await asyncio.sleep(0)  # the request for the next blocks leaves (and RPC answers) before we apply
                self.carry_out(self.runtime.peer_guard.run(sender, self.runtime.apply_deferred_catchup) or [])
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

    async def start_catchup(self) -> None:
        """Ask every peer for committed blocks once one is connected (or CATCHUP_STARTUP_PEER_WAIT_MS passed)."""
        deadline = time.monotonic() + CATCHUP_STARTUP_PEER_WAIT_MS / MS_PER_SEC
        while not self.network.get_connected_peers() and time.monotonic() < deadline:
            await asyncio.sleep(PEER_POLL_INTERVAL_MS / MS_PER_SEC)
        self.carry_out(self.runtime.get_catchup_requests(is_startup=True))

    async def check_catchup(self) -> None:
        """Periodically ask a peer for committed blocks when one showed a newer commit than ours."""
        progress = CatchUpProgress() if sys.stderr.isatty() else None
        while True:
            await asyncio.sleep(CATCHUP_CHECK_INTERVAL_MS / MS_PER_SEC)
            requests = self.runtime.get_catchup_requests()
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
            self.metrics.catchup_applied.set(self.runtime.catchup.applied_count)
            refresh_node_gauges(self)
            await asyncio.sleep(METRICS_REFRESH_INTERVAL_MS / MS_PER_SEC)

    def submit_signed(self, signed: SignedTransaction) -> SubmitResult:
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
        is_follower = self.is_follower()
        for action in outbound:
            if is_follower and isinstance(action, SendData | BroadcastData) and is_consensus_message(action.data):
                continue  # outside the set: consensus messages stay home (validators would refuse them anyway)
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
        is_follower = self.is_follower()
        self.network.update_peers(make_peers(self.config, epoch_state.validators, author, is_follower))
        self.network.set_follower(is_follower)
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
        bind_version(notice.version)
        log.debug("committed", version=notice.version, epoch=info.epoch, round=info.round)

    # ---- JSON-RPC ------------------------------------------------------------------------------

    def create_json_rpc_app(self) -> web.Application:
        """Return the JSON-RPC app: methods, streams and the faucet, behind the admission hooks."""
        rpc = self.config.rpc
        # Admission hooks guard what clients submit; the faucet's own mints go straight to the mempool.
        submit = self.compliance.wrap_submit(self.ledger, self.submit_signed)
        dispatcher = create_dispatcher(self.ledger, submit, rpc.batch_size_max, rpc.body_bytes_max,
                                       rpc.page_size_max)
        faucet = create_faucet(self.config, self.ledger, self.submit_signed)
        return create_app_from_config(rpc, dispatcher, faucet, self.ledger)

    async def start_rpc(self) -> None:
        """Serve JSON-RPC, the faucet (if configured) and /metrics on the RPC port (only the probes and /metrics
        when rpc.json_rpc is off)."""
        rpc = self.config.rpc
        app = self.create_json_rpc_app() if rpc.json_rpc else create_probe_app()

        async def handle_metrics(_request: web.Request) -> web.Response:
            return web.Response(body=self.metrics.render(), headers={"Content-Type": METRICS_CONTENT_TYPE})

        app.router.add_get("/metrics", handle_metrics)
        add_operations_routes(app, self)
        self.rpc_runner = web.AppRunner(app, access_log=None)
        await self.rpc_runner.setup()
        # Rate-exempt hosts still get the per-client connection cap: 256 sockets serve any local wallet.
        limits = ConnectionLimits(rpc.connections_max, rpc.connections_per_client_max)
        site = LimitedSite(self.rpc_runner, rpc.listen_host, rpc.listen_port, limits)
        await site.start()
        self.rpc_port = site.get_port()


async def run_node(config: NodeConfig, on_ready: Callable[[NodeService], None] | None = None) -> None:
    """Run a validator until SIGINT/SIGTERM: open storage, recover, connect, serve; close the database."""
    bind_node(config.name or config.role)  # until the node's address is known (NodeService binds it)
    ensure_descriptor_budget(config)
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
