"""The bytes of the typed records the store keeps: certificates, blocks, transaction infos, consensus state."""

# Every stored consensus value is canonical msgpack of its plain form (primitives.certified.plain: ledger infos
# are encoded by primitives.certified.ledger_info, which clients share); a transaction's info is
# [BCS TransactionInfo, [status kind, abort location, abort code]], the status detail the RPC views need.

from __future__ import annotations

from consensus.election import HistoryEntry
from consensus.safety import SafetyData
from consensus.types import Block, SyncInfo
from contracts.state import TransactionInfo
from primitives.certified.blocks import QuorumCertificate
from primitives.certified.plain import from_plain, to_plain
from primitives.codec import pack, unpack
from primitives.errors import DecodeError

# (kind, location, abort code) of a kept transaction's VM status: "executed" or "move_abort" with where and why.
StoredStatus = tuple[str, str | None, int | None]


def encode_block(block: Block) -> bytes:
    """Return the stored bytes of a block."""
    return pack(to_plain(block))


def decode_block(data: bytes) -> Block:
    """Rebuild a stored block."""
    return from_plain(Block, unpack(data))


def encode_quorum_cert(quorum_cert: QuorumCertificate | None) -> bytes:
    """Return the stored bytes of a block's quorum certificate (empty for a block without one)."""
    return b"" if quorum_cert is None else pack(to_plain(quorum_cert))


def encode_stored_info(info: TransactionInfo, status: StoredStatus) -> bytes:
    """Return the stored info of a transaction: BCS TransactionInfo plus the status detail."""
    return pack([info.to_bcs(), list(status)])


def decode_stored_info(data: bytes) -> tuple[TransactionInfo, StoredStatus]:
    """Return the TransactionInfo and the (kind, location, abort code) status stored for a version."""
    plain = unpack(data)
    if not isinstance(plain, list) or len(plain) != 2 or not isinstance(plain[1], list) or len(plain[1]) != 3:
        raise DecodeError("stored transaction info is [bcs, [kind, location, abort code]]")
    kind, location, abort_code = plain[1]
    return TransactionInfo.from_bcs(plain[0]), (kind, location, abort_code)


def decode_transaction_info_hash(data: bytes) -> bytes:
    """Return the transaction hash recorded in stored info bytes."""
    return decode_stored_info(data)[0].transaction_hash


def encode_history_entry(entry: HistoryEntry) -> bytes:
    """Return the stored bytes of one leader-reputation record ([ELECT-3])."""
    return pack(to_plain(entry))


def decode_history_entry(data: bytes) -> HistoryEntry:
    """Rebuild a stored leader-reputation record."""
    return from_plain(HistoryEntry, unpack(data))


def encode_safety_data(safety_data: SafetyData) -> bytes:
    """Return the stored bytes of the safety rules' record."""
    return pack(to_plain(safety_data))


def decode_safety_data(data: bytes) -> SafetyData:
    """Rebuild the safety rules' record."""
    return from_plain(SafetyData, unpack(data))


def encode_sync_info(sync_info: SyncInfo) -> bytes:
    """Return the stored bytes of the highest certificates."""
    return pack(to_plain(sync_info))


def decode_sync_info(data: bytes) -> SyncInfo:
    """Rebuild the highest certificates."""
    return from_plain(SyncInfo, unpack(data))
