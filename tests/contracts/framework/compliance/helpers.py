"""Scenario helpers for the compliance framework: a genesis with a DD, an auditor and attested reserves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.executor import execute_block
from contracts.framework import TESTNET_DD, TREASURY_COMPLIANCE, DIEM_ROOT, account, currency
from contracts.genesis import DealerConfig, GenesisConfig, build_genesis
from contracts.outputs import BlockOutput, TransactionOutput
from contracts.vm.context import Context
from contracts.vm.gas import UnmeteredGas
from contracts.vm.storage import BlockState, InMemoryStateView
from contracts.vm.values import ADDRESS, BOOL, BYTES, U64, U128, FieldType
from primitives.bcs import encode_uleb128
from primitives.keys import PrivateKey
from primitives.types.ledger_transactions import BlockMetadata
from primitives.types.names import AccountAddress, ChainId
from primitives.types.scripts import ScriptFunction
from primitives.types.transactions import RawTransaction, SignedTransaction, TransactionPayload, sign_raw_transaction
from primitives.types.type_tags import ModuleId, TypeTag, currency_type_tag

XUS = currency.tag_of_code(b"XUS")
XDX = currency.tag_of_code(b"XDX")
DR_KEY = PrivateKey.from_seed_material(b"compliance-diem-root")
TC_KEY = PrivateKey.from_seed_material(b"compliance-treasury")
DD_KEY = PrivateKey.from_seed_material(b"compliance-dealer")
AUDITOR_KEY = PrivateKey.from_seed_material(b"compliance-auditor")
AUDITOR = AUDITOR_KEY.public_key().address()
DD = TESTNET_DD
DD_BALANCE = 1_000_000_000
INITIAL_RESERVES = 5_000_000_000
REPORT_HASH = bytes(range(32))
BLOCK_INTERVAL_US = 1_000_000
EXPIRATION_SECS = 10**10
MAX_GAS_UNITS = 1_000_000
PROPOSER = b"\x77" * 16
VM_RESERVED = bytes(16)
TC = TREASURY_COMPLIANCE
DR = DIEM_ROOT


def u64(value: int) -> bytes:
    """BCS of a u64."""
    return value.to_bytes(8, "little")


def vec(data: bytes) -> bytes:
    """BCS of a vector<u8>."""
    return encode_uleb128(len(data)) + data


def boolean(flag: bool) -> bytes:
    """BCS of a bool."""
    return b"\x01" if flag else b"\x00"


def xus() -> tuple[TypeTag, ...]:
    """The XUS type argument."""
    return (currency_type_tag("XUS"),)


def xdx() -> tuple[TypeTag, ...]:
    """The XDX type argument."""
    return (currency_type_tag("XDX"),)


def call(module: str, function: str, args: list[bytes], ty_args: tuple[TypeTag, ...] = ()) -> TransactionPayload:
    """Return a payload calling 0x1::module::function."""
    module_id = ModuleId(AccountAddress.CORE_CODE, module)
    return TransactionPayload(ScriptFunction(module_id, function, ty_args, tuple(args)))


def tc_call(function: str, args: list[bytes], ty_args: tuple[TypeTag, ...] = ()) -> TransactionPayload:
    """A TreasuryComplianceScripts payload."""
    return call("TreasuryComplianceScripts", function, args, ty_args)


def compliance_call(function: str, args: list[bytes], ty_args: tuple[TypeTag, ...] = ()) -> TransactionPayload:
    """A ComplianceScripts payload."""
    return call("ComplianceScripts", function, args, ty_args)


def p2p(payee: bytes, amount: int, ty_args: tuple[TypeTag, ...] | None = None) -> TransactionPayload:
    """peer_to_peer_with_metadata without metadata."""
    return call("PaymentScripts", "peer_to_peer_with_metadata", [payee, u64(amount), vec(b""), vec(b"")],
                ty_args or xus())


def key_for(name: str) -> PrivateKey:
    """A deterministic key."""
    return PrivateKey.from_seed_material(name.encode())


@dataclass
class Chain:
    """An in-memory ledger; each `submit` runs one block holding one transaction."""

    state: InMemoryStateView
    time_us: int = 1_000_000
    round: int = 0
    seqs: dict[bytes, int] = field(default_factory=dict)
    nonce: int = 0

    def sign(self, key: PrivateKey, payload: TransactionPayload, sender: bytes | None = None,
             price: int = 0) -> SignedTransaction:
        """Sign payload from key's address (or sender) with the next sequence number and a gas unit price."""
        address = sender or key.public_key().address()
        seq = self.seqs.get(address, 0)
        self.seqs[address] = seq + 1
        raw = RawTransaction(AccountAddress(address), seq, payload, MAX_GAS_UNITS, price, "XUS", EXPIRATION_SECS,
                             ChainId(2))
        return sign_raw_transaction(key, raw)

    def run(self, *txns: SignedTransaction, advance_us: int = BLOCK_INTERVAL_US) -> BlockOutput:
        """Execute one block holding txns and apply its write set."""
        self.time_us += advance_us
        self.round += 1
        metadata = BlockMetadata(bytes(32), self.round, self.time_us, (), AccountAddress(PROPOSER))
        output = execute_block(self.state, metadata, list(txns))
        self.state.apply(output.write_set)
        return output

    def submit(self, key: PrivateKey, payload: TransactionPayload, sender: bytes | None = None,
               advance_us: int = BLOCK_INTERVAL_US, price: int = 0) -> TransactionOutput:
        """Run one transaction in its own block and return its output (a discarded one gives back its seq)."""
        address = sender or key.public_key().address()
        out = self.run(self.sign(key, payload, sender, price), advance_us=advance_us).transactions[1]
        if not out.keep:
            self.seqs[address] -= 1
        return out

    def tc(self, function: str, args: list[bytes], ty_args: tuple[TypeTag, ...] = (), *,
           with_nonce: bool = True) -> TransactionOutput:
        """Send a TreasuryComplianceScripts call from TC (a fresh sliding nonce first when with_nonce)."""
        if with_nonce:
            self.nonce += 1
            args = [u64(self.nonce)] + args
        return self.submit(TC_KEY, tc_call(function, args, ty_args), sender=TC)

    def dr(self, function: str, args: list[bytes], ty_args: tuple[TypeTag, ...] = ()) -> TransactionOutput:
        """Send a ComplianceScripts call from Diem root with a fresh sliding nonce."""
        self.nonce += 1
        return self.submit(DR_KEY, compliance_call(function, [u64(self.nonce)] + args, ty_args), sender=DR)

    def ctx(self) -> Context:
        """A read context on the current state at the current time."""
        return Context(BlockState(self.state), bytes(16), UnmeteredGas(), self.time_us)

    def balance(self, address: bytes, ccy=XUS) -> int | None:
        """Return the balance of address in ccy."""
        return account.get_balance(self.ctx(), address, ccy)

    def supply(self, ccy=XUS) -> int:
        """Return total_value of ccy."""
        return currency.get_currency_info(self.ctx(), ccy).total_value

    def preburn_value(self, ccy=XUS) -> int:
        """Return preburn_value of ccy."""
        return currency.get_currency_info(self.ctx(), ccy).preburn_value

    def create_parent(self, name: str) -> tuple[PrivateKey, bytes]:
        """TC creates a parent VASP holding XUS; returns (key, address)."""
        key = key_for(name)
        address = key.public_key().address()
        prefix = key.public_key().auth_key()[:16]
        out = self.submit(TC_KEY, call("AccountCreationScripts", "create_parent_vasp_account",
                                       [u64(0), address, vec(prefix), vec(name.encode()), boolean(False)], xus()),
                          sender=TC)
        assert out.status.is_executed(), out.status
        return key, address

    def create_child(self, parent_key: PrivateKey, name: str) -> tuple[PrivateKey, bytes]:
        """A parent VASP creates a child holding XUS; returns (key, address)."""
        key = key_for(name)
        address = key.public_key().address()
        prefix = key.public_key().auth_key()[:16]
        out = self.submit(parent_key, call("AccountCreationScripts", "create_child_vasp_account",
                                           [address, vec(prefix), boolean(False), u64(0)], xus()))
        assert out.status.is_executed(), out.status
        return key, address

    def fund(self, payee: bytes, amount: int) -> None:
        """Pay amount of XUS from the DD to payee."""
        out = self.submit(DD_KEY, p2p(payee, amount), sender=DD)
        assert out.status.is_executed(), out.status


