"""Genesis reproducibility, event-key counters, block metadata and ledger roots."""

from __future__ import annotations

from contracts.executor import execute_block
from contracts.framework import DIEM_ROOT, TESTNET_DD, TREASURY_COMPLIANCE, currency
from contracts.genesis import DealerConfig, GenesisConfig, build_genesis
from contracts.ledger_trees import LedgerTrees
from primitives.types.ledger_transactions import BlockMetadata
from primitives.types.names import AccountAddress
from tests.contracts.vm.helpers import DD_KEY, DR_KEY, PROPOSER, TC_KEY, XDX, XUS, make_chain, p2p


def config() -> GenesisConfig:
    return GenesisConfig(DR_KEY.public_key().data, TC_KEY.public_key().data,
                         dealers=(DealerConfig(TESTNET_DD, DD_KEY.public_key().data, initial_balance=10**9),))


def test_genesis_is_byte_for_byte_reproducible() -> None:
    first, second = build_genesis(config()), build_genesis(config())
    assert first.write_set == second.write_set and first.get_hash() == second.get_hash()
    other = build_genesis(GenesisConfig(DR_KEY.public_key().data, TC_KEY.public_key().data, chain_id=4))
    assert other.get_hash() != first.get_hash()


def test_currency_event_keys_follow_diem_root_counters() -> None:
    ctx = make_chain().ctx()
    xus, xdx = currency.get_currency_info(ctx, XUS), currency.get_currency_info(ctx, XDX)
    assert xus.mint_events.guid == (5).to_bytes(8, "little") + DIEM_ROOT
    assert xus.exchange_rate_update_events.guid == (9).to_bytes(8, "little") + DIEM_ROOT
    assert xdx.mint_events.guid == (10).to_bytes(8, "little") + DIEM_ROOT
    assert not xdx.can_mint and currency.get_registered_codes(ctx) == (b"XUS", b"XDX")


def test_block_metadata_emits_new_block_event() -> None:
    chain = make_chain()
    out = chain.run()
    (event,) = out.transactions[0].events
    assert event.type_tag.struct.name == "NewBlockEvent" and event.event_data[8:24] == PROPOSER


def test_ledger_roots_are_deterministic_and_change_with_state() -> None:
    roots = []
    for amount in (5, 5, 6):
        chain = make_chain()
        trees = LedgerTrees.in_memory()
        trees.tree.apply(0, chain.state.values)
        trees.version = 0
        txn = chain.sign(DD_KEY, p2p(TREASURY_COMPLIANCE, amount), sender=TESTNET_DD)
        metadata = BlockMetadata(bytes(32), 1, 2_000_000, (), AccountAddress(PROPOSER))
        out = execute_block(chain.state, metadata, [txn], trees=trees)
        update = out.get_ledger_update()
        assert len(update.infos) == 2 and update.infos[-1].state_root_hash == update.state_root
        roots.append((update.state_root, update.accumulator_root))
    assert roots[0] == roots[1] and roots[0][1] != roots[2][1]


def test_runtime_event_hashes_match_contract_event_bcs() -> None:
    from contracts.ledger_trees import compute_runtime_event_hashes
    from contracts.state.hashes import compute_event_hashes
    chain = make_chain()
    out = chain.run(chain.sign(DD_KEY, p2p(TESTNET_DD, 5), sender=TESTNET_DD))
    for result in out.transactions:
        assert compute_runtime_event_hashes(result.runtime_events) == compute_event_hashes(result.events)
    assert len(out.transactions[1].events) == 2


def test_fast_event_root_matches_the_accumulator() -> None:
    from contracts.ledger_trees import compute_runtime_event_hashes, compute_runtime_event_root
    from contracts.state import compute_event_root
    chain = make_chain()
    out = chain.run(chain.sign(DD_KEY, p2p(TESTNET_DD, 5), sender=TESTNET_DD))
    events = out.transactions[0].runtime_events + out.transactions[1].runtime_events
    for count in range(0, 4):
        subset = events[:count]
        assert compute_runtime_event_root(subset) == compute_event_root(compute_runtime_event_hashes(subset))


def test_genesis_accounts_event_handles_and_validators() -> None:
    from contracts.framework import account, roles, system
    from contracts.genesis import ValidatorConfig
    from contracts.vm.context import Context
    from contracts.vm.gas import UnmeteredGas
    from contracts.vm.storage import BlockState
    validator = ValidatorConfig(b"\x0a" * 16, 500, b"\x01" * 32, b"\x02" * 32, DD_KEY.public_key().data, b"v0")
    genesis = build_genesis(GenesisConfig(DR_KEY.public_key().data, TC_KEY.public_key().data,
                                          validators=(validator,)))
    ctx = Context(BlockState(genesis.state_view), bytes(16), UnmeteredGas(), 0)
    for address, received, sent in ((DIEM_ROOT, 2, 3), (TREASURY_COMPLIANCE, 1, 2)):
        acct = ctx.borrow(account.ACCOUNT, address)
        assert acct.received_events.guid == received.to_bytes(8, "little") + address
        assert acct.sent_events.guid == sent.to_bytes(8, "little") + address
    assert ctx.borrow(account.ACCOUNT, DIEM_ROOT).authentication_key == DR_KEY.public_key().auth_key()
    (info,) = ctx.borrow(system.VALIDATOR_SET, DIEM_ROOT).validators
    assert (info.addr, info.stake, info.network_public_key) == (b"\x0a" * 16, 500, b"\x02" * 32)
    assert roles.get_role_id(ctx, b"\x0a" * 16) == roles.ROLE_VALIDATOR
    assert system.get_chain_id(ctx) == 2 and system.get_diem_version(ctx) == 3


def test_fees_are_collected_at_treasury_compliance() -> None:
    from contracts.framework import transaction_fee
    chain = make_chain()
    before = chain.balance(TESTNET_DD)
    out = chain.run(chain.sign(DD_KEY, p2p(TESTNET_DD, 5), sender=TESTNET_DD, price=2))
    used = out.transactions[1].gas_used
    assert out.transactions[1].status.is_executed() and used > 0
    assert chain.balance(TESTNET_DD) == before - 2 * used
    assert transaction_fee.get_collected(chain.ctx(), XUS) == 2 * used
    assert currency.get_total_value(chain.ctx(), XUS) == before
