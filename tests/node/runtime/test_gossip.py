"""Gossip in batches: transactions a node admitted leave in one message and are admitted by every peer."""

from __future__ import annotations

from node.runtime.gossip import GOSSIP_BATCH_TRANSACTIONS_MAX, GossipBatch, decode_gossip_batch
from node.runtime.wire import CHANNEL_TRANSACTION_BATCH, BroadcastData, decode_envelope, encode_envelope
from primitives.codec import pack
from tests.node.runtime.harness import Cluster, make_transfer


def test_a_batch_of_admitted_transactions_reaches_every_mempool_in_one_message() -> None:
    cluster = Cluster()
    addresses = list(cluster.nodes)
    cluster.start()
    cluster.queue.clear()
    origin = cluster.get_runtime(addresses[0])
    origin.gossip = GossipBatch()
    results = [origin.submit_transaction(make_transfer(sequence_number).to_bcs()) for sequence_number in range(5)]
    assert all(result.is_accepted for result in results)
    assert not any(isinstance(item, BroadcastData) for item in origin.take_outbound())  # nothing left one by one
    [message] = origin.gossip.take()
    assert decode_envelope(message.data)[0] == CHANNEL_TRANSACTION_BATCH
    peer = cluster.get_runtime(addresses[1])
    peer.process_peer_data(addresses[0], message.data)
    assert all(peer.mempool.get(result.txn_hash) is not None for result in results)


def test_a_malformed_or_oversized_batch_is_refused_whole() -> None:
    cluster = Cluster()
    cluster.start()
    runtime = cluster.get_runtime(list(cluster.nodes)[1])
    before = runtime.rejected_messages
    oversized = pack([make_transfer(0).to_bcs()] * (GOSSIP_BATCH_TRANSACTIONS_MAX + 1))
    for body in (pack("not a list"), pack([1, 2]), oversized, pack([])):
        runtime.process_peer_data(list(cluster.nodes)[0], encode_envelope(CHANNEL_TRANSACTION_BATCH, body))
    assert runtime.rejected_messages == before + 4
    assert len(decode_gossip_batch(pack([b"x"] * GOSSIP_BATCH_TRANSACTIONS_MAX))) == GOSSIP_BATCH_TRANSACTIONS_MAX
