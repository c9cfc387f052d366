"""Node configuration: one TOML file read with pydantic-settings, validated with clear messages."""

from __future__ import annotations

import contextvars
import json
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from node.config_base import PORT_MAX, PORT_MIN, Section, check_hex
from node.config_compliance import (
    AdmissionConfig,
    AmountCapConfig,
    AmountCapsHookConfig,
    KycGateConfig,
    RegulatorConfig,
    RegulatorKeyConfig,
    SanctionsHookConfig,
    VelocityHookConfig,
    VelocityWindowConfig,
)
from node.runtime.wire import PEER_MESSAGE_BYTES_MAX
from node.seeds import parse_seed
from primitives.errors import invariant

# [NET-4] A frame carries one peer message with its encryption tag and envelopes; below this a node could not
# send its own largest message (a catch-up response or a block of the largest size), so it refuses to start.
PEER_FRAME_OVERHEAD_BYTES = 1024
PEER_FRAME_BYTES_MIN = PEER_MESSAGE_BYTES_MAX + PEER_FRAME_OVERHEAD_BYTES
PEER_FRAME_BYTES_DEFAULT = 16 * 1024 * 1024
invariant(PEER_FRAME_BYTES_DEFAULT >= PEER_FRAME_BYTES_MIN, "the default frame carries the largest message")

# The compliance sections live in node.config_compliance; every section is importable from here.
__all__ = ["AdmissionConfig", "AmountCapConfig", "AmountCapsHookConfig", "ConfigError", "KycGateConfig", "NodeConfig",
           "RegulatorConfig", "RegulatorKeyConfig", "SanctionsHookConfig", "VelocityHookConfig", "VelocityWindowConfig",
           "load_config"]

DEFAULT_CHAIN_ID = 2
# JSON-RPC limits (Diem's json_rpc_config.rs defaults); node/rpc applies them.
MAX_REQUEST_BODY_BYTES = 32 * 1024
MAX_BATCH_SIZE = 20
MAX_PAGE_SIZE = 1000
# Faucet defaults: one request may mint up to 3,000,000 XUS (the Diem SDK's test flows ask for up to that); a
# client IP may ask once a second on average, in bursts of 30 (an SDK test run creates a few dozen accounts).
FAUCET_AMOUNT_MAX_MICRO = 3_000_000 * 1_000_000
FAUCET_CLIENT_RATE_PER_S = 1.0
FAUCET_CLIENT_BURST = 30
ENV_PREFIX = "STABLECHAIN_"
ROLE_VALIDATOR = "validator"
ROLE_FULL = "full"
# Validators accept this many connections from full nodes by default (sync requests and transactions only).
FULL_NODE_CONNECTIONS_MAX = 16
WAYPOINT_HEX_LENGTH = 64
LOG_LEVELS = ("debug", "info", "warning", "error")

