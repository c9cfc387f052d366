"""Client-side verification of commit certificates, epoch changes and Merkle proofs.

The certificate format is consensus's (consensus/SPEC.md, ADR 0003), re-implemented here because the
wallet may not import consensus: a `LedgerInfo` is signed by more than 2/3 of its epoch's voting
power over `sha3(salt("stablechain::consensus::sign::CommitVote") || chain_id || msgpack(plain))`,
where `plain` lists the fields in declaration order. Epoch-ending ledger infos announce the next
validator set; the genesis ledger info (epoch 0, unsigned) is trusted by its hash (the waypoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.state import AccountStateProof, TransactionInfoWithProof
from primitives.codec import pack, signing_bytes, unpack
from primitives.errors import DecodeError
from primitives.hashing import HASH_LENGTH, hash_with_salt, sha3_256
from primitives.keys import is_valid_signature
from wallet.errors import VerificationError

CONSENSUS_DOMAIN_PREFIX = "stablechain::consensus::"
COMMIT_VOTE_DOMAIN = "CommitVote"
GENESIS_HASH_SALT = "GenesisLedgerInfo"
GENESIS_EPOCH = 0  # the genesis ledger info ends "epoch 0" and announces epoch 1's validators
MAX_EPOCH_PROOF_LENGTH = 100
MAX_VALIDATORS = 256
ADDRESS_LENGTH = 16
PUBLIC_KEY_LENGTH = 32
SIGNATURE_LENGTH = 64
U64_LIMIT = 2**64


@dataclass(frozen=True, slots=True)
class ValidatorInfo:
    """One validator: address, consensus and network public keys, voting power."""

    address: bytes
    consensus_public_key: bytes
    network_public_key: bytes
    voting_power: int


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    """Validators sorted by address; a quorum is floor(2 * total / 3) + 1 of voting power."""

    members: tuple[ValidatorInfo, ...]

    def get_total_power(self) -> int:
        """Return the sum of voting power."""
        return sum(member.voting_power for member in self.members)

    def get_quorum_power(self) -> int:
        """Return the smallest power strictly above 2/3 of the total."""
        return self.get_total_power() * 2 // 3 + 1

    def get_member(self, address: bytes) -> ValidatorInfo | None:
        """Return the member with this address, or None."""
        return next((member for member in self.members if member.address == address), None)


@dataclass(frozen=True, slots=True)
class LedgerInfo:
    """A certified ledger point: block identity, version, state root, accumulator root, next set."""

    epoch: int
    round: int
    block_id: bytes
    timestamp_usecs: int
    version: int
    state_root: bytes
    accumulator_root: bytes
    next_validator_set: ValidatorSet | None

    def is_epoch_ending(self) -> bool:
        """Return True iff this ledger info hands over to a new validator set."""
        return self.next_validator_set is not None


@dataclass(frozen=True, slots=True)
class LedgerInfoWithSignatures:
    """A ledger info with (author address, signature) pairs sorted by author."""

    ledger_info: LedgerInfo
    signatures: tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class EpochChangeProof:
    """Epoch-ending certificates in order, each signed by the set the previous one announced."""

    ledger_infos: tuple[LedgerInfoWithSignatures, ...]
    more: bool


# ---- plain (msgpack) forms, field order = declaration order ------------------------------------


def to_plain(value: Any) -> Any:
    """Return the plain nested-list form that consensus hashes and signs."""
    if isinstance(value, tuple):
        return [to_plain(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        return [to_plain(getattr(value, name)) for name in value.__dataclass_fields__]
    return value


def _need(condition: bool, what: str) -> None:
    if not condition:
        raise VerificationError(f"malformed certificate: {what}")


def _u64(value: Any, what: str) -> int:
    _need(type(value) is int and 0 <= value < U64_LIMIT, f"{what} must be a u64")
    return value


def _fixed(value: Any, length: int, what: str) -> bytes:
    _need(type(value) is bytes and len(value) == length, f"{what} must be {length} bytes")
    return value


def _fields(value: Any, count: int, what: str) -> list:
    _need(isinstance(value, list) and len(value) == count, f"{what} must have {count} fields")
    return value


def decode_validator_set(plain: Any) -> ValidatorSet:
    """Rebuild a validator set; members must be sorted by unique address with positive power."""
    (members,) = _fields(plain, 1, "validator set")
    _need(isinstance(members, list) and 0 < len(members) <= MAX_VALIDATORS, "validator count")
    decoded = []
    for item in members:
        address, consensus_key, network_key, power = _fields(item, 4, "validator")
        _need(type(network_key) is bytes, "network key must be bytes")
        decoded.append(ValidatorInfo(_fixed(address, ADDRESS_LENGTH, "validator address"),
                                     _fixed(consensus_key, PUBLIC_KEY_LENGTH, "consensus key"), network_key,
                                     _u64(power, "voting power")))
    addresses = [member.address for member in decoded]
    _need(addresses == sorted(set(addresses)), "validators must be sorted by unique address")
    _need(all(member.voting_power > 0 for member in decoded), "voting power must be positive")
    return ValidatorSet(tuple(decoded))


def decode_ledger_info(plain: Any) -> LedgerInfo:
    """Rebuild a ledger info from its plain form."""
    epoch, round_, block_id, timestamp, version, state_root, accumulator_root, next_set = _fields(plain, 8, "ledger info")
    return LedgerInfo(_u64(epoch, "epoch"), _u64(round_, "round"), _fixed(block_id, HASH_LENGTH, "block id"),
                      _u64(timestamp, "timestamp"), _u64(version, "version"),
                      _fixed(state_root, HASH_LENGTH, "state root"),
                      _fixed(accumulator_root, HASH_LENGTH, "accumulator root"),
                      None if next_set is None else decode_validator_set(next_set))


def decode_ledger_info_with_signatures(plain: Any) -> LedgerInfoWithSignatures:
    """Rebuild a certificate from its plain form."""
    info, signatures = _fields(plain, 2, "certificate")
    _need(isinstance(signatures, list) and len(signatures) <= MAX_VALIDATORS, "signature list")
    pairs = tuple((_fixed(author, ADDRESS_LENGTH, "signer"), _fixed(signature, SIGNATURE_LENGTH, "signature"))
                  for author, signature in (_fields(item, 2, "signature pair") for item in signatures))
    return LedgerInfoWithSignatures(decode_ledger_info(info), pairs)


def decode_epoch_change_proof(plain: Any) -> EpochChangeProof:
    """Rebuild an epoch-change proof from its plain form."""
    infos, more = _fields(plain, 2, "epoch change proof")
    _need(isinstance(infos, list) and len(infos) <= MAX_EPOCH_PROOF_LENGTH, "epoch proof length")
    _need(type(more) is bool, "epoch proof 'more' flag")
    return EpochChangeProof(tuple(decode_ledger_info_with_signatures(item) for item in infos), more)


def parse_packed(data: bytes, decoder: Any) -> Any:
    """Decode canonical msgpack bytes with decoder; VerificationError if malformed."""
    try:
        return decoder(unpack(data))
    except DecodeError as error:
        raise VerificationError(f"malformed certificate bytes: {error}") from None


def compute_commit_signing_bytes(info: LedgerInfo, chain_id: int) -> bytes:
    """Return the 32 bytes each validator signs for a commit vote on info."""
    return sha3_256(signing_bytes(CONSENSUS_DOMAIN_PREFIX + "sign::" + COMMIT_VOTE_DOMAIN, chain_id, to_plain(info)))


def compute_genesis_hash(genesis: LedgerInfoWithSignatures) -> bytes:
    """Return a chain's identity: hash_with_salt("GenesisLedgerInfo", msgpack(genesis certificate))."""
    return hash_with_salt(GENESIS_HASH_SALT, pack(to_plain(genesis)))


