"""Hypothesis strategies producing arbitrary valid values of every primitives type."""

from __future__ import annotations

from hypothesis import strategies as st

from primitives.keys import PrivateKey
from primitives.metadata import (
    CoinTradeMetadataV0,
    GeneralMetadataV0,
    Metadata,
    PaymentMetadataV0,
    RefundMetadataV0,
    RefundReason,
    TravelRuleMetadataV0,
    UndefinedMetadata,
    UnstructuredBytesMetadata,
)
from primitives.multisig import MultiEd25519PublicKey, sign_multi
from primitives.types.events import ContractEvent, EventKey
from primitives.types.ledger_transactions import BlockMetadata, Transaction
from primitives.types.names import AccountAddress, ChainId, Identifier
from primitives.types.scripts import Module, Script, ScriptFunction, TransactionArgument, TransactionArgumentKind
from primitives.types.transactions import (
    AccountAuthenticator,
    Ed25519Authenticator,
    MultiAgentAuthenticator,
    MultiEd25519Authenticator,
    RawTransaction,
    SignedTransaction,
    TransactionAuthenticator,
    TransactionPayload,
)
from primitives.types.type_tags import ModuleId, StructTag, TypeTag, TypeTagKind
from primitives.types.write_sets import AccessPath, ChangeSet, WriteOp, WriteSet, WriteSetPayload, WriteSetScript

u8s = st.integers(0, 2**8 - 1)
u64s = st.integers(0, 2**64 - 1)
u128s = st.integers(0, 2**128 - 1)
small_bytes = st.binary(max_size=40)
texts = st.text(max_size=12)
identifiers = st.from_regex(r"\A(?:[A-Za-z][A-Za-z0-9_]{0,10}|_[A-Za-z0-9_]{1,10})\Z")
addresses = st.binary(min_size=16, max_size=16).map(AccountAddress)
chain_ids = u8s.map(ChainId)
event_keys = st.binary(min_size=24, max_size=24).map(EventKey)


def _extend_type_tags(children: st.SearchStrategy[TypeTag]) -> st.SearchStrategy[TypeTag]:
    structs = st.builds(StructTag, addresses, identifiers, identifiers, st.lists(children, max_size=3).map(tuple))
    return st.one_of(children.map(TypeTag.vector), structs.map(TypeTag.struct_of))


type_tags = st.recursive(
    st.sampled_from([TypeTag(TypeTagKind(i)) for i in range(6)]), _extend_type_tags, max_leaves=12
)
struct_tags = st.builds(StructTag, addresses, identifiers, identifiers, st.lists(type_tags, max_size=3).map(tuple))
module_ids = st.builds(ModuleId, addresses, identifiers)

transaction_arguments = st.one_of(
    u8s.map(lambda v: TransactionArgument(TransactionArgumentKind.U8, v)),
    u64s.map(lambda v: TransactionArgument(TransactionArgumentKind.U64, v)),
    u128s.map(lambda v: TransactionArgument(TransactionArgumentKind.U128, v)),
    addresses.map(lambda v: TransactionArgument(TransactionArgumentKind.ADDRESS, v)),
    small_bytes.map(lambda v: TransactionArgument(TransactionArgumentKind.U8_VECTOR, v)),
    st.booleans().map(lambda v: TransactionArgument(TransactionArgumentKind.BOOL, v)),
)
scripts = st.builds(
    Script, small_bytes, st.lists(type_tags, max_size=3).map(tuple), st.lists(transaction_arguments, max_size=4).map(tuple)
)
script_functions = st.builds(
    ScriptFunction, module_ids, identifiers, st.lists(type_tags, max_size=3).map(tuple),
    st.lists(small_bytes, max_size=4).map(tuple),
)
modules = st.builds(Module, small_bytes)
contract_events = st.builds(ContractEvent, event_keys, u64s, type_tags, small_bytes)
write_ops = st.one_of(st.none(), small_bytes).map(WriteOp)
access_paths = st.builds(AccessPath, addresses, small_bytes)
write_sets = st.lists(st.tuples(access_paths, write_ops), max_size=4).map(lambda e: WriteSet(tuple(e)))
change_sets = st.builds(ChangeSet, write_sets, st.lists(contract_events, max_size=3).map(tuple))
write_set_payloads = st.one_of(
    change_sets.map(WriteSetPayload),
    st.builds(WriteSetScript, addresses, scripts).map(WriteSetPayload),
)
payloads = st.one_of(write_set_payloads, scripts, modules, script_functions).map(TransactionPayload)
raw_transactions = st.builds(
    RawTransaction, addresses, u64s, payloads, u64s, u64s, texts, u64s, chain_ids
)

