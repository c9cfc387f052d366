"""Speculative execution of ordered blocks on top of the committed ledger, before their commit certificate."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from consensus.types import Block
from contracts.application import Application
from contracts.ledger_trees import LedgerTrees
from contracts.outputs import BlockOutput, TransactionOutput, is_retry
from contracts.state import MerkleAccumulator, SparseMerkleTree, TransactionInfo
from contracts.state.transaction_info import encode_state_changes
from contracts.vm.status import VMStatus
from contracts.vm.storage import StateView
from node.storage.codecs import StoredStatus, encode_stored_info
from node.storage.store import Store
from node.storage.views import LayeredNodeStore, StoreStateView
from primitives.certified.ledger_info import decode_ledger_info
from primitives.certified.validators import ValidatorSet
from primitives.errors import DecodeError, invariant
from primitives.hashing import ZERO_HASH, hash_with_salt
from primitives.types.events import ContractEvent
from primitives.types.ledger_transactions import BlockMetadata, Transaction
from primitives.types.names import AccountAddress
from primitives.types.transactions import SignedTransaction

# Verdicts on payload transactions this node had not seen; cleared when full (re-verifying is safe).
SIGNATURE_CACHE_MAX_ENTRIES = 200_000
# Diem's VM-reserved address proposes blocks without an author.
VM_RESERVED_ADDRESS = AccountAddress(bytes(16))
STATUS_EXECUTED = "executed"
# An event as stored: (event key, sequence number, BCS of the ContractEvent).
StoredEvent = tuple[bytes, int, bytes]


@dataclass(frozen=True, slots=True)
class ExecutedTransaction:
    """A kept transaction with its version, bytes, info, VM status and events."""

    version: int
    transaction: bytes  # BCS of Transaction
    info: TransactionInfo
    status: StoredStatus
    events: tuple[StoredEvent, ...]
    sender: bytes | None = None
    sequence_number: int | None = None
    state_changes: bytes = b""  # what this transaction wrote, as its state change hash covers it

    def encode_info(self) -> bytes:
        """Return the stored info: BCS TransactionInfo plus the status detail the RPC views need."""
        return encode_stored_info(self.info, self.status)


@dataclass(frozen=True, slots=True)
class ExecutedBlock:
    """One block's speculative result: versions, writes, new tree and accumulator nodes, roots."""

    block_id: bytes
    parent_id: bytes
    last_version: int
    transactions: tuple[ExecutedTransaction, ...]
    write_set: dict[bytes, bytes | None]
    state_root: bytes
    accumulator_root: bytes
    tree_nodes: dict[bytes, bytes]
    accumulator_nodes: dict[int, bytes]
    next_validator_set: ValidatorSet | None = None
    skipped_hashes: tuple[bytes, ...] = ()  # payload entries dropped before or at execution
    stale_tree_nodes: tuple[bytes, ...] = ()  # committed tree nodes this block's version replaced (for pruning)

    def get_committed_pairs(self) -> list[tuple[AccountAddress, int]]:
        """Return (sender, sequence number) of every kept user transaction."""
        return [(AccountAddress(txn.sender), txn.sequence_number) for txn in self.transactions
                if txn.sender is not None and txn.sequence_number is not None]


@dataclass(slots=True)
class LayeredStateView:
    """A base view with speculative write sets on top (oldest first); None in a layer means deleted."""

    base: StateView
    layers: list[Mapping[bytes, bytes | None]] = field(default_factory=list)

    def get(self, key: bytes) -> bytes | None:
        """Return the newest layer's value of key, else the base's."""
        for layer in reversed(self.layers):
            if key in layer:
                return layer[key]
        return self.base.get(key)


def compute_payload_hash(payload_entry: bytes) -> bytes:
    """Return the hash of a SignedTransaction from its BCS, without decoding it."""
    return hash_with_salt("Transaction", b"\x00" + payload_entry)


def encode_status(status: VMStatus | None) -> StoredStatus:
    """Return (kind, location, abort code) of a kept transaction's VM status (None: the block metadata's)."""
    if status is None:
        return STATUS_EXECUTED, None, None
    return status.kind, status.location, status.abort_code


