"""`stablechain wallet` commands against the real JSON-RPC app and faucet over an in-memory chain."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from typer.testing import CliRunner

from cli.wallet import app
from primitives.account_identifier import TESTNET_HRP, encode_account_identifier
from primitives.keys import PrivateKey
from primitives.metadata import GeneralMetadataV0, Metadata
from primitives.types.names import AccountAddress
from tests.wallet.node import TestNode

PASSPHRASE_ENV = {"WALLET_PASS": "s3cret", "WRONG_PASS": "nope",
                  "BOB_KEY": PrivateKey.from_seed_material(b"cli-bob").seed.hex()}
BOB_ADDRESS = PrivateKey.from_seed_material(b"cli-bob").public_key().address().hex()


@pytest.fixture(scope="module")
def served():
    """A test node on its own event loop thread (the CLI runs asyncio.run itself)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    node = TestNode()
    url = asyncio.run_coroutine_threadsafe(node.start(), loop).result(10)
    yield node, url
    asyncio.run_coroutine_threadsafe(node.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture(scope="module")
def wallet(served, tmp_path_factory):
    """Run a wallet command with the test keystore and node URL; returns (exit code, output)."""
    _, url = served
    keystore = str(tmp_path_factory.mktemp("keystore"))
    runner = CliRunner()

    def invoke(*args: str, with_url: bool = True) -> tuple[int, str]:
        options = ["--keystore", keystore] + (["--url", url] if with_url else [])
        result = runner.invoke(app, [args[0], *options, *args[1:]], env=PASSPHRASE_ENV)
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.output
        return result.exit_code, result.output

    code, out = invoke("new", "--label", "alice", "--passphrase-env", "WALLET_PASS", "--json", with_url=False)
    assert code == 0, out
    code, out = invoke("import", "--label", "bob", "--key-env", "BOB_KEY", "--passphrase-env", "WALLET_PASS",
                       with_url=False)
    assert code == 0, out
    code, out = invoke("faucet", "--account", "alice", "100", "--json")
    assert code == 0, out
    code, out = invoke("faucet", "--account", "bob", "0.000001")
    assert code == 0, out
    return invoke


def test_address_lists_both_accounts_with_identifiers(wallet) -> None:
    code, out = wallet("address", "--json", with_url=False)
    accounts = json.loads(out)
    assert code == 0 and [a["label"] for a in accounts] == ["alice", "bob"]
    assert accounts[1]["address"] == BOB_ADDRESS and accounts[1]["account_identifier"].startswith("tdm1")


def test_balance_is_shown_in_xus_with_six_decimals_and_verified_on_request(wallet, served) -> None:
    node, _ = served
    code, out = wallet("balance", "alice")
    assert code == 0 and out.strip().endswith("XUS") and "." in out
    code, out = wallet("balance", "bob", "--waypoint", node.ledger.genesis_hash.hex(), "--json")
    data = json.loads(out)
    assert code == 0 and data["verified"] and data["amount_micro"] >= 1
    code, out = wallet("balance", "bob", "--waypoint", "00" * 32)
    assert code == 1 and "waypoint" in out


def test_send_pays_and_waits_and_history_shows_it(wallet, served) -> None:
    code, before = wallet("balance", "bob", "--json")
    code, out = wallet("send", BOB_ADDRESS, "1.5", "--account", "alice", "--passphrase-env", "WALLET_PASS", "--json")
    assert code == 0, out
    sent = json.loads(out)
    assert sent["status"] == "executed" and sent["amount_micro"] == 1_500_000
    code, after = wallet("balance", "bob", "--json")
    assert json.loads(after)["amount_micro"] - json.loads(before)["amount_micro"] == 1_500_000
    code, out = wallet("history", "alice", "--json")
    history = json.loads(out)
    assert any(row["hash"] == sent["hash"] and row["amount"] == "1.500000" for row in history["sent"])
    code, out = wallet("history", "bob")
    assert code == 0 and "1.500000 XUS" in out
    code, out = wallet("history", "alice", "--waypoint", served[0].ledger.genesis_hash.hex(), "--json")
    assert code == 0 and json.loads(out)["verified"] and json.loads(out)["sent"][-1]["hash"] == sent["hash"]
    code, out = wallet("wait", "alice", str(sent["sequence_number"]), "--hash", sent["hash"])
    assert code == 0 and "executed" in out


def test_sending_more_than_the_balance_reports_the_move_abort(wallet) -> None:
    code, out = wallet("send", BOB_ADDRESS, "1000000", "--account", "alice", "--passphrase-env", "WALLET_PASS")
    assert code == 1 and "move_abort 1288 EINSUFFICIENT_BALANCE" in out
    code, out = wallet("history", "alice", "--json")
    failed = [row for row in json.loads(out)["sent"] if row["vm_status"].startswith("move_abort 1288")]
    assert failed and failed[0]["amount"] == "1000000.000000" and failed[0]["receiver"] == BOB_ADDRESS


@pytest.mark.parametrize("amount, message", [("1.0000001", "at most 6 decimals"), ("-1", "non-negative")])
def test_bad_amounts_are_refused_before_signing(wallet, amount: str, message: str) -> None:
    code, out = wallet("send", "--account", "alice", "--passphrase-env", "WALLET_PASS", "--", BOB_ADDRESS, amount)
    assert code == 1 and message in out


def test_a_wrong_passphrase_is_one_clear_line(wallet) -> None:
    code, out = wallet("send", BOB_ADDRESS, "1", "--account", "alice", "--passphrase-env", "WRONG_PASS")
    assert code == 1 and "wrong passphrase" in out and "Traceback" not in out


def test_waiting_for_a_transaction_that_never_comes_times_out(wallet) -> None:
    code, out = wallet("wait", "alice", "99", "--timeout", "0.3")
    assert code == 1 and "not committed" in out


def test_an_unreachable_node_is_a_clear_error(wallet) -> None:
    code, out = wallet("balance", "alice", "--url", "http://127.0.0.1:9/v1", with_url=False)
    assert code == 1 and "cannot reach" in out


def test_an_unknown_account_is_a_clear_error(wallet) -> None:
    code, out = wallet("balance", "carol")
    assert code == 1 and "no account 'carol'" in out


def test_a_payment_to_an_account_identifier_carries_its_subaddress(wallet) -> None:
    subaddress = bytes.fromhex("0102030405060708")
    identifier = encode_account_identifier(TESTNET_HRP, AccountAddress(bytes.fromhex(BOB_ADDRESS)), subaddress)
    code, out = wallet("send", identifier, "0.25", "--account", "alice", "--passphrase-env", "WALLET_PASS")
    assert code == 0, out
    code, out = wallet("history", "bob", "--json")
    expected = Metadata(GeneralMetadataV0(to_subaddress=subaddress)).to_bcs().hex()
    assert any(row["metadata"] == expected and row["amount"] == "0.250000" for row in json.loads(out)["received"])
