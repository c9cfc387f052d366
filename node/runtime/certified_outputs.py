"""Certified outputs for catch-up: what a committed block produced, served from the store and applied without the VM.

A server ships, with each block, the stored info, events and write set of every kept transaction (ADR 0020). The
receiver checks them against the block and the certificate instead of executing: every info names a transaction of
the block (in order), every event list hashes to its info's event root and every write set to its state change
hash, the block's write set moves the state tree to the root the block's last info names, and (in CatchUp) the
accumulator of all infos reaches the certified root. Anything that does not match is refused; what the infos cannot vouch for (a status detail beyond
"executed", a new validator set) is re-executed instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgpack

from consensus.types import Block
from contracts.ledger_trees import compute_certified_update
from contracts.state import TransactionInfo, compute_event_root
from contracts.state.transaction_info import compute_encoded_state_change_hash, decode_state_changes
from contracts.state.hashes import CONTRACT_EVENT_SALT
from node.runtime.executor import STATUS_EXECUTED, ExecutedBlock, ExecutedTransaction, SpeculativeExecutor
from node.runtime.executor import StoredEvent, compute_payload_hash, make_block_metadata
from node.storage.block_outputs import get_block_write_set, get_event_bytes, get_transaction_infos
from node.storage.records import PrunedVersionError
from node.storage.store import Store
from primitives.errors import DecodeError
from primitives.hashing import hash_with_salt
from primitives.types.ledger_transactions import Transaction

# The committed status code of "executed" (contracts.ledger_trees.STATUS_CODES): its stored detail is fixed.
STATUS_CODE_EXECUTED = 4001
EXECUTED_STATUS = (STATUS_EXECUTED, None, None)
EXECUTED_STATUS_PLAIN = list(EXECUTED_STATUS)
# A user transaction's BCS starts with its sender (16 bytes) and sequence number (u64, little-endian).
SENDER_BYTES = 16
SEQUENCE_NUMBER_END = SENDER_BYTES + 8
USER_TRANSACTION_TAG = b"\x00"
# A ContractEvent::V0's BCS starts with its variant, the key's length (24) and key, then the sequence number.
EVENT_HEADER = b"\x00\x18"
EVENT_KEY_END = len(EVENT_HEADER) + 24
EVENT_SEQUENCE_END = EVENT_KEY_END + 8


@dataclass(frozen=True, slots=True)
class BlockOutputs:
    """What a committed block produced: the stored info, events and write set of each kept transaction."""

    infos: tuple[bytes, ...]
    events: tuple[tuple[bytes, ...], ...]
    state_changes: tuple[bytes, ...]  # BCS of each write set, as its info's state change hash covers it

    def count_bytes(self) -> int:
        """Return roughly how many bytes the outputs take on the wire."""
        return (sum(map(len, self.infos)) + sum(len(event) for events in self.events for event in events)
                + sum(map(len, self.state_changes)))


# ---- serving --------------------------------------------------------------------------------------------------


def get_block_outputs(store: Store, block: Block) -> BlockOutputs | None:
    """Return the outputs of a committed block from the store; None when they are not kept (pruned, older node)."""
    written = get_block_write_set(store, block.epoch, block.round)
    if written is None:
        return None
    end_version = written.last_version + 1
    try:
        infos = get_transaction_infos(store, written.first_version, end_version)
        events = get_event_bytes(store, written.first_version, end_version)
    except PrunedVersionError:
        return None
    if len(infos) != end_version - written.first_version:
        return None
    return BlockOutputs(tuple(infos), tuple(map(tuple, events)), written.state_changes)


# ---- applying -------------------------------------------------------------------------------------------------


def decode_infos(outputs: BlockOutputs) -> list[TransactionInfo] | None:
    """Return the infos of outputs when every status is "executed" in full (the info certifies only the status
    code), else None (one is not, or is malformed)."""
    # Read with msgpack directly, in any form: the stored bytes are written anew (ExecutedTransaction.encode_info).
    infos = []
    for data in outputs.infos:
        try:
            plain = msgpack.unpackb(data, raw=False, max_bin_len=len(data), max_str_len=len(data))
        except (ValueError, TypeError, msgpack.UnpackException):
            return None
        if not (type(plain) is list and len(plain) == 2 and type(plain[0]) is bytes):
            return None
        if plain[1] != EXECUTED_STATUS_PLAIN:
            return None
        try:
            info = TransactionInfo.from_bcs(plain[0])
        except DecodeError:
            return None
        if info.status_code != STATUS_CODE_EXECUTED:
            return None
        infos.append(info)
    return infos


def parse_events(events: Sequence[bytes], event_root: bytes) -> tuple[StoredEvent, ...] | None:
    """Return the stored form of a transaction's events when they hash to its certified event root, else None."""
    parsed = []
    for event in events:
        if len(event) < EVENT_SEQUENCE_END or event[:len(EVENT_HEADER)] != EVENT_HEADER:
            return None
        sequence_number = int.from_bytes(event[EVENT_KEY_END:EVENT_SEQUENCE_END], "little")
        parsed.append((event[len(EVENT_HEADER):EVENT_KEY_END], sequence_number, event))
    hashes = [hash_with_salt(CONTRACT_EVENT_SALT, event) for event in events]
    return tuple(parsed) if compute_event_root(hashes) == event_root else None


