"""Validator sets with stake-weighted voting power, and the quorum rule every certificate is checked by."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

from primitives.certified.rejections import CertificateFault, CertificateRejection
from primitives.certified.signatures import SignatureScheme
from primitives.errors import invariant
from primitives.hashing import sha3_256

MAX_VALIDATORS = 256


@dataclass(frozen=True, slots=True)
class ValidatorInfo:
    """One validator: account address, consensus and network public keys, voting power, where peers dial it."""

    address: bytes
    consensus_public_key: bytes
    network_public_key: bytes
    voting_power: int
    network_addresses: tuple[bytes, ...] = ()  # `HOST:PORT` in ASCII, from its on-chain config


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    """An ordered set of validators (sorted by address); quorum is more than 2/3 of total power."""

    members: tuple[ValidatorInfo, ...]

    def __post_init__(self) -> None:
        addresses = [member.address for member in self.members]
        invariant(0 < len(self.members) <= MAX_VALIDATORS, "validator set size out of bounds")
        invariant(addresses == sorted(set(addresses)), "validator addresses must be sorted, unique")
        invariant(all(m.voting_power > 0 for m in self.members), "voting power must be positive")

    @classmethod
    def create(cls, members: list[ValidatorInfo] | tuple[ValidatorInfo, ...]) -> ValidatorSet:
        """Build a set from members in any order."""
        return cls(tuple(sorted(members, key=lambda member: member.address)))

    def get_total_power(self) -> int:
        """Return the sum of all voting power."""
        return _total_power(self)

    def get_quorum_power(self) -> int:
        """Return the smallest power strictly above 2/3 of the total: floor(2*total/3) + 1."""
        return self.get_total_power() * 2 // 3 + 1

    def get_fault_power(self) -> int:
        """Return the smallest power that must include an honest validator: floor(total/3) + 1."""
        return self.get_total_power() // 3 + 1

    def get_member(self, address: bytes) -> ValidatorInfo | None:
        """Return the member with this address, or None."""
        return _index(self).get(address)

    def is_member(self, address: bytes) -> bool:
        """Return True iff address belongs to the set."""
        return address in _index(self)

    def get_power(self, address: bytes) -> int:
        """Return the member's voting power (0 for non-members)."""
        member = _index(self).get(address)
        return member.voting_power if member is not None else 0

    def get_power_of(self, addresses: object) -> int:
        """Return the total power of the distinct members among addresses."""
        return sum(self.get_power(address) for address in set(addresses))  # type: ignore[arg-type]

    def get_fingerprint(self) -> bytes:
        """Return a hash identifying the members, keys and powers (for caches keyed by set)."""
        entry = _FINGERPRINT_CACHE.get(id(self))
        if entry is None or entry[0] is not self:
            parts = [b"".join((m.address, m.consensus_public_key, m.voting_power.to_bytes(16, "big")))
                     for m in self.members]
            entry = (self, sha3_256(*parts))
            if len(_FINGERPRINT_CACHE) >= _CACHE_LIMIT:
                _FINGERPRINT_CACHE.clear()
            _FINGERPRINT_CACHE[id(self)] = entry
        return entry[1]

    def get_cumulative_powers(self) -> list[int]:
        """Return the running sums of voting power in member order (for power-weighted draws); never mutate it."""
        return _cumulative(self)


# Derived tables cached per set; sets are immutable so the caches never go stale.
_CACHE_LIMIT = 1024
# Keyed by id() with the set kept alive in the entry, so lookups never hash the whole set.
_INDEX_CACHE: dict[int, tuple[ValidatorSet, dict[bytes, ValidatorInfo]]] = {}
_CUMULATIVE_CACHE: dict[int, tuple[ValidatorSet, list[int]]] = {}
_FINGERPRINT_CACHE: dict[int, tuple[ValidatorSet, bytes]] = {}


def _index(validators: ValidatorSet) -> dict[bytes, ValidatorInfo]:
    entry = _INDEX_CACHE.get(id(validators))
    if entry is None or entry[0] is not validators:
        entry = (validators, {member.address: member for member in validators.members})
        if len(_INDEX_CACHE) >= _CACHE_LIMIT:
            _INDEX_CACHE.clear()
        _INDEX_CACHE[id(validators)] = entry
    return entry[1]


def _cumulative(validators: ValidatorSet) -> list[int]:
    entry = _CUMULATIVE_CACHE.get(id(validators))
    if entry is None or entry[0] is not validators:
        entry = (validators, list(accumulate(member.voting_power for member in validators.members)))
        if len(_CUMULATIVE_CACHE) >= _CACHE_LIMIT:
            _CUMULATIVE_CACHE.clear()
        _CUMULATIVE_CACHE[id(validators)] = entry
    return entry[1]


def _total_power(validators: ValidatorSet) -> int:
    return _cumulative(validators)[-1]


def check_signers(validators: ValidatorSet, authors: list[bytes], what: str) -> CertificateRejection | None:
    """Return why authors cannot certify what (unsorted, a non-member, too little power), else None."""
    # Cheap checks first: no signature is verified for a certificate that could not count anyway.
    if authors != sorted(set(authors)):
        return CertificateRejection(CertificateFault.UNSORTED_SIGNERS, f"{what} signers are not sorted and unique")
    for author in authors:
        if not validators.is_member(author):
            return CertificateRejection(CertificateFault.NOT_A_MEMBER,
                                        f"{what} signed by {author.hex()}, not a validator of the epoch")
    power, quorum = validators.get_power_of(authors), validators.get_quorum_power()
    if power < quorum:
        return CertificateRejection(CertificateFault.NO_QUORUM, f"{what} signed by {power} of "
                                    f"{validators.get_total_power()} voting power, quorum is {quorum}")
    return None


def check_signatures(validators: ValidatorSet, signatures: tuple[tuple[bytes, bytes], ...], message: bytes,
                     scheme: SignatureScheme, what: str) -> CertificateRejection | None:
    """Return the first (author, signature) pair that does not sign message under the member's key, else None."""
    for author, signature in signatures:
        member = validators.get_member(author)
        invariant(member is not None, "check_signers before check_signatures")
        if not scheme.verify(member.consensus_public_key, message, signature):  # type: ignore[union-attr]
            return CertificateRejection(CertificateFault.BAD_SIGNATURE,
                                        f"bad {what} signature from validator {author.hex()}")
    return None
