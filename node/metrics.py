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

    def render(self) -> bytes:
        """Return the text exposition of every metric."""
        return generate_latest(self.registry)
