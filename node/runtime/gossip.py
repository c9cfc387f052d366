"""Transaction gossip in batches: admitted transactions leave as one peer message per flush, not one each.

Every validator used to send each transaction it admitted from a client as its own message; 96 % of peer
messages were such single transactions, each paying framing, encryption, a queue hop and a decode. The
service flushes the batch a few milliseconds after the first transaction waits (ADR 0018, wire format: a
msgpack list of BCS SignedTransactions on channel 6; the single-transaction channel 1 is still accepted).
"""

from __future__ import annotations

from node.runtime.wire import CHANNEL_TRANSACTION_BATCH, BroadcastData, Outbound, encode_envelope
from primitives.codec import pack, unpack
from primitives.errors import DecodeError

# One batch message carries at most this many transactions (a batch is cut in several messages beyond it).
GOSSIP_BATCH_TRANSACTIONS_MAX = 256


class GossipBatch:
    """The admitted transactions waiting to be shared with the other validators."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []

    def add(self, data: bytes) -> None:
        """Queue one admitted transaction's BCS bytes."""
        self.pending.append(data)

    def take(self) -> list[Outbound]:
        """Return the waiting transactions as broadcast batch messages, and forget them."""
        pending, self.pending = self.pending, []
        step = GOSSIP_BATCH_TRANSACTIONS_MAX
        return [BroadcastData(encode_envelope(CHANNEL_TRANSACTION_BATCH, pack(pending[first:first + step])))
                for first in range(0, len(pending), step)]


def decode_gossip_batch(body: bytes) -> list[bytes]:
    """Return the transactions of a batch message, or raise DecodeError."""
    plain = unpack(body)
    if not isinstance(plain, list) or not 0 < len(plain) <= GOSSIP_BATCH_TRANSACTIONS_MAX \
            or not all(isinstance(item, bytes) for item in plain):
        raise DecodeError(f"a transaction batch is a list of 1 to {GOSSIP_BATCH_TRANSACTIONS_MAX} byte strings")
    return plain
