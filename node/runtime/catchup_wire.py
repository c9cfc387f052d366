"""Catch-up on the wire: the request, the response (blocks, certificate, outputs) and how a server reads it."""

from __future__ import annotations

from dataclasses import dataclass

from consensus.types import Block
from node.runtime.certified_outputs import BlockOutputs, get_block_outputs
from node.runtime.wire import CATCHUP_RESPONSE_BYTES_MAX, PEER_MESSAGE_BYTES_MAX
from node.storage.codecs import decode_block
from node.storage.store import Store
from primitives.certified.ledger_info import LedgerInfoWithSignatures, decode_ledger_info
from primitives.certified.plain import from_plain, to_plain
from primitives.codec import pack, unpack, unpack_unchecked
from primitives.limits import U64_MAX

# One response carries at most this many blocks and about CATCHUP_RESPONSE_BYTES_MAX bytes of them (node.runtime.wire).
CATCHUP_BLOCKS_PER_RESPONSE_MAX = 256
# ... and (roughly) this many transactions, so that applying one response is a short step of the event loop.
CATCHUP_TRANSACTIONS_PER_RESPONSE_MAX = 1_000
# An encoded response above this (a huge first block with its outputs) goes without outputs (the blocks are then
# re-executed), so outputs never make an answer larger than the node's largest message ([NET-4]).
# Room left for the channel envelope around the response (a few bytes; generous).
CATCHUP_ENVELOPE_ROOM_BYTES = 1024
CATCHUP_ENCODED_RESPONSE_BYTES_MAX = PEER_MESSAGE_BYTES_MAX - CATCHUP_ENVELOPE_ROOM_BYTES


@dataclass(frozen=True, slots=True)
class CatchUpRequest:
    """Ask for committed blocks after (epoch, round) of the requester's last committed block."""

    epoch: int
    round: int
    block_count_max: int


@dataclass(frozen=True, slots=True)
class CatchUpResponse:
    """Committed blocks (oldest first), the certificate that signs the last one's ledger info, and what each block
    produced (ADR 0020; empty when the server does not keep it: the blocks are then re-executed)."""

    blocks: tuple[Block, ...]
    certificate: LedgerInfoWithSignatures | None
    outputs: tuple[BlockOutputs, ...] = ()


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
    """Decode a response or raise DecodeError (nothing in it is hashed from these bytes: no canonical check)."""
    return from_plain(CatchUpResponse, unpack_unchecked(body))



def get_certified_blocks(store: Store, request: CatchUpRequest, current_epoch: int
                         ) -> tuple[list[Block], LedgerInfoWithSignatures | None, list[BlockOutputs]]:
    """Return committed blocks after the request's round up to the last certified one within budget, with their
    outputs when every one's are kept."""
    if request.epoch > current_epoch or request.round >= U64_MAX:
        return [], None, []
    # Blocks of the requester's epoch only: its last one is certified by the set the requester knows,
    # and an epoch-ending certificate hands it over to the next epoch.
    limit = max(1, min(request.block_count_max, CATCHUP_BLOCKS_PER_RESPONSE_MAX))
    blocks: list[Block] = []
    outputs: list[BlockOutputs | None] = []
    certified_count, certificate, size, transactions = 0, None, 0, 0
    for stored in store.get_blocks(request.epoch, request.round + 1, limit):
        block = decode_block(stored.block)
        if block.epoch != request.epoch:
            break
        output = get_block_outputs(store, block)
        size += len(stored.block) + (0 if output is None else output.count_bytes())
        transactions += len(block.payload) + 1
        if certificate is not None and (size > CATCHUP_RESPONSE_BYTES_MAX
                                        or transactions > CATCHUP_TRANSACTIONS_PER_RESPONSE_MAX):
            break
        blocks.append(block)
        outputs.append(output)
        commit_cert = store.get_commit_cert(stored.epoch, stored.round_number)
        if commit_cert:
            certified_count, certificate = len(blocks), commit_cert  # decoded once, the last
    kept = outputs[:certified_count]
    signed = None if certificate is None else decode_ledger_info(certificate)
    return blocks[:certified_count], signed, [] if None in kept else kept  # type: ignore[return-value]
