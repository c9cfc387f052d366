"""Proof bundles a wallet checks against a certified accumulator root: transaction info, then state."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.state.accumulator import MerkleAccumulator
from contracts.state.accumulator_proof import AccumulatorProof, verify_inclusion
from contracts.state.smt import SparseMerkleTree
from contracts.state.smt_proof import SparseMerkleProof, verify_proof
from contracts.state.transaction_info import TransactionInfo
from primitives.bcs import Deserializer, Serializer


def _resolve_leaves(version: int, ledger_version: int | None) -> int | None:
    """Return the accumulator size to check against, or None if the versions are inconsistent."""
    ledger = version if ledger_version is None else ledger_version
    if type(version) is not int or type(ledger) is not int or not 0 <= version <= ledger:
        return None
    return ledger + 1


@dataclass(frozen=True, slots=True)
class TransactionInfoWithProof:
    """A TransactionInfo and its inclusion proof in the ledger accumulator."""

    ledger_info_to_transaction_info_proof: AccumulatorProof
    transaction_info: TransactionInfo

    def verify(self, accumulator_root: bytes, version: int, ledger_version: int | None = None) -> bool:
        """Return whether transaction_info is leaf version of the accumulator of a ledger at ledger_version."""
        num_leaves = _resolve_leaves(version, ledger_version)
        if num_leaves is None:
            return False
        leaf = self.transaction_info.hash()
        return verify_inclusion(accumulator_root, leaf, version, num_leaves, self.ledger_info_to_transaction_info_proof)

    def serialize(self, serializer: Serializer) -> None:
        """Write BCS: accumulator proof, then transaction info."""
        self.ledger_info_to_transaction_info_proof.serialize(serializer)
        self.transaction_info.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> TransactionInfoWithProof:
        """Read a bundle written by serialize."""
        proof = AccumulatorProof.deserialize(deserializer)
        return cls(proof, TransactionInfo.deserialize(deserializer))

    def to_bcs(self) -> bytes:
        """Return the BCS bytes."""
        serializer = Serializer()
        self.serialize(serializer)
        return serializer.output()

    @classmethod
    def from_bcs(cls, data: bytes) -> TransactionInfoWithProof:
        """Decode, raising DecodeError on malformed bytes."""
        deserializer = Deserializer(data)
        bundle = cls.deserialize(deserializer)
        deserializer.finish()
        return bundle


@dataclass(frozen=True, slots=True)
class AccountStateProof:
    """Diem's AccountStateProof shape: accumulator proof, TransactionInfo at the version, then tree proof."""

    ledger_info_to_transaction_info_proof: AccumulatorProof
    transaction_info: TransactionInfo
    transaction_info_to_account_proof: SparseMerkleProof

    def verify(
        self,
        accumulator_root: bytes,
        version: int,
        key: bytes,
        value: bytes | None,
        ledger_version: int | None = None,
    ) -> bool:
        """Return whether key holds value (None: absent) at version, under a certified accumulator root."""
        state_root = self.transaction_info.state_root_hash
        if state_root is None:
            return False
        info = TransactionInfoWithProof(self.ledger_info_to_transaction_info_proof, self.transaction_info)
        if not info.verify(accumulator_root, version, ledger_version):
            return False
        return verify_proof(state_root, key, value, self.transaction_info_to_account_proof)

    def serialize(self, serializer: Serializer) -> None:
        """Write BCS: accumulator proof, transaction info, sparse Merkle proof."""
        self.ledger_info_to_transaction_info_proof.serialize(serializer)
        self.transaction_info.serialize(serializer)
        self.transaction_info_to_account_proof.serialize(serializer)

    @classmethod
    def deserialize(cls, deserializer: Deserializer) -> AccountStateProof:
        """Read a bundle written by serialize."""
        accumulator_proof = AccumulatorProof.deserialize(deserializer)
        info = TransactionInfo.deserialize(deserializer)
        return cls(accumulator_proof, info, SparseMerkleProof.deserialize(deserializer))

    def to_bcs(self) -> bytes:
        """Return the BCS bytes."""
        serializer = Serializer()
        self.serialize(serializer)
        return serializer.output()

    @classmethod
    def from_bcs(cls, data: bytes) -> AccountStateProof:
        """Decode, raising DecodeError on malformed bytes."""
        deserializer = Deserializer(data)
        bundle = cls.deserialize(deserializer)
        deserializer.finish()
        return bundle


def get_transaction_info_with_proof(
    accumulator: MerkleAccumulator, transaction_info: TransactionInfo, version: int, ledger_version: int
) -> TransactionInfoWithProof:
    """Return the bundle proving transaction_info (stored by the caller for version) against ledger_version."""
    proof = accumulator.get_proof(version, ledger_version + 1)
    return TransactionInfoWithProof(proof, transaction_info)


def get_account_state_with_proof(
    tree: SparseMerkleTree,
    accumulator: MerkleAccumulator,
    transaction_info: TransactionInfo,
    key: bytes,
    version: int,
    ledger_version: int,
) -> tuple[bytes | None, AccountStateProof]:
    """Return the value of key at version (a tree version, i.e. a block end) and its full proof."""
    value, tree_proof = tree.get_with_proof(key, version)
    accumulator_proof = accumulator.get_proof(version, ledger_version + 1)
    return value, AccountStateProof(accumulator_proof, transaction_info, tree_proof)
