"""Node configuration: one TOML file read with pydantic-settings, validated with clear messages."""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

DEFAULT_CHAIN_ID = 2
PORT_MIN = 1
PORT_MAX = 65_535
ENV_PREFIX = "STABLECHAIN_"

_CONFIG_PATH: contextvars.ContextVar[Path | None] = contextvars.ContextVar("config_path", default=None)


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or invalid; the message says where."""


class Section(BaseModel):
    """A config section: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PeerConfig(Section):
    """Another validator this node connects to."""

    address: str = Field(description="account address of the validator, 32 hex characters")
    host: str = "127.0.0.1"
    port: int = Field(ge=PORT_MIN, le=PORT_MAX)
    network_public_key: str = Field(description="hex ed25519 network key, pinned")

    @field_validator("address")
    @classmethod
    def check_address(cls, value: str) -> str:
        return _check_hex(value, 16, "address")

    @field_validator("network_public_key")
    @classmethod
    def check_network_key(cls, value: str) -> str:
        return _check_hex(value, 32, "network_public_key")


class NetworkConfig(Section):
    """Validator-to-validator transport."""

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=6180, ge=PORT_MIN, le=PORT_MAX)
    peers: list[PeerConfig] = []
    frame_bytes_max: int = Field(default=16 * 1024 * 1024, gt=0)

    @model_validator(mode="after")
    def check_unique_peers(self) -> NetworkConfig:
        addresses = [peer.address for peer in self.peers]
        if len(addresses) != len(set(addresses)):
            raise ValueError("peers lists the same validator address twice")
        return self


class RpcConfig(Section):
    """The JSON-RPC front door."""

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8080, ge=PORT_MIN, le=PORT_MAX)
    body_bytes_max: int = Field(default=32 * 1024, gt=0)
    batch_size_max: int = Field(default=20, gt=0)
    page_size_max: int = Field(default=1000, gt=0)


class FaucetConfig(Section):
    """The devnet faucet (POST /mint on the JSON-RPC port); present only on test networks."""

    treasury_key_file: Path
    dealer_key_file: Path


class KeysConfig(Section):
    """Where the node's keys live; each key in its own file, optionally passphrase-encrypted."""

    consensus_key_file: Path
    network_key_file: Path
    passphrase_env: str | None = Field(
        default=None, description="name of the environment variable holding the key-file passphrase"
    )


class ConsensusConfig(Section):
    """Pacemaker and block limits."""

    round_timeout_ms: int = Field(default=1_000, gt=0)
    round_timeout_ms_max: int = Field(default=60_000, gt=0)
    block_transactions_max: int = Field(default=2_000, gt=0)

    @model_validator(mode="after")
    def check_timeouts(self) -> ConsensusConfig:
        if self.round_timeout_ms_max < self.round_timeout_ms:
            raise ValueError("round_timeout_ms_max must be at least round_timeout_ms")
        return self


class MempoolConfig(Section):
    """Mempool capacity."""

    capacity_total: int = Field(default=100_000, gt=0)
    capacity_per_account: int = Field(default=100, gt=0)


class NodeConfig(BaseSettings):
    """Everything a validator needs to start, read from TOML with STABLECHAIN_* overrides."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    chain_id: int = Field(default=DEFAULT_CHAIN_ID, ge=0, le=255)
    data_dir: Path
    genesis_file: Path
    keys: KeysConfig
    network: NetworkConfig = NetworkConfig()
    rpc: RpcConfig = RpcConfig()
    consensus: ConsensusConfig = ConsensusConfig()
    mempool: MempoolConfig = MempoolConfig()
    faucet: FaucetConfig | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then environment, then the TOML file.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_CONFIG_PATH.get())


def load_config(path: Path, **overrides: Any) -> NodeConfig:
    """Read and validate a TOML config; relative paths in it are resolved against its folder."""
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    token = _CONFIG_PATH.set(path)
    try:
        config = NodeConfig(**overrides)
    except ValidationError as error:
        raise ConfigError(format_validation_error(path, error)) from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: cannot read config: {error}") from None
    finally:
        _CONFIG_PATH.reset(token)
    return resolve_paths(config, path.parent)


def resolve_paths(config: NodeConfig, base: Path) -> NodeConfig:
    """Return the config with relative file paths made absolute against base."""
    def absolute(value: Path) -> Path:
        return value if value.is_absolute() else (base / value).resolve()

    keys = config.keys.model_copy(
        update={
            "consensus_key_file": absolute(config.keys.consensus_key_file),
            "network_key_file": absolute(config.keys.network_key_file),
        }
    )
    faucet = None if config.faucet is None else config.faucet.model_copy(
        update={
            "treasury_key_file": absolute(config.faucet.treasury_key_file),
            "dealer_key_file": absolute(config.faucet.dealer_key_file),
        }
    )
    return config.model_copy(
        update={"data_dir": absolute(config.data_dir), "genesis_file": absolute(config.genesis_file), "keys": keys,
                "faucet": faucet}
    )


def format_validation_error(path: Path, error: ValidationError) -> str:
    """Return one line per problem: file, dotted field path, what is wrong."""
    lines = [f"{path}: invalid configuration"]
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"  {location}: {problem['msg']}")
    return "\n".join(lines)


def _check_hex(value: str, length_bytes: int, name: str) -> str:
    try:
        decoded = bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"{name} must be hex") from None
    if len(decoded) != length_bytes:
        raise ValueError(f"{name} must be {length_bytes} bytes ({2 * length_bytes} hex characters)")
    return value.lower()
