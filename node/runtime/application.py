"""The production Application (contracts.application): the Move-like VM and framework of contracts/."""

from __future__ import annotations

from collections.abc import Mapping

from contracts.executor import execute_block, validate_transaction
from contracts.framework import DIEM_ROOT, account, system
from contracts.ledger_trees import LedgerTrees
from contracts.outputs import BlockOutput
from contracts.vm.context import Context
from contracts.vm.gas import UnmeteredGas
from contracts.vm.storage import BlockState, StateView
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.types.ledger_transactions import BlockMetadata
from primitives.types.names import AccountAddress
from primitives.types.transactions import SignedTransaction


class ContractsApplication:
    """The Move-like VM and framework of contracts/, as the node's Application."""

    def validate_transaction(self, state_view: StateView, signed_txn: SignedTransaction, block_time_us: int) -> int:
        """Run the submit-time checks; the mempool already verified the signature."""
        return int(validate_transaction(state_view, signed_txn, block_time_us, check_signature=False))

    def get_sequence_number(self, state_view: StateView, address: AccountAddress) -> int:
        """Return the DiemAccount sequence number, 0 when the account does not exist."""
        ctx = Context(BlockState(state_view), address.value, UnmeteredGas(), 0)
        if not account.exists_at(ctx, address.value):
            return 0
        return account.get_sequence_number(ctx, address.value)

    def execute_block(self, state_view: StateView, metadata: BlockMetadata, signed_txns: list[SignedTransaction],
                      trees: LedgerTrees) -> BlockOutput:
        """Execute without re-verifying signatures (verified once at admission or on first sight)."""
        return execute_block(state_view, metadata, signed_txns, trees=trees, verify_signatures=False)

    def get_next_validator_set(self, output: BlockOutput) -> ValidatorSet | None:
        """Return the set a block installs by writing DiemSystem's ValidatorSet (members with stake only)."""
        return compute_installed_validator_set(output.write_set)


def compute_installed_validator_set(write_set: Mapping[bytes, bytes | None]) -> ValidatorSet | None:
    """Return the validator set a write set installs in DiemSystem's ValidatorSet (members with stake), if any."""
    data = write_set.get(system.VALIDATOR_SET.state_key(DIEM_ROOT))
    if data is None:
        return None
    members = [ValidatorInfo(info.addr, info.consensus_public_key, info.network_public_key, info.stake,
                             tuple(info.network_addresses))
               for info in system.VALIDATOR_SET.decode(data).validators if info.stake > 0]
    return ValidatorSet.create(members) if members else None
