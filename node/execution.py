"""Speculative execution of ordered blocks on top of the committed ledger, and the records a commit writes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from consensus.types import Block
from contracts.application import Application
from contracts.ledger_trees import LedgerTrees
from contracts.outputs import BlockOutput, is_retry
from contracts.state import MerkleAccumulator, SparseMerkleTree, TransactionInfo, compute_state_change_hash
from contracts.state.accumulator import compute_event_root
from contracts.state.hashes import compute_event_hashes
from contracts.vm.storage import StateView
from node.storage import BlockCommit, EventRecord, LedgerInfoRecord, StateValueWrite, Store, TransactionRecord
from primitives.certified.ledger_info import (
    LedgerInfo,
    LedgerInfoWithSignatures,
    decode_ledger_info,
    encode_ledger_info,
)
from primitives.certified.plain import from_plain, to_plain
from primitives.certified.validators import ValidatorSet
from primitives.codec import pack, unpack
from primitives.errors import DecodeError, invariant
from primitives.hashing import ZERO_HASH, hash_with_salt
from primitives.types.ledger_transactions import BlockMetadata, Transaction
from primitives.types.names import AccountAddress
from primitives.types.transactions import SignedTransaction
from primitives.types.write_sets import AccessPath, ChangeSet, WriteOp, WriteSet, WriteSetPayload

# Verdicts on payload transactions this node had not seen; cleared when full (re-verifying is safe).
SIGNATURE_CACHE_MAX_ENTRIES = 200_000
# Diem's VM-reserved address proposes blocks without an author.
VM_RESERVED_ADDRESS = AccountAddress(bytes(16))
GENESIS_VERSION = 0
GENESIS_EPOCH_BEFORE = 0  # the genesis ledger info ends "epoch 0" and announces epoch 1's validators
GENESIS_STATUS_CODE = 4001  # Diem's EXECUTED
STATUS_EXECUTED = "executed"


@dataclass(frozen=True, slots=True)
class ExecutedTransaction:
    """A kept transaction with its version, bytes, info, VM status and events."""

    version: int
    transaction: bytes  # BCS of Transaction
    info: TransactionInfo
    status: tuple[str, str | None, int | None]  # (kind, location, abort code)
    events: tuple[Any, ...]  # ContractEvent
    sender: bytes | None = None
    sequence_number: int | None = None

    def encode_info(self) -> bytes:
        """Return the stored info: BCS TransactionInfo plus the status detail the RPC views need."""
        return pack([self.info.to_bcs(), list(self.status)])


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

    def get_committed_pairs(self) -> list[tuple[AccountAddress, int]]:
        """Return (sender, sequence number) of every kept user transaction."""
        return [(AccountAddress(txn.sender), txn.sequence_number) for txn in self.transactions
                if txn.sender is not None and txn.sequence_number is not None]


# ---- views over the committed store plus speculative layers ---------------------------------------


class StoreStateView:
    """State values as of a committed version, read from the store."""

    def __init__(self, store: Store, version: int) -> None:
        self.store = store
        self.version = version

    def get(self, key: bytes) -> bytes | None:
        """Return the value of key at the view's version."""
        return self.store.get_state_value(key, self.version)


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


class LayeredNodeStore:
    """Nodes from speculative layers, then from the store; new nodes become the top layer."""

    def __init__(self, get_base: Callable[[Any], bytes | None], layers: Sequence[Mapping[Any, bytes]]) -> None:
        self.get_base = get_base
        self.layers = list(layers)

    def get(self, node_key: Any) -> bytes | None:
        """Return a node from the newest layer holding it, else from the store."""
        for layer in reversed(self.layers):
            node = layer.get(node_key)
            if node is not None:
                return node
        return self.get_base(node_key)

    def put_batch(self, nodes: Mapping[Any, bytes]) -> None:
        """Keep new nodes as the topmost layer."""
        self.layers.append(dict(nodes))


def _get_nothing(_key: Any) -> bytes | None:
    return None


# ---- execution --------------------------------------------------------------------------------------


def compute_payload_hash(payload_entry: bytes) -> bytes:
    """Return the hash of a SignedTransaction from its BCS, without decoding it."""
    return hash_with_salt("Transaction", b"\x00" + payload_entry)


