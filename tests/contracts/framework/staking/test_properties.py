"""Invariants under random operation sequences: conservation, the power cap, epoch-only changes, one slash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.framework import evidence, staking_epoch
from tests.contracts.framework.staking.evidence_helpers import evidence_payload, signed_vote
from tests.contracts.framework.staking.helpers import (
    DD, DD_KEY, PARAMS, consensus_key, make_staking_chain, p2p, u64, vec,
)

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
OPERATORS = ("op-0", "op-1", "op-2")
VOTE = evidence.KIND_DOUBLE_VOTE

# ------------------------------------------------------------------ the pure cap
stakes_strategy = st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=40)


@given(stakes=stakes_strategy, cap_bps=st.integers(min_value=1, max_value=10_000))
def test_capped_power_never_exceeds_the_cap_when_the_set_is_large_enough(stakes, cap_bps):
    powers = staking_epoch.compute_capped_powers(stakes, cap_bps)
    total = sum(powers)
    assert len(powers) == len(stakes) and all(0 < p <= s for p, s in zip(powers, stakes))
    if len(stakes) * cap_bps >= 10_000:
        assert all(p * 10_000 <= cap_bps * total for p in powers)
        threshold = max(powers)
        assert all(p == min(s, threshold) for p, s in zip(powers, stakes))  # one threshold, order kept
        bigger = threshold + 1
        if any(s > threshold for s in stakes):  # the threshold is the largest that fits
            assert bigger * 10_000 > cap_bps * sum(min(s, bigger) for s in stakes)
    else:
        assert len(set(powers)) == 1  # too few validators for the cap: equal shares


# ------------------------------------------------------------------ random ledgers
operation = st.one_of(
    st.tuples(st.just("stake"), st.integers(0, 2), st.integers(1, 3_000_000)),
    st.tuples(st.just("unlock"), st.integers(0, 2), st.integers(1, 3_000_000)),
    st.tuples(st.just("join"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("leave"), st.integers(0, 4), st.just(0)),
    st.tuples(st.just("withdraw"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("pay"), st.integers(0, 2), st.integers(1, 1_000)),
    st.tuples(st.just("equivocate"), st.integers(0, 4), st.integers(1, 50)),
    st.tuples(st.just("wait"), st.integers(1, 12), st.integers(0, 30)),
    st.tuples(st.just("rotate"), st.integers(0, 2), st.integers(0, 3)),
)


def _setup():
    chain = make_staking_chain()
    keys = {}
    for name in OPERATORS:
        key, address = chain.new_operator(name, balance=10_000_000)
        chain.register(key, name)
        keys[name] = (key, address)
    return chain, keys


def _apply(chain, keys, op):  # noqa: ANN001, ANN202
    kind, who, amount = op
    if kind == "wait":
        for _ in range(who):
            chain.run(advance_us=amount * 1_000_000 + 1)
        return
    if kind in ("leave", "equivocate") and who >= len(OPERATORS):
        name = f"v{who - len(OPERATORS)}"
        key, address = chain.validators[name]
    else:
        name = OPERATORS[who % len(OPERATORS)]
        key, address = keys[name]
    if kind == "stake":
        chain.op(key, "add_stake", u64(amount))
    elif kind == "unlock":
        chain.op(key, "unlock_stake", u64(amount))
    elif kind == "join":
        chain.op(key, "join_validator_set")
    elif kind == "leave":
        chain.op(key, "leave_validator_set")
    elif kind == "withdraw":
        chain.op(key, "withdraw_stake")
    elif kind == "rotate":
        function = "rotate_consensus_key" if amount % 2 else "rotate_network_key"
        chain.op(key, function, vec(consensus_key(f"{name}-{amount}").public_key().data))
    elif kind == "pay":
        chain.submit(key, p2p(DD, amount), price=3)
    else:
        epoch = chain.epoch()
        first = signed_vote(consensus_key(name), epoch, amount, b"\xaa" * 32)
        second = signed_vote(consensus_key(name), epoch, amount, b"\xbb" * 32)
        chain.submit(DD_KEY, evidence_payload(VOTE, address, first, second), sender=DD)


def _holders(chain, keys) -> list[bytes]:
    return [DD] + [address for _, address in keys.values()]


def _slashed(out) -> int:  # noqa: ANN001
    return sum(int.from_bytes(e.event_data[16:24], "little") for t in out.transactions for e in t.events
               if e.type_tag.struct.name == "SlashEvent")


@SETTINGS
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_stake_balances_slashes_and_fees_are_conserved(ops):
    chain, keys = _setup()
    start = chain.total_xus(_holders(chain, keys))
    slashed = 0
    original_run = chain.run

    def counting_run(*txns, advance_us=1_000_000):  # noqa: ANN001, ANN202
        nonlocal slashed
        out = original_run(*txns, advance_us=advance_us)
        slashed += _slashed(out)
        return out

    chain.run = counting_run
    for op in ops:
        _apply(chain, keys, op)
        now = chain.total_xus(_holders(chain, keys))
        held = now["stake"] + now["rewards"] + now["balances"] + now["fees"]
        assert held + slashed == start["stake"] + start["rewards"] + start["balances"] + start["fees"]
        assert now["supply"] + slashed == start["supply"]


@SETTINGS
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_the_set_and_powers_change_only_at_epoch_boundaries_and_respect_the_cap(ops):
    chain, keys = _setup()
    for op in ops:
        epoch, before = chain.epoch(), chain.system_set()
        pools = {a: (chain.pool(a).voting_power, chain.pool(a).active.value,
                     (chain.pool(a).consensus_public_key, chain.pool(a).network_public_key))
                 for a in chain.state_().pools}
        _apply(chain, keys, op)
        after = chain.system_set()
        if chain.epoch() == epoch:
            assert after == before
            for address, (power, active, key) in pools.items():
                pool = chain.pool(address)
                assert (pool.voting_power, (pool.consensus_public_key, pool.network_public_key)) == (power, key)
                # Active stake moves only at a boundary; a slash burns it at once (power waits for the boundary).
                assert pool.active.value <= active if pool.tombstoned else pool.active.value == active
        total = sum(p for _, p in after)
        if len(after) * PARAMS.power_cap_bps >= 10_000:
            assert all(p * 10_000 <= PARAMS.power_cap_bps * total for _, p in after)
        assert [a for a, _ in after] == sorted(chain.state_().validators)


@SETTINGS
@given(round_number=st.integers(1, 10**6), ids=st.tuples(st.binary(min_size=32, max_size=32),
                                                        st.binary(min_size=32, max_size=32)),
       repeats=st.lists(st.booleans(), min_size=1, max_size=4), forged=st.binary(min_size=64, max_size=64))
def test_a_genuine_double_vote_slashes_exactly_once_and_fakes_never(round_number, ids, repeats, forged):
    chain = make_staking_chain()
    key, address = chain.validators["v2"]
    epoch = chain.epoch()
    first = signed_vote(consensus_key("v2"), epoch, round_number, ids[0])
    second = signed_vote(consensus_key("v2"), epoch, round_number, ids[1])
    stake = chain.pool(address).active.value
    fake = chain.submit(DD_KEY, evidence_payload(VOTE, address, first, (second[0], forged)), sender=DD)
    assert not fake.status.is_executed() and chain.pool(address).active.value == stake
    outcomes = []
    for swap in repeats:
        pair = (second, first) if swap else (first, second)
        outcomes.append(chain.submit(DD_KEY, evidence_payload(VOTE, address, *pair), sender=DD).status.is_executed())
    expected_slash = stake * PARAMS.slash_bps // 10_000 if ids[0] != ids[1] else 0
    assert outcomes == ([True] + [False] * (len(repeats) - 1) if ids[0] != ids[1] else [False] * len(repeats))
    assert chain.pool(address).active.value == stake - expected_slash
