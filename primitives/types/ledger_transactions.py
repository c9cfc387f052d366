"""What the ledger records: block metadata and the Transaction enum of its entries (diem-compat §3.2)."""

from __future__ import annotations

from dataclasses import dataclass

from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError
from primitives.hashing import HASH_LENGTH, hash_with_salt
from primitives.types.bcs_type import BcsType, freeze_tuple, make_variant_error, serialize_item
from primitives.types.names import AccountAddress
from primitives.types.transactions import TRANSACTION_SALT_NAME, SignedTransaction
from primitives.types.write_sets import WriteSetPayload


@dataclass(frozen=True, slots=True)
class BlockMetadata(BcsType):
    """The per-block metadata transaction."""

    id: bytes
    round: int
    timestamp_usecs: int
    previous_block_votes: tuple[AccountAddress, ...]
    proposer: AccountAddress

    def __post_init__(self) -> None:
        if len(self.id) != HASH_LENGTH:
            raise DecodeError(f"block id must be {HASH_LENGTH} bytes, got {len(self.id)}")
        freeze_tuple(self, "previous_block_votes")

    def serialize(self, ser: Serializer) -> None:
        ser.bytes(self.id)
        ser.u64(self.round)
        ser.u64(self.timestamp_usecs)
        ser.sequence(self.previous_block_votes, serialize_item)
        ser.fixed_bytes(self.proposer.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> BlockMetadata:
        block_id, round_, timestamp_usecs = de.bytes(), de.u64(), de.u64()
        votes = tuple(de.sequence(AccountAddress.deserialize))
        return cls(block_id, round_, timestamp_usecs, votes, AccountAddress.deserialize(de))


_TXN_CLASSES: tuple[type, ...] = (SignedTransaction, WriteSetPayload, BlockMetadata)
_TXN_INDEX = {txn_class: i for i, txn_class in enumerate(_TXN_CLASSES)}


@dataclass(frozen=True, slots=True)
class Transaction(BcsType):
    """Transaction: 0 UserTransaction(SignedTransaction) | 1 GenesisTransaction(WriteSetPayload) | 2 BlockMetadata."""

    value: SignedTransaction | WriteSetPayload | BlockMetadata

    def __post_init__(self) -> None:
        if type(self.value) not in _TXN_INDEX:
            raise DecodeError(f"Transaction cannot hold {type(self.value).__name__}")

    @property
    def variant(self) -> int:
        """The variant index (0 user, 1 genesis, 2 block metadata)."""
        return _TXN_INDEX[type(self.value)]

    def hash(self) -> bytes:
        """Return sha3(salt("Transaction") ‖ BCS(self))."""
        if type(self.value) is SignedTransaction:
            return self.value.hash()
        return hash_with_salt(TRANSACTION_SALT_NAME, self.to_bcs())

    def serialize(self, ser: Serializer) -> None:
        ser.variant_index(_TXN_INDEX[type(self.value)])
        self.value.serialize(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> Transaction:
        index = de.variant_index()
        if index >= len(_TXN_CLASSES):
            raise make_variant_error("Transaction", index, de)
        return cls(_TXN_CLASSES[index].deserialize(de))
