"""The async client reads typed views, mints through the faucet, sends, and waits like the Diem SDK."""

from __future__ import annotations

import time

import pytest

from primitives.keys import PrivateKey
from wallet.builder import Account, compose_peer_to_peer
from wallet.client import Client
from wallet.errors import (
    InvalidServerResponse,
    JsonRpcError,
    StaleResponseError,
    TransactionExecutionFailed,
    TransactionExpired,
    TransactionHashMismatchError,
    WaitForTransactionTimeout,
)

ALICE = Account(PrivateKey.from_seed_material(b"wallet-alice"))
BOB = Account(PrivateKey.from_seed_material(b"wallet-bob"))
FUNDING_MICRO = 5_000_000


async def _no_sleep(_seconds: float) -> None:
    return None


def make_client(url: str, **kwargs) -> Client:
    return Client(url, poll_interval_s=0.01, stale_retry_backoff_s=0.0, **kwargs)


async def test_metadata_currencies_and_a_missing_account_are_typed(node) -> None:
    async with make_client(node.url + "/v1") as client:
        metadata = await client.get_metadata()
        currencies = await client.get_currencies()
        assert metadata.chain_id == 2 and metadata.version == 0
        assert [currency.code for currency in currencies] == ["XUS", "XDX"]
        assert await client.get_account(ALICE.address) is None


async def test_the_faucet_creates_and_funds_an_account(node) -> None:
    async with make_client(node.url + "/v1") as client:
        minted = await client.mint(ALICE.auth_key, FUNDING_MICRO, "XUS")
        account = await client.must_get_account(ALICE.address)
    assert len(minted) == 2  # create the parent VASP, then pay it
    assert account.get_balance("XUS") == FUNDING_MICRO
    assert account.role.type == "parent_vasp"


async def test_a_payment_is_sent_and_waited_for(node) -> None:
    async with make_client(node.url + "/v1") as client:
        await client.mint(ALICE.auth_key, FUNDING_MICRO)
        await client.mint(BOB.auth_key, 1)
        signed = await client.create_transaction(ALICE, compose_peer_to_peer(BOB.address, 1_500_000))
        await client.submit(signed)
        committed = await client.wait_for_transaction(signed, timeout_s=10)
        bob = await client.must_get_account(BOB.address)
    assert committed.hash == signed.hash().hex() and committed.vm_status.is_executed()
    assert [event.data.type for event in committed.events][-2:] == ["sentpayment", "receivedpayment"]
    assert bob.get_balance() == 1_500_001


async def test_an_aborted_payment_is_execution_failed_with_its_reason(node) -> None:
    async with make_client(node.url + "/v1") as client:
        await client.mint(ALICE.auth_key, FUNDING_MICRO)
        await client.mint(BOB.auth_key, 1)
        signed = await client.create_transaction(ALICE, compose_peer_to_peer(BOB.address, FUNDING_MICRO + 1))
        await client.submit(signed)
        with pytest.raises(TransactionExecutionFailed, match="move_abort 1288 EINSUFFICIENT_BALANCE"):
            await client.wait_for_transaction(signed, timeout_s=10)


async def test_a_transaction_that_never_commits_expires_once_ledger_time_passes(node) -> None:
    async with make_client(node.url + "/v1") as client:
        await client.mint(ALICE.auth_key, FUNDING_MICRO)
        signed = ALICE.sign(compose_peer_to_peer(BOB.address, 1), 5, int(time.time()) + 30)  # never submitted
        ledger = node.ledger
        ledger.timestamps[ledger.version] = (int(time.time()) + 3600) * 1_000_000
        with pytest.raises(TransactionExpired):
            await client.wait_for_transaction(signed, timeout_s=10)


async def test_waiting_for_an_unknown_transaction_times_out(node) -> None:
    async with make_client(node.url + "/v1") as client:
        signed = ALICE.sign(compose_peer_to_peer(BOB.address, 1), 0, int(time.time()) + 3600)
        with pytest.raises(WaitForTransactionTimeout):
            await client.wait_for_transaction(signed, timeout_s=0.1)


async def test_a_different_committed_hash_is_a_mismatch(node, proxy) -> None:
    async with make_client(node.url + "/v1") as direct:
        await direct.mint(ALICE.auth_key, FUNDING_MICRO)
        await direct.mint(BOB.auth_key, 1)
        signed = await direct.create_transaction(ALICE, compose_peer_to_peer(BOB.address, 1))
    proxy.tamper = lambda method, params, body: (
        {**body, "result": {**body["result"], "hash": "00" * 32}} if method == "get_account_transaction"
        and body["result"] else body)
    async with make_client(proxy.url) as client:
        await client.submit(signed)
        with pytest.raises(TransactionHashMismatchError):
            await client.wait_for_transaction(signed, timeout_s=10)


async def test_an_older_ledger_is_stale_and_retried_then_refused(node, proxy) -> None:
    async with make_client(node.url + "/v1") as direct:
        await direct.mint(ALICE.auth_key, FUNDING_MICRO)
    calls = []

    def go_back(method, params, body):
        calls.append(method)
        return {**body, "diem_ledger_version": 0} if len(calls) > 1 else body

    proxy.tamper = go_back
    async with make_client(proxy.url, stale_retry_attempts=3) as client:
        await client.get_metadata()
        with pytest.raises(StaleResponseError):
            await client.get_metadata()
    assert len(calls) == 4  # one fresh answer, then three stale attempts


async def test_an_answer_from_another_chain_is_refused(node, proxy) -> None:
    proxy.tamper = lambda method, params, body: {**body, "diem_chain_id": 4}
    async with make_client(proxy.url, chain_id=2) as client:
        with pytest.raises(InvalidServerResponse, match="chain id"):
            await client.get_metadata()


async def test_a_refused_submission_is_a_json_rpc_error(node) -> None:
    async with make_client(node.url + "/v1") as client:
        signed = ALICE.sign(compose_peer_to_peer(BOB.address, 1), 0, int(time.time()) + 30)
        with pytest.raises(JsonRpcError, match="SENDING_ACCOUNT_DOES_NOT_EXIST") as error:
            await client.submit(signed)
    assert error.value.code == -32001
