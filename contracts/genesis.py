"""Genesis: the initial ledger state built deterministically from a config (same config -> same bytes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.framework import VM_RESERVED, account, block, currency, dual_attestation, roles, sliding_nonce, system
from contracts.framework import staking_epoch, transaction_fee
from contracts.framework.staking import BPS_DENOMINATOR, StakingParams
from contracts.outputs import to_contract_events
from contracts.scripts import SCRIPT_ALLOW_LIST
from contracts.vm import hooks
from contracts.vm.context import Context
from contracts.vm.gas import UnmeteredGas
from contracts.vm.storage import BlockState, InMemoryStateView
from primitives.hashing import sha3_256
from primitives.keys import compute_auth_key
from primitives.limits import U64_MAX
from primitives.types.events import ContractEvent

DEFAULT_CHAIN_ID = 2
FIXED_POINT32_ONE = 1 << 32
ROLE_RESERVE_AUDITOR = roles.ROLE_RESERVE_AUDITOR
NO_PERIODIC_EPOCHS = U64_MAX  # an epoch length that never elapses: epochs end only after a set change
# Staking as close to a chain without it as possible: epochs end only after a validator-set change and powers are
# the stakes (no cap); governance may change both later. (GenesisConfig.staking None: no staking at all.)
STAKING_WITHOUT_PERIODIC_EPOCHS = StakingParams(
    power_cap_bps=BPS_DENOMINATOR, epoch_blocks=NO_PERIODIC_EPOCHS, epoch_duration_us=NO_PERIODIC_EPOCHS,
)

@dataclass(frozen=True, slots=True)
class CurrencyConfig:
    """A currency registered at genesis."""

    code: str
    scaling_factor: int = 1_000_000
    fractional_part: int = 100
    to_xdx_rate_raw: int = FIXED_POINT32_ONE
    is_synthetic: bool = False
    can_mint: bool = True
    pays_fees: bool = False


@dataclass(frozen=True, slots=True)
class ValidatorConfig:
    """A validator: account address, stake, consensus and network keys."""

    address: bytes
    stake: int
    consensus_public_key: bytes
    network_public_key: bytes
    account_public_key: bytes
    human_name: bytes = b""
    network_addresses: tuple[bytes, ...] = ()  # `HOST:PORT` in ASCII, where peers dial it (on chain)


@dataclass(frozen=True, slots=True)
class DealerConfig:
    """A designated dealer created at genesis with an initial balance."""

    address: bytes
    public_key: bytes
    human_name: bytes = b"moneybags"
    initial_balance: int = 0
    currency_code: str = "XUS"


DEFAULT_CURRENCIES = (
    CurrencyConfig("XUS", fractional_part=100, pays_fees=True),
    CurrencyConfig("XDX", fractional_part=1000, is_synthetic=True, can_mint=False),
)


@dataclass(frozen=True, slots=True)
class GenesisConfig:
    """Everything genesis needs; keys are Ed25519 public keys (32 bytes)."""

    diem_root_key: bytes
    treasury_compliance_key: bytes
    chain_id: int = DEFAULT_CHAIN_ID
    currencies: tuple[CurrencyConfig, ...] = DEFAULT_CURRENCIES
    dealers: tuple[DealerConfig, ...] = ()
    validators: tuple[ValidatorConfig, ...] = ()
    reserve_auditors: tuple[tuple[bytes, bytes], ...] = ()
    initial_reserves: dict = field(default_factory=dict)
    max_reserve_age_us: int = 0
    staking: StakingParams | None = None  # None: no staking (fixed set, no stake minted); see ADR 0006


@dataclass(frozen=True, slots=True)
class GenesisOutput:
    """The genesis write set (state key -> bytes), its events and a state view holding it."""

    write_set: dict[bytes, bytes]
    events: tuple[ContractEvent, ...]
    state_view: InMemoryStateView

    def get_hash(self) -> bytes:
        """Return a digest of the write set and events (reproducibility checks)."""
        parts = [key + value for key, value in sorted(self.write_set.items())]
        return sha3_256(*parts, *(event.to_bcs() for event in self.events))


def _auth_key(public_key: bytes) -> bytes:
    return compute_auth_key(public_key, 0)


def _register_currencies(ctx: Context, dr, tc, config: GenesisConfig) -> None:  # noqa: ANN001
    for entry in config.currencies:
        ccy = currency.tag_of_code(entry.code.encode("ascii"))
        currency.register_currency(
            ctx, dr, tc, ccy, entry.to_xdx_rate_raw, entry.is_synthetic, entry.scaling_factor, entry.fractional_part
        )
        if not entry.can_mint:
            currency.update_minting_ability(ctx, tc, ccy, False)
        if entry.pays_fees:
            transaction_fee.add_txn_fee_currency(ctx, tc, ccy)


def _initialize_compliance(ctx: Context, dr, tc, config: GenesisConfig) -> None:  # noqa: ANN001
    treasury = hooks.get_module("treasury_scripts")
    initialize = getattr(treasury, "initialize_compliance", None) if treasury is not None else None
    if initialize is not None:
        initialize(ctx, dr, tc, config)  # publishes every compliance resource, then calls reserves.initialize
    else:
        hooks.initialize_reserves(ctx, dr, config)


def _create_dealers(ctx: Context, tc, config: GenesisConfig) -> None:  # noqa: ANN001
    for dealer in config.dealers:
        ccy = currency.tag_of_code(dealer.currency_code.encode("ascii"))
        account.create_designated_dealer(ctx, tc, ccy, dealer.address, b"", dealer.human_name, False,
                                         _auth_key(dealer.public_key))
        if dealer.initial_balance:
            coin = currency.mint_with_capability(
                ctx, currency.borrow_mint_capability(ctx, tc, ccy), ccy, dealer.initial_balance
            )
            account.deposit(ctx, VM_RESERVED, dealer.address, coin, b"", b"")


def _run(ctx: Context, config: GenesisConfig) -> None:
    dr = account.create_diem_root_account(ctx, _auth_key(config.diem_root_key))
    system.initialize(ctx, dr, config.chain_id, SCRIPT_ALLOW_LIST)
    sliding_nonce.publish(ctx, dr)
    tc = account.create_treasury_compliance_account(ctx, dr, _auth_key(config.treasury_compliance_key))
    sliding_nonce.publish(ctx, tc)
    _register_currencies(ctx, dr, tc, config)
    block.initialize(ctx, dr)
    dual_attestation.initialize(ctx, dr, tc)
    xus = currency.tag_of_code(b"XUS")
    for validator in config.validators:
        signer = account.create_system_account(ctx, dr, validator.address, roles.ROLE_VALIDATOR,
                                               _auth_key(validator.account_public_key))
        if config.staking is not None:  # to stake more, and to be paid unbonded stake and rewards
            account.add_currency(ctx, signer, xus)
    for address, public_key in config.reserve_auditors:
        account.create_system_account(ctx, dr, address, ROLE_RESERVE_AUDITOR, _auth_key(public_key))
    _initialize_compliance(ctx, dr, tc, config)
    _create_dealers(ctx, tc, config)
    system.set_validators(ctx, dr, _initialize_validators(ctx, dr, tc, config))


def _initialize_validators(ctx: Context, dr, tc, config: GenesisConfig) -> tuple:  # noqa: ANN001
    """Return the first validator set: staking's (pools with minted stake, capped powers) or the configured one."""
    if config.staking is None:
        return tuple((v.address, v.stake, v.consensus_public_key, v.network_public_key, v.human_name, v.network_addresses)
                     for v in config.validators)
    # Last in genesis: staking's handle follows every other Diem root handle, its stake mints follow the dealers'.
    return staking_epoch.initialize(ctx, dr, tc, config.staking, config.validators)


def build_genesis(config: GenesisConfig) -> GenesisOutput:
    """Run the genesis steps on an empty state and return the write set, events and state view."""
    state = BlockState(InMemoryStateView())
    ctx = Context(state, VM_RESERVED, UnmeteredGas(), 0)
    _run(ctx, config)
    changes, encoded = ctx.finish()
    state.commit(changes, encoded)
    write_set = {key: value for key, value in state.get_write_set().items() if value is not None}
    view = InMemoryStateView(write_set)
    return GenesisOutput(write_set, to_contract_events(ctx.events), view)
