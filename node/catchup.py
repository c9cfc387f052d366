"""Catch-up: fetch committed blocks with their certificate from a peer, verify, re-execute, commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from consensus.types import Block
from consensus.verify import MAX_BLOCKS_PER_RETRIEVAL
from node.execution import decode_block
from primitives.codec import pack, unpack
from primitives.limits import U64_MAX
from node.logging import get_logger
from primitives.certified.blocks import compute_block_id
from primitives.certified.ledger_info import (
    LedgerInfo,
    LedgerInfoWithSignatures,
    check_ledger_info_signatures,
    decode_ledger_info,
)
from primitives.certified.plain import from_plain, to_plain

if TYPE_CHECKING:
    from node.runtime import Outbound, Runtime

# One response carries at most this many blocks and (roughly) this many bytes of blocks.
CATCHUP_BLOCKS_PER_RESPONSE_MAX = 256
CATCHUP_RESPONSE_BYTES_MAX = 4 * 1024 * 1024
# A node this many rounds behind a certified commit catches up here; a smaller gap is closed by the core's block
# retrieval ([SYNC-3], one request of up to MAX_BLOCKS_PER_RETRIEVAL blocks), or here when it is stuck.
CATCHUP_ROUND_LAG_MIN = MAX_BLOCKS_PER_RETRIEVAL
# One request at a time: a request not answered within this long may be sent again (to every peer if stuck).
CATCHUP_RESPONSE_TIMEOUT_USECS = 2_000_000
# The same request from the same peer is answered at most once per this interval (a cheap DoS guard).
CATCHUP_REPEAT_INTERVAL_USECS = 1_000_000

log = get_logger("stablechain.catchup")


class CatchUpStatus:
    """Why a response was not applied; numbers are stable (for logs and metrics)."""

    APPLIED = 0
    STALE = 1
    BAD_CERTIFICATE = 2
    BAD_CHAIN = 3
    ROOT_MISMATCH = 4
    EMPTY = 5


@dataclass(frozen=True, slots=True)
class CatchUpRequest:
    """Ask for committed blocks after (epoch, round) of the requester's last committed block."""

    epoch: int
    round: int
    block_count_max: int


@dataclass(frozen=True, slots=True)
class CatchUpResponse:
    """Committed blocks (oldest first) and the certificate that signs the last one's ledger info."""

    blocks: tuple[Block, ...]
    certificate: LedgerInfoWithSignatures | None


def encode_request(request: CatchUpRequest) -> bytes:
    """Return the peer bytes of a request."""
    return pack(to_plain(request))


def encode_response(response: CatchUpResponse) -> bytes:
    """Return the peer bytes of a response."""
    return pack(to_plain(response))


def decode_request(body: bytes) -> CatchUpRequest:
    """Decode a request or raise DecodeError."""
    return from_plain(CatchUpRequest, unpack(body))


def decode_response(body: bytes) -> CatchUpResponse:
    """Decode a response or raise DecodeError."""
    return from_plain(CatchUpResponse, unpack(body))


def get_committed_position(runtime: Runtime) -> tuple[int, int]:
    """Return (epoch, round) of this node's last committed block in its current epoch (round 0: genesis)."""
    root = runtime.state.tree.get_root()
    return root.epoch, root.round


def make_request(runtime: Runtime, after: tuple[int, int] | None = None) -> bytes:
    """Return the enveloped request for the blocks after ours (or after `after`, a response's last block)."""
    from node.runtime import CHANNEL_CATCHUP_REQUEST, encode_envelope

    epoch, round_ = after or get_committed_position(runtime)
    request = CatchUpRequest(epoch, round_, CATCHUP_BLOCKS_PER_RESPONSE_MAX)
    return encode_envelope(CHANNEL_CATCHUP_REQUEST, encode_request(request))


def is_behind(runtime: Runtime) -> bool:
    """Return True when a peer showed a commit certificate above our committed root."""
    seen = runtime.highest_seen_commit
    return seen is not None and seen[:2] > get_committed_position(runtime)


