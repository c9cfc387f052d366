"""Ledger invariants over random sequences of compliance and payment transactions, run through the executor.

After every transaction: per currency, total supply == balances + queued preburns + collected fees, and
preburn_value == the queues; supply never exceeds the latest attested reserves (or the supply already
on record when an under-reserved attestation was filed); no balance is negative; a frozen account never
loses coins except by a TC wipe and never gets a transaction kept; a discarded transaction changes
nothing; a kept but aborted one changes only the sender's sequence number and fee; every successful
transaction moves exactly the coins a simple model predicts (none duplicated, none lost).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from contracts.framework import account, currency, designated_dealer, freezing, reserves, transaction_fee
from tests.contracts.framework.compliance.helpers import (
    AUDITOR_KEY, DD, DD_KEY, TC, TC_KEY, XUS, Chain, compliance_call, make_chain, p2p, tc_call, u64, vec, xus,
)

FAST = settings(max_examples=40, stateful_step_count=30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
THOROUGH = settings(max_examples=300, stateful_step_count=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WINDOW_US = 5_000_000
amounts = st.integers(min_value=0, max_value=3_000)
prices = st.sampled_from((0, 0, 1))


class LedgerMachine(RuleBasedStateMachine):
    """Random compliance and payment traffic against one ledger, checked against a coin model."""

    chain: Chain

    @initialize()
    def setup(self) -> None:
        self.chain = make_chain()
        self.keys = {DD: DD_KEY}
        p_key, parent = self.chain.create_parent("inv-parent")
        c_key, child = self.chain.create_child(p_key, "inv-child")
        q_key, other = self.chain.create_parent("inv-other")
        self.keys.update({parent: p_key, child: c_key, other: q_key})
        for address in (parent, child, other):
            self.chain.fund(address, 10_000)
        self.parent = parent
        self.accounts = (DD, parent, child, other)
        self.model = {address: self.chain.balance(address) for address in self.accounts}
        self.queue: list[int] = []
        self.window_published = False
        self.snapshot()

    # ------------------------------------------------------------ helpers
    def snapshot(self) -> None:
        """Remember the state the next transaction starts from."""
        self.supply_before = self.chain.supply()
        self.frozen_before = {a for a in self.accounts if freezing.is_frozen(self.chain.ctx(), a)}

    def settle(self, out, sender: bytes, moves: dict[bytes, int], supply_delta: int = 0) -> None:
        """Check what one transaction changed against the model, then take a new snapshot."""
        expected_supply = self.supply_before + self.account_for(out, sender, moves, supply_delta, self.price)
        self.check_model(expected_supply)

    def account_for(self, out, sender: bytes, moves: dict[bytes, int], supply_delta: int, price: int) -> int:
        """Apply a transaction's outcome to the model; return the supply change it must have caused."""
        if sender in self.frozen_before:
            assert not out.keep, "a frozen account got a transaction kept"
        if not out.keep:
            assert out.write_set == {} and out.events == (), "a discarded transaction changed the state"
            return 0
        if sender in self.model:
            self.model[sender] -= out.gas_used * price
        if not out.status.is_executed():
            self._check_only_sequence_and_fee_changed(out, sender, price)
            return 0
        for address, delta in moves.items():
            self.model[address] += delta
        return supply_delta

    def check_model(self, expected_supply: int) -> None:
        """Balances and supply equal the model's; then take a new snapshot."""
        assert self.chain.supply() == expected_supply
        for address in self.accounts:
            assert self.chain.balance(address) == self.model[address], f"model mismatch at {address.hex()}"
        self.snapshot()

    def _check_only_sequence_and_fee_changed(self, out, sender: bytes, price: int) -> None:
        allowed = {account.ACCOUNT.state_key(sender)}
        if price:
            allowed |= {account.Balance.of(XUS).state_key(sender), transaction_fee.TransactionFee.of(XUS).state_key(TC)}
        assert set(out.write_set) <= allowed, "a kept-but-aborted transaction changed more than seq and fee"
        assert out.events == (), "a kept-but-aborted transaction emitted events"

    def send(self, sender: bytes, payload, price: int = 0):
        """Submit one transaction from a user account with a gas price."""
        self.price = price
        return self.chain.submit(self.keys[sender], payload, sender=sender, price=price)

    def send_tc(self, function: str, args: list[bytes], ty_args=(), with_nonce: bool = True):
        """Submit one TC transaction (TC pays no fees)."""
        self.price = 0
        return self.chain.tc(function, args, ty_args, with_nonce=with_nonce)

    # -------------------------------------------------------------- rules
    @rule(payer=st.integers(0, 3), payee=st.integers(0, 3), amount=amounts, price=prices)
    def transfer(self, payer: int, payee: int, amount: int, price: int) -> None:
        source, target = self.accounts[payer], self.accounts[payee]
        out = self.send(source, p2p(target, amount), price)
        self.settle(out, source, {source: -amount, target: amount} if source != target else {})

    @rule(payer=st.integers(0, 3), payee=st.integers(0, 3), amount=amounts, price=prices)
    def transfer_again(self, payer: int, payee: int, amount: int, price: int) -> None:
        self.transfer(payer, payee, amount, price)

    @rule(payers=st.permutations(range(4)), payees=st.lists(st.integers(0, 3), min_size=3, max_size=3),
          amounts=st.lists(amounts, min_size=3, max_size=3), freeze_first=st.booleans())
    def several_in_one_block(
        self, payers: list[int], payees: list[int], amounts: list[int], freeze_first: bool
    ) -> None:
        """Up to three payments from distinct payers in one block, optionally after a TC freeze of the first."""
        chain = self.chain
        txns, plan = [], []
        if freeze_first:
            chain.nonce += 1
            freeze = tc_call("freeze_account", [u64(chain.nonce), self.accounts[payers[0]]])
            txns.append(chain.sign(TC_KEY, freeze, sender=TC))
            plan.append((TC, {}))
        for payer, payee, amount in zip(payers, payees, amounts):
            source, target = self.accounts[payer], self.accounts[payee]
            txns.append(chain.sign(self.keys[source], p2p(target, amount), sender=source, price=1))
            plan.append((source, {source: -amount, target: amount} if source != target else {}))
        outputs = chain.run(*txns).transactions[1:]
        delta = 0
        for out, (sender, moves) in zip(outputs, plan):
            if not out.keep:
                chain.seqs[sender] -= 1
            if sender == TC and out.keep and out.status.is_executed():
                self.frozen_before.add(self.accounts[payers[0]])
            delta += self.account_for(out, sender, moves, 0, 0 if sender == TC else 1)
        self.check_model(self.supply_before + delta)

    @rule(amount=st.integers(0, 50_000))
    def mint(self, amount: int) -> None:
        out = self.send_tc("tiered_mint", [DD, u64(amount), u64(0)], xus())
        self.settle(out, TC, {DD: amount}, supply_delta=amount)

    @rule(amount=st.integers(0, 2_000), price=prices)
    def preburn(self, amount: int, price: int) -> None:
        out = self.send(DD, tc_call("preburn", [u64(amount)], xus()), price)
        if out.keep and out.status.is_executed():
            self.queue.append(amount)
        self.settle(out, DD, {DD: -amount})

    def _burn(self, amount: int) -> None:
        out = self.send_tc("burn_with_amount", [DD, u64(amount)], xus())
        if out.keep and out.status.is_executed():
            self.queue.remove(amount)
        self.settle(out, TC, {}, supply_delta=-amount)

    def _cancel_burn(self, amount: int) -> None:
        out = self.send_tc("cancel_burn_with_amount", [DD, u64(amount)], xus(), with_nonce=False)
        if out.keep and out.status.is_executed():
            self.queue.remove(amount)
        self.settle(out, TC, {DD: amount})

    @precondition(lambda self: self.queue)
    @rule(index=st.integers(0, 255))
    def burn_queued(self, index: int) -> None:
        self._burn(self.queue[index % len(self.queue)])

    @precondition(lambda self: self.queue)
    @rule(index=st.integers(0, 255))
    def cancel_burn_queued(self, index: int) -> None:
        self._cancel_burn(self.queue[index % len(self.queue)])

    @rule(amount=st.integers(0, 2_000), cancel=st.booleans())
    def burn_or_cancel_any_amount(self, amount: int, cancel: bool) -> None:
        if cancel:
            self._cancel_burn(amount)
        else:
            self._burn(amount)

    @rule(who=st.integers(0, 3), frozen=st.booleans())
    def freeze(self, who: int, frozen: bool) -> None:
        out = self.send_tc("freeze_account" if frozen else "unfreeze_account", [self.accounts[who]])
        self.settle(out, TC, {})

    @precondition(lambda self: self.frozen_before)
    @rule(index=st.integers(0, 3))
    def wipe_frozen(self, index: int) -> None:
        frozen = sorted(self.frozen_before)
        self.wipe(self.accounts.index(frozen[index % len(frozen)]))

    @rule(who=st.integers(0, 3))
    def wipe(self, who: int) -> None:
        address = self.accounts[who]
        held = self.model[address]
        out = self.send_tc("wipe_frozen_account", [address], xus())
        self.settle(out, TC, {address: -held}, supply_delta=-held)

    @rule(paused=st.booleans())
    def pause(self, paused: bool) -> None:
        out = self.send_tc("pause_transfers" if paused else "unpause_transfers", [])
        self.settle(out, TC, {})

    @rule(delta=st.integers(-20_000, 200_000))
    def attest(self, delta: int) -> None:
        amount = max(0, self.chain.supply() + delta)
        when = self.chain.time_us + 1_000_000
        payload = compliance_call("record_reserve_attestation", [u64(amount), vec(b"\x11" * 32), u64(when)], xus())
        self.price = 0
        out = self.chain.submit(AUDITOR_KEY, payload)
        self.settle(out, AUDITOR_KEY.public_key().address(), {})

    @rule(outflow=st.integers(1, 20_000), inflow=st.integers(1, 20_000))
    def change_limits(self, outflow: int, inflow: int) -> None:
        if not self.window_published:
            out = self.send_tc("publish_account_limit_definition",
                               [self.parent, u64(inflow), u64(outflow), u64(10**12), u64(WINDOW_US)], xus())
            self.settle(out, TC, {})
            out = self.send_tc("publish_account_limit_window", [self.parent, self.parent], xus())
            self.window_published = out.status.is_executed()
        else:
            out = self.send_tc("update_account_limit_definition",
                               [self.parent, u64(inflow), u64(outflow), u64(0), u64(0)], xus())
        self.settle(out, TC, {})

    @rule(who=st.integers(1, 3), tier=st.integers(0, 3), cap=st.integers(1, 5_000))
    def change_kyc(self, who: int, tier: int, cap: int) -> None:
        out = self.send_tc("set_kyc_record", [self.accounts[who], u64(tier), u64(10**15), vec(b"kyc")])
        self.settle(out, TC, {})
        args = [u64(tier), u64(cap), u64(cap * 3), u64(cap * 3), u64(10**12), u64(WINDOW_US)]
        self.settle(self.send_tc("set_kyc_tier_limits", args, xus()), TC, {})

    @rule(seconds=st.integers(1, 10))
    def advance_time(self, seconds: int) -> None:
        self.chain.run(advance_us=seconds * 1_000_000)
        self.snapshot()

    # --------------------------------------------------------- invariants
    @invariant()
    def supply_is_conserved(self) -> None:
        if not hasattr(self, "chain"):
            return
        ctx = self.chain.ctx()
        info = currency.get_currency_info(ctx, XUS)
        balances = sum(account.get_balance(ctx, address, XUS) or 0 for address in self.accounts)
        queued = designated_dealer.get_preburn_total(ctx, DD, XUS)
        fees = transaction_fee.get_collected(ctx, XUS)
        assert info.preburn_value == queued == sum(self.queue)
        assert info.total_value == balances + queued + fees
        assert all(self.model[a] >= 0 for a in self.accounts)

    @invariant()
    def supply_is_backed(self) -> None:
        if not hasattr(self, "chain"):
            return
        latest = reserves.get_latest_attestation(self.chain.ctx(), XUS)
        assert self.chain.supply() <= max(latest.amount, latest.supply_at_record)


TestLedgerInvariants = LedgerMachine.TestCase
TestLedgerInvariants.settings = FAST


@pytest.mark.slow
def test_ledger_invariants_thorough() -> None:
    """The same machine with many more and longer runs (make test-slow)."""
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(LedgerMachine, settings=THOROUGH)
