"""`stablechain validator` against the real JSON-RPC app over an in-memory chain whose genesis has staking.

Its genesis has staking (change-only epochs) but no validators: the dealer becomes the only one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading

import pytest
from typer.testing import CliRunner

from cli.validator import app
from contracts.framework import TESTNET_DD
from contracts.genesis import STAKING_WITHOUT_PERIODIC_EPOCHS, build_genesis
from contracts.transaction_builder import compose_script_function
from tests.contracts.framework.staking.helpers import consensus_key, network_key
from wallet.treasury import submit_and_wait

XUS_MICRO = 1_000_000


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A test node (its genesis with staking) on its own event-loop thread; key files for DR and the DD."""
    from tests.node.rpc import memory_ledger
    from tests.wallet.node import TestNode

    patch = pytest.MonkeyPatch()
    patch.setattr(memory_ledger, "build_genesis",
                  lambda config: build_genesis(dataclasses.replace(config, staking=STAKING_WITHOUT_PERIODIC_EPOCHS)))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        node = TestNode()
        url = asyncio.run_coroutine_threadsafe(node.start(), loop).result(10)
    finally:
        patch.undo()  # the ledger is built: other modules' test nodes keep the plain genesis
    folder = tmp_path_factory.mktemp("keys")
    for name in ("root", "dealer"):
        (folder / f"{name}.key").write_text(node.ledger.keys[name].key.seed.hex())
    yield node, loop, url, folder
    asyncio.run_coroutine_threadsafe(node.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def invoke(served, *args: str) -> tuple[int, str]:
    _, _, url, folder = served
    result = CliRunner().invoke(app, [args[0], "--url", url, *args[1:]])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def dealer_args(served) -> list[str]:
    return ["--key-file", str(served[3] / "dealer.key"), "--sender", TESTNET_DD.hex()]


def commit_empty_block(served) -> None:
    node, loop, _, _ = served

    async def commit() -> None:
        node.ledger.commit_block()

    asyncio.run_coroutine_threadsafe(commit(), loop).result(10)


def status(served) -> dict[str, str]:
    code, out = invoke(served, "status", "--address", TESTNET_DD.hex())
    assert code == 0, out
    return dict(line.split(": ", 1) for line in out.strip().splitlines())


def test_an_operator_registers_stakes_joins_at_the_next_epoch_and_rotates_keys(served):
    node = served[0]
    allow = compose_script_function("StakingScripts", "allow_validator_operator", (), (TESTNET_DD,))
    asyncio.run(submit_and_wait(served[2], node.ledger.keys["root"], allow, 10))
    code, out = invoke(served, "register", "--name", "dealer-node",
                       "--consensus-public-key", consensus_key("cli").public_key().data.hex(),
                       "--network-public-key", network_key("cli").public_key().data.hex(), *dealer_args(served))
    assert code == 0, out
    assert status(served)["registered"] == "True"
    code, out = invoke(served, "stake", "--amount", "5", *dealer_args(served))
    assert code == 0 and "join the validator set" in out, out
    before = status(served)
    assert (before["pending_active_micro"], before["pending_join"], before["in_validator_set"]) == \
        (str(5 * XUS_MICRO), "True", "False")
    commit_empty_block(served)  # the next block ends the epoch: the join commits
    after = status(served)
    assert (after["active_micro"], after["in_validator_set"], after["voting_power"]) == \
        (str(5 * XUS_MICRO), "True", str(5 * XUS_MICRO))
    new_key = consensus_key("cli-2").public_key().data.hex()
    code, out = invoke(served, "rotate-consensus-key", "--new-consensus-public-key", new_key, *dealer_args(served))
    assert code == 0 and "next epoch" in out, out
    assert status(served)["pending_consensus_key"] == new_key


def test_the_last_validator_cannot_leave_and_the_cli_says_why(served):
    code, out = invoke(served, "unstake", "--leave", *dealer_args(served))
    assert code == 1 and "leave the validator set" in out, out


def test_unstake_starts_unbonding_at_the_next_epoch(served):
    code, out = invoke(served, "unstake", "--amount", "1", *dealer_args(served))
    assert code == 0, out
    assert status(served)["pending_inactive_micro"] == str(XUS_MICRO)


def test_bad_keys_are_refused_before_anything_is_sent(served):
    code, out = invoke(served, "register", "--name", "x", "--consensus-public-key", "00" * 32,
                       "--network-public-key", network_key("cli").public_key().data.hex(), *dealer_args(served))
    assert code == 1 and "not a valid Ed25519 public key" in out, out
