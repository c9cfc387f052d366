"""The validator cluster of one run: addresses, keys, voting power, genesis epoch, core configs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from consensus.election import ReputationConfig
from consensus.epoch import make_genesis_epoch_state
from consensus.pacemaker import PacemakerConfig
from consensus.safety import SafetyRules
from consensus.state import CoreConfig
from consensus.types import EpochState
from contracts.framework.staking_epoch import compute_capped_powers
from primitives.certified.signatures import (
    Ed25519Scheme,
    Ed25519Signer,
    InsecureHashScheme,
    InsecureHashSigner,
    SignatureScheme,
    Signer,
)
from primitives.certified.validators import ValidatorInfo, ValidatorSet
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
    # Every identity (genesis validators, then joiners) with its raw stake as voting power.
    infos: tuple[ValidatorInfo, ...] = ()
    power_cap_bps: int = 0

    def make_set(self, members: Iterable[int]) -> ValidatorSet:
        """Return the set of these validators (indices into infos), with the framework's power cap."""
        return make_validator_set(self.infos, members, self.power_cap_bps)

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
    """Build deterministic keys (joiners included) and the genesis validator set for a run."""
    count = config.get_validator_count()
    addresses = tuple(
        sha3_256(b"sim-validator", index.to_bytes(2, "big"))[:ADDRESS_BYTES]
        for index in range(count)
    )
    signers: list[Signer] = []
    for index in range(count):
        material = b"sim-key" + index.to_bytes(2, "big")
        if config.real_crypto:
            signers.append(Ed25519Signer(PrivateKey.from_seed_material(material)))
        else:
            signers.append(InsecureHashSigner(sha3_256(material)))
    scheme: SignatureScheme = Ed25519Scheme() if config.real_crypto else InsecureHashScheme()
    stakes = config.get_stakes()
    infos = tuple(
        ValidatorInfo(addresses[i], signers[i].get_public_key(), signers[i].get_public_key(), stakes[i])
        for i in range(count)
    )
    reputation = ReputationConfig() if config.leader_reputation else None
    pacemaker = PacemakerConfig(base_timeout_ms=SIM_ROUND_TIMEOUT_MS, reputation=reputation)
    validators = make_validator_set(infos, range(config.validators), config.power_cap_bps)
    return Cluster(addresses, tuple(signers), scheme, validators, make_genesis_epoch_state(validators),
                   pacemaker, infos, config.power_cap_bps)


def make_validator_set(infos: tuple[ValidatorInfo, ...], members: Iterable[int], power_cap_bps: int) -> ValidatorSet:
    """Return the set of the chosen validators; with a cap, powers are the framework's capped stakes."""
    chosen = [infos[index] for index in members]
    if power_cap_bps:
        powers = compute_capped_powers([info.voting_power for info in chosen], power_cap_bps)
        chosen = [replace(info, voting_power=power) for info, power in zip(chosen, powers)]
    return ValidatorSet.create(chosen)
