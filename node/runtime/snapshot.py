"""Fast sync (ADR 0018): a fresh node fetches the state at a recent certified version in chunks, verifies it against
the certificate's state and accumulator roots, installs it, and follows the chain from there by catch-up."""

# The serving side reads the tree of a certified version; the syncing side pins the first verified answer's
# version and peer and asks for the following chunks. A chunk is checked for order and continuity as it
# arrives; the whole is checked at the end by rebuilding the tree, whose root must be the certified one.

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from consensus.election import ReputationConfig
from consensus.state import CoreState
from consensus.types import Block
from contracts.state.accumulator import MerkleAccumulator
from contracts.state.accumulator_proof import AccumulatorConsistencyProof, get_frozen_blocks, get_position
from contracts.state.accumulator_proof import AccumulatorProof, get_range_blocks, verify_consistency, verify_inclusion
from contracts.state.node_store import InMemoryAccumulatorStore
from contracts.state.smt_snapshot import Leaf, compute_snapshot_tree, get_leaves
from node.runtime.wire import CHANNEL_SNAPSHOT_REQUEST, CHANNEL_SNAPSHOT_RESPONSE, BroadcastData, Outbound, SendData
from node.runtime.wire import encode_envelope
from node.storage.codecs import decode_block, decode_history_entry, decode_stored_info, encode_block
from node.storage.records import LedgerInfoRecord, PrunedVersionError, StateValueWrite
from node.storage.schema import leader_history_key
from node.storage.snapshots import SnapshotInstall
from node.storage.store import SCAN_LIMIT_MAX, Store
from node.storage.views import LayeredNodeStore
from primitives.certified.blocks import compute_block_id
from primitives.certified.ledger_info import LedgerInfoWithSignatures, check_ledger_info_signatures
from primitives.certified.ledger_info import decode_ledger_info, encode_ledger_info
from primitives.certified.plain import from_plain, to_plain
from primitives.codec import pack, unpack
from primitives.errors import DecodeError, invariant

# Leaves per chunk: about 1 MiB of account resources, well under the frame limit.
SNAPSHOT_LEAVES_PER_CHUNK_MAX = 4_000
# A chunk not answered within this long restarts the sync from every peer (the pinned version may be pruned).
SNAPSHOT_RESPONSE_TIMEOUT_USECS = 5_000_000
# The same request from the same peer is answered at most once per this interval (a cheap DoS guard).
SNAPSHOT_REPEAT_INTERVAL_USECS = 1_000_000
STATE_KEY_BYTES = 32
HISTORY_RECORDS_MAX = min(SCAN_LIMIT_MAX, ReputationConfig().get_history_span() + 1)


class SnapshotStatus(IntEnum):
    """Why a snapshot chunk was not taken; numbers are stable (for logs and metrics)."""

    ACCEPTED = 0
    COMPLETE = 1
    UNEXPECTED = 2
    BAD_CERTIFICATE = 3
    BAD_BLOCK = 4
    BAD_ACCUMULATOR = 5
    BAD_CHUNK = 6
    ROOT_MISMATCH = 7
    LATER_EPOCH = 8  # the chain is past the node's epoch: fast sync gives way to catch-up (epoch by epoch)


@dataclass(frozen=True, slots=True)
class SnapshotRequest:
    """Ask for the state leaves of a certified version (0: the server's latest) from start_key on."""

    version: int
    start_key: bytes
    leaf_count_max: int


@dataclass(frozen=True, slots=True)
class SnapshotResponse:
    """A chunk of leaves in key order; the first chunk (start key empty) also carries the block, the accumulator's
    frozen subtrees and the epoch's recent leader-reputation records."""

    certificate: LedgerInfoWithSignatures
    keys: tuple[bytes, ...]
    values: tuple[bytes, ...]
    is_last: bool
    block: Block | None = None
    frozen_nodes: tuple[bytes, ...] = ()
    history: tuple[bytes, ...] = ()
    # The accumulator's consistency proof from genesis (one leaf) to the version: wallets trusting only the
    # waypoint ask a synced node for it, so the node keeps its subtrees.
    genesis_consistency: tuple[bytes, ...] = ()
    # The stored TransactionInfo at the version (its state root proves the snapshot to wallets), its accumulator proof.
    info: bytes = b""
    info_siblings: tuple[bytes, ...] = ()


def encode_snapshot_request(request: SnapshotRequest) -> bytes:
    """Return the enveloped peer bytes of a request."""
    return encode_envelope(CHANNEL_SNAPSHOT_REQUEST, pack(to_plain(request)))


