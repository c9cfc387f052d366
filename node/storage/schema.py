"""Every storage key of the node, built in one place with versioned prefixes."""

from __future__ import annotations

from primitives.errors import invariant

# Bump on any incompatible change of a key or value layout; old databases then refuse to open.
SCHEMA_VERSION = 1
# The schema version lives outside every versioned prefix so that any future reader can find it.
SCHEMA_VERSION_KEY = b"schema_version"

ADDRESS_LENGTH_BYTES = 16
EVENT_KEY_LENGTH_BYTES = 24
STATE_KEY_HASH_LENGTH_BYTES = 32
BLOCK_ID_LENGTH_BYTES = 32
U64_LENGTH_BYTES = 8
EVENT_INDEX_LENGTH_BYTES = 4

_V = b"v1/"
META_CHAIN_ID_KEY = _V + b"meta/chain_id"
META_GENESIS_HASH_KEY = _V + b"meta/genesis_hash"
META_LATEST_VERSION_KEY = _V + b"meta/latest_version"
META_LATEST_BLOCK_KEY = _V + b"meta/latest_block"
META_SYNC_INFO_KEY = _V + b"meta/sync_info"
# The oldest version whose transactions and events are kept, and the oldest whose state is (absent: 0). Pruning
# and fast sync (ADR 0018) raise them; a database without them is an archive from genesis.
META_OLDEST_LEDGER_VERSION_KEY = _V + b"meta/oldest_ledger_version"
META_OLDEST_STATE_VERSION_KEY = _V + b"meta/oldest_state_version"
SAFETY_DATA_KEY = _V + b"safety"

BLOCK_PREFIX = _V + b"blk/"
BLOCK_ID_PREFIX = _V + b"bid/"
PENDING_BLOCK_PREFIX = _V + b"pbk/"
QUORUM_CERT_PREFIX = _V + b"qc/"
COMMIT_CERT_PREFIX = _V + b"cc/"
LEDGER_INFO_PREFIX = _V + b"li/"
EPOCH_LEDGER_INFO_PREFIX = _V + b"lie/"
TRANSACTION_PREFIX = _V + b"txn/"
ACCOUNT_TRANSACTION_PREFIX = _V + b"acc/"
TRANSACTION_INFO_PREFIX = _V + b"tin/"
EVENT_BY_KEY_PREFIX = _V + b"evk/"
EVENT_BY_VERSION_PREFIX = _V + b"evv/"
STATE_NODE_PREFIX = _V + b"stn/"
ACCUMULATOR_NODE_PREFIX = _V + b"acn/"
STATE_VALUE_PREFIX = _V + b"stv/"
# What leader reputation reads of each committed block ([ELECT-3]), so a restart restores its history cheaply.
LEADER_HISTORY_PREFIX = _V + b"lh/"
# Tree nodes a later version replaced: (version that replaced them, node key) -> b"", for the pruner.
STALE_STATE_NODE_PREFIX = _V + b"sts/"
# What each committed block wrote: (epoch, round) -> [first version, last version, [[state key hash, value or None]]],
# so catch-up can serve certified outputs instead of blocks to re-execute (ADR 0020); pruned with the block.
BLOCK_WRITE_SET_PREFIX = _V + b"bws/"

ALL_PREFIXES = (
    BLOCK_PREFIX, BLOCK_ID_PREFIX, PENDING_BLOCK_PREFIX, QUORUM_CERT_PREFIX, COMMIT_CERT_PREFIX,
    LEDGER_INFO_PREFIX, EPOCH_LEDGER_INFO_PREFIX, TRANSACTION_PREFIX, ACCOUNT_TRANSACTION_PREFIX,
    TRANSACTION_INFO_PREFIX, EVENT_BY_KEY_PREFIX, EVENT_BY_VERSION_PREFIX, STATE_NODE_PREFIX,
    ACCUMULATOR_NODE_PREFIX, STATE_VALUE_PREFIX, LEADER_HISTORY_PREFIX, STALE_STATE_NODE_PREFIX,
    BLOCK_WRITE_SET_PREFIX,
)


def encode_u64(value: int) -> bytes:
    """Return value as 8 big-endian bytes, so that byte order is numeric order."""
    invariant(0 <= value < 2**64, f"u64 out of range: {value}")
    return value.to_bytes(U64_LENGTH_BYTES, "big")


def decode_u64(data: bytes) -> int:
    """Return the integer of 8 big-endian bytes."""
    invariant(len(data) == U64_LENGTH_BYTES, "a u64 key part has 8 bytes")
    return int.from_bytes(data, "big")


def _fixed(part: bytes, length: int, name: str) -> bytes:
    """Return part after checking its fixed length; fixed widths keep prefix scans exact."""
    invariant(len(part) == length, f"{name} must have {length} bytes, got {len(part)}")
    return part


def encode_epoch_round(epoch: int, round_number: int) -> bytes:
    """Return (epoch, round) as 16 bytes that sort in commit order (rounds restart every epoch)."""
    return encode_u64(epoch) + encode_u64(round_number)