_KEYS = [PrivateKey.from_seed_material(bytes([i])) for i in range(6)]


@st.composite
def multi_ed25519_authenticators(draw: st.DrawFn) -> MultiEd25519Authenticator:
    """A structurally valid k-of-n key with a random subset of signers (signatures over random bytes)."""
    count = draw(st.integers(1, len(_KEYS)))
    key = MultiEd25519PublicKey(tuple(k.public_key().data for k in _KEYS[:count]), draw(st.integers(1, count)))
    signers = draw(st.sets(st.integers(0, count - 1), max_size=count))
    message = draw(small_bytes)
    signature = sign_multi(((i, _KEYS[i]) for i in signers), message)
    return MultiEd25519Authenticator(key.to_bytes(), signature.to_bytes())


ed25519_authenticators = st.builds(
    Ed25519Authenticator, st.binary(min_size=32, max_size=32), st.binary(min_size=64, max_size=64)
)
account_authenticators = st.one_of(ed25519_authenticators, multi_ed25519_authenticators()).map(AccountAuthenticator)
multi_agent_authenticators = st.builds(
    MultiAgentAuthenticator, account_authenticators,
    st.lists(addresses, max_size=3).map(tuple), st.lists(account_authenticators, max_size=3).map(tuple),
)
transaction_authenticators = st.one_of(
    ed25519_authenticators, multi_ed25519_authenticators(), multi_agent_authenticators
).map(TransactionAuthenticator)
signed_transactions = st.builds(SignedTransaction, raw_transactions, transaction_authenticators)
block_metadata = st.builds(
    BlockMetadata, st.binary(min_size=32, max_size=32), u64s, u64s, st.lists(addresses, max_size=4).map(tuple), addresses
)
transactions = st.one_of(signed_transactions, write_set_payloads, block_metadata).map(Transaction)

metadata_values = st.one_of(
    st.just(UndefinedMetadata()),
    st.builds(GeneralMetadataV0, st.none() | small_bytes, st.none() | small_bytes, st.none() | u64s),
    st.builds(TravelRuleMetadataV0, st.none() | texts),
    st.builds(UnstructuredBytesMetadata, st.none() | small_bytes),
    st.builds(RefundMetadataV0, u64s, st.sampled_from(list(RefundReason))),
    st.builds(CoinTradeMetadataV0, st.lists(texts, max_size=3).map(tuple)),
    st.builds(PaymentMetadataV0, st.binary(min_size=16, max_size=16)),
).map(Metadata)

# Every BCS type with a strategy, for round-trip and fuzz tests.
STRATEGIES = {
    AccountAddress: addresses,
    ChainId: chain_ids,
    Identifier: identifiers.map(Identifier),
    TypeTag: type_tags,
    StructTag: struct_tags,
    ModuleId: module_ids,
    TransactionArgument: transaction_arguments,
    Script: scripts,
    ScriptFunction: script_functions,
    Module: modules,
    EventKey: event_keys,
    ContractEvent: contract_events,
    AccessPath: access_paths,
    WriteOp: write_ops,
    WriteSet: write_sets,
    ChangeSet: change_sets,
    WriteSetPayload: write_set_payloads,
    TransactionPayload: payloads,
    RawTransaction: raw_transactions,
    Ed25519Authenticator: ed25519_authenticators,
    MultiEd25519Authenticator: multi_ed25519_authenticators(),
    AccountAuthenticator: account_authenticators,
    MultiAgentAuthenticator: multi_agent_authenticators,
    TransactionAuthenticator: transaction_authenticators,
    SignedTransaction: signed_transactions,
    BlockMetadata: block_metadata,
    Transaction: transactions,
    Metadata: metadata_values,
}
