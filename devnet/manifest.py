"""The devnet manifest: how many validators, their stakes and ports, and where data lives."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    base_port: int = Field(default=DEFAULT_BASE_PORT, ge=1, le=PORT_MAX)
    network_base_port: int = Field(default=DEFAULT_NETWORK_BASE_PORT, ge=1, le=PORT_MAX)
    stakes_micro: list[int] = []
    host: str = "127.0.0.1"
    faucet: bool = True
    round_timeout_ms: int = Field(default=1_000, gt=0)
    # Requests per second per client IP on every node's JSON-RPC (0 = unlimited, for local benchmarks).
    rpc_client_rate_per_s: int = Field(default=100, ge=0)

    @model_validator(mode="after")
    def check_consistency(self) -> Manifest:
        if self.stakes_micro and len(self.stakes_micro) != self.validators:
            raise ValueError(f"stakes_micro lists {len(self.stakes_micro)} stakes for {self.validators} validators")
        if any(stake <= 0 for stake in self.stakes_micro):
            raise ValueError("every stake must be positive")
        if self.base_port + self.validators > PORT_MAX or self.network_base_port + self.validators > PORT_MAX:
            raise ValueError("ports would exceed 65535")
        rpc_ports = set(range(self.base_port, self.base_port + self.validators))
        network_ports = set(range(self.network_base_port, self.network_base_port + self.validators))
        if rpc_ports & network_ports:
            raise ValueError("JSON-RPC and network port ranges overlap")
        return self

    def get_stake_micro(self, index: int) -> int:
        """Return validator index's stake."""
        return self.stakes_micro[index] if self.stakes_micro else DEFAULT_STAKE_MICRO

    def get_rpc_port(self, index: int) -> int:
        """Return validator index's JSON-RPC port."""
        return self.base_port + index

    def get_network_port(self, index: int) -> int:
        """Return validator index's validator-network port."""
        return self.network_base_port + index

    def get_rpc_url(self, index: int) -> str:
        """Return validator index's JSON-RPC URL."""
        return f"http://{self.host}:{self.get_rpc_port(index)}/v1"


def load_manifest(path: Path) -> Manifest:
    """Read a manifest TOML file."""
    with path.open("rb") as handle:
        return Manifest.model_validate(tomllib.load(handle))
