"""Named limits shared across packages; every limit in the system is a named constant with its unit."""

from __future__ import annotations

# BCS decoding (diem-compat §3.1).
BCS_MAX_SEQUENCE_LENGTH = 2**31 - 1
BCS_MAX_VARIANT_INDEX = 2**32 - 1
BCS_MAX_CONTAINER_DEPTH = 500

# Transactions (diem-compat §4.2, Diem gas_schedule.rs defaults).
MAX_TRANSACTION_SIZE_BYTES = 4096
MAX_GAS_UNITS = 4_000_000
MIN_GAS_UNIT_PRICE = 0
MAX_GAS_UNIT_PRICE = 10_000

U64_MAX = 2**64 - 1
U128_MAX = 2**128 - 1

# MultiEd25519 (diem-compat §3.2).
MULTI_ED25519_MAX_KEYS = 32
MULTI_ED25519_BITMAP_LENGTH = 4

# Canonical msgpack for peer messages and stored records (primitives/codec.py).
CODEC_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
CODEC_MAX_BIN_BYTES = 8 * 1024 * 1024
CODEC_MAX_STR_BYTES = 1024 * 1024
CODEC_MAX_ARRAY_LENGTH = 1_000_000
CODEC_MAX_MAP_LENGTH = 100_000
CODEC_MAX_DEPTH = 64
