"""Catch-up: fetch committed blocks with their certificate from a peer, verify and re-execute them for the runtime."""

# CatchUp owns what it learns and what it asked: the newest commit a peer showed, the one request in flight, the
# requests it served. It never touches the consensus core: the runtime hands it the core state it needs to check
# a response, and commits the blocks (and restarts the core) when the result says APPLIED.

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from consensus.events import Event
from consensus.state import CoreState
from consensus.types import Block
from consensus.verify import MAX_BLOCKS_PER_RETRIEVAL
from node.logging import get_logger
from node.runtime.catchup_limits import CACHED_RESPONSE_COST_BLOCKS, CatchUpServeLimiter
from node.runtime.catchup_wire import CATCHUP_BLOCKS_PER_RESPONSE_MAX, CATCHUP_ENCODED_RESPONSE_BYTES_MAX
from node.runtime.catchup_wire import CatchUpRequest, CatchUpResponse
from node.runtime.catchup_wire import encode_request, encode_response
from node.runtime.catchup_wire import get_certified_blocks
from node.runtime.certified_outputs import BlockOutputs, apply_block_outputs, decode_infos
from node.runtime.executor import SpeculativeExecutor
from node.runtime.wire import (
    CHANNEL_CATCHUP_REQUEST,
    CHANNEL_CATCHUP_RESPONSE,
    PEER_MESSAGE_BYTES_MAX,
    BroadcastData,
    Outbound,
    SendData,
    encode_envelope,
)
from node.storage.store import Store
from primitives.certified.blocks import compute_block_id
from primitives.certified.ledger_info import LedgerInfo, LedgerInfoWithSignatures, check_ledger_info_signatures

# A node this many rounds behind a certified commit catches up here; a smaller gap is closed by the core's block
# retrieval ([SYNC-3], one request of up to MAX_BLOCKS_PER_RETRIEVAL blocks), or here when it is stuck.
CATCHUP_ROUND_LAG_MIN = MAX_BLOCKS_PER_RETRIEVAL
# One request at a time: a request not answered within this long may be sent again (to every peer if stuck).
CATCHUP_RESPONSE_TIMEOUT_USECS = 2_000_000
# The same request from the same peer is answered at most once per this interval (a cheap DoS guard).
CATCHUP_REPEAT_INTERVAL_USECS = 1_000_000

# (epoch, round) of a committed block; (epoch, round, peer) of the newest commit a peer showed.
Position = tuple[int, int]
SeenCommit = tuple[int, int, bytes]

log = get_logger("stablechain.catchup")


class CatchUpStatus(IntEnum):
    """Why a response was not applied; numbers are stable (for logs and metrics)."""

    APPLIED = 0
    STALE = 1
    BAD_CERTIFICATE = 2
    BAD_CHAIN = 3
    ROOT_MISMATCH = 4
    EMPTY = 5
    BAD_OUTPUTS = 6


@dataclass(frozen=True, slots=True)
class CatchUpResult:
    """What a response came to: APPLIED (certified and chained: for the runtime to apply and commit) or why not, and
    the request for the next blocks (sent before these are applied)."""

    status: CatchUpStatus
    next_requests: tuple[Outbound, ...] = ()


def get_committed_position(state: CoreState) -> Position:
    """Return (epoch, round) of the core's last committed block in its current epoch (round 0: genesis)."""
    root = state.tree.get_root()
    return root.epoch, root.round


def make_request(position: Position) -> bytes:
    """Return the enveloped request for the blocks after position."""
    request = CatchUpRequest(position[0], position[1], CATCHUP_BLOCKS_PER_RESPONSE_MAX)
    return encode_envelope(CHANNEL_CATCHUP_REQUEST, encode_request(request))


def check_response(state: CoreState, blocks: tuple[Block, ...], certificate: LedgerInfoWithSignatures) -> CatchUpStatus:
    """Check the certificate against the core's validator set and that the blocks chain from its root to it."""
    epoch_state = state.epoch_state
    if blocks[0].parent_id != state.tree.root_id:
        return CatchUpStatus.STALE
    info = certificate.ledger_info
    if info.epoch != epoch_state.epoch:
        return CatchUpStatus.BAD_CERTIFICATE
    rejection = check_ledger_info_signatures(certificate, epoch_state.validators, state.config.scheme,
                                             state.config.chain_id)
    if rejection is not None:
        return CatchUpStatus.BAD_CERTIFICATE
    for parent, child in zip((None, *blocks), blocks):
        if compute_block_id(child.data) != child.id or child.epoch != epoch_state.epoch:
            return CatchUpStatus.BAD_CHAIN
        if parent is not None and (child.parent_id != parent.id or child.round <= parent.round):
            return CatchUpStatus.BAD_CHAIN
    if blocks[-1].id != info.block_id or blocks[-1].round != info.round:
        return CatchUpStatus.BAD_CHAIN
    return CatchUpStatus.APPLIED


