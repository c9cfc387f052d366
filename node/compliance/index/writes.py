"""Compliance indexes written at commit: a BlockCommit's indexed transactions and their index entries."""

# A committed block becomes, per user (or genesis) transaction, one summary record plus secondary entries:
# by account (every party), by event kind, by amount bucket (transfers), by block time, travel-rule records
# and compliance actions. Keys come from node/storage/schema.py (`v1/ix/...`); values are msgpack.
# Decoding never raises: an event that does not decode is left out of the indexes (the chain keeps it).

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgpack

from consensus.types import Block
from node.storage import schema
from node.storage.records import BlockCommit
from primitives.errors import InvariantViolation
from primitives.types.ledger_transactions import Transaction

from node.compliance.index.events import (
    ACTION_KINDS,
    TRANSFER_KINDS,
    Activity,
    add_travel_rule,
    decode_activity,
    get_script_and_signature,
    pair_payments,
)
from node.compliance.index.events import DECODE_ERRORS as _DECODE_ERRORS

TRANSACTION_VARIANT_BLOCK_METADATA = 2
ROLE_SENDER = 1
ROLE_ACCOUNT = 2
ROLE_COUNTERPARTY = 4
ROLE_INITIATOR = 8


@dataclass(frozen=True, slots=True)
class IndexedTransaction:
    """A committed transaction as the indexes see it."""

    version: int
    timestamp_us: int
    status: str
    sender: bytes | None = None
    sequence_number: int | None = None
    script: str | None = None
    activities: tuple[Activity, ...] = ()

    def to_plain(self) -> list[Any]:
        """Return the stored form (the version is the key)."""
        return [self.timestamp_us, self.status, self.sender, self.sequence_number, self.script,
                [activity.to_plain() for activity in self.activities]]

    @classmethod
    def from_plain(cls, version: int, plain: list[Any]) -> IndexedTransaction:
        """Rebuild a transaction summary from its key's version and stored form."""
        timestamp_us, status, sender, sequence_number, script, activities = plain
        return cls(version, timestamp_us, status, sender, sequence_number, script,
                   tuple(Activity.from_plain(item) for item in activities))

    def get_parties(self) -> dict[bytes, int]:
        """Return every address the transaction touched with its roles bitmask."""
        roles: dict[bytes, int] = {}
        if self.sender is not None:
            roles[self.sender] = ROLE_SENDER
        for activity in self.activities:
            for address, role in ((activity.account, ROLE_ACCOUNT), (activity.counterparty, ROLE_COUNTERPARTY),
                                  (activity.initiator, ROLE_INITIATOR)):
                if address is not None:
                    roles[address] = roles.get(address, 0) | role
        return roles


def compute_amount_bucket(amount: int) -> int:
    """Return the amount-index bucket of an amount: its bit length (bucket b holds [2^(b-1), 2^b))."""
    return amount.bit_length()


def get_block_timestamp_us(commit: BlockCommit) -> int:
    """Return the block time: its metadata transaction's timestamp (0 for genesis, which has none)."""
    for record in commit.transactions:
        if record.transaction[:1] == bytes([TRANSACTION_VARIANT_BLOCK_METADATA]):
            try:
                return Transaction.from_bcs(record.transaction).value.timestamp_usecs  # type: ignore[union-attr]
            except _DECODE_ERRORS:
                return 0
    return 0


def get_status(info: bytes) -> str:
    """Return the VM status kind stored with a transaction's info ("executed", "move_abort"...)."""
    try:
        plain = msgpack.unpackb(info, raw=False)  # this node's own stored bytes: no canonical check (it is dear)
        return str(plain[1][0])
    except (*_DECODE_ERRORS, TypeError, KeyError, msgpack.UnpackException):
        return "unknown"


def compute_indexed_transactions(commit: BlockCommit) -> list[IndexedTransaction]:
    """Return the indexed summary of every user or genesis transaction of a committed block."""
    timestamp_us = get_block_timestamp_us(commit)
    events: dict[int, list[tuple[int, bytes]]] = {}
    for event in commit.events:
        events.setdefault(event.version, []).append((event.index, event.event))
    indexed = []
    for record in commit.transactions:
        if record.transaction[:1] == bytes([TRANSACTION_VARIANT_BLOCK_METADATA]):
            continue
        activities = pair_payments(decode_activity(data, index) for index, data in sorted(events.get(record.version, [])))
        script = None
        if record.sender is not None:
            script, signature = get_script_and_signature(record.transaction)
            activities = add_travel_rule(activities, signature)
        if record.sender is None and not activities:
            continue
        indexed.append(IndexedTransaction(record.version, timestamp_us, get_status(record.info), record.sender,
                                          record.sequence_number, script, tuple(activities)))
    return indexed


def pack_value(value: Any) -> bytes:
    """Return an index value as msgpack (read back with canonical=False: the canonical walk was a tenth of a commit)."""
    return msgpack.packb(value, use_bin_type=True)


def compute_transaction_writes(txn: IndexedTransaction) -> list[tuple[bytes, bytes]]:
    """Return every index entry of one indexed transaction."""
    version = txn.version
    puts = [(schema.index_transaction_key(version), pack_value(txn.to_plain()))]
    puts += [(schema.index_account_key(address, version), pack_value(roles))
             for address, roles in txn.get_parties().items()]
    puts += [(schema.index_event_type_key(kind, version), b"") for kind in sorted({a.kind for a in txn.activities})]
    for activity in txn.activities:
        if activity.kind in TRANSFER_KINDS and activity.amount is not None and activity.currency:
            code = activity.currency.encode()
            if len(code) <= schema.INDEX_CURRENCY_CODE_BYTES_MAX:
                puts.append((schema.index_amount_key(code, activity.amount, version, activity.index),
                             pack_value(activity.amount)))
        if activity.details.get("travel_rule"):
            puts.append((schema.index_travel_rule_key(version, activity.index), pack_value(txn.timestamp_us)))
        if activity.kind in ACTION_KINDS:
            initiator = activity.initiator if activity.initiator is not None else txn.sender
            puts.append((schema.index_action_key(version, activity.index), pack_value([activity.kind, initiator])))
    return puts


def compute_index_writes(commit: BlockCommit) -> list[tuple[bytes, bytes]]:
    """Return every compliance-index entry of one committed block (a pure function of the commit)."""
    puts: list[tuple[bytes, bytes]] = []
    for txn in compute_indexed_transactions(commit):
        try:
            puts += compute_transaction_writes(txn)
        except (InvariantViolation, ValueError, TypeError, OverflowError):
            # A value the index cannot hold must not stop the chain: this transaction stays unindexed.
            continue
    if commit.transactions:
        first, last = commit.transactions[0].version, commit.transactions[-1].version
        puts.append((schema.index_time_key(get_block_timestamp_us(commit), first), schema.encode_u64(last)))
    return puts


def compute_commits_index_writes(commits: Sequence[BlockCommit]) -> list[tuple[bytes, bytes]]:
    """Return the index entries of consecutive commits (one store batch)."""
    return [put for commit in commits for put in compute_index_writes(commit)]


def write_compliance_indexes(_block: Block, commit: BlockCommit) -> list[tuple[bytes, bytes]]:
    """The runtime's index writer (node.runtime.commit.IndexWriter): a committed block's compliance entries."""
    return compute_index_writes(commit)