def get_candidates(block: Block) -> list[tuple[bytes, bytes, bytes | None, int | None]]:
    """Return (hash, BCS, sender, sequence number) of the block's transactions in execution order, metadata first."""
    metadata = Transaction(make_block_metadata(block))
    candidates: list[tuple[bytes, bytes, bytes | None, int | None]] = [(metadata.hash(), metadata.to_bcs(), None, None)]
    for entry in block.payload:
        sender, sequence_number = entry[:SENDER_BYTES], entry[SENDER_BYTES:SEQUENCE_NUMBER_END]
        candidates.append((compute_payload_hash(entry), USER_TRANSACTION_TAG + entry, sender,
                           int.from_bytes(sequence_number, "little")))
    return candidates


def match_transactions(block: Block, infos: Sequence[TransactionInfo], outputs: BlockOutputs,
                       first_version: int) -> tuple[list[ExecutedTransaction], list[bytes]] | None:
    """Return the kept transactions (each info names the next one of the block) and the skipped payload hashes."""
    candidates = get_candidates(block)
    kept: list[ExecutedTransaction] = []
    skipped: list[bytes] = []
    position = 0
    for index, info in enumerate(infos):
        while position < len(candidates) and candidates[position][0] != info.transaction_hash:
            if position > 0:  # a payload entry the validators did not keep (bad signature, discarded)
                skipped.append(candidates[position][0])
            position += 1
        if position == len(candidates):
            return None
        events = parse_events(outputs.events[index], info.event_root_hash)
        if events is None:
            return None
        _, transaction, sender, sequence_number = candidates[position]
        kept.append(ExecutedTransaction(first_version + index, transaction, info, EXECUTED_STATUS, events,
                                        sender, sequence_number, outputs.state_changes[index]))
        position += 1
    skipped.extend(candidate[0] for candidate in candidates[max(position, 1):])
    return kept, skipped


def get_write_set(outputs: BlockOutputs, infos: Sequence[TransactionInfo]) -> dict[bytes, bytes | None] | None:
    """Return the block's write set (each transaction's in order, the later one winning) when every transaction's
    hashes to its info's state change hash (then it is the validators' encoding); None when one does not."""
    if len(outputs.state_changes) != len(infos):
        return None
    block_write_set: dict[bytes, bytes | None] = {}
    for changes, info in zip(outputs.state_changes, infos):
        if compute_encoded_state_change_hash(changes) != info.state_change_hash:
            return None
        try:
            block_write_set.update(decode_state_changes(changes))
        except DecodeError:
            return None
    return block_write_set


def apply_block_outputs(executor: SpeculativeExecutor, block: Block, outputs: BlockOutputs,
                        infos: Sequence[TransactionInfo]) -> ExecutedBlock | None:
    """Adopt a block's outputs (infos: decode_infos) as its executed result once they match the block and its infos'
    state root, else return None (nothing adopted)."""
    # The caller checks the infos themselves against the certified accumulator root.
    write_set = get_write_set(outputs, infos)
    ancestry = executor.get_ancestry(block.parent_id)
    if write_set is None or ancestry is None or len(outputs.events) != len(infos) or not infos:
        return None
    # Only the block's last info carries the state root (the tree is versioned once per block).
    if infos[-1].state_root_hash is None or any(info.state_root_hash is not None for info in infos[:-1]):
        return None
    trees = executor.make_trees(ancestry)
    matched = match_transactions(block, infos, outputs, trees.version + 1)
    if matched is None:
        return None
    update = compute_certified_update(trees, infos, write_set)
    if update.state_root != infos[-1].state_root_hash:
        return None
    kept, skipped = matched
    executed = ExecutedBlock(block.id, block.parent_id, update.last_version, tuple(kept), write_set, update.state_root,
                             update.accumulator_root, dict(update.state_nodes), dict(update.accumulator_nodes), None,
                             tuple(skipped), update.stale_state_nodes)
    executor.adopt(executed)
    return executed