def decode_snapshot_request(body: bytes) -> SnapshotRequest:
    """Decode a request or raise DecodeError."""
    return from_plain(SnapshotRequest, unpack(body))


def decode_snapshot_response(body: bytes) -> SnapshotResponse:
    """Decode a response or raise DecodeError."""
    return from_plain(SnapshotResponse, unpack(body))


def get_next_key(key: bytes) -> bytes | None:
    """Return the state key right after key, None after the last one."""
    number = int.from_bytes(key, "big") + 1
    return None if number >> (8 * STATE_KEY_BYTES) else number.to_bytes(STATE_KEY_BYTES, "big")


# ---- serving ------------------------------------------------------------------------------------------------

def serve_snapshot(store: Store, sender: bytes, request: SnapshotRequest) -> list[Outbound]:
    """Answer a request with a chunk, or with nothing when this node cannot serve that version."""
    version = request.version or store.get_latest_version()
    record = None if version is None else store.get_ledger_info(version)
    if record is None or version < store.oldest_state_version or len(request.start_key) not in (0, STATE_KEY_BYTES):
        return []
    certificate = decode_ledger_info(record.ledger_info)
    if not certificate.signatures or certificate.ledger_info.version != version:
        return []  # an ancestor's ledger info inside a certified chain: not signed itself
    limit = max(1, min(request.leaf_count_max, SNAPSHOT_LEAVES_PER_CHUNK_MAX))
    leaves = get_leaves(LayeredNodeStore(store.get_state_node), version, request.start_key, limit + 1)
    chunk = leaves[:limit]
    response = SnapshotResponse(certificate, tuple(key for key, _ in chunk), tuple(value for _, value in chunk),
                                len(leaves) <= limit)
    if not request.start_key:
        response = add_chain_context(store, response)
    return [SendData(sender, encode_envelope(CHANNEL_SNAPSHOT_RESPONSE, pack(to_plain(response))))]


def add_chain_context(store: Store, response: SnapshotResponse) -> SnapshotResponse:
    """Return the first chunk with the certified block, the accumulator's frozen subtrees and recent history."""
    info = response.certificate.ledger_info
    position = store.get_block_epoch_round(info.block_id)
    stored = None if position is None else store.get_block(*position)
    block = None if stored is None else decode_block(stored.block)
    frozen = tuple(store.get_accumulator_node(get_position(level, index)) or b""
                   for level, index in get_frozen_blocks(info.version + 1))
    consistency = tuple(store.get_accumulator_node(get_position(level, index)) or b""
                        for level, index in get_genesis_consistency_blocks(info.version))
    first_round = max(0, info.round - ReputationConfig().get_history_span())
    history = tuple(record for record in store.get_leader_history(info.epoch, first_round, HISTORY_RECORDS_MAX)
                    if decode_history_entry(record).round <= info.round)
    info_bytes = store.get_transaction_info(info.version) or b""
    accumulator = MerkleAccumulator(LayeredNodeStore(store.get_accumulator_node), info.version + 1)
    siblings = accumulator.get_proof(info.version).siblings
    return SnapshotResponse(response.certificate, response.keys, response.values, response.is_last, block, frozen,
                            history, consistency, info_bytes, siblings)


def get_genesis_consistency_blocks(version: int) -> list[tuple[int, int]]:
    """Return (level, index) of the subtrees that prove the accumulator at version extends genesis (one leaf)."""
    return [*get_frozen_blocks(1), *get_range_blocks(1, version + 1)]


# ---- syncing ------------------------------------------------------------------------------------------------

@dataclass(slots=True)
class SnapshotProgress:
    """The pinned target (from the first verified chunk) and the leaves gathered so far."""

    peer: bytes
    first: SnapshotResponse
    leaves: list[Leaf] = field(default_factory=list)


def check_first_chunk(state: CoreState, response: SnapshotResponse, genesis_root: bytes) -> SnapshotStatus:
    """Check a first chunk's certificate against the core's validator set, and its block and accumulator."""
    epoch_state, info = state.epoch_state, response.certificate.ledger_info
    if info.epoch != epoch_state.epoch or check_ledger_info_signatures(
            response.certificate, epoch_state.validators, state.config.scheme, state.config.chain_id) is not None:
        return SnapshotStatus.BAD_CERTIFICATE
    block = response.block
    if block is None or block.id != info.block_id or compute_block_id(block.data) != block.id \
            or block.round != info.round:
        return SnapshotStatus.BAD_BLOCK
    positions = [get_position(level, index) for level, index in get_frozen_blocks(info.version + 1)]
    if len(positions) != len(response.frozen_nodes):
        return SnapshotStatus.BAD_ACCUMULATOR
    nodes = InMemoryAccumulatorStore()
    nodes.put_batch(dict(zip(positions, response.frozen_nodes)))
    if MerkleAccumulator(nodes, info.version + 1).get_root() != info.accumulator_root:
        return SnapshotStatus.BAD_ACCUMULATOR
    if not is_info_proven(response):
        return SnapshotStatus.BAD_ACCUMULATOR
    return check_genesis_consistency(genesis_root, info.version, info.accumulator_root, response.genesis_consistency)


