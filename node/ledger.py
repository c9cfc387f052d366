"""Read API over the committed ledger for the JSON-RPC methods; every read is capped at one snapshot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contracts.framework import block as block_module
from contracts.state import MerkleAccumulator
from contracts.vm.errors import explain
from contracts.vm.status import StatusCode, VMStatus, VMStatusKind
from node.execution import LayeredNodeStore, StoreStateView, decode_stored_info
from node.mempool import JSONRPC_ERROR_CODES, MempoolStatus, compute_error_message
from node.rpc.jsonrpc import INVALID_PARAMS, VM_VALIDATION_ERROR, LedgerSnapshot
from node.rpc.methods import SubmitResult
from node.rpc.store_proofs import CommitNotifier, StoreProofReader
from node.runtime import SubmitResult as RuntimeSubmitResult
from node.runtime import SubmitStatus
from node.storage import Store, TransactionRecord
from primitives.certified.ledger_info import LedgerInfoWithSignatures, decode_ledger_info
from primitives.types.events import ContractEvent
from primitives.types.ledger_transactions import Transaction
from primitives.types.names import AccountAddress
from primitives.types.transactions import SignedTransaction

# Readers page at most this many rows per store scan (the store's own cap).
READ_PAGE_MAX = 1000
DIEM_ROOT_ADDRESS = AccountAddress.DIEM_ROOT.value


@dataclass(frozen=True, slots=True)
class CommittedTransaction:
    """A committed transaction as the RPC views render it."""

    version: int
    transaction: Transaction
    status: VMStatus
    gas_used: int
    events: tuple[ContractEvent, ...]
    hash: bytes = b""


@dataclass(frozen=True, slots=True)
class CommittedEvent:
    """A committed event and the version that emitted it."""

    event: ContractEvent
    transaction_version: int


def make_status(kind: str, location: str | None, abort_code: int | None) -> VMStatus:
    """Rebuild the VM status of a committed transaction (explanations come from the abort tables)."""
    if kind == VMStatusKind.MOVE_ABORT and location is not None and abort_code is not None:
        return VMStatus(kind, location, abort_code, explain(location, abort_code))
    return VMStatus(kind, location, abort_code)


class Ledger(StoreProofReader):
    """The LedgerReader (v1 and v2: proofs, commit notifications) of node/rpc over the node's store."""

    def __init__(self, store: Store, chain_id: int) -> None:
        StoreProofReader.__init__(self, store)
        self.chain_id = chain_id
        self.notifier = CommitNotifier()

    def subscribe_commits(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call callback(latest version) after every commit (on the event loop); return the remover."""
        return self.notifier.subscribe_commits(callback)

    def notify_commit(self, version: int) -> None:
        """Tell the subscribers that version is committed (the service calls this after each commit)."""
        self.notifier.notify(version)

    # ---- snapshot ------------------------------------------------------------------------------

    def get_latest_certificate(self) -> LedgerInfoWithSignatures:
        """Return the certificate of the last committed block."""
        record = self.store.get_latest_ledger_info()
        if record is None:
            raise LookupError("the ledger is empty (genesis not applied)")
        return decode_ledger_info(record.ledger_info)

    def get_snapshot(self) -> LedgerSnapshot:
        """Return the latest committed version and its timestamp; requests read nothing above it."""
        info = self.get_latest_certificate().ledger_info
        return LedgerSnapshot(self.chain_id, info.version, info.timestamp_usecs)

    def get_ledger_info_with_signatures(self) -> bytes:
        """Return the stored bytes of the latest commit certificate."""
        record = self.store.get_latest_ledger_info()
        return b"" if record is None else record.ledger_info

    # ---- state ---------------------------------------------------------------------------------

    def get_state_view(self, version: int) -> StoreStateView:
        """Return the state as of version (state key -> bytes)."""
        return StoreStateView(self.store, version)

    def get_accumulator_root(self, version: int) -> bytes:
        """Return the transaction accumulator root after version."""
        latest = self.store.get_latest_version()
        if latest is None or version > latest:
            raise LookupError(f"version {version} is not committed")
        nodes = LayeredNodeStore(self.store.get_accumulator_node, [])
        return MerkleAccumulator(nodes, latest + 1).get_root(version + 1)

    def get_timestamp_usecs(self, version: int) -> int:
        """Return the ledger clock (DiemTimestamp) in force at version."""
        data = self.get_state_view(version).get(block_module.CLOCK.state_key(DIEM_ROOT_ADDRESS))
        return 0 if data is None else block_module.CLOCK.decode(data).microseconds

    # ---- transactions and events ---------------------------------------------------------------

    def get_transactions(self, start_version: int, limit: int) -> list[CommittedTransaction]:
        """Return up to limit committed transactions from start_version, ascending."""
        records = self.store.get_transactions(start_version, min(limit, READ_PAGE_MAX))
        return [self.make_committed(record) for record in records]

    def get_transaction_by_sequence(self, sender: bytes, sequence_number: int) -> CommittedTransaction | None:
        """Return the committed transaction of (sender, sequence number)."""
        record = self.store.get_account_transaction(sender, sequence_number)
        return None if record is None else self.make_committed(record)

    def get_transaction(self, version: int) -> CommittedTransaction | None:
        """Return the committed transaction at version."""
        record = self.store.get_transaction(version)
        return None if record is None else self.make_committed(record)

    def make_committed(self, record: TransactionRecord) -> CommittedTransaction:
        """Decode one stored transaction with its info and events."""
        info, (kind, location, abort_code) = decode_stored_info(record.info)
        events = tuple(ContractEvent.from_bcs(event.event) for event in self.store.get_events_by_version(record.version))
        return CommittedTransaction(record.version, Transaction.from_bcs(record.transaction),
                                    make_status(kind, location, abort_code), info.gas_used, events,
                                    info.transaction_hash)

    def get_events(self, event_key: bytes, start_sequence: int, limit: int) -> list[CommittedEvent]:
        """Return up to limit events of one stream from start_sequence, ascending."""
        records = self.store.get_events_by_key(event_key, start_sequence, min(limit, READ_PAGE_MAX))
        return [CommittedEvent(ContractEvent.from_bcs(record.event), record.version) for record in records]


# ---- submission ---------------------------------------------------------------------------------


def compute_submit_result(result: RuntimeSubmitResult, gas_unit_price: int) -> SubmitResult:
    """Map the runtime's admission outcome to Diem's JSON-RPC errors (diem-compat §1.2)."""
    if result.status == SubmitStatus.ACCEPTED:
        return SubmitResult(True)
    if result.status == SubmitStatus.MALFORMED:
        return SubmitResult(False, INVALID_PARAMS, "Invalid params for method 'submit'")
    if result.status in (SubmitStatus.INVALID_SIGNATURE, SubmitStatus.VM_REJECTED):
        code = StatusCode.INVALID_SIGNATURE if result.status == SubmitStatus.INVALID_SIGNATURE else result.vm_status_code
        name = StatusCode(code).name if code in StatusCode._value2member_map_ else str(code)
        return SubmitResult(False, VM_VALIDATION_ERROR, f"Server error: VM Validation error: {name}", int(code))
    status = result.mempool_status or MempoolStatus.MEMPOOL_FULL
    return SubmitResult(False, JSONRPC_ERROR_CODES.get(status, -32012), compute_error_message(status, gas_unit_price))


def make_submit(submit_signed: Callable[[SignedTransaction], RuntimeSubmitResult]) -> Callable[[SignedTransaction], SubmitResult]:
    """Return the RPC's submit callable over the runtime's submit path (the transaction stays decoded)."""

    def submit(signed: SignedTransaction) -> SubmitResult:
        return compute_submit_result(submit_signed(signed), signed.raw_txn.gas_unit_price)

    return submit


__all__ = ["CommittedEvent", "CommittedTransaction", "Ledger", "SubmitResult", "compute_submit_result",
           "make_submit"]