def encode_status(status: Any) -> tuple[str, str | None, int | None]:
    """Return (kind, location, abort code) of a VMStatus-like value."""
    kind = getattr(status, "kind", STATUS_EXECUTED)
    return kind, getattr(status, "location", None), getattr(status, "abort_code", None)


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
        caller must compare the roots (and re-execute with checks on a mismatch: see catchup).
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
        # Discarded transactions leave the mempool; retried ones (the epoch ended earlier in this block) stay for the next.
        skipped.extend(txn.hash() for txn, out in zip(candidates, outputs) if not out.keep and not is_retry(out))
        update = output.get_ledger_update()
        infos = list(update.infos)
        invariant(len(infos) == len(kept_pairs), "one transaction info per kept transaction")
        kept = tuple(make_executed_transaction(base_version + 1 + index, txn, out, info)
                     for index, ((txn, out), info) in enumerate(zip(kept_pairs, infos)))
        return ExecutedBlock(block.id, block.parent_id, update.last_version, kept, dict(output.write_set),
                             update.state_root, update.accumulator_root, dict(update.state_nodes),
                             dict(update.accumulator_nodes), self.application.get_next_validator_set(output),
                             tuple(skipped))

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


def make_executed_transaction(version: int, transaction: Transaction, output: Any,
                              info: TransactionInfo) -> ExecutedTransaction:
    """Return a kept transaction's record at version."""
    events = tuple(output.events)
    status = encode_status(output.status)
    value = transaction.value
    if isinstance(value, SignedTransaction):
        return ExecutedTransaction(version, transaction.to_bcs(), info, status, events, value.sender.value,
                                   value.sequence_number)
    return ExecutedTransaction(version, transaction.to_bcs(), info, status, events)


# ---- what a commit writes ---------------------------------------------------------------------------


def encode_block(block: Block) -> bytes:
    """Return the stored bytes of a block."""
    return pack(to_plain(block))


def decode_block(data: bytes) -> Block:
    """Rebuild a stored block."""
    return from_plain(Block, unpack(data))


def make_block_commit(block: Block, executed: ExecutedBlock, certificate: LedgerInfoWithSignatures,
                      is_certified: bool) -> BlockCommit:
    """Return everything one committed block writes; is_certified marks the certificate's own block."""
    info = certificate.ledger_info
    records = tuple(TransactionRecord(txn.version, txn.transaction, txn.encode_info(), txn.sender,
                                      txn.sequence_number) for txn in executed.transactions)
    events = tuple(EventRecord(event.key.value, event.sequence_number, txn.version, index, event.to_bcs())
                   for txn in executed.transactions for index, event in enumerate(txn.events))
    values = tuple(StateValueWrite(key, executed.last_version, value) for key, value in executed.write_set.items())
    encoded = encode_ledger_info(certificate)
    record = LedgerInfoRecord(info.version, info.epoch, encoded, info.is_epoch_ending())
    quorum_cert = pack(to_plain(block.quorum_cert)) if block.quorum_cert is not None else b""
    return BlockCommit(block.round, block.id, encode_block(block), quorum_cert, encoded if is_certified else b"",
                       record, records, events, tuple(executed.tree_nodes.items()),
                       tuple(executed.accumulator_nodes.items()), values)


def make_ledger_info(block: Block, executed: ExecutedBlock) -> LedgerInfo:
    """Return the ledger info this node computed for an executed block."""
    return LedgerInfo(block.epoch, block.round, block.id, block.timestamp_usecs, executed.last_version,
                      executed.state_root, executed.accumulator_root, executed.next_validator_set)


# ---- genesis ----------------------------------------------------------------------------------------


def make_genesis_transaction(write_set: Mapping[bytes, bytes | None], events: Sequence[Any]) -> Transaction:
    """Return the genesis transaction: a direct write set (state keys stand in the access paths)."""
    entries = tuple((AccessPath(VM_RESERVED_ADDRESS, key), WriteOp(value)) for key, value in sorted(write_set.items()))
    return Transaction(WriteSetPayload(ChangeSet(WriteSet(entries), tuple(events))))


