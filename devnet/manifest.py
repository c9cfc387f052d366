"""The devnet manifest: how many validators, their stakes and ports, and where data lives."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from node.config import AdmissionConfig, RegulatorConfig

DEFAULT_VALIDATORS = 4
DEFAULT_BASE_PORT = 8080
DEFAULT_NETWORK_BASE_PORT = 6180
DEFAULT_STAKE_MICRO = 1_000_000_000_000
DEFAULT_DATA_DIR = Path(".devnet")
VALIDATORS_MAX = 32
PORT_MAX = 65_535


class Manifest(BaseModel):
    """A devnet: N validators on 127.0.0.1, node i's JSON-RPC on base_port + i."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chain_id: int = Field(default=2, ge=0, le=255)
    validators: int = Field(default=DEFAULT_VALIDATORS, ge=1, le=VALIDATORS_MAX)
    # Nodes laid out (keys, config, ports, listed as peers everywhere) but not in the genesis set: operators that
    # join later with `stablechain validator register` + `stake`. Node validators + j is standby node j.
    standby_nodes: int = Field(default=0, ge=0, le=VALIDATORS_MAX)
    # Proof of stake (docs/staking.md) in genesis: devnet.layout.DEVNET_STAKING; False = a fixed validator set.
    staking: bool = True
    base_port: int = Field(default=DEFAULT_BASE_PORT, ge=1, le=PORT_MAX)
    network_base_port: int = Field(default=DEFAULT_NETWORK_BASE_PORT, ge=1, le=PORT_MAX)
    stakes_micro: list[int] = []
    host: str = "127.0.0.1"
    # One address per node when the nodes run on hosts of their own (network-namespace tests); else `host`.
    hosts: list[str] = []
    faucet: bool = True
    round_timeout_ms: int = Field(default=1_000, gt=0)
    # Requests per second per client IP on every node's JSON-RPC (0 = unlimited, for local benchmarks).
    rpc_client_rate_per_s: int = Field(default=100, ge=0)
    # Compliance (docs/compliance.md), off by default: the [admission] section written into the configs of
    # admission_validators (None = every validator), and the [regulator] section written into those of
    # regulator_validators (None = every validator), validator i listening on regulator.listen_port + i.
    admission: AdmissionConfig | None = None
    admission_validators: list[int] | None = None
    regulator: RegulatorConfig | None = None
    regulator_validators: list[int] | None = None

    @model_validator(mode="after")
    def check_consistency(self) -> Manifest:
        if self.stakes_micro and len(self.stakes_micro) != self.validators:
            raise ValueError(f"stakes_micro lists {len(self.stakes_micro)} stakes for {self.validators} validators")
        if any(stake <= 0 for stake in self.stakes_micro):
            raise ValueError("every stake must be positive")
        if self.validators + self.standby_nodes > VALIDATORS_MAX:
            raise ValueError(f"at most {VALIDATORS_MAX} nodes (validators + standby_nodes)")
        nodes = self.get_node_count()
        if self.hosts and len(self.hosts) != nodes:
            raise ValueError(f"hosts lists {len(self.hosts)} addresses for {nodes} nodes")
        if self.base_port + nodes > PORT_MAX or self.network_base_port + nodes > PORT_MAX:
            raise ValueError("ports would exceed 65535")
        rpc_ports = set(range(self.base_port, self.base_port + nodes))
        network_ports = set(range(self.network_base_port, self.network_base_port + nodes))
        if rpc_ports & network_ports:
            raise ValueError("JSON-RPC and network port ranges overlap")
        for name in ("admission_validators", "regulator_validators"):
            if any(not 0 <= index < nodes for index in getattr(self, name) or []):
                raise ValueError(f"{name} lists a node outside 0..{nodes - 1}")
        if self.regulator is not None:
            if self.regulator.listen_port + nodes > PORT_MAX:
                raise ValueError("regulator ports would exceed 65535")
            regulator_ports = {self.get_regulator_port(i) for i in range(nodes)}
            if regulator_ports & (rpc_ports | network_ports):
                raise ValueError("the regulator port range overlaps the JSON-RPC or network ports")
        return self

    def get_node_count(self) -> int:
        """Return how many nodes are laid out: the genesis validators, then the standby nodes."""
        return self.validators + self.standby_nodes

    def is_genesis_validator(self, index: int) -> bool:
        """Return True iff node index is in the genesis validator set (not a standby node)."""
        return index < self.validators

    def get_stake_micro(self, index: int) -> int:
        """Return validator index's stake."""
        return self.stakes_micro[index] if self.stakes_micro else DEFAULT_STAKE_MICRO

    def get_rpc_port(self, index: int) -> int:
        """Return validator index's JSON-RPC port."""
        return self.base_port + index

    def get_network_port(self, index: int) -> int:
        """Return validator index's validator-network port."""
        return self.network_base_port + index

    def get_host(self, index: int) -> str:
        """Return the address node index listens on."""
        return self.hosts[index] if self.hosts else self.host

    def get_rpc_url(self, index: int) -> str:
        """Return validator index's JSON-RPC URL."""
        return f"http://{self.get_host(index)}:{self.get_rpc_port(index)}/v1"

    def is_admission_on(self, index: int) -> bool:
        """Return True iff validator index runs the manifest's admission hooks."""
        return self.admission is not None and (self.admission_validators is None or index in self.admission_validators)

    def is_regulator_on(self, index: int) -> bool:
        """Return True iff validator index serves the regulator API."""
        return self.regulator is not None and (self.regulator_validators is None or index in self.regulator_validators)

    def get_regulator_port(self, index: int) -> int:
        """Return validator index's regulator API port (meaningful only when a [regulator] section is set)."""
        base = self.regulator.listen_port if self.regulator is not None else 0
        return base + index

    def get_regulator_url(self, index: int) -> str:
        """Return validator index's regulator API URL."""
        return f"http://{self.host}:{self.get_regulator_port(index)}/v1"


def load_manifest(path: Path) -> Manifest:
    """Read a manifest TOML file."""
    with path.open("rb") as handle:
        return Manifest.model_validate(tomllib.load(handle))
