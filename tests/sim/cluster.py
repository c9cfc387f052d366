"""The validator cluster of one run: addresses, keys, voting power, genesis epoch, core configs."""

from __future__ import annotations

from dataclasses import dataclass

from consensus.epoch import make_genesis_epoch_state
from consensus.pacemaker import PacemakerConfig
from consensus.safety import SafetyRules
from consensus.signer import (
    Ed25519Scheme,
    Ed25519Signer,
    InsecureHashScheme,
    InsecureHashSigner,
    SignatureScheme,
    Signer,
)
from consensus.state import CoreConfig
from consensus.types import EpochState
from consensus.validators import ValidatorInfo, ValidatorSet
from primitives.hashing import sha3_256
from primitives.keys import PrivateKey
from tests.sim.config import SimConfig

SIM_CHAIN_ID = 2
ADDRESS_BYTES = 16
# Short rounds keep a seed cheap: the timer is 10x the mean network delay.
SIM_ROUND_TIMEOUT_MS = 400


@dataclass(frozen=True, slots=True)
class Cluster:
    """Everything shared by the validators of one run."""

    addresses: tuple[bytes, ...]
    signers: tuple[Signer, ...]
    scheme: SignatureScheme
    validators: ValidatorSet
    epoch_state: EpochState
    pacemaker: PacemakerConfig

    def get_core_config(self, validator: int, safety_rules: SafetyRules) -> CoreConfig:
        """Return the core configuration of one validator (twins share it)."""
        return CoreConfig(
            author=self.addresses[validator],
            signer=self.signers[validator],
            scheme=self.scheme,
            chain_id=SIM_CHAIN_ID,
            pacemaker=self.pacemaker,
            safety_rules=safety_rules,
        )

    def get_index(self) -> dict[bytes, int]:
        """Return the validator index of each address."""
        return {address: index for index, address in enumerate(self.addresses)}


def make_cluster(config: SimConfig) -> Cluster:
    """Build deterministic keys and the genesis validator set for a run."""
    addresses = tuple(
        sha3_256(b"sim-validator", index.to_bytes(2, "big"))[:ADDRESS_BYTES]
        for index in range(config.validators)
    )
    signers: list[Signer] = []
    for index in range(config.validators):
        material = b"sim-key" + index.to_bytes(2, "big")
        if config.real_crypto:
            signers.append(Ed25519Signer(PrivateKey.from_seed_material(material)))
        else:
            signers.append(InsecureHashSigner(sha3_256(material)))
    scheme: SignatureScheme = Ed25519Scheme() if config.real_crypto else InsecureHashScheme()
    stakes = config.get_stakes()
    members = [
        ValidatorInfo(addresses[i], signers[i].get_public_key(), signers[i].get_public_key(), stakes[i])
        for i in range(config.validators)
    ]
    validators = ValidatorSet.create(members)
    pacemaker = PacemakerConfig(base_timeout_ms=SIM_ROUND_TIMEOUT_MS)
    return Cluster(addresses, tuple(signers), scheme, validators,
                   make_genesis_epoch_state(validators), pacemaker)