_CONFIG_PATH: contextvars.ContextVar[Path | None] = contextvars.ContextVar("config_path", default=None)


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or invalid; the message says where."""


class PeerConfig(Section):
    """Another validator this node connects to."""

    address: str = Field(description="account address of the validator, 32 hex characters")
    host: str = "127.0.0.1"
    port: int = Field(ge=PORT_MIN, le=PORT_MAX)
    network_public_key: str = Field(description="hex ed25519 network key, pinned")

    @field_validator("address")
    @classmethod
    def check_address(cls, value: str) -> str:
        return check_hex(value, 16, "address")

    @field_validator("network_public_key")
    @classmethod
    def check_network_key(cls, value: str) -> str:
        return check_hex(value, 32, "network_public_key")


class NetworkConfig(Section):
    """The authenticated transport: where this node listens, and whom it dials besides the on-chain set."""

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=6180, ge=PORT_MIN, le=PORT_MAX)
    seeds: list[str] = Field(default=[], description="NETWORK_PUBLIC_KEY@HOST:PORT of nodes to follow the chain from "
                             "(full nodes and nodes outside the set); validators are found from the on-chain set")
    peers: list[PeerConfig] = Field(default=[], description="where to dial validators whose on-chain config "
                                    "lists no address (chains from before addresses were on chain)")
    full_node_connections_max: int = Field(default=FULL_NODE_CONNECTIONS_MAX, ge=0,
                                           description="connections accepted from nodes outside the validator set")
    frame_bytes_max: int = Field(default=PEER_FRAME_BYTES_DEFAULT, ge=PEER_FRAME_BYTES_MIN,
                                 description="largest peer frame; at least the node's own largest message ([NET-4])")

    @field_validator("seeds")
    @classmethod
    def check_seeds(cls, value: list[str]) -> list[str]:
        for seed in value:
            if parse_seed(seed) is None:
                raise ValueError(f"seed {seed!r} is not NETWORK_PUBLIC_KEY@HOST:PORT (64 hex characters, then "
                                 "an address)")
        return value

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
    json_rpc: bool = Field(default=True, description="false: the port serves only /metrics, /-/healthy and /-/ready "
                           "(a validator that leaves wallets to full nodes)")
    body_bytes_max: int = Field(default=MAX_REQUEST_BODY_BYTES, gt=0)
    batch_size_max: int = Field(default=MAX_BATCH_SIZE, gt=0)
    page_size_max: int = Field(default=MAX_PAGE_SIZE, gt=0)
    client_rate_per_s: float = Field(default=100.0, ge=0, description="requests a client IP may make per second; 0 = unlimited")
    client_burst: int = Field(default=200, gt=0, description="requests a client IP may make at once")
    client_rate_exempt_hosts: list[str] = Field(default=[], description="client IPs never rate-limited (e.g. a benchmark)")
    stream_subscriptions_per_connection_max: int = Field(default=16, gt=0)
    stream_subscriptions_max: int = Field(default=1024, gt=0)
    stream_connections_max: int = Field(default=256, gt=0)
    stream_connections_per_client_max: int = Field(default=16, gt=0, description="WebSocket connections per client IP")
    connections_max: int = Field(default=1_024, gt=0, description="open connections of the listener; more are "
                                 "closed at once (the node keeps descriptors for storage and peers)")
    connections_per_client_max: int = Field(default=256, gt=0, description="open connections per client IP")


class FaucetConfig(Section):
    """The devnet faucet (POST /mint on the JSON-RPC port); present only on test networks."""

    treasury_key_file: Path
    dealer_key_file: Path
    amount_max_micro: int = Field(default=FAUCET_AMOUNT_MAX_MICRO, gt=0, description="the most one request may mint")
    client_rate_per_s: float = Field(default=FAUCET_CLIENT_RATE_PER_S, ge=0, description="mint requests a client IP may make per second; "
                                     "0 = unlimited; rpc.client_rate_exempt_hosts are never limited")
    client_burst: int = Field(default=FAUCET_CLIENT_BURST, gt=0, description="mint requests a client IP may make at once")


class KeysConfig(Section):
    """Where the node's keys live; each key in its own file, optionally passphrase-encrypted."""

    consensus_key_file: Path | None = Field(default=None, description="a validator's; a full node has none")
    network_key_file: Path
    account_key_file: Path | None = Field(
        default=None,
        description="the validator account's key: signs the evidence transactions this node submits and names "
        "the node's address when its consensus key is not in the validator set yet (a validator about to join)",
    )
    next_consensus_key_file: Path | None = Field(
        default=None,
        description="the key registered with `validator rotate-consensus-key`; may not exist yet: read when it "
        "appears (checked at every commit), used from the first epoch whose validator set lists it",
    )
    next_network_key_file: Path | None = Field(
        default=None,
        description="likewise for `validator rotate-network-key`: the Noise key switches at the epoch whose set "
        "lists it",
    )
    passphrase_env: str | None = Field(
        default=None, description="name of the environment variable holding the key-file passphrase"
    )


class ConsensusConfig(Section):
    """Pacemaker and block limits."""

    round_timeout_ms: int = Field(default=1_000, gt=0)
    round_timeout_ms_max: int = Field(default=60_000, gt=0)
    leader_reputation: bool = Field(
        default=True,
        description="elect leaders weighted by recent committed authorship, so crashed validators rarely lead "
        "(every validator of a network must use the same setting, or they disagree on leaders)",
    )
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
    sequence_window: int = Field(default=100, gt=0, description="how far ahead of its on-chain sequence number a "
                                 "sender may park transactions (Diem: 100)")
    expiration_horizon_s: int = Field(default=7 * 24 * 3600, gt=0, description="expirations further ahead are refused")
    parked_ttl_s: int = Field(default=600, gt=0, description="a transaction parked behind a gap is dropped after this")