def decode_epoch_round(data: bytes) -> tuple[int, int]:
    """Return the (epoch, round) of 16 bytes written by encode_epoch_round."""
    invariant(len(data) == 2 * U64_LENGTH_BYTES, "an (epoch, round) key part has 16 bytes")
    return decode_u64(data[:U64_LENGTH_BYTES]), decode_u64(data[U64_LENGTH_BYTES:])


def block_key(epoch: int, round_number: int) -> bytes:
    """Key of the committed block of (epoch, round)."""
    return BLOCK_PREFIX + encode_epoch_round(epoch, round_number)


def block_id_key(block_id: bytes) -> bytes:
    """Key of the index from a committed block id to its (epoch, round)."""
    return BLOCK_ID_PREFIX + _fixed(block_id, BLOCK_ID_LENGTH_BYTES, "block id")


def pending_block_key(block_id: bytes) -> bytes:
    """Key of a certified but not yet committed block, kept to rebuild the block tree."""
    return PENDING_BLOCK_PREFIX + _fixed(block_id, BLOCK_ID_LENGTH_BYTES, "block id")


def leader_history_key(epoch: int, round_number: int) -> bytes:
    """Key of the leader-reputation record of the committed block of (epoch, round)."""
    return LEADER_HISTORY_PREFIX + encode_epoch_round(epoch, round_number)


def block_write_set_key(epoch: int, round_number: int) -> bytes:
    """Key of the write set (and version range) of the committed block of (epoch, round)."""
    return BLOCK_WRITE_SET_PREFIX + encode_epoch_round(epoch, round_number)


def quorum_cert_key(epoch: int, round_number: int) -> bytes:
    """Key of the quorum certificate carried by the committed block of (epoch, round)."""
    return QUORUM_CERT_PREFIX + encode_epoch_round(epoch, round_number)


def commit_cert_key(epoch: int, round_number: int) -> bytes:
    """Key of the certificate that committed the block of (epoch, round)."""
    return COMMIT_CERT_PREFIX + encode_epoch_round(epoch, round_number)


def ledger_info_key(version: int) -> bytes:
    """Key of the signed ledger info whose last transaction is version."""
    return LEDGER_INFO_PREFIX + encode_u64(version)


def epoch_ledger_info_key(epoch: int) -> bytes:
    """Key of the signed ledger info that ended an epoch (the epoch-change proof)."""
    return EPOCH_LEDGER_INFO_PREFIX + encode_u64(epoch)


def transaction_key(version: int) -> bytes:
    """Key of the transaction at a version."""
    return TRANSACTION_PREFIX + encode_u64(version)


def account_transaction_prefix(sender: bytes) -> bytes:
    """Prefix of every (sender, sequence number) index entry of an account."""
    return ACCOUNT_TRANSACTION_PREFIX + _fixed(sender, ADDRESS_LENGTH_BYTES, "address")


def account_transaction_key(sender: bytes, sequence_number: int) -> bytes:
    """Key of the index from (sender, sequence number) to a version."""
    return account_transaction_prefix(sender) + encode_u64(sequence_number)


def transaction_info_key(version: int) -> bytes:
    """Key of the transaction info (status, gas, hashes) at a version."""
    return TRANSACTION_INFO_PREFIX + encode_u64(version)


def event_by_key_prefix(event_key: bytes) -> bytes:
    """Prefix of every event of one event stream."""
    return EVENT_BY_KEY_PREFIX + _fixed(event_key, EVENT_KEY_LENGTH_BYTES, "event key")


def event_by_key_key(event_key: bytes, sequence_number: int) -> bytes:
    """Key of the index from (event key, sequence number) to (version, index)."""
    return event_by_key_prefix(event_key) + encode_u64(sequence_number)


def event_by_version_prefix(version: int) -> bytes:
    """Prefix of every event emitted by the transaction at a version."""
    return EVENT_BY_VERSION_PREFIX + encode_u64(version)


def event_by_version_key(version: int, index: int) -> bytes:
    """Key of the index-th event emitted at a version (the event bytes live here)."""
    invariant(0 <= index < 2**32, f"event index out of range: {index}")
    return event_by_version_prefix(version) + index.to_bytes(EVENT_INDEX_LENGTH_BYTES, "big")


def state_node_key(node_key: bytes) -> bytes:
    """Key of a node of the authenticated state tree (the node key is opaque to storage)."""
    invariant(len(node_key) > 0, "a state node key is not empty")
    return STATE_NODE_PREFIX + node_key


def accumulator_node_key(position: int) -> bytes:
    """Key of a node of the transaction accumulator by its position."""
    return ACCUMULATOR_NODE_PREFIX + encode_u64(position)


def stale_state_node_key(stale_since_version: int, node_key: bytes) -> bytes:
    """Key of the entry: the tree node node_key is replaced from stale_since_version on."""
    invariant(len(node_key) > 0, "a state node key is not empty")
    return STALE_STATE_NODE_PREFIX + encode_u64(stale_since_version) + node_key


