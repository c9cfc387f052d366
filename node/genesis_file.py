"""The genesis file: the genesis config as JSON; every node rebuilds the same state from it.

Genesis is a pure function of its config (`contracts.genesis.build_genesis`), so shipping the
config is enough; the node checks the resulting hash against the one stored in its database.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from contracts.framework.staking import StakingParams
from contracts.genesis import CurrencyConfig, DealerConfig, GenesisConfig, ValidatorConfig

GENESIS_FILE_VERSION = 1
PUBLIC_KEY_LENGTH = 32
ADDRESS_LENGTH = 16


class GenesisFileError(ValueError):
    """The genesis file is missing or malformed; the message says which field."""


def encode_genesis_config(config: GenesisConfig) -> bytes:
    """Return the genesis config as canonical JSON (sorted keys, hex bytes)."""
    document = {
        "version": GENESIS_FILE_VERSION,
        "chain_id": config.chain_id,
        "diem_root_key": config.diem_root_key.hex(),
        "treasury_compliance_key": config.treasury_compliance_key.hex(),
        "currencies": [
            {"code": c.code, "scaling_factor": c.scaling_factor, "fractional_part": c.fractional_part,
             "to_xdx_rate_raw": c.to_xdx_rate_raw, "is_synthetic": c.is_synthetic, "can_mint": c.can_mint,
             "pays_fees": c.pays_fees}
            for c in config.currencies
        ],
        "dealers": [
            {"address": d.address.hex(), "public_key": d.public_key.hex(), "human_name": d.human_name.hex(),
             "initial_balance": d.initial_balance, "currency_code": d.currency_code}
            for d in config.dealers
        ],
        "validators": [
            {"address": v.address.hex(), "stake": v.stake, "consensus_public_key": v.consensus_public_key.hex(),
             "network_public_key": v.network_public_key.hex(), "account_public_key": v.account_public_key.hex(),
             "human_name": v.human_name.hex()}
            for v in config.validators
        ],
        "reserve_auditors": [{"address": a.hex(), "public_key": k.hex()} for a, k in config.reserve_auditors],
        "initial_reserves": {
            code: {"amount": amount, "report_hash": report_hash.hex(), "attested_at_us": attested_at_us}
            for code, (amount, report_hash, attested_at_us) in sorted(config.initial_reserves.items())
        },
        "max_reserve_age_us": config.max_reserve_age_us,
    }
    if config.staking is not None:  # absent = no staking: files written before staking keep their meaning
        document["staking"] = {item.name: getattr(config.staking, item.name) for item in fields(StakingParams)}
    return json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"


def decode_genesis_config(data: bytes) -> GenesisConfig:
    """Parse a genesis file; GenesisFileError names the offending field."""
    try:
        document = json.loads(data)
        if document.get("version") != GENESIS_FILE_VERSION:
            raise GenesisFileError(f"unsupported genesis file version {document.get('version')!r}")
        return GenesisConfig(
            diem_root_key=_hex(document["diem_root_key"], PUBLIC_KEY_LENGTH),
            treasury_compliance_key=_hex(document["treasury_compliance_key"], PUBLIC_KEY_LENGTH),
            chain_id=int(document["chain_id"]),
            currencies=tuple(CurrencyConfig(**item) for item in document["currencies"]),
            dealers=tuple(_decode_dealer(item) for item in document["dealers"]),
            validators=tuple(_decode_validator(item) for item in document["validators"]),
            reserve_auditors=tuple(
                (_hex(item["address"], ADDRESS_LENGTH), _hex(item["public_key"], PUBLIC_KEY_LENGTH))
                for item in document["reserve_auditors"]
            ),
            initial_reserves={
                code: (int(item["amount"]), _hex(item["report_hash"], 32), int(item["attested_at_us"]))
                for code, item in document["initial_reserves"].items()
            },
            max_reserve_age_us=int(document["max_reserve_age_us"]),
            staking=_decode_staking(document.get("staking")),
        )
    except GenesisFileError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise GenesisFileError(f"malformed genesis file: {type(error).__name__}: {error}") from None


def _decode_dealer(item: dict[str, Any]) -> DealerConfig:
    return DealerConfig(
        address=_hex(item["address"], ADDRESS_LENGTH), public_key=_hex(item["public_key"], PUBLIC_KEY_LENGTH),
        human_name=bytes.fromhex(item["human_name"]), initial_balance=int(item["initial_balance"]),
        currency_code=str(item["currency_code"]),
    )


def _decode_staking(item: dict[str, Any] | None) -> StakingParams | None:
    if item is None:
        return None
    params = StakingParams(**{entry.name: int(item[entry.name]) for entry in fields(StakingParams)})
    if not params.is_valid():
        raise ValueError("staking: inconsistent parameters (see StakingParams.is_valid)")
    return params


def _decode_validator(item: dict[str, Any]) -> ValidatorConfig:
    return ValidatorConfig(
        address=_hex(item["address"], ADDRESS_LENGTH), stake=int(item["stake"]),
        consensus_public_key=_hex(item["consensus_public_key"], PUBLIC_KEY_LENGTH),
        network_public_key=_hex(item["network_public_key"], PUBLIC_KEY_LENGTH),
        account_public_key=_hex(item["account_public_key"], PUBLIC_KEY_LENGTH),
        human_name=bytes.fromhex(item["human_name"]),
    )


def _hex(value: Any, length: int) -> bytes:
    data = bytes.fromhex(value)
    if len(data) != length:
        raise ValueError(f"expected {length} bytes, got {len(data)} in {value!r}")
    return data


def save_genesis_file(path: Path, config: GenesisConfig) -> None:
    """Write the genesis file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_genesis_config(config))


def load_genesis_file(path: Path) -> GenesisConfig:
    """Read the genesis file."""
    try:
        return decode_genesis_config(path.read_bytes())
    except OSError as error:
        raise GenesisFileError(f"{path}: cannot read genesis file: {error.strerror}") from None
