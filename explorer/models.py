"""What the explorer's pages show, as frozen values: every field comes from a proven resource, a verified
transaction or a certified event (the page says against which ledger info)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Trust:
    """The certified ledger info a page was checked against, and the anchor the explorer trusts."""

    version: int
    epoch: int
    timestamp_us: int
    validator_count: int
    waypoint: str
    is_waypoint_pinned: bool


@dataclass(frozen=True, slots=True)
class BlockRow:
    """A block: its metadata transaction's version, round, proposer, time and how many user transactions follow."""

    version: int
    round: int
    proposer: str
    timestamp_us: int
    transaction_count: int


@dataclass(frozen=True, slots=True)
class Transfer:
    """One payment event: who paid whom how much (micro-units of currency), with its metadata as hex."""

    sender: str
    receiver: str
    amount_micro: int
    currency: str
    metadata: str


@dataclass(frozen=True, slots=True)
class TransactionRow:
    """A committed transaction in a list: kind, sender, function, status and its first payment, if any."""

    version: int
    hash: str
    kind: str
    sender: str | None
    sequence_number: int | None
    function: str | None
    status: str
    is_executed: bool
    timestamp_us: int | None
    transfer: Transfer | None


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event of a transaction: its stream, sequence number, type and decoded fields."""

    key: str
    sequence_number: int
    type: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class TransactionDetail:
    """A transaction page: its row, gas, expiry, arguments, events and the block it belongs to."""

    row: TransactionRow
    gas_used: int
    gas_unit_price: int | None
    max_gas_amount: int | None
    gas_currency: str | None
    expiration_timestamp_secs: int | None
    public_key: str | None
    type_arguments: tuple[str, ...]
    arguments: tuple[str, ...]
    events: tuple[EventRow, ...]
    block: BlockRow | None


@dataclass(frozen=True, slots=True)
class Recent:
    """The home page: the latest blocks and user transactions, and how far back the explorer looked."""

    blocks: tuple[BlockRow, ...]
    transactions: tuple[TransactionRow, ...]
    scanned_from_version: int
    trust: Trust


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment seen from one account: sent or received, the counterparty, amount and metadata."""

    version: int
    direction: str
    counterparty: str
    amount_micro: int
    currency: str
    metadata: str


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account page: role, names, frozen state, sequence number, balances and recent payments."""

    address: str
    identifier: str
    subaddress: str | None
    role: str
    human_name: str | None
    base_url: str | None
    parent_vasp: str | None
    diem_id_domains: tuple[str, ...]
    is_frozen: bool
    sequence_number: int
    balances: tuple[tuple[str, int], ...]
    payments: tuple[Payment, ...]
    sent_count: int
    received_count: int
    proven_version: int
    trust: Trust


@dataclass(frozen=True, slots=True)
class ValidatorRow:
    """A stake pool: operator, status, stake, voting power (staked and as certified) and proposals this epoch."""

    address: str
    name: str
    status: str
    stake_micro: int | None
    voting_power: int
    certified_power: int | None
    power_share_bps: int
    proposals: int | None


@dataclass(frozen=True, slots=True)
class ValidatorSetView:
    """The validators page: the epoch, when it started, and every registered pool (or, on a chain without
    staking, the certified validator set)."""

    epoch: int
    epoch_started_at_us: int | None
    rows: tuple[ValidatorRow, ...]
    total_power: int
    trust: Trust
