"""From the command line: a user of the wallet service asks for money with a link and QR code, another
user pays the link in one command, then replaces a leaked key without moving funds; a lost key is
replaced through the VASP's recovery address.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.wallet_service.conftest import Net
from tests.wallet_service.harness import XUS, WalletService, wait_for
from wallet.builder import (
    Account,
    compose_add_recovery_rotation_capability,
    compose_create_child_vasp,
    compose_create_recovery_address,
)
from wallet.client import Client
from wallet.intent import decode_intent
from wallet.keystore import Keystore

PASSPHRASE_ENV = "STABLECHAIN_TEST_PASSPHRASE"
runner = CliRunner()


@pytest.fixture
def payer(net: Net, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    keystore = ["--keystore", str(tmp_path / "keys")]
    assert runner.invoke(app, ["wallet", "new", "--label", "payer", *keystore, "--passphrase-env",
                               PASSPHRASE_ENV]).exit_code == 0
    funded = runner.invoke(app, ["wallet", "faucet", "50", "--account", "payer", *keystore, "--url", net.rpc_urls[0],
                                 "--faucet-url", net.faucet_url])
    assert funded.exit_code == 0, funded.output
    return [*keystore, "--account", "payer", "--url", net.rpc_urls[0], "--passphrase-env", PASSPHRASE_ENV]


def invoke_json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_request_a_payment_with_a_link_and_pay_it_in_one_command(alpha: WalletService, payer: list[str],
                                                                 tmp_path: Path) -> None:
    merchant = alpha.create_account()
    qr_file = tmp_path / "pay-me.svg"
    requested = invoke_json("wallet", "request", "--service", alpha.url, "--service-account", merchant,
                            "--amount", "3.25", "--qr", str(qr_file))
    intent = decode_intent(requested["intent"])
    assert (intent.currency, intent.amount_micro) == ("XUS", 3_250_000)
    assert qr_file.read_text().startswith("<?xml")
    paid = invoke_json("wallet", "pay", requested["intent"], *payer)
    assert paid["amount_micro"] == 3_250_000
    wait_for(lambda: alpha.balance(merchant) == 3_250_000, "the merchant's credit")


def test_a_link_and_an_amount_that_contradict_it_are_refused(payer: list[str]) -> None:
    link = "diem://tdm1pe33jv9jtyvact0hya6yecvc0r6gxn3z32mtyrvc82jgau?c=XUS&am=1000000"
    result = runner.invoke(app, ["wallet", "pay", link, "--amount", "2", *payer])
    assert result.exit_code == 1 and "asks for 1" in result.output
    result = runner.invoke(app, ["wallet", "pay", "diem://not-an-identifier", *payer])
    assert result.exit_code == 1 and "not a payment link" in result.output


def test_rotate_a_leaked_key_and_keep_paying_from_the_same_account(alpha: WalletService, payer: list[str]) -> None:
    before = invoke_json("wallet", "balance", *payer[:2], *payer[4:6], "payer")
    rotated = invoke_json("wallet", "rotate-key", *payer)
    assert rotated["address"] == before["address"]
    after = invoke_json("wallet", "balance", *payer[:2], *payer[4:6], "payer")
    assert after["amount_micro"] == before["amount_micro"]  # a rotation moves no funds
    merchant = alpha.create_account()
    link = invoke_json("wallet", "request", "--service", alpha.url, "--service-account", merchant,
                       "--amount", "1")["intent"]
    invoke_json("wallet", "pay", link, *payer)              # signed with the new key, for the same address
    wait_for(lambda: alpha.balance(merchant) == XUS, "the payment signed with the new key")


def test_recover_a_lost_key_through_the_vasps_recovery_address(net: Net, payer: list[str], tmp_path: Path) -> None:
    keystore_args, url_args = payer[:2], ["--url", net.rpc_urls[0]]
    assert runner.invoke(app, ["wallet", "new", "--label", "teller", *keystore_args, "--passphrase-env",
                               PASSPHRASE_ENV]).exit_code == 0
    keystore = Keystore(Path(keystore_args[1]))
    vasp = Account(keystore.load(keystore.find("payer"), "correct horse"))
    teller = Account(keystore.load(keystore.find("teller"), "correct horse"))

    async def set_up_recovery() -> None:
        async with Client(net.rpc_urls[0]) as client:
            for signer, payload in (
                (vasp, compose_create_child_vasp(teller.address, teller.auth_key_prefix, 2 * XUS)),
                (vasp, compose_create_recovery_address()),
                (teller, compose_add_recovery_rotation_capability(vasp.address)),
            ):
                signed = await client.create_transaction(signer, payload)
                await client.submit(signed)
                await client.wait_for_transaction(signed, 30)

    asyncio.run(set_up_recovery())
    # The teller's key is lost; the VASP's recovery account puts a new one in place.
    recovered = invoke_json("wallet", "rotate-key", "--for", teller.address.hex(), *payer)
    assert recovered["address"] == teller.address.hex()
    sent = invoke_json("wallet", "send", vasp.address.hex(), "0.5", "--account", "teller", *keystore_args,
                       *url_args, "--passphrase-env", PASSPHRASE_ENV)
    assert sent["status"] == "executed" and sent["sender"] == teller.address.hex()