class StorageConfig(Section):
    """[storage]: how a fresh node starts and how much history it keeps (ADR 0018; 0 keeps everything)."""

    fast_sync: bool = Field(default=False, description="a fresh node installs a verified state snapshot, not history")
    ledger_retention_versions: int = Field(default=0, ge=0, description="transactions and events kept (0: all)")
    state_retention_versions: int = Field(default=0, ge=0, description="state versions kept (0: all)")
    prune_batch_versions: int = Field(default=1_000, gt=0, description="versions pruned per background step")


class LogConfig(Section):
    """What `stablechain node start` logs, and how: JSON lines for machines, or a console renderer for people."""

    level: str = Field(default="info", pattern="^(debug|info|warning|error)$")
    format: str = Field(default="console", pattern="^(json|console)$")


class NodeConfig(BaseSettings):
    """Everything a validator needs to start, read from TOML with STABLECHAIN_* overrides."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    chain_id: int = Field(default=-1, ge=-1, le=255, description="the genesis file's when absent (-1)")
    role: str = Field(default=ROLE_VALIDATOR, pattern="^(validator|full)$")
    name: str = Field(default="", max_length=64, description="this node's name in logs")
    data_dir: Path
    genesis_file: Path
    waypoint: str | None = Field(default=None, description="the genesis hash (hex) this node must start from; a "
                                 "genesis file that does not match it is refused")
    keys: KeysConfig
    network: NetworkConfig = NetworkConfig()
    rpc: RpcConfig = RpcConfig()
    consensus: ConsensusConfig = ConsensusConfig()
    mempool: MempoolConfig = MempoolConfig()
    storage: StorageConfig = StorageConfig()
    faucet: FaucetConfig | None = None
    admission: AdmissionConfig = AdmissionConfig()
    regulator: RegulatorConfig | None = None
    log: LogConfig = LogConfig()

    @field_validator("waypoint")
    @classmethod
    def check_waypoint(cls, value: str | None) -> str | None:
        return None if value is None else check_hex(value, WAYPOINT_HEX_LENGTH // 2, "waypoint")

    @model_validator(mode="after")
    def check_role_keys(self) -> NodeConfig:
        if self.role == ROLE_VALIDATOR and self.keys.consensus_key_file is None:
            raise ValueError("a validator needs keys.consensus_key_file (role = \"full\" runs without one)")
        if self.faucet is not None and not self.rpc.json_rpc:
            raise ValueError("the faucet is served on the JSON-RPC port: [faucet] needs rpc.json_rpc = true")
        return self

    def is_full_node(self) -> bool:
        """Return True for a full node: no consensus key, follows the chain, never votes."""
        return self.role == ROLE_FULL

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
    config = resolve_paths(config, path.parent)
    return config if config.chain_id >= 0 else config.model_copy(update={"chain_id": read_genesis_chain_id(config)})


def read_genesis_chain_id(config: NodeConfig) -> int:
    """Return the chain id the config's genesis file names (a config written before genesis leaves it out).

    An unreadable genesis file gives the default here: loading genesis then refuses it with the reason.
    """
    try:
        chain_id = json.loads(config.genesis_file.read_bytes())["chain_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return DEFAULT_CHAIN_ID
    if type(chain_id) is not int or not 0 <= chain_id <= 255:
        raise ConfigError(f"{config.genesis_file}: chain_id {chain_id!r} is not a number from 0 to 255")
    return chain_id


def resolve_paths(config: NodeConfig, base: Path) -> NodeConfig:
    """Return the config with relative file paths made absolute against base."""
    def absolute(value: Path) -> Path:
        return value if value.is_absolute() else (base / value).resolve()

    keys = config.keys.model_copy(
        update={
            "network_key_file": absolute(config.keys.network_key_file),
            **{name: absolute(value) for name in ("consensus_key_file", "account_key_file", "next_consensus_key_file",
                                                  "next_network_key_file")
               if (value := getattr(config.keys, name)) is not None},
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