def is_info_proven(response: SnapshotResponse) -> bool:
    """Return whether the TransactionInfo at the version is the certified accumulator's last leaf, with its root."""
    info = response.certificate.ledger_info
    try:
        transaction_info = decode_stored_info(response.info)[0]
    except (DecodeError, ValueError, TypeError):
        return False
    return transaction_info.state_root_hash == info.state_root and verify_inclusion(
        info.accumulator_root, transaction_info.hash(), info.version, info.version + 1,
        AccumulatorProof(response.info_siblings))


def get_info_proof_nodes(version: int, response: SnapshotResponse) -> list[tuple[int, bytes]]:
    """Return (position, hash) of the last leaf and its left siblings: later proofs of that leaf read them."""
    nodes = [(get_position(0, version), decode_stored_info(response.info)[0].hash())]
    return nodes + [(get_position(level, (version >> level) ^ 1), sibling)
                    for level, sibling in enumerate(response.info_siblings) if version >> level & 1]


def check_genesis_consistency(genesis_root: bytes, version: int, root: bytes, nodes: tuple[bytes, ...]) -> SnapshotStatus:
    """Check the subtrees that prove the accumulator at version (its root certified) extends genesis."""
    old_count = len(get_frozen_blocks(1))
    proof = AccumulatorConsistencyProof(nodes[:old_count], nodes[old_count:])
    if len(nodes) < old_count or not verify_consistency(genesis_root, 1, root, version + 1, proof):
        return SnapshotStatus.BAD_ACCUMULATOR
    return SnapshotStatus.ACCEPTED


def check_chunk(progress: SnapshotProgress, response: SnapshotResponse) -> SnapshotStatus:
    """Check that a chunk continues the pinned snapshot in strictly increasing key order."""
    if response.certificate != progress.first.certificate or len(response.keys) != len(response.values):
        return SnapshotStatus.UNEXPECTED
    previous = progress.leaves[-1][0] if progress.leaves else None
    for key in response.keys:
        if len(key) != STATE_KEY_BYTES or (previous is not None and key <= previous):
            return SnapshotStatus.BAD_CHUNK
        previous = key
    return SnapshotStatus.ACCEPTED


def make_install(store: Store, progress: SnapshotProgress) -> SnapshotInstall | None:
    """Rebuild the tree from every leaf; return what to install, or None when its root is not the certified one."""
    certificate = progress.first.certificate
    info = certificate.ledger_info
    root, nodes = compute_snapshot_tree(info.version, progress.leaves)
    if root != info.state_root:
        return None
    latest = store.get_latest_version() or 0
    held = get_leaves(LayeredNodeStore(store.get_state_node), latest, b"", 2**62)
    synced = dict(progress.leaves)
    gone = [StateValueWrite(key, info.version, None) for key, _ in held if key not in synced]
    values = tuple(StateValueWrite(key, info.version, value) for key, value in progress.leaves) + tuple(gone)
    first = progress.first
    frozen = tuple((get_position(level, index), node) for (level, index), node in
                   [*zip(get_genesis_consistency_blocks(info.version), first.genesis_consistency),
                    *zip(get_frozen_blocks(info.version + 1), first.frozen_nodes)])
    frozen += tuple(get_info_proof_nodes(info.version, first))
    block = progress.first.block
    history = tuple((leader_history_key(info.epoch, decode_history_entry(record).round), record)
                    for record in progress.first.history)
    record = LedgerInfoRecord(info.version, info.epoch, encode_ledger_info(certificate), info.is_epoch_ending())
    return SnapshotInstall(record, info.round, info.block_id, encode_block(block), tuple(nodes.items()),  # type: ignore[arg-type]
                           frozen, values, history, first.info)


def get_genesis_accumulator_root(store: Store) -> bytes:
    """Return the accumulator root of the genesis ledger info (version 0), which every node holds."""
    record = store.get_ledger_info(0)
    invariant(record is not None, "the store holds genesis")
    return decode_ledger_info(record.ledger_info).ledger_info.accumulator_root  # type: ignore[union-attr]