def make_chain(*, initial_reserves: int | None = INITIAL_RESERVES, max_age_us: int = 0) -> Chain:
    """Genesis: DR, TC, a DD at 0xDD holding DD_BALANCE, one reserve auditor, reserves attested at time 0."""
    reserves = {} if initial_reserves is None else {"XUS": (initial_reserves, REPORT_HASH, 0)}
    config = GenesisConfig(
        DR_KEY.public_key().data, TC_KEY.public_key().data,
        dealers=(DealerConfig(DD, DD_KEY.public_key().data, initial_balance=DD_BALANCE),),
        reserve_auditors=((AUDITOR, AUDITOR_KEY.public_key().data),),
        initial_reserves=reserves, max_reserve_age_us=max_age_us,
    )
    genesis = build_genesis(config)
    return Chain(InMemoryStateView(genesis.write_set))


# ------------------------------------------------------------------ statuses and events
def abort_of(out: TransactionOutput) -> tuple[str, int]:
    """Return (module name, abort code) of a kept move_abort."""
    assert out.keep and out.status is not None and out.status.kind == "move_abort", out.status
    return out.status.location.split("::")[1], out.status.abort_code


def assert_executed(out: TransactionOutput) -> None:
    """Fail with the status unless the transaction executed."""
    assert out.keep and out.status is not None and out.status.is_executed(), out.status


