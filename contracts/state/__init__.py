"""Authenticated ledger data structures: the versioned sparse Merkle tree, the accumulators, their proofs."""

from contracts.state.accumulator import MerkleAccumulator, compute_accumulator_root, compute_event_root
from contracts.state.accumulator_proof import (
    AccumulatorConsistencyProof,
    AccumulatorProof,
    verify_consistency,
    verify_inclusion,
)
from contracts.state.hashes import (
    ACCUMULATOR_PLACEHOLDER_HASH,
    SPARSE_MERKLE_PLACEHOLDER_HASH,
    compute_leaf_hash,
    compute_value_hash,
)
from contracts.state.ledger_proof import (
    AccountStateProof,
    TransactionInfoWithProof,
    get_account_state_with_proof,
    get_transaction_info_with_proof,
)
from contracts.state.node_store import (
    AccumulatorStore,
    InMemoryAccumulatorStore,
    InMemoryNodeStore,
    NodeStore,
    OverlayNodeStore,
    encode_position,
)
from contracts.state.smt import SparseMerkleTree, encode_node_key
from contracts.state.smt_proof import ProofLevel, SparseMerkleLeaf, SparseMerkleProof, verify_proof
from contracts.state.transaction_info import TransactionInfo, compute_state_change_hash

__all__ = [
    "ACCUMULATOR_PLACEHOLDER_HASH",
    "SPARSE_MERKLE_PLACEHOLDER_HASH",
    "AccountStateProof",
    "AccumulatorConsistencyProof",
    "AccumulatorProof",
    "AccumulatorStore",
    "InMemoryAccumulatorStore",
    "InMemoryNodeStore",
    "MerkleAccumulator",
    "NodeStore",
    "OverlayNodeStore",
    "ProofLevel",
    "SparseMerkleLeaf",
    "SparseMerkleProof",
    "SparseMerkleTree",
    "TransactionInfo",
    "TransactionInfoWithProof",
    "compute_accumulator_root",
    "compute_event_root",
    "compute_leaf_hash",
    "compute_state_change_hash",
    "compute_value_hash",
    "encode_node_key",
    "encode_position",
    "get_account_state_with_proof",
    "get_transaction_info_with_proof",
    "verify_consistency",
    "verify_inclusion",
    "verify_proof",
]