def is_far_behind(runtime: Runtime) -> bool:
    """[SYNC-7] Return True when the newest commit certificate we saw is CATCHUP_ROUND_LAG_MIN rounds (or an epoch)
    above our root: catch-up, not the core's block retrieval, closes such a gap."""
    seen = runtime.highest_seen_commit
    epoch, round_ = get_committed_position(runtime)
    return seen is not None and seen[:2] >= (epoch, round_ + CATCHUP_ROUND_LAG_MIN)


def get_requests(runtime: Runtime, is_startup: bool = False) -> list[Outbound]:
    """Return catch-up requests: to every peer at start-up, else to the peer that showed a newer commit.

    One request is in flight at a time (a response pipelines the next one), so answers are never raced by
    duplicates; when a request times out without progress, the next one goes to every peer.
    """
    from node.runtime import BroadcastData, SendData

    now_usecs = runtime.clock_usecs()
    if is_startup:
        runtime.catchup_in_flight_usecs = now_usecs
        return [BroadcastData(make_request(runtime))]
    in_flight = runtime.catchup_in_flight_usecs
    if in_flight is not None and now_usecs - in_flight < CATCHUP_RESPONSE_TIMEOUT_USECS:
        return []
    runtime.catchup_in_flight_usecs = None
    seen = runtime.highest_seen_commit
    position = get_committed_position(runtime)
    is_stuck = position == runtime.catchup_last_position
    runtime.catchup_last_position = position
    if seen is None or not is_behind(runtime):
        return []
    if is_stuck:
        # Ask everyone: the peer that showed the newer epoch or commit may not answer (or may have lied).
        runtime.catchup_in_flight_usecs = now_usecs
        return [BroadcastData(make_request(runtime))]
    if not is_far_behind(runtime):
        return []
    runtime.catchup_in_flight_usecs = now_usecs
    return [SendData(seen[2], make_request(runtime))]


# ---- serving -----------------------------------------------------------------------------------------


def process_request(runtime: Runtime, sender: bytes, request: CatchUpRequest) -> list[Outbound]:
    """Answer with our committed blocks after the requester's, ending at a certified block."""
    from node.runtime import CHANNEL_CATCHUP_RESPONSE, SendData, encode_envelope

    now_usecs = runtime.clock_usecs()
    served = runtime.catchup_served.get(sender)
    if served is not None and served[0] == request and now_usecs - served[1] < CATCHUP_REPEAT_INTERVAL_USECS:
        return []
    runtime.catchup_served[sender] = (request, now_usecs)
    blocks, certificate = get_certified_blocks(runtime, request)
    if certificate is None:
        return []
    response = CatchUpResponse(tuple(blocks), certificate)
    return [SendData(sender, encode_envelope(CHANNEL_CATCHUP_RESPONSE, encode_response(response)))]


def get_certified_blocks(runtime: Runtime, request: CatchUpRequest) -> tuple[list[Block], LedgerInfoWithSignatures | None]:
    """Return committed blocks after the request's round up to the last certified one within budget."""
    if request.epoch > runtime.state.epoch_state.epoch or request.round >= U64_MAX:
        return [], None
    # Blocks of the requester's epoch only: its last one is certified by the set the requester knows,
    # and an epoch-ending certificate hands it over to the next epoch.
    limit = max(1, min(request.block_count_max, CATCHUP_BLOCKS_PER_RESPONSE_MAX))
    blocks: list[Block] = []
    certified_count, certificate, size = 0, None, 0
    for stored in runtime.store.get_blocks(request.epoch, request.round + 1, limit):
        if certificate is not None and size + len(stored.block) > CATCHUP_RESPONSE_BYTES_MAX:
            break
        block = decode_block(stored.block)
        if block.epoch != request.epoch:
            break
        blocks.append(block)
        size += len(stored.block)
        commit_cert = runtime.store.get_commit_cert(stored.epoch, stored.round_number)
        if commit_cert:
            certified_count, certificate = len(blocks), decode_ledger_info(commit_cert)
    return blocks[:certified_count], certificate


