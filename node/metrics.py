"""Prometheus metrics of one node, in its own registry (several nodes may share a test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST

# Buckets of submit-to-commit and effect latencies, seconds.
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


class NodeMetrics:
    """Counters, gauges and histograms the service updates; exported on /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.committed_blocks = Counter("stablechain_committed_blocks", "Blocks committed", registry=registry)
        self.committed_transactions = Counter("stablechain_committed_transactions",
                                              "Transactions committed (block metadata included)", registry=registry)
        self.submitted_transactions = Counter("stablechain_submitted_transactions", "Submissions by outcome",
                                              ["outcome"], registry=registry)
        self.peer_messages = Counter("stablechain_peer_messages", "Peer messages received", registry=registry)
        self.rejected_peer_messages = Counter("stablechain_rejected_peer_messages",
                                              "Peer messages dropped as malformed or invalid", registry=registry)
        self.timeouts = Counter("stablechain_local_timeouts", "Round timers that fired", registry=registry)
        self.catchup_applied = Gauge("stablechain_catchup_applied_responses",
                                     "Catch-up responses verified, re-executed and committed", registry=registry)
        self.ledger_version = Gauge("stablechain_ledger_version", "Last committed version", registry=registry)
        self.epoch = Gauge("stablechain_epoch", "Current epoch", registry=registry)
        self.round = Gauge("stablechain_round", "Current round", registry=registry)
        self.mempool_size = Gauge("stablechain_mempool_transactions", "Transactions in the mempool",
                                  registry=registry)
        self.connected_peers = Gauge("stablechain_connected_peers", "Authenticated peer connections",
                                     registry=registry)
        self.inbound_queue = Gauge("stablechain_inbound_queue", "Messages waiting for the runtime", registry=registry)
        self.event_latency = Histogram("stablechain_event_seconds", "Time to process one event and its effects",
                                       buckets=LATENCY_BUCKETS_S, registry=registry)
        self.commit_latency = Histogram("stablechain_submit_to_commit_seconds",
                                        "From admission to commit, per transaction", buckets=LATENCY_BUCKETS_S,
                                        registry=registry)

        self.add_operations_metrics(registry)

    def add_operations_metrics(self, registry: CollectorRegistry) -> None:
        """Add the metrics operators alert on: RPC latency, peers, full nodes, storage, lag."""
        self.rpc_latency = Histogram("stablechain_rpc_request_seconds", "Time to answer one HTTP request on the RPC "
                                     "port", ["path"], buckets=LATENCY_BUCKETS_S, registry=registry)
        self.peer_connected = Gauge("stablechain_peer_connected", "1 while a validator peer is connected, else 0",
                                    ["peer"], registry=registry)
        self.peer_messages_by_peer = Counter("stablechain_peer_messages_by_peer", "Peer messages received, by peer",
                                             ["peer"], registry=registry)
        self.full_node_connections = Gauge("stablechain_full_node_connections",
                                           "Connections of nodes outside the validator set", registry=registry)
        self.refused_full_node_messages = Gauge("stablechain_refused_full_node_messages",
                                                "Messages full nodes may not send (consensus), refused", registry=registry)
        self.storage_bytes = Gauge("stablechain_storage_bytes", "Size of the database on disk", registry=registry)
        self.lag_versions = Gauge("stablechain_lag_versions", "Versions behind the newest certified commit seen",
                                  registry=registry)
        self.lag_seconds = Gauge("stablechain_lag_seconds", "Wall clock minus the last committed block's time",
                                 registry=registry)
        self.is_ready = Gauge("stablechain_ready", "1 when the node is in sync (see /-/ready), else 0",
                              registry=registry)

    def render(self) -> bytes:
        """Return the text exposition of every metric."""
        return generate_latest(self.registry)