def make_genesis_commit(transaction: Transaction, write_set: Mapping[bytes, bytes | None], events: Sequence[Any],
                        validators: ValidatorSet) -> tuple[BlockCommit, LedgerInfoWithSignatures]:
    """Return the commit of version 0 and its ledger info (unsigned: trusted through the genesis file)."""
    writes = dict(write_set)
    state_root, tree_nodes = SparseMerkleTree(LayeredNodeStore(_get_nothing, [])).compute_update(
        GENESIS_VERSION, writes, None)
    event_root = compute_event_root(compute_event_hashes(tuple(events)))
    info = TransactionInfo(transaction.hash(), compute_state_change_hash(writes), event_root, state_root, 0,
                           GENESIS_STATUS_CODE)
    accumulator_store = LayeredNodeStore(_get_nothing, [])
    accumulator = MerkleAccumulator(accumulator_store, 0)
    accumulator_root = accumulator.append([info.hash()])
    ledger_info = LedgerInfo(GENESIS_EPOCH_BEFORE, 0, ZERO_HASH, 0, GENESIS_VERSION, state_root, accumulator_root,
                             validators)
    certificate = LedgerInfoWithSignatures(ledger_info, ())
    executed_txn = ExecutedTransaction(GENESIS_VERSION, transaction.to_bcs(), info, (STATUS_EXECUTED, None, None),
                                       tuple(events))
    accumulator_nodes = {position: node for layer in accumulator_store.layers for position, node in layer.items()}
    executed = ExecutedBlock(ZERO_HASH, ZERO_HASH, GENESIS_VERSION, (executed_txn,), writes, state_root,
                             accumulator_root, tree_nodes, accumulator_nodes, validators)
    commit = make_block_commit(_GENESIS_PLACEHOLDER_BLOCK, executed, certificate, True)
    return commit, certificate


def _make_genesis_placeholder() -> Block:
    """Return the stand-in block stored at version 0 (id ZERO_HASH: the parent of epoch 1's genesis)."""
    from primitives.certified.blocks import BlockData

    return Block(BlockData(GENESIS_EPOCH_BEFORE, 0, 0, b"", ZERO_HASH, None, ()), ZERO_HASH, b"")


_GENESIS_PLACEHOLDER_BLOCK = _make_genesis_placeholder()


# ---- the production application ---------------------------------------------------------------


class ContractsApplication:
    """The Move-like VM and framework of contracts/, as the node's Application."""

    def validate_transaction(self, state_view: StateView, signed_txn: SignedTransaction, block_time_us: int) -> int:
        """Run the submit-time checks; the mempool already verified the signature."""
        from contracts.executor import validate_transaction

        return int(validate_transaction(state_view, signed_txn, block_time_us, check_signature=False))

    def get_sequence_number(self, state_view: StateView, address: AccountAddress) -> int:
        """Return the DiemAccount sequence number, 0 when the account does not exist."""
        from contracts.framework import account
        from contracts.vm.context import Context
        from contracts.vm.gas import UnmeteredGas
        from contracts.vm.storage import BlockState

        ctx = Context(BlockState(state_view), address.value, UnmeteredGas(), 0)
        if not account.exists_at(ctx, address.value):
            return 0
        return account.get_sequence_number(ctx, address.value)

    def execute_block(self, state_view: StateView, metadata: BlockMetadata, signed_txns: list[SignedTransaction],
                      trees: LedgerTrees) -> BlockOutput:
        """Execute without re-verifying signatures (verified once at admission or on first sight)."""
        from contracts.executor import execute_block

        return execute_block(state_view, metadata, signed_txns, trees=trees, verify_signatures=False)

    def get_next_validator_set(self, output: BlockOutput) -> ValidatorSet | None:
        """Return the set a block installs by writing DiemSystem's ValidatorSet (members with stake only)."""
        from contracts.framework import DIEM_ROOT, system
        from primitives.certified.validators import ValidatorInfo

        data = output.write_set.get(system.VALIDATOR_SET.state_key(DIEM_ROOT))
        if data is None:
            return None
        members = [ValidatorInfo(info.addr, info.consensus_public_key, info.network_public_key, info.stake)
                   for info in system.VALIDATOR_SET.decode(data).validators if info.stake > 0]
        return ValidatorSet.create(members) if members else None


def decode_stored_info(data: bytes) -> tuple[TransactionInfo, tuple[str, str | None, int | None]]:
    """Return the TransactionInfo and the (kind, location, abort code) status stored for a version."""
    plain = unpack(data)
    if not isinstance(plain, list) or len(plain) != 2 or not isinstance(plain[1], list) or len(plain[1]) != 3:
        raise DecodeError("stored transaction info is [bcs, [kind, location, abort code]]")
    kind, location, abort_code = plain[1]
    return TransactionInfo.from_bcs(plain[0]), (kind, location, abort_code)


def decode_transaction_info_hash(data: bytes) -> bytes:
    """Return the transaction hash recorded in stored info bytes."""
    return decode_stored_info(data)[0].transaction_hash
