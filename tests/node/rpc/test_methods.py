"""JSON-RPC methods and the faucet as a Diem wallet sees them, over an in-memory chain."""

from __future__ import annotations

import time

import pytest

from contracts.transaction_builder import compose_peer_to_peer
from tests.node.rpc.harness import Chain, new_account, open_chain

TC = "0000000000000000000000000b1e55ed"
DD = "000000000000000000000000000000dd"
XUS_MINT_EVENTS_KEY = "05000000000000000000000000000000000000000a550c18"


@pytest.fixture
async def chain():  # noqa: ANN201
    async with open_chain() as opened:
        yield opened


async def test_metadata_reports_chain_configs_only_at_the_latest_version(chain: Chain) -> None:
    chain.ledger.commit_block()
    latest = await chain.result("get_metadata")
    assert latest["chain_id"] == 2 and latest["version"] == 1
    assert latest["dual_attestation_limit"] == 1_000_000_000 and latest["diem_version"] >= 2
    assert "04ea43107fafc12adcd09f6c68d63e194675d0ce843a7faf7cceb6c813db9d9a" in latest["script_hash_allow_list"]
    older = await chain.result("get_metadata", 0)
    assert older["version"] == 0 and older["dual_attestation_limit"] is None
    too_new = await chain.call("get_metadata", 99)
    assert too_new["error"]["code"] == -32602


async def test_currencies_are_xus_then_xdx_with_diem_event_keys(chain: Chain) -> None:
    currencies = await chain.result("get_currencies")
    assert [c["code"] for c in currencies] == ["XUS", "XDX"]
    assert currencies[0]["mint_events_key"] == XUS_MINT_EVENTS_KEY
    assert (currencies[0]["fractional_part"], currencies[1]["fractional_part"]) == (100, 1000)
    assert all(c["to_xdx_exchange_rate"] == 1.0 and c["scaling_factor"] == 1_000_000 for c in currencies)


async def test_system_accounts_show_their_roles(chain: Chain) -> None:
    treasury = await chain.result("get_account", TC)
    assert treasury["role"] == {"type": "treasury_compliance", "diem_id_domain_events_key": "0000000000000000" + TC}
    assert treasury["received_events_key"] == "0100000000000000" + TC
    dealer = await chain.result("get_account", DD)
    assert dealer["role"]["type"] == "designated_dealer"
    assert dealer["role"]["preburn_queues"] == [{"currency": "XUS", "preburns": []}]
    assert dealer["role"]["received_mint_events_key"] == "0000000000000000" + DD
    assert list(dealer)[6:9] == ["delegated_key_rotation_capability", "delegated_withdrawal_capability", "is_frozen"]
    assert await chain.result("get_account", "00" * 16) is None


async def test_the_faucet_creates_a_parent_vasp_and_funds_it(chain: Chain) -> None:
    alice = new_account("alice")
    transactions = await chain.mint(alice, 100_000_000)
    assert len(transactions) == 2
    account = await chain.result("get_account", alice.address.hex())
    assert account["balances"] == [{"amount": 100_000_000, "currency": "XUS"}]
    assert account["role"]["type"] == "parent_vasp" and account["role"]["human_name"].endswith("VASP")
    assert account["role"]["compliance_key_rotation_events_key"] == "0000000000000000" + alice.address.hex()
    assert account["received_events_key"] == "0200000000000000" + alice.address.hex()
    for signed in transactions:
        committed = await chain.result("get_account_transaction", signed.sender.hex(), signed.sequence_number, True)
        assert committed["hash"] == signed.hash().hex() and committed["vm_status"] == {"type": "executed"}
    again = await chain.mint(alice, 5)
    assert len(again) == 1, "an existing account is only funded"
    assert (await chain.result("get_account", alice.address.hex()))["balances"][0]["amount"] == 100_000_005


