"""The deterministic state machine under the node (the Application) and its production instance over contracts/."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from consensus.validators import ValidatorInfo, ValidatorSet
from contracts.executor import BlockOutput, execute_block, validate_transaction
from contracts.framework import DIEM_ROOT, account, system
from contracts.vm.context import Context
from contracts.vm.gas import UnmeteredGas
from contracts.vm.ledger import Ledger
from contracts.vm.storage import BlockState, StateView
from primitives.types import AccountAddress, BlockMetadata, SignedTransaction


class Application(Protocol):
    """Validation, block execution and reconfiguration: what the runtime asks of the ledger's rules."""

    def validate_transaction(self, state_view: StateView, signed_txn: SignedTransaction, block_time_us: int) -> int:
        """Return 0 when the transaction may enter the mempool, else a Diem StatusCode number."""
        ...

    def get_sequence_number(self, state_view: StateView, address: AccountAddress) -> int:
        """Return an account's on-chain sequence number (0 when absent)."""
        ...

    def execute_block(self, state_view: StateView, metadata: BlockMetadata, signed_txns: list[SignedTransaction],
                      ledger: Ledger) -> BlockOutput:
        """Return the block's outputs, infos, roots and the new tree and accumulator nodes."""
        ...

    def get_next_validator_set(self, output: BlockOutput) -> ValidatorSet | None:
        """Return the validator set a block output installs (reconfiguration), else None."""
        ...


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
                      ledger: Ledger) -> BlockOutput:
        """Execute without re-verifying signatures (verified once at admission or on first sight)."""
        return execute_block(state_view, metadata, signed_txns, ledger=ledger, verify_signatures=False)

    def get_next_validator_set(self, output: BlockOutput) -> ValidatorSet | None:
        """Return the set a block installs by writing DiemSystem's ValidatorSet (members with stake only)."""
        return compute_installed_validator_set(output.write_set)


def compute_installed_validator_set(write_set: Mapping[bytes, bytes | None]) -> ValidatorSet | None:
    """Return the validator set a write set installs in DiemSystem's ValidatorSet (members with stake), if any."""
    data = write_set.get(system.VALIDATOR_SET.state_key(DIEM_ROOT))
    if data is None:
        return None
    members = [ValidatorInfo(info.addr, info.consensus_public_key, info.network_public_key, info.stake)
               for info in system.VALIDATOR_SET.decode(data).validators if info.stake > 0]
    return ValidatorSet.create(members) if members else None
