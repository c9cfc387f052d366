"""Scenario helpers: a genesis with a DD, parent/child VASPs, signed transactions, block runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.executor import execute_block
from contracts.framework import TESTNET_DD, TREASURY_COMPLIANCE, account, currency
from contracts.genesis import DealerConfig, GenesisConfig, build_genesis
from contracts.outputs import BlockOutput
from contracts.vm.context import Context
from contracts.vm.gas import UnmeteredGas
from contracts.vm.storage import BlockState, InMemoryStateView
from primitives.keys import PrivateKey
from primitives.types.ledger_transactions import BlockMetadata
from primitives.types.names import AccountAddress, ChainId
from primitives.types.scripts import ScriptFunction
from primitives.types.transactions import RawTransaction, SignedTransaction, TransactionPayload, sign_raw_transaction
from primitives.types.type_tags import ModuleId, TypeTag, currency_type_tag

XUS = currency.tag_of_code(b"XUS")
XDX = currency.tag_of_code(b"XDX")
DR_KEY = PrivateKey.from_seed_material(b"diem-root")
TC_KEY = PrivateKey.from_seed_material(b"treasury-compliance")
DD_KEY = PrivateKey.from_seed_material(b"dealer")
DD_BALANCE = 10**15
EXPIRATION_SECS = 10**10
PROPOSER = b"\x77" * 16


def u64(value: int) -> bytes:
    """BCS of a u64."""
    return value.to_bytes(8, "little")


def vec(data: bytes) -> bytes:
    """BCS of a short vector<u8>."""
    from primitives.bcs import encode_uleb128

    return encode_uleb128(len(data)) + data


def boolean(flag: bool) -> bytes:
    """BCS of a bool."""
    return b"\x01" if flag else b"\x00"


def script_function(module: str, function: str, args: list[bytes], ty_args: tuple[TypeTag, ...] = ()):
    """Return a TransactionPayload calling 0x1::module::function."""
    return TransactionPayload(ScriptFunction(ModuleId(AccountAddress.CORE_CODE, module), function, ty_args, tuple(args)))


def xus() -> tuple[TypeTag, ...]:
    """The XUS type argument."""
    return (currency_type_tag("XUS"),)


@dataclass
class Chain:
    """A ledger in memory: state, time, sequence numbers; runs one block per call."""

    state: InMemoryStateView
    time_us: int = 1_000_000
    round: int = 0
    seqs: dict[bytes, int] = field(default_factory=dict)
    last: BlockOutput | None = None

    def sign(self, key: PrivateKey, payload, *, seq: int | None = None, max_gas: int = 1_000_000,
             price: int = 0, gas_currency: str = "XUS", chain_id: int = 2, expiration: int = EXPIRATION_SECS,
             sender: bytes | None = None) -> SignedTransaction:
        """Sign a transaction from key's address (or sender) with the next sequence number."""
        address = sender or key.public_key().address()
        if seq is None:
            seq = self.seqs.get(address, 0)
            self.seqs[address] = seq + 1
        raw = RawTransaction(AccountAddress(address), seq, payload, max_gas, price, gas_currency, expiration,
                             ChainId(chain_id))
        return sign_raw_transaction(key, raw)

    def run(self, *txns: SignedTransaction) -> BlockOutput:
        """Execute one block holding txns and apply its write set."""
        self.time_us += 1_000_000
        self.round += 1
        metadata = BlockMetadata(bytes(32), self.round, self.time_us, (), AccountAddress(PROPOSER))
        output = execute_block(self.state, metadata, list(txns))
        self.state.apply(output.write_set)
        self.last = output
        return output

    def ctx(self) -> Context:
        """A read context on the current state."""
        return Context(BlockState(self.state), bytes(16), UnmeteredGas(), self.time_us)

    def balance(self, address: bytes, ccy=XUS) -> int | None:
        """Return the balance of address in ccy."""
        return account.get_balance(self.ctx(), address, ccy)


def make_chain() -> Chain:
    """Genesis with DR, TC and a funded DD at 0xDD."""
    config = GenesisConfig(
        DR_KEY.public_key().data, TC_KEY.public_key().data,
        dealers=(DealerConfig(TESTNET_DD, DD_KEY.public_key().data, initial_balance=DD_BALANCE),),
    )
    genesis = build_genesis(config)
    return Chain(InMemoryStateView(genesis.write_set), seqs={TREASURY_COMPLIANCE: 0})


def key_for(name: str) -> PrivateKey:
    """A deterministic key."""
    return PrivateKey.from_seed_material(name.encode())


def create_parent(chain: Chain, name: str, *, add_all: bool = False) -> tuple[PrivateKey, bytes]:
    """TC creates a parent VASP; returns (key, address)."""
    key = key_for(name)
    address = key.public_key().address()
    prefix = key.public_key().auth_key()[:16]
    payload = script_function("AccountCreationScripts", "create_parent_vasp_account",
                              [u64(0), address, vec(prefix), vec(name.encode()), boolean(add_all)], xus())
    out = chain.run(chain.sign(TC_KEY, payload, sender=TREASURY_COMPLIANCE))
    assert out.transactions[1].status.is_executed(), out.transactions[1]
    return key, address


def create_child(chain: Chain, parent_key: PrivateKey, name: str, balance: int = 0) -> tuple[PrivateKey, bytes]:
    """A parent VASP creates a child with an initial balance."""
    key = key_for(name)
    address = key.public_key().address()
    prefix = key.public_key().auth_key()[:16]
    payload = script_function("AccountCreationScripts", "create_child_vasp_account",
                              [address, vec(prefix), boolean(False), u64(balance)], xus())
    out = chain.run(chain.sign(parent_key, payload))
    assert out.transactions[1].status.is_executed(), out.transactions[1]
    return key, address


def p2p(payee: bytes, amount: int, metadata: bytes = b"", signature: bytes = b"", ty_args=None):
    """The peer_to_peer_with_metadata script-function payload."""
    return script_function("PaymentScripts", "peer_to_peer_with_metadata",
                           [payee, u64(amount), vec(metadata), vec(signature)], ty_args or xus())