def state_value_prefix(state_key_hash: bytes) -> bytes:
    """Prefix of every version of one state value."""
    return STATE_VALUE_PREFIX + _fixed(state_key_hash, STATE_KEY_HASH_LENGTH_BYTES, "state key")


def state_value_key(state_key_hash: bytes, version: int) -> bytes:
    """Key of a state value as written at a version."""
    return state_value_prefix(state_key_hash) + encode_u64(version)


# ---- compliance indexes (node/compliance_index*.py), written in the commit's own batch ----------------
# Values are msgpack (primitives.codec) unless noted; every version and amount is big-endian so that
# byte order is numeric order and a prefix scan is a range query.

INDEX_PREFIX = _V + b"ix/"
INDEX_TRANSACTION_PREFIX = INDEX_PREFIX + b"txs/"
INDEX_ACCOUNT_PREFIX = INDEX_PREFIX + b"acc/"
INDEX_EVENT_TYPE_PREFIX = INDEX_PREFIX + b"evt/"
INDEX_AMOUNT_PREFIX = INDEX_PREFIX + b"amt/"
INDEX_TIME_PREFIX = INDEX_PREFIX + b"tim/"
INDEX_TRAVEL_RULE_PREFIX = INDEX_PREFIX + b"trv/"
INDEX_ACTION_PREFIX = INDEX_PREFIX + b"act/"
INDEX_PREFIXES = (
    INDEX_TRANSACTION_PREFIX, INDEX_ACCOUNT_PREFIX, INDEX_EVENT_TYPE_PREFIX, INDEX_AMOUNT_PREFIX, INDEX_TIME_PREFIX,
    INDEX_TRAVEL_RULE_PREFIX, INDEX_ACTION_PREFIX,
)
INDEX_CURRENCY_CODE_BYTES_MAX = 32
INDEX_KIND_MAX = 255
INDEX_AMOUNT_BUCKET_MAX = 64


def encode_event_position(version: int, index: int) -> bytes:
    """Return (version, event index) as 12 bytes that sort in emission order."""
    invariant(0 <= index < 2**32, f"event index out of range: {index}")
    return encode_u64(version) + index.to_bytes(EVENT_INDEX_LENGTH_BYTES, "big")


def index_transaction_key(version: int) -> bytes:
    """Key of the indexed summary of the transaction at a version (its parties and decoded events)."""
    return INDEX_TRANSACTION_PREFIX + encode_u64(version)


def index_account_prefix(address: bytes) -> bytes:
    """Prefix of every version that touched an account."""
    return INDEX_ACCOUNT_PREFIX + _fixed(address, ADDRESS_LENGTH_BYTES, "address")


def index_account_key(address: bytes, version: int) -> bytes:
    """Key of the entry: the transaction at version touched address (value: the roles bitmask)."""
    return index_account_prefix(address) + encode_u64(version)


def index_event_type_prefix(kind: int) -> bytes:
    """Prefix of every version that emitted an indexed event of one kind."""
    invariant(0 < kind <= INDEX_KIND_MAX, f"index kind out of range: {kind}")
    return INDEX_EVENT_TYPE_PREFIX + bytes([kind])


def index_event_type_key(kind: int, version: int) -> bytes:
    """Key of the entry: the transaction at version emitted an event of kind (empty value)."""
    return index_event_type_prefix(kind) + encode_u64(version)


def index_amount_currency_prefix(currency_code: bytes) -> bytes:
    """Prefix of every transfer of one currency (the code is length-prefixed so prefixes never overlap)."""
    invariant(0 < len(currency_code) <= INDEX_CURRENCY_CODE_BYTES_MAX, f"currency code length {len(currency_code)}")
    return INDEX_AMOUNT_PREFIX + bytes([len(currency_code)]) + currency_code


def index_amount_bucket_prefix(currency_code: bytes, bucket: int) -> bytes:
    """Prefix of the transfers of one currency whose amount has bucket = amount.bit_length()."""
    invariant(0 <= bucket <= INDEX_AMOUNT_BUCKET_MAX, f"amount bucket out of range: {bucket}")
    return index_amount_currency_prefix(currency_code) + bytes([bucket])


def index_amount_key(currency_code: bytes, amount: int, version: int, index: int) -> bytes:
    """Key of a transfer in its amount bucket, in version order inside the bucket (value: the amount)."""
    return index_amount_bucket_prefix(currency_code, amount.bit_length()) + encode_event_position(version, index)


def index_time_key(timestamp_us: int, first_version: int) -> bytes:
    """Key of a committed block's time and first version (value: its last version, 8 bytes)."""
    return INDEX_TIME_PREFIX + encode_u64(timestamp_us) + encode_u64(first_version)


def index_travel_rule_key(version: int, index: int) -> bytes:
    """Key of the travel-rule record of a payment (metadata, signature, parties, amount)."""
    return INDEX_TRAVEL_RULE_PREFIX + encode_event_position(version, index)


def index_action_key(version: int, index: int) -> bytes:
    """Key of a compliance action (freeze, wipe, pause, KYC or limits change, attestation...)."""
    return INDEX_ACTION_PREFIX + encode_event_position(version, index)
