"""The verifying client's reads for explorers: any resource (now or at an older block end), transactions with
their certified events proven a page at a time, and certified event bytes."""

from __future__ import annotations

import pytest

from contracts.framework import DIEM_ROOT, block, currency
from primitives.keys import PrivateKey
from tests.wallet.test_verifying_client import _rewrite, verifying  # noqa: F401 - the shared fixture
from wallet.builder import Account, compose_peer_to_peer
from wallet.client import Client
from wallet.errors import VerificationError
from wallet.verifying_client import get_balance_type

ALICE = Account(PrivateKey.from_seed_material(b"reads-alice"))
BOB = Account(PrivateKey.from_seed_material(b"reads-bob"))
PAYMENT_MICRO = 700_000


@pytest.fixture
async def paid(node) -> int:
    """Alice paid Bob once; returns the payment's version."""
    async with Client(node.url + "/v1", poll_interval_s=0.01) as client:
        await client.mint(ALICE.auth_key, 5_000_000)
        await client.mint(BOB.auth_key, 1)
        signed = await client.create_transaction(ALICE, compose_peer_to_peer(BOB.address, PAYMENT_MICRO))
        await client.submit(signed)
        return (await client.wait_for_transaction(signed, timeout_s=10)).version


async def test_a_resource_is_proven_now_and_at_an_older_block_end(node, proxy, paid, verifying) -> None:
    xus = currency.tag_of_code(b"XUS")
    version, (info,) = await verifying.get_resources(DIEM_ROOT, [currency.info_type(xus)])
    assert version == verifying.ledger_info.version and info is not None
    before, (balance,) = await verifying.get_resources(BOB.address, [get_balance_type("XUS")], paid - 1)
    assert before < paid and balance is not None
    assert get_balance_type("XUS").decode(balance).coin.value == 1  # Bob before Alice's payment
    _, (clock,) = await verifying.get_resources(DIEM_ROOT, [block.CLOCK], paid)
    assert block.CLOCK.decode(clock).microseconds > 0


async def test_an_older_state_proven_after_the_version_asked_is_rejected(node, proxy, paid, verifying) -> None:
    latest = node.ledger.version
    proxy.tamper = _rewrite("get_account_state_with_proof", lambda result: {**result, "version": latest})
    with pytest.raises(VerificationError, match="after the requested version"):
        await verifying.get_resources(BOB.address, [get_balance_type("XUS")], paid - 1)


async def test_an_altered_older_value_is_rejected(node, proxy, paid, verifying) -> None:
    def inflate(result):
        for item in result["resources"]:
            item["value"] = (10**12).to_bytes(8, "little").hex()
        return result

    proxy.tamper = _rewrite("get_account_state_with_proof", inflate)
    with pytest.raises(VerificationError, match="does not verify"):
        await verifying.get_resources(BOB.address, [get_balance_type("XUS")], paid - 1)


async def test_transactions_come_with_their_certified_events(node, proxy, paid, verifying) -> None:
    proven = await verifying.get_proven_transactions(0, paid + 1, include_events=True)
    view, events = proven[paid]
    assert view.version == paid and [event.type_tag.struct.name for event in events] == [
        "SentPaymentEvent", "ReceivedPaymentEvent"]
    assert [len(events) for _, events in proven] == [len(view.events) for view, _ in proven]


async def test_a_short_page_of_transaction_proofs_is_rejected(node, proxy, paid, verifying) -> None:
    proxy.tamper = _rewrite("get_transactions_with_proofs",
                            lambda result: {**result, "transactions": result["transactions"][:-1]})
    with pytest.raises(VerificationError, match="transaction proofs for"):
        await verifying.get_proven_transactions(0, paid + 1)


async def test_proven_events_are_the_certified_bytes(node, proxy, paid, verifying) -> None:
    key = (await verifying.client.get_account(BOB.address)).received_events_key
    proven = await verifying.get_proven_events(key, 0, 10)
    assert [item.event.sequence_number for item in proven] == [0, 1]
    assert proven[-1].transaction_version == paid