# ---- signatures, epochs, trusted state ---------------------------------------------------------


def verify_signatures(certificate: LedgerInfoWithSignatures, validators: ValidatorSet, chain_id: int) -> None:
    """Raise VerificationError unless members with more than 2/3 of power validly signed the ledger info."""
    authors = [author for author, _ in certificate.signatures]
    if authors != sorted(set(authors)):
        raise VerificationError("ledger info signers are not sorted and unique")
    message = compute_commit_signing_bytes(certificate.ledger_info, chain_id)
    power = 0
    for author, signature in certificate.signatures:
        member = validators.get_member(author)
        if member is None:
            raise VerificationError(f"ledger info signed by {author.hex()}, not a validator of the epoch")
        if not is_valid_signature(member.consensus_public_key, message, signature):
            raise VerificationError(f"bad ledger info signature from validator {author.hex()}")
        power += member.voting_power
    if power < validators.get_quorum_power():
        raise VerificationError(f"ledger info signed by {power} of {validators.get_total_power()} voting power, "
                                f"quorum is {validators.get_quorum_power()}")


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A trust anchor: the genesis hash of the chain (node.execution.compute_genesis_hash)."""

    genesis_hash: bytes

    @classmethod
    def from_hex(cls, text: str) -> Waypoint:
        """Parse a 64-hex-character genesis hash."""
        try:
            value = bytes.fromhex(text.strip().lower().removeprefix("0x"))
        except ValueError:
            raise VerificationError(f"waypoint {text!r} is not hex") from None
        if len(value) != HASH_LENGTH:
            raise VerificationError(f"waypoint must be {HASH_LENGTH} bytes")
        return cls(value)


@dataclass(frozen=True, slots=True)
class TrustedState:
    """What the client trusts: the epoch, its validator set, and the newest verified ledger info."""

    chain_id: int
    epoch: int
    validators: ValidatorSet | None  # None until the genesis ledger info matched the waypoint
    waypoint: Waypoint | None
    latest: LedgerInfo | None
    verified: frozenset[LedgerInfo] = frozenset()  # epoch-ending infos already proven (genesis included)

    @classmethod
    def from_waypoint(cls, waypoint: Waypoint, chain_id: int) -> TrustedState:
        """Trust only the genesis hash; the first epoch-change proof must start with the genesis info."""
        return cls(chain_id, GENESIS_EPOCH, None, waypoint, None)

    @classmethod
    def from_validators(cls, epoch: int, validators: ValidatorSet, chain_id: int) -> TrustedState:
        """Trust a validator set for epoch (e.g. the genesis set read from the genesis file)."""
        return cls(chain_id, epoch, validators, None, None)

    def verify_and_ratchet(self, proof: EpochChangeProof, certificate: LedgerInfoWithSignatures) -> TrustedState:
        """Follow proof, verify certificate against the resulting epoch; return the new trusted state."""
        if self.validators is None and certificate.ledger_info.epoch == GENESIS_EPOCH and not proof.ledger_infos:
            proof = EpochChangeProof((certificate,), False)  # a fresh chain: the latest info is the genesis one
        state = self._follow(proof)
        info = certificate.ledger_info
        if info not in state.verified:
            if info.epoch != state.epoch:
                raise VerificationError(f"ledger info of epoch {info.epoch} while the proofs reach epoch {state.epoch}")
            verify_signatures(certificate, state.validators, state.chain_id)  # type: ignore[arg-type]
        latest = info if state.latest is None or info.version >= state.latest.version else state.latest
        return TrustedState(state.chain_id, state.epoch, state.validators, state.waypoint, latest, state.verified)

    def _follow(self, proof: EpochChangeProof) -> TrustedState:
        if len(proof.ledger_infos) > MAX_EPOCH_PROOF_LENGTH:
            raise VerificationError("epoch change proof too long")
        epoch, validators, verified = self.epoch, self.validators, set(self.verified)
        for certificate in proof.ledger_infos:
            info = certificate.ledger_info
            if info.epoch < epoch or info in verified:
                continue  # history we already trust
            if info.epoch > epoch:
                raise VerificationError(f"epoch change proof skips from epoch {epoch} to {info.epoch}")
            if info.next_validator_set is None:
                raise VerificationError(f"epoch change proof holds a ledger info of epoch {epoch} that ends nothing")
            if validators is None:
                self._check_genesis(certificate)
            else:
                verify_signatures(certificate, validators, self.chain_id)
            epoch, validators = epoch + 1, info.next_validator_set
            verified.add(info)
        if validators is None:
            raise VerificationError("the epoch change proof does not start with the genesis ledger info")
        return TrustedState(self.chain_id, epoch, validators, self.waypoint, self.latest, frozenset(verified))

    def _check_genesis(self, certificate: LedgerInfoWithSignatures) -> None:
        if self.waypoint is None or compute_genesis_hash(certificate) != self.waypoint.genesis_hash:
            raise VerificationError("the genesis ledger info does not match the trusted waypoint")


# ---- Merkle proofs against a verified ledger info ------------------------------------------------


def verify_transaction_info(info: LedgerInfo, version: int, transaction_hash: bytes,
                            proof: TransactionInfoWithProof) -> None:
    """Raise unless the TransactionInfo of version is in info's accumulator and commits to transaction_hash."""
    if version > info.version:
        raise VerificationError(f"transaction version {version} is after the verified ledger version {info.version}")
    if proof.transaction_info.transaction_hash != transaction_hash:
        raise VerificationError(f"transaction at version {version} has hash {transaction_hash.hex()}, but the "
                                f"certified TransactionInfo commits to {proof.transaction_info.transaction_hash.hex()}")
    if not proof.verify(info.accumulator_root, version, info.version):
        raise VerificationError(f"the TransactionInfo of version {version} is not in the certified accumulator")


def verify_state_value(info: LedgerInfo, version: int, key: bytes, value: bytes | None,
                       proof: AccountStateProof) -> None:
    """Raise unless key holds value (None: absent) in the state at version, certified by info."""
    if version > info.version:
        raise VerificationError(f"state version {version} is after the verified ledger version {info.version}")
    if version == info.version and proof.transaction_info.state_root_hash not in (None, info.state_root):
        raise VerificationError("the state root differs from the certified ledger info's state root")
    if not proof.verify(info.accumulator_root, version, key, value, info.version):
        raise VerificationError(f"the state proof of key {key.hex()} at version {version} does not verify")
