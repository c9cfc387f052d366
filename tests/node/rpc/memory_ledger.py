"""An in-memory ledger for RPC tests: genesis, then blocks run by the real executor, each certified by validators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contracts.executor import execute_block, validate_transaction
from contracts.genesis import DealerConfig, GenesisConfig, build_genesis
from contracts.ledger_trees import LedgerTrees
from contracts.state import AccumulatorConsistencyProof, AccumulatorProof, SparseMerkleProof, TransactionInfo
from contracts.transaction_builder import Account
from contracts.vm.status import EXECUTED, StatusCode
from contracts.vm.storage import InMemoryStateView
from node.genesis import make_genesis_commit, make_genesis_transaction
from node.mempool import MempoolStatus
from node.rpc.jsonrpc import LedgerSnapshot
from node.runtime.submit import SubmitResult, SubmitStatus
from node.storage.codecs import decode_stored_info
from primitives.certified.domains import COMMIT_VOTE_DOMAIN, compute_signing_bytes
from primitives.certified.ledger_info import LedgerInfo, LedgerInfoWithSignatures
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.hashing import sha3_256
from primitives.keys import PrivateKey
from primitives.types.ledger_transactions import BlockMetadata, Transaction
from primitives.types.names import AccountAddress
from primitives.types.transactions import SignedTransaction

CHAIN_ID = 2
GENESIS_TIME_US = 1_700_000_000_000_000
BLOCK_INTERVAL_US = 1_000_000
DEALER_BALANCE_MICRO = 10**15
VALIDATOR_COUNT = 4


@dataclass(frozen=True)
class CommittedTransaction:
    version: int
    transaction: Transaction
    status: object
    gas_used: int
    events: tuple


@dataclass(frozen=True)
class CommittedEvent:
    event: object
    transaction_version: int


FIXED_ADDRESSES = {"root": AccountAddress.DIEM_ROOT.value, "treasury": AccountAddress.TREASURY_COMPLIANCE.value,
                   "dealer": AccountAddress.TESTNET_DD.value}


def make_issuer_keys() -> dict[str, Account]:
    """Deterministic issuer keys for tests, at the issuer's fixed addresses."""
    return {name: Account(PrivateKey.from_seed_material(name.encode()), FIXED_ADDRESSES.get(name))
            for name in ("root", "treasury", "dealer", "auditor")}


def make_validators(seed: str) -> tuple[ValidatorSet, dict[bytes, PrivateKey]]:
    """Return a deterministic validator set of VALIDATOR_COUNT equal-power members and their consensus keys."""
    keys = {}
    members = []
    for index in range(VALIDATOR_COUNT):
        key = PrivateKey.from_seed_material(f"{seed}-{index}".encode())
        address = key.public_key().address()
        keys[address] = key
        members.append(ValidatorInfo(address, key.public_key().data, key.public_key().data, 1))
    return ValidatorSet.create(members), keys


