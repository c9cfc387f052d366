"""The deterministic state machine under a node: what the node asks of it, in the contracts' own types."""

from __future__ import annotations

from typing import Protocol

from contracts.ledger_trees import LedgerTrees
from contracts.outputs import BlockOutput
from contracts.vm.storage import StateView
from primitives.certified.validators import ValidatorSet
from primitives.types.ledger_transactions import BlockMetadata
from primitives.types.names import AccountAddress
from primitives.types.transactions import SignedTransaction


class Application(Protocol):
    """Validation, block execution and reconfiguration, as the node drives them (node.execution implements it)."""

    def validate_transaction(self, state_view: StateView, signed_txn: SignedTransaction, block_time_us: int) -> int:
        """Return 0 when the transaction may enter the mempool, else a Diem StatusCode number."""
        ...

    def get_sequence_number(self, state_view: StateView, address: AccountAddress) -> int:
        """Return an account's on-chain sequence number (0 when absent)."""
        ...

    def execute_block(self, state_view: StateView, metadata: BlockMetadata, signed_txns: list[SignedTransaction],
                      trees: LedgerTrees) -> BlockOutput:
        """Return the block's outputs with the update of trees (infos, roots and the new nodes)."""
        ...

    def get_next_validator_set(self, output: BlockOutput) -> ValidatorSet | None:
        """Return the validator set a block output installs (reconfiguration), else None."""
        ...
