"""User transactions: payloads, raw transactions, authenticators, signed transactions (diem-compat §3.2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from primitives.bcs import Deserializer, Serializer
from primitives.errors import DecodeError
from primitives.hashing import get_salt, hash_with_salt
from primitives.keys import (
    ED25519_PUBLIC_KEY_LENGTH,
    ED25519_SIGNATURE_LENGTH,
    SCHEME_ED25519,
    SCHEME_MULTI_ED25519,
    PrivateKey,
    compute_auth_key,
    is_valid_signature,
)
from primitives.multisig import MultiEd25519PublicKey, MultiEd25519Signature, is_valid_multi_signature
from primitives.types.bcs_type import BcsType, freeze_tuple, make_variant_error, serialize_item
from primitives.types.names import AccountAddress, ChainId
from primitives.types.scripts import Module, Script, ScriptFunction
from primitives.types.write_sets import WriteSetPayload

_PAYLOAD_CLASSES: tuple[type[BcsType], ...] = (WriteSetPayload, Script, Module, ScriptFunction)
_PAYLOAD_INDEX = {payload_class: i for i, payload_class in enumerate(_PAYLOAD_CLASSES)}


@dataclass(frozen=True, slots=True)
class TransactionPayload(BcsType):
    """TransactionPayload: 0 WriteSet | 1 Script | 2 Module | 3 ScriptFunction, chosen by value's class."""

    value: WriteSetPayload | Script | Module | ScriptFunction

    def __post_init__(self) -> None:
        if type(self.value) not in _PAYLOAD_INDEX:
            raise DecodeError(f"TransactionPayload cannot hold {type(self.value).__name__}")

    @property
    def variant(self) -> int:
        """The variant index (0 WriteSet, 1 Script, 2 Module, 3 ScriptFunction)."""
        return _PAYLOAD_INDEX[type(self.value)]

    def serialize(self, ser: Serializer) -> None:
        ser.variant_index(_PAYLOAD_INDEX[type(self.value)])
        self.value.serialize(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> TransactionPayload:
        index = de.variant_index()
        if index >= len(_PAYLOAD_CLASSES):
            raise make_variant_error("TransactionPayload", index, de)
        return cls(_PAYLOAD_CLASSES[index].deserialize(de))  # type: ignore[arg-type]


_RAW_TRANSACTION_SALT = get_salt("RawTransaction")
_RAW_TRANSACTION_WITH_DATA_SALT = get_salt("RawTransactionWithData")
TRANSACTION_SALT_NAME = "Transaction"


@dataclass(frozen=True, slots=True)
class RawTransaction(BcsType):
    """The unsigned transaction; its BCS is cached after the first encoding or decoding."""

    sender: AccountAddress
    sequence_number: int
    payload: TransactionPayload
    max_gas_amount: int
    gas_unit_price: int
    gas_currency_code: str
    expiration_timestamp_secs: int
    chain_id: ChainId
    _bcs: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def to_bcs(self) -> bytes:
        """Return the (cached) BCS encoding."""
        if self._bcs is None:
            ser = Serializer()
            self.serialize(ser)
            object.__setattr__(self, "_bcs", ser.output())
        return self._bcs  # type: ignore[return-value]

    def signing_message(self) -> bytes:
        """Return salt("RawTransaction") ‖ BCS(self), the bytes the sender signs."""
        return _RAW_TRANSACTION_SALT + self.to_bcs()

    def serialize(self, ser: Serializer) -> None:
        if self._bcs is not None:
            ser.fixed_bytes(self._bcs)
            return
        ser.fixed_bytes(self.sender.value)
        ser.u64(self.sequence_number)
        self.payload.serialize(ser)
        ser.u64(self.max_gas_amount)
        ser.u64(self.gas_unit_price)
        ser.str(self.gas_currency_code)
        ser.u64(self.expiration_timestamp_secs)
        ser.u8(self.chain_id.value)

    @classmethod
    def deserialize(cls, de: Deserializer) -> RawTransaction:
        start = de.position
        raw = cls(
            AccountAddress.deserialize(de), de.u64(), TransactionPayload.deserialize(de),
            de.u64(), de.u64(), de.str(), de.u64(), ChainId.deserialize(de),
        )
        # Strict BCS is canonical, so the input slice equals the re-encoding.
        object.__setattr__(raw, "_bcs", de.slice(start, de.position))
        return raw


def compute_multi_agent_signing_message(
    raw_txn: RawTransaction, secondary_signer_addresses: tuple[AccountAddress, ...]
) -> bytes:
    """Return salt("RawTransactionWithData") ‖ BCS(RawTransactionWithData::MultiAgent{raw, addrs})."""
    ser = Serializer()
    ser.variant_index(0)
    raw_txn.serialize(ser)
    ser.sequence(secondary_signer_addresses, serialize_item)
    return _RAW_TRANSACTION_WITH_DATA_SALT + ser.output()


@dataclass(frozen=True, slots=True)
class Ed25519Authenticator(BcsType):
    """A single Ed25519 public key (32 bytes) and signature (64 bytes)."""

    public_key: bytes
    signature: bytes

    SCHEME: ClassVar[int] = SCHEME_ED25519

    def __post_init__(self) -> None:
        if len(self.public_key) != ED25519_PUBLIC_KEY_LENGTH or len(self.signature) != ED25519_SIGNATURE_LENGTH:
            raise DecodeError("ed25519 authenticator needs a 32-byte key and a 64-byte signature")

    def authentication_key(self) -> bytes:
        """Return sha3_256(public_key ‖ 0x00)."""
        return compute_auth_key(self.public_key, SCHEME_ED25519)

    def verify(self, message: bytes) -> bool:
        """Return True iff the signature over message is valid (strict)."""
        return is_valid_signature(self.public_key, message, self.signature)

    def serialize(self, ser: Serializer) -> None:
        ser.bytes(self.public_key)
        ser.bytes(self.signature)

    @classmethod
    def deserialize(cls, de: Deserializer) -> Ed25519Authenticator:
        return cls(de.bytes(), de.bytes())


@dataclass(frozen=True, slots=True)
class MultiEd25519Authenticator(BcsType):
    """A MultiEd25519 public key and signature, in Diem's raw byte layouts (see multisig.py)."""

    public_key: bytes
    signature: bytes

    SCHEME: ClassVar[int] = SCHEME_MULTI_ED25519

    def __post_init__(self) -> None:
        MultiEd25519PublicKey.from_bytes(self.public_key)
        MultiEd25519Signature.from_bytes(self.signature)

    def authentication_key(self) -> bytes:
        """Return sha3_256(multi_public_key ‖ 0x01)."""
        return compute_auth_key(self.public_key, SCHEME_MULTI_ED25519)

    def verify(self, message: bytes) -> bool:
        """Return True iff at least threshold valid member signatures cover message."""
        return is_valid_multi_signature(self.public_key, message, self.signature)

    def serialize(self, ser: Serializer) -> None:
        ser.bytes(self.public_key)
        ser.bytes(self.signature)

    @classmethod
    def deserialize(cls, de: Deserializer) -> MultiEd25519Authenticator:
        return cls(de.bytes(), de.bytes())


_ACCOUNT_AUTH_CLASSES: tuple[type, ...] = (Ed25519Authenticator, MultiEd25519Authenticator)


@dataclass(frozen=True, slots=True)
class AccountAuthenticator(BcsType):
    """AccountAuthenticator: 0 Ed25519 | 1 MultiEd25519, chosen by value's class."""

    value: Ed25519Authenticator | MultiEd25519Authenticator

    def __post_init__(self) -> None:
        if type(self.value) not in _ACCOUNT_AUTH_CLASSES:
            raise DecodeError(f"AccountAuthenticator cannot hold {type(self.value).__name__}")

    def authentication_key(self) -> bytes:
        """Return the authentication key of the signer's public key."""
        return self.value.authentication_key()

    def verify(self, message: bytes) -> bool:
        """Return True iff the signature over message is valid."""
        return self.value.verify(message)

    def serialize(self, ser: Serializer) -> None:
        ser.variant_index(self.value.SCHEME)
        self.value.serialize(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> AccountAuthenticator:
        index = de.variant_index()
        if index >= len(_ACCOUNT_AUTH_CLASSES):
            raise make_variant_error("AccountAuthenticator", index, de)
        return cls(_ACCOUNT_AUTH_CLASSES[index].deserialize(de))


@dataclass(frozen=True, slots=True)
class MultiAgentAuthenticator(BcsType):
    """TransactionAuthenticator::MultiAgent: sender plus secondary signers (diem_version ≥ 3)."""

    sender: AccountAuthenticator
    secondary_signer_addresses: tuple[AccountAddress, ...]
    secondary_signers: tuple[AccountAuthenticator, ...]

    def __post_init__(self) -> None:
        freeze_tuple(self, "secondary_signer_addresses")
        freeze_tuple(self, "secondary_signers")

    def serialize(self, ser: Serializer) -> None:
        self.sender.serialize(ser)
        ser.sequence(self.secondary_signer_addresses, serialize_item)
        ser.sequence(self.secondary_signers, serialize_item)

    @classmethod
    def deserialize(cls, de: Deserializer) -> MultiAgentAuthenticator:
        sender = AccountAuthenticator.deserialize(de)
        addresses = tuple(de.sequence(AccountAddress.deserialize))
        return cls(sender, addresses, tuple(de.sequence(AccountAuthenticator.deserialize)))


_TXN_AUTH_CLASSES: tuple[type, ...] = (
    Ed25519Authenticator, MultiEd25519Authenticator, MultiAgentAuthenticator,
)
_TXN_AUTH_INDEX = {auth_class: i for i, auth_class in enumerate(_TXN_AUTH_CLASSES)}


@dataclass(frozen=True, slots=True)
class TransactionAuthenticator(BcsType):
    """TransactionAuthenticator: 0 Ed25519 | 1 MultiEd25519 | 2 MultiAgent, chosen by value's class."""

    value: Ed25519Authenticator | MultiEd25519Authenticator | MultiAgentAuthenticator

    def __post_init__(self) -> None:
        if type(self.value) not in _TXN_AUTH_INDEX:
            raise DecodeError(f"TransactionAuthenticator cannot hold {type(self.value).__name__}")

    @classmethod
    def ed25519(cls, public_key: bytes, signature: bytes) -> TransactionAuthenticator:
        """Build a single-key Ed25519 authenticator."""
        return cls(Ed25519Authenticator(public_key, signature))

    def authentication_key(self) -> bytes:
        """Return the sender's authentication key (sha3(pk ‖ scheme))."""
        value = self.value
        if type(value) is MultiAgentAuthenticator:
            return value.sender.authentication_key()
        return value.authentication_key()  # type: ignore[union-attr]

    def serialize(self, ser: Serializer) -> None:
        ser.variant_index(_TXN_AUTH_INDEX[type(self.value)])
        self.value.serialize(ser)

    @classmethod
    def deserialize(cls, de: Deserializer) -> TransactionAuthenticator:
        index = de.variant_index()
        if index >= len(_TXN_AUTH_CLASSES):
            raise make_variant_error("TransactionAuthenticator", index, de)
        return cls(_TXN_AUTH_CLASSES[index].deserialize(de))


@dataclass(frozen=True, slots=True)
class SignedTransaction(BcsType):
    """A raw transaction with its authenticator; BCS and hash are cached."""

    raw_txn: RawTransaction
    authenticator: TransactionAuthenticator
    _bcs: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _hash: bytes | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def sender(self) -> AccountAddress:
        """The sending account."""
        return self.raw_txn.sender

    @property
    def sequence_number(self) -> int:
        """The sender's sequence number."""
        return self.raw_txn.sequence_number

    @property
    def raw_bytes(self) -> bytes:
        """The signed transaction's BCS (cached; equal to the decoded input)."""
        return self.to_bcs()

    def to_bcs(self) -> bytes:
        """Return the (cached) BCS encoding."""
        if self._bcs is None:
            ser = Serializer()
            self.raw_txn.serialize(ser)
            self.authenticator.serialize(ser)
            object.__setattr__(self, "_bcs", ser.output())
        return self._bcs  # type: ignore[return-value]

    def hash(self) -> bytes:
        """Return sha3(salt("Transaction") ‖ 0x00 ‖ BCS(self)), the JSON-RPC transaction hash."""
        if self._hash is None:
            object.__setattr__(self, "_hash", hash_with_salt(TRANSACTION_SALT_NAME, b"\x00" + self.to_bcs()))
        return self._hash  # type: ignore[return-value]

    def authentication_key(self) -> bytes:
        """Return sha3(public_key ‖ scheme) of the sender's key, to compare with the account's."""
        return self.authenticator.authentication_key()

    def is_signature_valid(self) -> bool:
        """Return True iff every signature verifies strictly over its signing message."""
        auth = self.authenticator.value
        if type(auth) is MultiAgentAuthenticator:
            if len(auth.secondary_signer_addresses) != len(auth.secondary_signers):
                return False
            message = compute_multi_agent_signing_message(self.raw_txn, auth.secondary_signer_addresses)
            signers = (auth.sender, *auth.secondary_signers)
            return all(signer.verify(message) for signer in signers)
        return auth.verify(self.raw_txn.signing_message())  # type: ignore[union-attr]

    def serialize(self, ser: Serializer) -> None:
        ser.fixed_bytes(self.to_bcs())

    @classmethod
    def deserialize(cls, de: Deserializer) -> SignedTransaction:
        start = de.position
        signed = cls(RawTransaction.deserialize(de), TransactionAuthenticator.deserialize(de))
        object.__setattr__(signed, "_bcs", de.slice(start, de.position))
        return signed


def sign_raw_transaction(private_key: PrivateKey, raw_txn: RawTransaction) -> SignedTransaction:
    """Sign raw_txn with an Ed25519 key and return the SignedTransaction."""
    signature = private_key.sign(raw_txn.signing_message())
    return SignedTransaction(
        raw_txn, TransactionAuthenticator.ed25519(private_key.public_key().data, signature)
    )