def make_block_metadata(block: Block) -> BlockMetadata:
    """Return the metadata transaction that opens an executed block (voters = the parent QC's signers)."""
    proposer = AccountAddress(block.author) if block.author else VM_RESERVED_ADDRESS
    signatures = block.quorum_cert.signatures if block.quorum_cert is not None else ()
    voters = tuple(AccountAddress(author) for author, _ in signatures)
    return BlockMetadata(block.id, block.round, block.timestamp_usecs, voters, proposer)


def decode_or_none(entry: bytes) -> SignedTransaction | None:
    """Decode a payload entry, None when it is not a signed transaction."""
    try:
        return SignedTransaction.from_bcs(entry)
    except DecodeError:
        return None


def encode_events(events: Iterable[ContractEvent]) -> tuple[StoredEvent, ...]:
    """Return events in their stored form."""
    return tuple((event.key.value, event.sequence_number, event.to_bcs()) for event in events)


def make_executed_transaction(version: int, transaction: Transaction, output: TransactionOutput,
                              info: TransactionInfo) -> ExecutedTransaction:
    """Return a kept transaction's record at version."""
    events = encode_events(output.events)
    status = encode_status(output.status)
    value = transaction.value
    changes = encode_state_changes(output.write_set)
    if isinstance(value, SignedTransaction):
        return ExecutedTransaction(version, transaction.to_bcs(), info, status, events, value.sender.value,
                                   value.sequence_number, changes)
    return ExecutedTransaction(version, transaction.to_bcs(), info, status, events, state_changes=changes)