# ---- applying ----------------------------------------------------------------------------------------


def process_response(runtime: Runtime, sender: bytes, response: CatchUpResponse) -> list[Outbound]:
    """Verify, re-execute and commit a peer's blocks; then restart consensus from the new root.

    The next request leaves before this response is executed, so the peer reads the next blocks while we
    replay these; should these fail, the answer to it is simply stale.
    """
    pipelined = request_next(runtime, sender, response)
    status = apply_response(runtime, response)
    runtime.last_catchup_status = status
    if status != CatchUpStatus.APPLIED:
        log.debug("catch-up response refused", status=status, sender=sender.hex())
        return []
    runtime.catchup_applied_count += 1
    log.info("caught up", blocks=len(response.blocks), version=runtime.get_committed_version(), sender=sender.hex())
    runtime.state = runtime.recover_core()
    return pipelined + runtime.start()


def request_next(runtime: Runtime, sender: bytes, response: CatchUpResponse) -> list[Outbound]:
    """Ask the sender for the blocks after this response's last one when it extends our root and we stay behind."""
    from node.runtime import SendData

    blocks = response.blocks
    seen = runtime.highest_seen_commit
    if not blocks or blocks[0].parent_id != runtime.state.tree.root_id or seen is None:
        return []
    last = (blocks[-1].epoch, blocks[-1].round)
    if seen[:2] <= last or (response.certificate is not None and response.certificate.ledger_info.is_epoch_ending()):
        runtime.catchup_in_flight_usecs = None
        return []
    runtime.catchup_in_flight_usecs = runtime.clock_usecs()
    return [SendData(sender, make_request(runtime, after=last))]


def apply_response(runtime: Runtime, response: CatchUpResponse) -> int:
    """Return APPLIED after committing the response's blocks, or why they were refused."""
    certificate = response.certificate
    if not response.blocks or certificate is None:
        return CatchUpStatus.EMPTY
    status = check_response(runtime, response.blocks, certificate)
    if status != CatchUpStatus.APPLIED:
        return status
    if not execute_certified(runtime, response.blocks, certificate.ledger_info):
        return CatchUpStatus.ROOT_MISMATCH
    runtime.commit_blocks(certificate, response.blocks)
    return CatchUpStatus.APPLIED


def execute_certified(runtime: Runtime, blocks: tuple[Block, ...], info: LedgerInfo) -> bool:
    """Re-execute certified blocks; True when they reach the certificate's version and roots.

    The verified certificate says what executing these blocks yields, so the first pass skips
    transaction signatures (the dearest part of a replay); a block holding a transaction with a bad
    signature, which validators skipped, then misses the roots, and a second pass checks every one.
    """
    for is_certified in (True, False):
        for block in blocks:
            executed = runtime.executor.execute(block, is_certified=is_certified)
        if (executed.last_version, executed.state_root, executed.accumulator_root) == (
                info.version, info.state_root, info.accumulator_root):
            return True
        runtime.executor.forget(block.id for block in blocks)
    return False


def check_response(runtime: Runtime, blocks: tuple[Block, ...], certificate: LedgerInfoWithSignatures) -> int:
    """Check the certificate against our validator set and that the blocks chain from our root to it."""
    state = runtime.state
    epoch_state = state.epoch_state
    root_id = state.tree.root_id
    if blocks[0].parent_id != root_id:
        return CatchUpStatus.STALE
    info = certificate.ledger_info
    if info.epoch != epoch_state.epoch:
        return CatchUpStatus.BAD_CERTIFICATE
    rejection = check_ledger_info_signatures(certificate, epoch_state.validators, state.config.scheme, state.config.chain_id)
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


__all__ = [
    "CATCHUP_BLOCKS_PER_RESPONSE_MAX",
    "CatchUpRequest",
    "CatchUpResponse",
    "CatchUpStatus",
    "get_requests",
    "is_behind",
    "is_far_behind",
    "make_request",
    "process_request",
    "process_response",
]
