"""Builders of block commits for the storage tests and the crash-safety child process."""

from __future__ import annotations

import hashlib

from node.storage import BlockCommit, EventRecord, LedgerInfoRecord, StateValueWrite, TransactionRecord

TRANSACTIONS_PER_BLOCK = 3
EPOCH_LENGTH_BLOCKS = 4


def make_address(number: int) -> bytes:
    """Return a 16-byte test address."""
    return number.to_bytes(16, "big")


def make_event_key(number: int) -> bytes:
    """Return a 24-byte test event key."""
    return number.to_bytes(8, "little") + make_address(number)


def make_hash(*parts: object) -> bytes:
    """Return a deterministic 32-byte test hash."""
    return hashlib.sha3_256(repr(parts).encode()).digest()


def get_epoch_round(height: int) -> tuple[int, int]:
    """Return the (epoch, round) of the height-th committed block; rounds restart every epoch."""
    return height // EPOCH_LENGTH_BLOCKS, height % EPOCH_LENGTH_BLOCKS + 1


def make_commit(height: int, first_version: int, count: int = TRANSACTIONS_PER_BLOCK) -> BlockCommit:
    """Return the commit of the height-th block holding count transactions from first_version."""
    transactions, events, values = [], [], []
    for offset in range(count):
        version = first_version + offset
        sender = make_address(version % 2)
        sequence_number = version // 2
        transactions.append(
            TransactionRecord(version, b"txn-%d" % version, b"info-%d" % version, sender, sequence_number)
        )
        events.append(EventRecord(make_event_key(1), version, version, 0, b"sent-%d" % version))
        events.append(EventRecord(make_event_key(2), version, version, 1, b"received-%d" % version))
        values.append(StateValueWrite(make_hash("balance", version % 2), version, b"%d" % version))
    last_version = first_version + count - 1
    epoch, round_number = get_epoch_round(height)
    is_epoch_end = round_number == EPOCH_LENGTH_BLOCKS
    return BlockCommit(
        round_number=round_number,
        block_id=make_hash("block", height),
        block=b"block-%d" % height,
        quorum_cert=b"qc-%d" % height,
        commit_cert=b"cc-%d" % height,
        ledger_info=LedgerInfoRecord(last_version, epoch, b"li-%d" % last_version, is_epoch_end),
        transactions=tuple(transactions),
        events=tuple(events),
        state_nodes=((make_hash("node", height), b"node-%d" % height),),
        accumulator_nodes=((last_version, make_hash("acc", last_version)),),
        state_values=tuple(values),
    )
