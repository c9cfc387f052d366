"""Executor properties: leaked coins fail kept, and random transfer sequences conserve money (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.framework import TESTNET_DD, account, currency
from contracts.scripts import script_function as register
from tests.contracts.vm.helpers import DD_KEY, XUS, create_parent, make_chain, p2p, script_function

DD = TESTNET_DD


@register("StablechainTest", "leak_a_coin", 0, ())
def _leak_a_coin(ctx, sender, ty_args) -> None:  # noqa: ANN001 - a deliberately buggy entry function
    balance = ctx.borrow_mut(account._W, account.Balance.of(XUS), sender.address)
    currency.withdraw(ctx, balance.coin, 1)


def test_leaked_coin_fails_the_transaction_but_it_is_kept() -> None:
    chain = make_chain()
    before = chain.balance(DD)
    out = chain.run(chain.sign(DD_KEY, script_function("StablechainTest", "leak_a_coin", []), sender=DD))
    result = out.transactions[1]
    assert result.keep and result.status.kind == "execution_failure" and result.events == ()
    assert chain.balance(DD) == before
    assert account.get_sequence_number(chain.ctx(), DD) == 1


def total_supply(chain) -> int:
    return currency.get_total_value(chain.ctx(), XUS)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3_000)), min_size=1, max_size=12),
       st.integers(1, 4))
def test_random_transfers_conserve_supply(transfers, per_block) -> None:
    chain = make_chain()
    parties = [(DD_KEY, DD)] + [create_parent(chain, f"p{i}") for i in range(3)]
    for index, (_, address) in enumerate(parties[1:]):
        chain.run(chain.sign(DD_KEY, p2p(address, 1_000 * (index + 1)), sender=DD))
    supply = total_supply(chain)
    for start in range(0, len(transfers), per_block):
        batch = transfers[start:start + per_block]
        before = {address: chain.balance(address) for _, address in parties}
        seqs = {address: account.get_sequence_number(chain.ctx(), address) for _, address in parties}
        txns = []
        for payer, payee, amount in batch:
            key, address = parties[payer]
            txns.append(chain.sign(key, p2p(parties[payee][1], amount), sender=address))
        out = chain.run(*txns)
        assert all(result.keep for result in out.transactions)
        balances = {address: chain.balance(address) for _, address in parties}
        assert all(value >= 0 for value in balances.values())
        assert sum(balances.values()) == sum(before.values()) == total_supply(chain) == supply
        for (payer, _, _), result in zip(batch, out.transactions[1:]):
            seqs[parties[payer][1]] += 1
            assert result.status.is_executed() or result.status.kind == "move_abort"
            if not result.status.is_executed():  # a kept failure changes only the sequence number (price 0)
                assert set(result.write_set) == {account.ACCOUNT.state_key(parties[payer][1])}
                assert result.events == ()
        assert all(account.get_sequence_number(chain.ctx(), a) == s for a, s in seqs.items())


@register("StablechainTest", "buggy", 0, ())
def _buggy(ctx, sender, ty_args) -> None:  # noqa: ANN001 - a framework bug (TypeError)
    ctx.borrow_mut(account._W, account.ACCOUNT, sender.address).sequence_number += "1"


def test_framework_bug_discards_the_transaction() -> None:
    from contracts.vm.status import StatusCode
    chain = make_chain()
    out = chain.run(chain.sign(DD_KEY, script_function("StablechainTest", "buggy", []), sender=DD))
    result = out.transactions[1]
    assert not result.keep and result.discard_status == StatusCode.UNKNOWN_INVARIANT_VIOLATION_ERROR
    assert account.get_sequence_number(chain.ctx(), DD) == 0