EVENT_LAYOUTS: dict[str, tuple[tuple[str, FieldType], ...]] = {
    "DiemAccount::SentPaymentEvent": (("amount", U64), ("currency_code", BYTES), ("payee", ADDRESS),
                                      ("metadata", BYTES)),
    "DiemAccount::ReceivedPaymentEvent": (("amount", U64), ("currency_code", BYTES), ("payer", ADDRESS),
                                         ("metadata", BYTES)),
    "Diem::MintEvent": (("amount", U64), ("currency_code", BYTES)),
    "Diem::BurnEvent": (("amount", U64), ("currency_code", BYTES), ("preburn_address", ADDRESS)),
    "Diem::PreburnEvent": (("amount", U64), ("currency_code", BYTES), ("preburn_address", ADDRESS)),
    "Diem::CancelBurnEvent": (("amount", U64), ("currency_code", BYTES), ("preburn_address", ADDRESS)),
    "Diem::ToXDXExchangeRateUpdateEvent": (("currency_code", BYTES), ("new_to_xdx_exchange_rate", U64)),
    "DesignatedDealer::ReceivedMintEvent": (("currency_code", BYTES), ("destination_address", ADDRESS),
                                            ("amount", U64)),
    "AccountFreezing::FreezeAccountEvent": (("initiator_address", ADDRESS), ("frozen_address", ADDRESS)),
    "AccountFreezing::UnfreezeAccountEvent": (("initiator_address", ADDRESS), ("unfrozen_address", ADDRESS)),
    "AccountFreezing::WipeEvent": (("initiator_address", ADDRESS), ("wiped_address", ADDRESS),
                                   ("currency_code", BYTES), ("amount", U64)),
    "Pause::PauseEvent": (("initiator_address", ADDRESS),),
    "Pause::UnpauseEvent": (("initiator_address", ADDRESS),),
    "TreasuryComplianceScripts::MintingAbilityUpdateEvent": (("currency_code", BYTES), ("can_mint", BOOL)),
    "AccountLimits::LimitsDefinitionUpdateEvent": (
        ("currency_code", BYTES), ("limit_address", ADDRESS), ("max_inflow", U64), ("max_outflow", U64),
        ("max_holding", U64), ("time_period", U64)),
    "AccountLimits::WindowUpdateEvent": (("currency_code", BYTES), ("window_address", ADDRESS),
                                         ("limit_address", ADDRESS), ("tracked_balance", U64)),
    "KYC::KycRecordUpdateEvent": (("address", ADDRESS), ("tier", U64), ("expiration_us", U64), ("provider", BYTES),
                                  ("set_by", ADDRESS), ("removed", BOOL)),
    "KYC::KycTierLimitsUpdateEvent": (
        ("currency_code", BYTES), ("tier", U64), ("max_per_transfer", U64), ("max_inflow", U64),
        ("max_outflow", U64), ("max_holding", U64), ("window_us", U64), ("removed", BOOL)),
    "Reserves::ReserveAttestationEvent": (
        ("currency_code", BYTES), ("sequence", U64), ("amount", U128), ("report_hash", BYTES),
        ("attested_at_us", U64), ("auditor", ADDRESS), ("total_supply", U128)),
    "Reserves::ReserveAuditorChangeEvent": (("auditor", ADDRESS), ("added", BOOL), ("initiator_address", ADDRESS)),
    "Reserves::ReserveConfigUpdateEvent": (("currency_code", BYTES), ("max_attestation_age_us", U64)),
    "DualAttestation::DualAttestationLimitUpdateEvent": (("new_micro_xdx_limit", U64),),
}


def decode_event(event: Any) -> tuple[str, dict[str, Any]]:
    """Return ("Module::Name", fields) of a ContractEvent, decoding its BCS data with the known layout."""
    tag = event.type_tag.struct
    name = f"{tag.module}::{tag.name}"
    layout = EVENT_LAYOUTS[name]
    data, pos, fields = event.event_data, 0, {}
    for field_name, ftype in layout:
        fields[field_name], pos = ftype.decode(data, pos)
    assert pos == len(data), f"trailing bytes in {name}"
    return name, fields


def events_of(out: TransactionOutput) -> list[tuple[str, dict[str, Any]]]:
    """Return the decoded events of a transaction in emission order."""
    return [decode_event(event) for event in out.events]


def event_names(out: TransactionOutput) -> list[str]:
    """Return the event type names of a transaction in order."""
    return [f"{e.type_tag.struct.module}::{e.type_tag.struct.name}" for e in out.events]
