"""Fixtures from the pure modules: validator sets, certificates in the consensus format, and the RPC
tests' certified in-memory chain (tests.node.rpc.memory_ledger) with its genesis waypoint."""

from __future__ import annotations

from primitives.certified.domains import COMMIT_VOTE_DOMAIN, compute_signing_bytes
from primitives.certified.ledger_info import compute_genesis_hash
from primitives.certified.ledger_info import EpochChangeProof, LedgerInfo, LedgerInfoWithSignatures
from primitives.certified.validators import ValidatorInfo, ValidatorSet
from primitives.keys import PrivateKey
from tests.node.rpc.memory_ledger import CHAIN_ID, MemoryLedger


def make_validators(name: bytes, count: int = 4, power: int = 10) -> tuple[ValidatorSet, dict[bytes, PrivateKey]]:
    """Return a validator set of count equal-power members and their private keys by address."""
    keys = [PrivateKey.from_seed_material(name + bytes([i])) for i in range(count)]
    by_address = {key.public_key().address(): key for key in keys}
    members = [ValidatorInfo(key.public_key().address(), key.public_key().data, key.public_key().data, power)
               for key in keys]
    return ValidatorSet.create(members), by_address


def sign_ledger_info(info: LedgerInfo, keys: dict[bytes, PrivateKey], chain_id: int = CHAIN_ID,
                     signers: list[bytes] | None = None) -> LedgerInfoWithSignatures:
    """Return info signed (commit-vote domain) by signers (default: every key), sorted by author."""
    message = compute_signing_bytes(COMMIT_VOTE_DOMAIN, chain_id, info)
    chosen = sorted(keys if signers is None else signers)
    return LedgerInfoWithSignatures(info, tuple((address, keys[address].sign(message)) for address in chosen))


class ProvenLedger(MemoryLedger):
    """The certified MemoryLedger, plus its genesis waypoint and the epoch-change proofs a node serves."""

    @property
    def genesis(self) -> LedgerInfoWithSignatures:
        return self.epoch_endings[0]

    @property
    def genesis_hash(self) -> bytes:
        return compute_genesis_hash(self.genesis)

    def get_latest_certificate(self) -> LedgerInfoWithSignatures:
        return self.ledger_infos[self.version]

    def get_epoch_change_proof(self, known_version: int) -> EpochChangeProof:
        latest_epoch = self.get_latest_certificate().ledger_info.epoch
        return EpochChangeProof(tuple(c for _, c in sorted(self.epoch_endings.items())
                                      if c.ledger_info.version >= known_version and c.ledger_info.epoch < latest_epoch),
                                False)