async def test_the_faucet_refuses_what_would_fail(chain: Chain) -> None:
    for query in ({"amount": "0"}, {"amount": "x"}, {"currency_code": "USD"}, {"auth_key": "abc"},
                  {"amount": str(10**18)}):
        params = {"amount": "10", "auth_key": new_account("x").auth_key.hex(), "currency_code": "XUS", **query}
        response = await chain.client.post("/mint", params=params)
        assert response.status == 400


async def test_a_payment_commits_with_its_events_and_a_failed_one_is_kept_with_its_abort(chain: Chain) -> None:
    alice, bob = new_account("alice"), new_account("bob")
    await chain.mint(alice, 1_000_000)
    await chain.mint(bob, 1)
    metadata = bytes.fromhex("0100010801020304050607080000")
    expiration = int(time.time()) + 60
    pay = alice.sign(compose_peer_to_peer(bob.address, 250_000, metadata=metadata), 0, expiration)
    too_much = alice.sign(compose_peer_to_peer(bob.address, 10**12), 1, expiration)
    assert (await chain.result("submit", pay.to_bcs().hex())) is None
    assert (await chain.result("submit", too_much.to_bcs().hex())) is None
    chain.ledger.commit_block()
    paid = await chain.result("get_account_transaction", alice.address.hex(), 0, True)
    assert [event["data"]["type"] for event in paid["events"]] == ["sentpayment", "receivedpayment"]
    assert paid["events"][1]["data"]["metadata"] == metadata.hex()
    failed = await chain.result("get_account_transaction", alice.address.hex(), 1, True)
    assert failed["vm_status"]["type"] == "move_abort" and failed["vm_status"]["abort_code"] == 1288
    assert failed["vm_status"]["explanation"]["reason"] == "EINSUFFICIENT_BALANCE"
    assert failed["events"] == []
    history = await chain.result("get_account_transactions", alice.address.hex(), 0, 10, False)
    assert [t["transaction"]["sequence_number"] for t in history] == [0, 1]
    bob_account = await chain.result("get_account", bob.address.hex())
    received = await chain.result("get_events", bob_account["received_events_key"], 0, 10)
    assert [event["data"]["amount"]["amount"] for event in received] == [1, 250_000]
    assert await chain.result("get_events", bob_account["received_events_key"], 1, 1) == received[1:]


async def test_bad_submissions_get_diem_errors_and_change_nothing(chain: Chain) -> None:
    alice, bob = new_account("alice"), new_account("bob")
    await chain.mint(alice, 1_000)
    version = (await chain.result("get_metadata"))["version"]
    expiration = int(time.time()) + 60
    wrong_chain = alice.sign(compose_peer_to_peer(bob.address, 1), 0, expiration, chain_id=4)
    answer = await chain.call("submit", wrong_chain.to_bcs().hex())
    assert answer["error"]["code"] == -32001 and answer["error"]["data"] == {"StatusCode": 23}
    for junk in ("zz", "00", wrong_chain.to_bcs().hex() + "00"):
        assert (await chain.call("submit", junk))["error"]["code"] == -32602
    first = alice.sign(compose_peer_to_peer(bob.address, 1), 0, expiration)
    second = alice.sign(compose_peer_to_peer(bob.address, 2), 0, expiration)
    assert (await chain.call("submit", first.to_bcs().hex()))["result"] is None
    assert (await chain.call("submit", first.to_bcs().hex()))["result"] is None
    assert (await chain.call("submit", second.to_bcs().hex()))["error"]["code"] == -32010
    assert (await chain.result("get_metadata"))["version"] == version


async def test_transactions_page_from_genesis_and_stop_at_the_ledger(chain: Chain) -> None:
    chain.ledger.commit_block()
    page = await chain.result("get_transactions", 0, 100, False)
    assert [t["transaction"]["type"] for t in page] == ["writeset", "blockmetadata"]
    assert await chain.result("get_transactions", 2**64 - 1, 10, False) == []
    assert (await chain.call("get_transactions", 0, 1001, False))["error"]["code"] == -32600