def get_response_status(state: CoreState, response: CatchUpResponse) -> CatchUpStatus:
    """Return APPLIED when a response is not empty, is certified and chains from our root to its certificate."""
    if not response.blocks or response.certificate is None:
        return CatchUpStatus.EMPTY
    return check_response(state, response.blocks, response.certificate)


def get_shown_commit(event: Event) -> LedgerInfo | None:
    """Return the ledger info of the highest commit certificate a verified peer event carries, if any."""
    message = getattr(event, "message", None)
    sync_info = getattr(message, "sync_info", None) or getattr(event, "sync_info", None)
    certificate = getattr(sync_info, "highest_commit_cert", None)
    return None if certificate is None else certificate.ledger_info


class CatchUp:
    """Asks peers for committed blocks when behind, serves its own, and verifies and re-executes what it gets."""

    def __init__(self, store: Store, executor: SpeculativeExecutor, clock_usecs: Callable[[], int]) -> None:
        self.store = store
        self.executor = executor
        self.clock_usecs = clock_usecs
        self.highest_seen_commit: SeenCommit | None = None  # from verified messages only
        self.probe_peer: bytes | None = None  # a peer that claimed a later epoch, to ask once
        self.last_position: Position | None = None  # our committed position at the last check
        self.in_flight_usecs: int | None = None  # when the outstanding request was sent
        self.is_pipelined = False  # the outstanding request was sent on applying a response (a replay goes on)
        self.served: dict[bytes, tuple[CatchUpRequest, int]] = {}  # peer -> (last request, when served)
        self.serve_limits = CatchUpServeLimiter()
        self.last_status: CatchUpStatus | None = None
        self.applied_count = 0
        self.highest_seen_version = 0  # of any verified commit certificate a peer showed or sent (readiness)

    # ---- what peers show ------------------------------------------------------------------------------

    def on_peer_event(self, sender: bytes, event: Event) -> None:
        """Remember the highest commit certificate a peer showed us (what catch-up aims for)."""
        info = get_shown_commit(event)
        self.highest_seen_version = max(self.highest_seen_version, 0 if info is None else info.version)
        seen = self.highest_seen_commit
        if info is not None and (seen is None or (info.epoch, info.round) > seen[:2]):
            self.highest_seen_commit = (info.epoch, info.round, sender)

    def on_future_epoch(self, sender: bytes, epoch: int) -> None:
        """Note that a peer claims a later epoch: ask it once for certified blocks, but believe nothing yet.

        The claim is unverified (a Byzantine peer may claim epoch 2**64 - 1), so it never moves
        highest_seen_commit; only the certified blocks it answers with move us on."""
        del epoch  # unverified: only used to decide that a probe is worth sending
        self.probe_peer = sender

    def is_behind(self, position: Position) -> bool:
        """Return True when a peer showed a commit certificate above our committed position."""
        seen = self.highest_seen_commit
        return seen is not None and seen[:2] > position

    def is_far_behind(self, position: Position) -> bool:
        """[SYNC-7] Return True when the newest commit certificate we saw is CATCHUP_ROUND_LAG_MIN rounds (or an epoch)
        above our position: catch-up, not the core's block retrieval, closes such a gap."""
        seen = self.highest_seen_commit
        return seen is not None and seen[:2] >= (position[0], position[1] + CATCHUP_ROUND_LAG_MIN)

    # ---- asking -------------------------------------------------------------------------------------

    def get_requests(self, position: Position, is_startup: bool = False) -> list[Outbound]:
        """Return catch-up requests: to every peer at start-up, else to the peer that showed a newer commit.

        One request is in flight at a time (a response pipelines the next one), so answers are never raced by
        duplicates; when a request times out without progress, the next one goes to every peer.
        """
        now_usecs = self.clock_usecs()
        if is_startup:
            self.in_flight_usecs = now_usecs
            return [BroadcastData(make_request(position))]
        if self.in_flight_usecs is not None and now_usecs - self.in_flight_usecs < CATCHUP_RESPONSE_TIMEOUT_USECS:
            return []
        self.in_flight_usecs, self.is_pipelined = None, False
        seen = self.highest_seen_commit
        is_stuck = position == self.last_position
        self.last_position = position
        if seen is None or not self.is_behind(position):
            return self.get_probe(position, now_usecs)
        if is_stuck:
            # Ask everyone: the peer that showed the newer epoch or commit may not answer (or may have lied).
            self.in_flight_usecs = now_usecs
            return [BroadcastData(make_request(position))]
        if not self.is_far_behind(position):
            return []
        self.in_flight_usecs = now_usecs
        return [SendData(seen[2], make_request(position))]

    def get_probe(self, position: Position, now_usecs: int) -> list[Outbound]:
        """Return one request to the peer that claimed a later epoch, if any (then forget the claim)."""
        peer, self.probe_peer = self.probe_peer, None
        if peer is None:
            return []
        self.in_flight_usecs = now_usecs
        return [SendData(peer, make_request(position))]

    def request_next(self, sender: bytes, response: CatchUpResponse, root_id: bytes) -> list[Outbound]:
        """Ask the sender for the blocks after this response's last one when it extends our root and we stay behind."""
        blocks = response.blocks
        seen = self.highest_seen_commit
        if not blocks or blocks[0].parent_id != root_id:
            return []
        last = (blocks[-1].epoch, blocks[-1].round)
        certificate = response.certificate
        # Without a verified target (an answer to a probe), keep asking while answers extend our root.
        is_reached = seen is not None and seen[:2] <= last
        if is_reached or (certificate is not None and certificate.ledger_info.is_epoch_ending()):
            self.in_flight_usecs, self.is_pipelined = None, False
            return []
        self.in_flight_usecs, self.is_pipelined = self.clock_usecs(), True
        return [SendData(sender, make_request(last))]

    def is_closing_gap(self, position: Position) -> bool:
        """[SYNC-7] Return True when catch-up, not the core's block retrieval, closes the gap to the newest commit."""
        return self.is_far_behind(position) or self.is_replaying()

    def is_replaying(self) -> bool:
        """[SYNC-7] Return True while the request sent on applying a response is outstanding (not timed out): its
        answer continues the replay, which the core's block retrieval would only race."""
        sent_usecs = self.in_flight_usecs
        return self.is_pipelined and sent_usecs is not None and (
            self.clock_usecs() - sent_usecs < CATCHUP_RESPONSE_TIMEOUT_USECS)

    # ---- serving ------------------------------------------------------------------------------------

    def process_request(self, sender: bytes, request: CatchUpRequest, current_epoch: int) -> list[Outbound]:
        """Answer with our committed blocks after the requester's, ending at a certified block."""
        now_usecs = self.clock_usecs()
        served = self.served.get(sender)
        if served is not None and served[0] == request and now_usecs - served[1] < CATCHUP_REPEAT_INTERVAL_USECS:
            return []
        self.served[sender] = (request, now_usecs)
        # [item 9] Repeats (whatever field varies) come from the cache; fresh reads cost the peer its block budget.
        key = (request.epoch, request.round, min(request.block_count_max, CATCHUP_BLOCKS_PER_RESPONSE_MAX), current_epoch)
        if not self.serve_limits.is_allowed(sender, now_usecs):
            return []
        data = self.serve_limits.get_cached(key)
        if data is None:
            blocks, certificate, outputs = get_certified_blocks(self.store, request, current_epoch)
            self.serve_limits.charge(sender, max(1, len(blocks)), now_usecs)
            if certificate is None:
                return []
            data = encode_response(CatchUpResponse(tuple(blocks), certificate, tuple(outputs)))
            if len(data) > CATCHUP_ENCODED_RESPONSE_BYTES_MAX:  # outputs must never make a block unsendable
                data = encode_response(CatchUpResponse(tuple(blocks), certificate))
            data = encode_envelope(CHANNEL_CATCHUP_RESPONSE, data)
            if len(data) > PEER_MESSAGE_BYTES_MAX:
                # [NET-4] One commit batch larger than a frame (docs/security.md, Open): not sendable, never fatal.
                log.warning("catch-up answer too large for a frame; not sent", bytes=len(data), blocks=len(blocks))
                return []
            self.serve_limits.keep(key, data)
        else:
            self.serve_limits.charge(sender, CACHED_RESPONSE_COST_BLOCKS, now_usecs)
        return [SendData(sender, data)]

    # ---- applying -----------------------------------------------------------------------------------

    def process_response(self, sender: bytes, response: CatchUpResponse, state: CoreState) -> CatchUpResult:
        """Check a peer's response (certificate and chain, nothing executed); when it holds, return the request for
        the next blocks, which leaves before these are applied (apply_checked), so the peer reads while we apply."""
        status = get_response_status(state, response)
        self.last_status = status
        if status != CatchUpStatus.APPLIED:
            log.debug("catch-up response refused", status=int(status), sender=sender.hex())
            return CatchUpResult(status)
        return CatchUpResult(status, tuple(self.request_next(sender, response, state.tree.root_id)))

    def apply_checked(self, response: CatchUpResponse, state: CoreState) -> CatchUpStatus:
        """Apply a checked response's blocks on the core's root; the runtime commits them when APPLIED."""
        status = self.apply_verified(response, state)
        self.last_status = status
        if status == CatchUpStatus.APPLIED:
            self.applied_count += 1
            self.highest_seen_version = max(self.highest_seen_version, response.certificate.ledger_info.version)  # type: ignore[union-attr]
        return status

    def apply_response(self, response: CatchUpResponse, state: CoreState) -> CatchUpStatus:
        """Return APPLIED once the response's blocks are verified and applied to the certified roots, or why not."""
        status = get_response_status(state, response)
        return status if status != CatchUpStatus.APPLIED else self.apply_verified(response, state)

    def apply_verified(self, response: CatchUpResponse, state: CoreState) -> CatchUpStatus:
        """Apply a checked response: adopt its outputs, or re-execute its blocks when it carries none."""
        info = response.certificate.ledger_info  # type: ignore[union-attr]
        if response.blocks[0].parent_id != state.tree.root_id:
            return CatchUpStatus.STALE  # the root moved since the check (a deferred application)
        if response.outputs:
            return self.apply_outputs(response.blocks, response.outputs, info)
        return CatchUpStatus.APPLIED if self.execute_certified(response.blocks, info) else CatchUpStatus.ROOT_MISMATCH

    def apply_outputs(self, blocks: tuple[Block, ...], outputs: tuple[BlockOutputs, ...],
                      info: LedgerInfo) -> CatchUpStatus:
        """[SYNC-9] Adopt the blocks' certified outputs (execute those they cannot stand for); APPLIED when they reach
        the certificate's version and roots, else why not (nothing adopted is kept)."""
        if len(outputs) != len(blocks):
            return CatchUpStatus.BAD_OUTPUTS
        executed_count = 0
        for index, (block, output) in enumerate(zip(blocks, outputs)):
            executed = self.executor.get_executed(block.id)
            # Execution alone computes a new validator set; infos certify an abort's status code, not its detail.
            is_epoch_ending = index == len(blocks) - 1 and info.is_epoch_ending()
            infos = None if executed is not None or is_epoch_ending else decode_infos(output)
            if executed is None and infos:
                executed = apply_block_outputs(self.executor, block, output, infos)
            elif executed is None:  # trusting, as execute_certified's first pass (the roots are compared below)
                executed, executed_count = self.executor.execute(block, is_certified=True), executed_count + 1
            if executed is None:
                self.executor.forget(block.id for block in blocks)
                return CatchUpStatus.BAD_OUTPUTS
        # The accumulator root covers every info (so every block's state root): the certificate vouches for all.
        if (executed.last_version, executed.state_root, executed.accumulator_root) == (
                info.version, info.state_root, info.accumulator_root):
            return CatchUpStatus.APPLIED
        self.executor.forget(block.id for block in blocks)
        # A block executed without signature checks may have kept a transaction the validators skipped: redo it all.
        if executed_count and self.execute_certified(blocks, info):
            return CatchUpStatus.APPLIED
        return CatchUpStatus.ROOT_MISMATCH

    def execute_certified(self, blocks: tuple[Block, ...], info: LedgerInfo) -> bool:
        """Re-execute certified blocks; True when they reach the certificate's version and roots.

        The verified certificate says what executing these blocks yields, so the first pass skips
        transaction signatures (the dearest part of a replay); a block holding a transaction with a bad
        signature, which validators skipped, then misses the roots, and a second pass checks every one.
        """
        for is_certified in (True, False):
            for block in blocks:
                executed = self.executor.execute(block, is_certified=is_certified)
            if (executed.last_version, executed.state_root, executed.accumulator_root) == (
                    info.version, info.state_root, info.accumulator_root):
                return True
            self.executor.forget(block.id for block in blocks)
        return False