class FastSync:
    """The syncing side: one pinned snapshot, one request in flight, restarted on silence or a bad chunk."""

    def __init__(self, store: Store, clock_usecs: Callable[[], int], is_enabled: bool) -> None:
        self.store = store
        self.clock_usecs = clock_usecs
        self.is_active = is_enabled
        self.progress: SnapshotProgress | None = None
        self.in_flight_usecs: int | None = None
        self.last_status: SnapshotStatus | None = None

    def get_requests(self) -> list[Outbound]:
        """Return the first request to every peer, again when the pinned peer went silent."""
        now_usecs = self.clock_usecs()
        if not self.is_active or (self.in_flight_usecs is not None
                                  and now_usecs - self.in_flight_usecs < SNAPSHOT_RESPONSE_TIMEOUT_USECS):
            return []
        self.progress = None
        self.in_flight_usecs = now_usecs
        return [BroadcastData(encode_snapshot_request(SnapshotRequest(0, b"", SNAPSHOT_LEAVES_PER_CHUNK_MAX)))]

    def process_response(self, sender: bytes, response: SnapshotResponse,
                         state: CoreState) -> tuple[SnapshotStatus, list[Outbound], SnapshotInstall | None]:
        """Take a chunk; return its status, the next request, and what to install once the last chunk checked out."""
        status = self.take_chunk(sender, response, state)
        self.last_status = status
        progress = self.progress
        if status != SnapshotStatus.ACCEPTED or progress is None:
            return status, [], None
        if not response.is_last:
            next_key = get_next_key(progress.leaves[-1][0]) if progress.leaves else None
            if next_key is not None:
                self.in_flight_usecs = self.clock_usecs()
                request = SnapshotRequest(progress.first.certificate.ledger_info.version, next_key,
                                          SNAPSHOT_LEAVES_PER_CHUNK_MAX)
                return status, [SendData(sender, encode_snapshot_request(request))], None
        install = make_install(self.store, progress)
        if install is None:
            self.progress, self.in_flight_usecs = None, None  # start again, from whoever answers first
            self.last_status = SnapshotStatus.ROOT_MISMATCH
            return SnapshotStatus.ROOT_MISMATCH, [], None
        self.is_active = False
        self.last_status = SnapshotStatus.COMPLETE
        return SnapshotStatus.COMPLETE, [], install

    def take_chunk(self, sender: bytes, response: SnapshotResponse, state: CoreState) -> SnapshotStatus:
        """Pin the first verified chunk's version and peer; append a following chunk that continues it."""
        if not self.is_active:
            return SnapshotStatus.UNEXPECTED
        if self.progress is None:
            if response.block is None:
                return SnapshotStatus.UNEXPECTED
            if response.certificate.ledger_info.epoch > state.epoch_state.epoch:
                # A later epoch's validators signed it: only replaying the epoch changes proves them. Fall back.
                self.is_active = False
                return SnapshotStatus.LATER_EPOCH
            status = check_first_chunk(state, response, get_genesis_accumulator_root(self.store))
            if status != SnapshotStatus.ACCEPTED:
                return status
            self.progress = SnapshotProgress(sender, response)
        elif sender != self.progress.peer or response.block is not None:
            return SnapshotStatus.UNEXPECTED
        status = check_chunk(self.progress, response)
        if status == SnapshotStatus.ACCEPTED:
            self.progress.leaves.extend(zip(response.keys, response.values))
        return status



class SnapshotServer:
    """The serving side: answers chunk requests; the same request from the same peer at most once a second."""

    def __init__(self, store: Store, clock_usecs: Callable[[], int]) -> None:
        self.store = store
        self.clock_usecs = clock_usecs
        self.served: dict[bytes, tuple[SnapshotRequest, int]] = {}  # peer -> (last request, when served)

    def process_request(self, sender: bytes, request: SnapshotRequest) -> list[Outbound]:
        """Answer a request unless it repeats the peer's previous one within SNAPSHOT_REPEAT_INTERVAL_USECS."""
        now_usecs = self.clock_usecs()
        served = self.served.get(sender)
        if served is not None and served[0] == request and now_usecs - served[1] < SNAPSHOT_REPEAT_INTERVAL_USECS:
            return []
        self.served[sender] = (request, now_usecs)
        try:
            return serve_snapshot(self.store, sender, request)
        except PrunedVersionError:
            return []  # the pinned version left the retention window: the requester starts again
