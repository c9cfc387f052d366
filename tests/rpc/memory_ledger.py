"""An in-memory ledger for RPC tests: genesis, then blocks run by the real executor, a snapshot per block."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.executor import execute_block, validate_transaction
from contracts.genesis import DealerConfig, GenesisConfig, build_genesis
from contracts.transaction_builder import Account
from contracts.vm.ledger import Ledger
from contracts.vm.status import EXECUTED, StatusCode
from contracts.vm.storage import InMemoryStateView
from node.rpc.jsonrpc import MEMPOOL_INVALID_UPDATE, VM_VALIDATION_ERROR, LedgerSnapshot
from node.rpc.methods import SubmitResult
from primitives.hashing import sha3_256
from primitives.keys import PrivateKey
from primitives.types import (
    AccountAddress,
    BlockMetadata,
    ChangeSet,
    SignedTransaction,
    Transaction,
    WriteSet,
    WriteSetPayload,
)

CHAIN_ID = 2
GENESIS_TIME_US = 1_700_000_000_000_000
BLOCK_INTERVAL_US = 1_000_000
DEALER_BALANCE_MICRO = 10**15


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


class MemoryLedger:
    """Implements node.rpc.methods.LedgerReader and a submit path over an in-memory chain."""

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
        self.state = dict(genesis.write_set)
        genesis_txn = Transaction(WriteSetPayload(ChangeSet(WriteSet(()), genesis.events)))
        self.transactions = [CommittedTransaction(0, genesis_txn, EXECUTED, 0, genesis.events)]
        self.snapshots = {0: dict(self.state)}
        self.timestamps = {0: GENESIS_TIME_US}
        self.roots = {0: sha3_256(b"genesis")}
        self.ledger = Ledger.in_memory()
        self.mempool: list[SignedTransaction] = []
        self.round = 0

    @property
    def version(self) -> int:
        return len(self.transactions) - 1

    def get_snapshot(self) -> LedgerSnapshot:
        return LedgerSnapshot(CHAIN_ID, self.version, self.timestamps[self.version])

    def get_state_view(self, version: int) -> InMemoryStateView:
        block_end = min(v for v in self.snapshots if v >= version)
        return InMemoryStateView(self.snapshots[block_end])

    def get_accumulator_root(self, version: int) -> bytes:
        return self.roots[min(v for v in self.roots if v >= version)]

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

    def submit(self, signed: SignedTransaction) -> SubmitResult:
        """Validate against the latest state and queue for the next block."""
        for queued in self.mempool:
            if queued.sender == signed.sender and queued.sequence_number == signed.sequence_number:
                if queued == signed:
                    return SubmitResult(True)
                return SubmitResult(False, MEMPOOL_INVALID_UPDATE, 'Server error: Mempool submission error: "Failed to update gas price to 0"')
        status = validate_transaction(self.get_state_view(self.version), signed, self.timestamps[self.version])
        if status is not StatusCode.ACCEPTED:
            return SubmitResult(False, VM_VALIDATION_ERROR, f"Server error: VM Validation error: {status.name}", int(status))
        self.mempool.append(signed)
        return SubmitResult(True)

    def commit_block(self) -> list[CommittedTransaction]:
        """Execute the queued transactions as one block and return what was committed."""
        self.round += 1
        timestamp = self.timestamps[self.version] + BLOCK_INTERVAL_US
        metadata = BlockMetadata(sha3_256(self.round.to_bytes(8, "little")), self.round, timestamp, (),
                                 AccountAddress.from_int(0x1234))
        queued, self.mempool = self.mempool, []
        output = execute_block(InMemoryStateView(self.state), metadata, queued, ledger=self.ledger)
        self.ledger.commit(output)
        committed = []
        for transaction, result in zip([Transaction(metadata), *(Transaction(t) for t in queued)], output.transactions):
            if not result.keep:
                continue
            item = CommittedTransaction(self.version + 1, transaction, result.status, result.gas_used, result.events)
            self.transactions.append(item)
            self.timestamps[item.version] = timestamp
            committed.append(item)
        for key, value in output.write_set.items():
            if value is None:
                self.state.pop(key, None)
            else:
                self.state[key] = value
        self.snapshots[self.version] = dict(self.state)
        self.roots[self.version] = output.accumulator_root
        return committed