class SpeculativeExecutor:
    """Executes ordered blocks on the committed state plus executed-but-uncommitted ancestors."""

    def __init__(self, store: Store, application: Application,
                 get_verified: Callable[[bytes], SignedTransaction | None]) -> None:
        self.store = store
        self.application = application
        self.get_verified = get_verified
        self.executed: dict[bytes, ExecutedBlock] = {}
        self.verdicts: dict[bytes, bool] = {}
        self.root_ids: set[bytes] = set()
        self.committed_version = -1
        self.committed_state_root = ZERO_HASH
        self.committed_accumulator_root = ZERO_HASH
        self.load_committed()

    def load_committed(self) -> None:
        """Read the last committed version and roots from the store."""
        latest = self.store.get_latest_ledger_info()
        invariant(latest is not None, "execution starts after genesis")
        info = decode_ledger_info(latest.ledger_info).ledger_info  # type: ignore[union-attr]
        self.committed_version = info.version
        self.committed_state_root = info.state_root
        self.committed_accumulator_root = info.accumulator_root

    def set_roots(self, block_ids: Sequence[bytes]) -> None:
        """Declare the block ids that stand for the committed state; forget speculative results."""
        self.root_ids = set(block_ids)
        self.executed = {}

    def get_executed(self, block_id: bytes) -> ExecutedBlock | None:
        """Return the speculative result of a block."""
        return self.executed.get(block_id)

    def get_ancestry(self, parent_id: bytes) -> list[ExecutedBlock] | None:
        """Return executed ancestors from the committed root to parent_id (oldest first), None if unknown."""
        chain = []
        current = parent_id
        while current not in self.root_ids:
            executed = self.executed.get(current)
            if executed is None:
                return None
            chain.append(executed)
            current = executed.parent_id
        chain.reverse()
        return chain

    def execute(self, block: Block, *, is_certified: bool = False) -> ExecutedBlock:
        """Execute block on top of its parent's speculative state; idempotent per block id.

        is_certified: a verified commit certificate names the result, so signatures go unchecked and the
        caller must compare the roots (and re-execute with checks on a mismatch: see CatchUp).
        """
        known = self.executed.get(block.id)
        if known is not None:
            return known
        ancestry = self.get_ancestry(block.parent_id)
        invariant(ancestry is not None, f"block {block.id.hex()[:8]} executed before its parent")
        signed_txns, skipped = self.get_executable(block.payload, is_certified)
        metadata = make_block_metadata(block)
        view = LayeredStateView(StoreStateView(self.store, self.committed_version),
                                [layer.write_set for layer in ancestry])  # type: ignore[union-attr]
        trees = self.make_trees(ancestry)  # type: ignore[arg-type]
        output = self.application.execute_block(view, metadata, signed_txns, trees)
        executed = self.compute_executed(block, trees.version, metadata, signed_txns, output, skipped)
        self.executed[block.id] = executed
        return executed

    def make_trees(self, ancestry: list[ExecutedBlock]) -> LedgerTrees:
        """Return the tree and accumulator as of the parent: store nodes plus speculative layers."""
        version = ancestry[-1].last_version if ancestry else self.committed_version
        tree_nodes = LayeredNodeStore(self.store.get_state_node, [layer.tree_nodes for layer in ancestry])
        accumulator_nodes = LayeredNodeStore(self.store.get_accumulator_node,
                                             [layer.accumulator_nodes for layer in ancestry])
        return LedgerTrees(SparseMerkleTree(tree_nodes, version), MerkleAccumulator(accumulator_nodes, version + 1),
                           version)

    def adopt(self, executed: ExecutedBlock) -> None:
        """Record a block's result taken from certified outputs instead of executing it (catch-up, ADR 0020)."""
        invariant(self.get_ancestry(executed.parent_id) is not None, "an adopted block extends a known one")
        self.executed[executed.block_id] = executed

    def forget(self, block_ids: Iterable[bytes]) -> None:
        """Drop speculative results (a certified replay that did not reach the certified roots)."""
        for block_id in block_ids:
            self.executed.pop(block_id, None)

    def get_executable(self, payload: Sequence[bytes],
                       is_certified: bool = False) -> tuple[list[SignedTransaction], list[bytes]]:
        """Decode payload entries; verify once those this node has not verified (unless certified); skip the invalid."""
        signed_txns, skipped = [], []
        for entry in payload:
            txn_hash = compute_payload_hash(entry)
            signed = self.get_verified(txn_hash)
            if signed is None:
                signed = decode_or_none(entry) if is_certified else self.verify_once(entry, txn_hash)
            if signed is None:
                skipped.append(txn_hash)
            else:
                signed_txns.append(signed)
        return signed_txns, skipped

    def verify_once(self, entry: bytes, txn_hash: bytes) -> SignedTransaction | None:
        """Decode and verify a transaction this node never admitted; remember the verdict."""
        signed = decode_or_none(entry)
        if signed is None:
            return None
        verdict = self.verdicts.get(txn_hash)
        if verdict is None:
            verdict = signed.is_signature_valid()
            if len(self.verdicts) >= SIGNATURE_CACHE_MAX_ENTRIES:
                self.verdicts.clear()
            self.verdicts[txn_hash] = verdict
        return signed if verdict else None

    def compute_executed(self, block: Block, base_version: int, metadata: BlockMetadata,
                         signed_txns: list[SignedTransaction], output: BlockOutput,
                         skipped: list[bytes]) -> ExecutedBlock:
        """Assign versions to kept outputs; take the roots and new nodes the executor computed."""
        candidates = [Transaction(metadata)] + [Transaction(txn) for txn in signed_txns]
        outputs = list(output.transactions)
        invariant(len(outputs) == len(candidates), "one output per transaction, metadata first")
        kept_pairs = [(txn, out) for txn, out in zip(candidates, outputs) if out.keep]
        # Discarded transactions leave the mempool; retried ones (the epoch ended earlier in the block) stay for the next.
        skipped.extend(txn.hash() for txn, out in zip(candidates, outputs) if not out.keep and not is_retry(out))
        update = output.get_ledger_update()
        infos = list(update.infos)
        invariant(len(infos) == len(kept_pairs), "one transaction info per kept transaction")
        kept = tuple(make_executed_transaction(base_version + 1 + index, txn, out, info)
                     for index, ((txn, out), info) in enumerate(zip(kept_pairs, infos)))
        return ExecutedBlock(block.id, block.parent_id, update.last_version, kept, dict(output.write_set),
                             update.state_root, update.accumulator_root, dict(update.state_nodes),
                             dict(update.accumulator_nodes), self.application.get_next_validator_set(output),
                             tuple(skipped), update.stale_state_nodes)

    def on_committed(self, blocks: Sequence[ExecutedBlock]) -> None:
        """Make the last committed block the new root; keep its executed descendants."""
        if not blocks:
            return
        last = blocks[-1]
        self.committed_version = last.last_version
        self.committed_state_root = last.state_root
        self.committed_accumulator_root = last.accumulator_root
        for executed in blocks:
            self.executed.pop(executed.block_id, None)
        self.root_ids = {last.block_id}
        # Forks that lost hang below no root any more: drop them (each holds a block's write set and tree nodes).
        self.executed = {block_id: executed for block_id, executed in self.executed.items()
                         if self.get_ancestry(executed.parent_id) is not None}
