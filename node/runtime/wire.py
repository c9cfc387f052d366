"""What leaves the runtime: peer messages on numbered channels, the round timer, peer-set changes, commit notices."""

# A leaf: the runtime, catch-up, the service and the test harnesses all speak these types, and none of them
# is imported here.

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from consensus.types import MAX_CONSENSUS_MESSAGE_BYTES
from primitives.certified.ledger_info import LedgerInfoWithSignatures
from primitives.certified.validators import ValidatorSet
from primitives.codec import pack, unpack
from primitives.errors import DecodeError, InvariantViolation

# Peer messages travel as [channel, body]; channels are stable numbers.
CHANNEL_CONSENSUS = 0
CHANNEL_TRANSACTION = 1
CHANNEL_CATCHUP_REQUEST = 2
CHANNEL_CATCHUP_RESPONSE = 3
# Fast sync's state snapshot chunks (ADR 0018); a node that does not know them drops them as malformed.
CHANNEL_SNAPSHOT_REQUEST = 4
CHANNEL_SNAPSHOT_RESPONSE = 5
# What a node outside the validator set (a full node) may send a validator: sync and snapshot requests and
# transactions, as a JSON-RPC client may; never consensus messages, nor responses it was not asked for.
FULL_NODE_CHANNELS = frozenset({CHANNEL_CATCHUP_REQUEST, CHANNEL_SNAPSHOT_REQUEST, CHANNEL_TRANSACTION})

# One catch-up response carries about this many bytes of blocks (the block that crosses it still goes).
CATCHUP_RESPONSE_BYTES_MAX = 4 * 1024 * 1024
# [NET-4] The largest peer message a node sends: a catch-up response (its budget, the block that crosses it and
# the certificate) is larger than any consensus message; peer frames must carry it (node.config).
PEER_MESSAGE_BYTES_MAX = CATCHUP_RESPONSE_BYTES_MAX + MAX_CONSENSUS_MESSAGE_BYTES

Decoded = TypeVar("Decoded")


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


def encode_envelope(channel: int, body: bytes) -> bytes:
    """Return the peer bytes of one message."""
    return pack([channel, body])


def decode_envelope(data: bytes) -> tuple[int, bytes]:
    """Return (channel, body) or raise DecodeError."""
    plain = unpack(data)
    if not isinstance(plain, list) or len(plain) != 2 or type(plain[0]) is not int or not isinstance(plain[1], bytes):
        raise DecodeError("a peer message is [channel, bytes]")
    return plain[0], plain[1]


def decode_peer_value(decode: Callable[[bytes], Decoded], body: bytes) -> Decoded:
    """Decode peer bytes; a value whose constructor refuses it (an invariant) is malformed input too."""
    try:
        return decode(body)
    except InvariantViolation as error:
        raise DecodeError(f"peer value violates an invariant: {error}") from None


def is_full_node_message(data: bytes) -> bool:
    """Return True iff a full node may send this peer message (its channel is in FULL_NODE_CHANNELS)."""
    try:
        channel, _body = decode_envelope(data)
    except DecodeError:
        return False
    return channel in FULL_NODE_CHANNELS


def is_consensus_message(data: bytes) -> bool:
    """Return True iff peer bytes travel on the consensus channel (what a node outside the set never sends)."""
    try:
        channel, _body = decode_envelope(data)
    except DecodeError:
        return False
    return channel == CHANNEL_CONSENSUS