class MemoryLedger:
    """Implements node.rpc's LedgerReader (v1 and v2) and a submit path over an in-memory chain."""

    chain_id = CHAIN_ID

    def __init__(self) -> None:
        keys = self.keys = make_issuer_keys()
        auditor = keys["auditor"].key.public_key()
        config = GenesisConfig(
            diem_root_key=keys["root"].key.public_key().data,
            treasury_compliance_key=keys["treasury"].key.public_key().data,
            dealers=(DealerConfig(AccountAddress.TESTNET_DD.value, keys["dealer"].key.public_key().data,
                                  initial_balance=DEALER_BALANCE_MICRO),),
            reserve_auditors=((auditor.address(), auditor.data),),
            initial_reserves={"XUS": (2**63, sha3_256(b"report"), GENESIS_TIME_US)},
        )
        genesis = build_genesis(config)
        self.validators, self.validator_keys = make_validators("epoch-1")
        self.epoch = 1
        self.state = dict(genesis.write_set)
        genesis_txn = make_genesis_transaction(genesis.write_set, genesis.events)
        commit, certificate = make_genesis_commit(genesis_txn, genesis.write_set, genesis.events, self.validators)
        self.trees = LedgerTrees.in_memory()
        self.trees.tree.store.put_batch(dict(commit.state_nodes))
        self.trees.tree.latest_version = 0
        self.trees.accumulator.store.put_batch(dict(commit.accumulator_nodes))
        self.trees.accumulator.num_leaves = 1
        self.trees.version = 0
        self.transactions = [CommittedTransaction(0, genesis_txn, EXECUTED, 0, tuple(genesis.events))]
        self.infos = [decode_stored_info(commit.transactions[0].info)[0]]
        self.snapshots = {0: dict(self.state)}
        self.timestamps = {0: GENESIS_TIME_US}
        self.ledger_infos = {0: certificate}
        self.epoch_endings = {0: certificate}
        self.mempool: list[SignedTransaction] = []
        self.round = 0
        self.commit_callbacks: list[Callable[[int], None]] = []

    @property
    def version(self) -> int:
        return len(self.transactions) - 1

    # ---- v1 ------------------------------------------------------------------------------------

    def get_snapshot(self) -> LedgerSnapshot:
        return LedgerSnapshot(CHAIN_ID, self.version, self.timestamps[self.version])

    def get_state_view(self, version: int) -> InMemoryStateView:
        block_end = min(v for v in self.snapshots if v >= version)
        return InMemoryStateView(self.snapshots[block_end])

    def get_accumulator_root(self, version: int) -> bytes:
        return self.trees.accumulator.get_root(version + 1)

    def get_timestamp_usecs(self, version: int) -> int:
        return self.timestamps[version]

    def get_transactions(self, start_version: int, limit: int) -> list[CommittedTransaction]:
        return self.transactions[start_version:start_version + limit]

    def get_transaction_by_sequence(self, sender: bytes, sequence_number: int) -> CommittedTransaction | None:
        for committed in self.transactions:
            value = committed.transaction.value
            if isinstance(value, SignedTransaction) and value.sender.value == sender and value.sequence_number == sequence_number:
                return committed
        return None

    def get_events(self, event_key: bytes, start_sequence: int, limit: int) -> list[CommittedEvent]:
        found = [CommittedEvent(event, c.version) for c in self.transactions for event in c.events
                 if event.key.value == event_key and event.sequence_number >= start_sequence]
        return found[:limit]

    # ---- v2 (proofs, commit notifications) -----------------------------------------------------

    def get_ledger_info(self, version: int) -> LedgerInfoWithSignatures | None:
        return self.ledger_infos.get(version)

    def get_epoch_ending_ledger_info(self, epoch: int) -> LedgerInfoWithSignatures | None:
        return self.epoch_endings.get(epoch)

    def get_transaction_info(self, version: int) -> TransactionInfo | None:
        return self.infos[version] if 0 <= version < len(self.infos) else None

    def get_accumulator_proof(self, version: int, ledger_version: int) -> AccumulatorProof:
        return self.trees.accumulator.get_proof(version, ledger_version + 1)

    def get_accumulator_consistency_proof(self, old_num_leaves: int, new_num_leaves: int) -> AccumulatorConsistencyProof:
        return self.trees.accumulator.get_consistency_proof(old_num_leaves, new_num_leaves)

    def get_state_value_with_proof(self, state_key: bytes, version: int) -> tuple[bytes | None, SparseMerkleProof]:
        return self.trees.tree.get_with_proof(state_key, version)

    def subscribe_commits(self, callback: Callable[[int], None]) -> Callable[[], None]:
        self.commit_callbacks.append(callback)
        return lambda: self.commit_callbacks.remove(callback) if callback in self.commit_callbacks else None

    # ---- driving the chain ---------------------------------------------------------------------

    def submit(self, signed: SignedTransaction) -> SubmitResult:
        """Validate against the latest state and queue for the next block."""
        for queued in self.mempool:
            if queued.sender == signed.sender and queued.sequence_number == signed.sequence_number:
                if queued == signed:
                    return SubmitResult(SubmitStatus.ACCEPTED, signed.hash(), 0, MempoolStatus.ALREADY_PRESENT)
                return SubmitResult(SubmitStatus.MEMPOOL_REJECTED, signed.hash(), 0, MempoolStatus.INVALID_UPDATE)
        status = validate_transaction(self.get_state_view(self.version), signed, self.timestamps[self.version])
        if status is not StatusCode.ACCEPTED:
            return SubmitResult(SubmitStatus.VM_REJECTED, signed.hash(), int(status))
        self.mempool.append(signed)
        return SubmitResult(SubmitStatus.ACCEPTED, signed.hash(), 0, MempoolStatus.ACCEPTED)

    def commit_block(self, next_validators: ValidatorSet | None = None,
                     next_keys: dict[bytes, PrivateKey] | None = None) -> list[CommittedTransaction]:
        """Execute the queued transactions as one certified block; with next_validators it ends the epoch."""
        self.round += 1
        timestamp = self.timestamps[self.version] + BLOCK_INTERVAL_US
        block_id = sha3_256(self.round.to_bytes(8, "little"))
        metadata = BlockMetadata(block_id, self.round, timestamp, (), AccountAddress.from_int(0x1234))
        queued, self.mempool = self.mempool, []
        output = execute_block(InMemoryStateView(self.state), metadata, queued, trees=self.trees)
        update = output.get_ledger_update()
        self.trees.commit(update)
        committed = []
        kept = [(t, r) for t, r in zip([Transaction(metadata), *(Transaction(t) for t in queued)], output.transactions)
                if r.keep]
        for (transaction, result), info in zip(kept, update.infos):
            item = CommittedTransaction(self.version + 1, transaction, result.status, result.gas_used, result.events)
            self.transactions.append(item)
            self.infos.append(info)
            self.timestamps[item.version] = timestamp
            committed.append(item)
        for key, value in output.write_set.items():
            if value is None:
                self.state.pop(key, None)
            else:
                self.state[key] = value
        self.snapshots[self.version] = dict(self.state)
        info = LedgerInfo(self.epoch, self.round, block_id, timestamp, self.version, update.state_root,
                          update.accumulator_root, next_validators)
        certificate = self.sign(info)
        self.ledger_infos[self.version] = certificate
        if next_validators is not None:
            self.epoch_endings[self.epoch] = certificate
            self.epoch, self.validators = self.epoch + 1, next_validators
            self.validator_keys = next_keys or {}
        for callback in list(self.commit_callbacks):
            callback(self.version)
        return committed

    def sign(self, info: LedgerInfo) -> LedgerInfoWithSignatures:
        """Return info signed by every validator of the current epoch (a quorum)."""
        message = compute_signing_bytes(COMMIT_VOTE_DOMAIN, CHAIN_ID, info)
        signatures = tuple((address, self.validator_keys[address].sign(message))
                           for address in sorted(self.validator_keys))
        return LedgerInfoWithSignatures(info, signatures)

    def change_epoch(self, seed: str) -> ValidatorSet:
        """Commit an empty block that hands over to a fresh validator set, and return that set."""
        validators, keys = make_validators(seed)
        self.commit_block(validators, keys)
        return validators
