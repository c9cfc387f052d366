"""The wallet SDK's transaction builder: the framework's own builder, re-exported for SDK users."""

from __future__ import annotations

from contracts.transaction_builder import (  # noqa: F401 - re-exported API
    DEFAULT_CHAIN_ID,
    DEFAULT_EXPIRATION_S,
    DEFAULT_GAS_CURRENCY,
    DEFAULT_GAS_UNIT_PRICE,
    DEFAULT_MAX_GAS_AMOUNT,
    Account,
    compose_create_child_vasp,
    compose_create_designated_dealer,
    compose_create_parent_vasp,
    compose_diem_id_domain,
    compose_peer_to_peer,
    compose_add_recovery_rotation_capability,
    compose_create_recovery_address,
    compose_rotate_authentication_key,
    compose_rotate_authentication_key_with_recovery_address,
    compose_rotate_dual_attestation_info,
    compose_script_function,
    encode_bool,
    encode_bytes,
    encode_u64,
)
