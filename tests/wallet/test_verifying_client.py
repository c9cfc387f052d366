"""The verifying client returns only proven values; a tampering proxy's every alteration is rejected."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from primitives.certified.ledger_info import decode_ledger_info, encode_ledger_info
from primitives.keys import PrivateKey
from wallet.builder import Account, compose_peer_to_peer
from wallet.client import Client
from wallet.errors import VerificationError
from wallet.verifying_client import VerifyingClient, get_balance_type

ALICE = Account(PrivateKey.from_seed_material(b"verify-alice"))
BOB = Account(PrivateKey.from_seed_material(b"verify-bob"))
FUNDING_MICRO = 9_000_000
PAYMENT_MICRO = 1_250_000


@pytest.fixture
async def paid(node):
    """Alice and Bob exist; Alice paid Bob once (sequence 0). Returns the signed payment."""
    async with Client(node.url + "/v1", poll_interval_s=0.01) as client:
        await client.mint(ALICE.auth_key, FUNDING_MICRO)
        await client.mint(BOB.auth_key, 1)
        signed = await client.create_transaction(ALICE, compose_peer_to_peer(BOB.address, PAYMENT_MICRO))
        await client.submit(signed)
        await client.wait_for_transaction(signed, timeout_s=10)
    return signed


@pytest.fixture
async def verifying(node, proxy):
    client = Client(proxy.url, poll_interval_s=0.01, stale_retry_backoff_s=0.0)
    yield VerifyingClient.from_waypoint(client, node.ledger.genesis_hash.hex(), 2)
    await client.close()


def _rewrite(target_method, change):
    def tamper(method, params, body):
        if method == target_method and body.get("result") is not None:
            body = {**body, "result": change(json.loads(json.dumps(body["result"])))}
        return body
    return tamper


async def test_honest_answers_verify(node, proxy, paid, verifying) -> None:
    assert await verifying.get_balance(BOB.address) == PAYMENT_MICRO + 1
    state = await verifying.get_account_state(ALICE.address)
    assert state.exists and state.sequence_number == 1 and state.version == node.ledger.version
    assert state.get_balance() == FUNDING_MICRO - PAYMENT_MICRO
    account = await verifying.get_account(ALICE.address)
    assert account.sequence_number == 1
    committed = await verifying.get_account_transaction(ALICE.address, 0, include_events=True)
    assert committed.hash == paid.hash().hex()
    assert len(await verifying.get_transactions(0, node.ledger.version + 1, include_events=True)) == node.ledger.version + 1
    assert (await verifying.get_account_state(PrivateKey.from_seed_material(b"nobody").public_key().address())).exists is False


async def test_an_altered_proven_balance_is_rejected(node, proxy, paid, verifying) -> None:
    key = get_balance_type("XUS").state_key(BOB.address).hex()

    def inflate(result):
        for item in result["resources"]:
            if item["key"] == key:
                item["value"] = (10**12).to_bytes(8, "little").hex()
        return result

    proxy.tamper = _rewrite("get_account_state_with_proof", inflate)
    with pytest.raises(VerificationError, match="does not verify"):
        await verifying.get_balance(BOB.address)


async def test_an_altered_account_view_balance_is_rejected(node, proxy, paid, verifying) -> None:
    def inflate(result):
        result["balances"] = [{"amount": 10**12, "currency": "XUS"}]
        return result

    proxy.tamper = _rewrite("get_account", inflate)
    with pytest.raises(VerificationError, match="the proofs say"):
        await verifying.get_account(BOB.address)


async def test_a_withheld_balance_proof_is_rejected(node, proxy, paid, verifying) -> None:
    proxy.tamper = _rewrite("get_account_state_with_proof", lambda result: {**result, "resources": result["resources"][:1]})
    with pytest.raises(VerificationError, match="no proof"):
        await verifying.get_balance(BOB.address)


async def test_an_altered_payment_amount_is_rejected(node, proxy, paid, verifying) -> None:
    def change_amount(result):
        result["transaction"]["script"]["arguments_bcs"][1] = (10**9).to_bytes(8, "little").hex()
        return result

    proxy.tamper = _rewrite("get_account_transaction", change_amount)
    with pytest.raises(VerificationError, match="arguments_bcs"):
        await verifying.get_account_transaction(ALICE.address, 0)


async def test_an_altered_payment_event_is_rejected(node, proxy, paid, verifying) -> None:
    def change_event(result):
        result["events"][-1]["data"]["amount"]["amount"] = 10**9
        return result

    proxy.tamper = _rewrite("get_account_transaction", change_event)
    with pytest.raises(VerificationError, match="payment event"):
        await verifying.get_account_transaction(ALICE.address, 0, include_events=True)


async def test_a_substituted_transaction_is_rejected(node, proxy, paid, verifying) -> None:
    forged = ALICE.sign(compose_peer_to_peer(BOB.address, 10**9), 0, int(time.time()) + 30)

    def substitute(result):
        result["bytes"] = "00" + forged.to_bcs().hex()
        result["hash"] = forged.hash().hex()
        result["transaction"]["signature"] = forged.authenticator.value.signature.hex()
        result["transaction"]["expiration_timestamp_secs"] = forged.raw_txn.expiration_timestamp_secs
        result["transaction"]["script"]["arguments_bcs"][1] = (10**9).to_bytes(8, "little").hex()
        return result

    proxy.tamper = _rewrite("get_account_transaction", substitute)
    with pytest.raises(VerificationError, match="another transaction"):
        await verifying.get_account_transaction(ALICE.address, 0)

    def substitute_everywhere(method, params, body):
        body = _rewrite("get_account_transaction", substitute)(method, params, body)
        return _rewrite("get_transactions_with_proofs", _swap_bytes(forged))(method, params, body)

    proxy.tamper = substitute_everywhere  # the proof's bytes are swapped too: only the certified hash is left
    with pytest.raises(VerificationError, match="certified TransactionInfo commits"):
        await verifying.get_account_transaction(ALICE.address, 0)


def _swap_bytes(forged):
    def swap(result):
        result["transactions"][0]["bytes"] = "00" + forged.to_bcs().hex()
        return result
    return swap


async def test_a_hidden_transaction_is_rejected(node, proxy, paid, verifying) -> None:
    proxy.tamper = lambda method, params, body: {**body, "result": None} if method == "get_account_transaction" else body
    with pytest.raises(VerificationError, match="hides"):
        await verifying.get_account_transaction(ALICE.address, 0)


async def test_a_falsified_status_is_rejected(node, proxy, paid, verifying) -> None:
    def fail(result):
        result["vm_status"] = {"type": "move_abort", "location": "Script", "abort_code": 1288}
        return result

    proxy.tamper = _rewrite("get_account_transaction", fail)
    with pytest.raises(VerificationError, match="status"):
        await verifying.get_account_transaction(ALICE.address, 0)


def _change_certificate(change):
    def tamper(result):
        certificate = decode_ledger_info(bytes.fromhex(result["ledger_info_with_signatures"]))
        result["ledger_info_with_signatures"] = encode_ledger_info(change(certificate)).hex()
        return result
    return _rewrite("get_state_proof", tamper)


async def test_an_altered_ledger_info_signature_is_rejected(node, proxy, paid, verifying) -> None:
    def flip(certificate):
        author, signature = certificate.signatures[0]
        bad = bytes([signature[0] ^ 1]) + signature[1:]
        return dataclasses.replace(certificate, signatures=((author, bad),) + certificate.signatures[1:])

    proxy.tamper = _change_certificate(flip)
    with pytest.raises(VerificationError, match="bad ledger info signature"):
        await verifying.get_balance(BOB.address)


async def test_an_altered_ledger_root_is_rejected(node, proxy, paid, verifying) -> None:
    def reroot(certificate):
        info = dataclasses.replace(certificate.ledger_info, state_root=b"\x07" * 32)
        return dataclasses.replace(certificate, ledger_info=info)

    proxy.tamper = _change_certificate(reroot)
    with pytest.raises(VerificationError, match="bad ledger info signature"):
        await verifying.get_balance(BOB.address)


async def test_a_certificate_without_quorum_is_rejected(node, proxy, paid, verifying) -> None:
    proxy.tamper = _change_certificate(lambda c: dataclasses.replace(c, signatures=c.signatures[:2]))
    with pytest.raises(VerificationError, match="quorum"):
        await verifying.get_balance(BOB.address)


async def test_the_client_follows_a_reconfiguration(node, proxy, paid, verifying) -> None:
    await verifying.sync()
    node.ledger.change_epoch("epoch-2")
    async with Client(node.url + "/v1", poll_interval_s=0.01) as client:
        signed = await client.create_transaction(ALICE, compose_peer_to_peer(BOB.address, 1))
        await client.submit(signed)
        await client.wait_for_transaction(signed, timeout_s=10)
        signed = await client.create_transaction(ALICE, compose_peer_to_peer(BOB.address, 1))
        await client.submit(signed)
        await client.wait_for_transaction(signed, timeout_s=10)
    assert await verifying.get_balance(BOB.address) == PAYMENT_MICRO + 3
    assert verifying.trusted.epoch == 2


async def test_a_ledger_that_does_not_extend_the_trusted_one_is_rejected(node, proxy, paid, verifying) -> None:
    await verifying.sync()
    async with Client(node.url + "/v1", poll_interval_s=0.01) as client:
        signed = await client.create_transaction(ALICE, compose_peer_to_peer(BOB.address, 1))
        await client.submit(signed)
        await client.wait_for_transaction(signed, timeout_s=10)
        honest = await client.execute("get_state_proof", [0])
    proxy.tamper = _rewrite("get_state_proof", lambda result: {
        **result, "ledger_consistency_proof": honest["ledger_consistency_proof"]})  # a proof from version 0, not ours
    with pytest.raises(VerificationError, match="does not provably extend"):
        await verifying.sync()


async def test_events_are_proven_and_altered_ones_rejected(node, proxy, paid, verifying) -> None:
    async with Client(node.url + "/v1") as client:
        key = (await client.must_get_account(BOB.address)).received_events_key
    events = await verifying.get_events(key, 0, 10)
    assert [event.data.amount.amount for event in events] == [1, PAYMENT_MICRO]

    def inflate(result):
        result[-1]["data"]["amount"]["amount"] = 10**9
        return result

    proxy.tamper = _rewrite("get_events", inflate)
    with pytest.raises(VerificationError, match="payment event"):
        await verifying.get_events(key, 0, 10)
    proxy.tamper = _rewrite("get_events_with_proofs", lambda result: result[1:])
    with pytest.raises(VerificationError, match="expected sequence 0"):
        await verifying.get_events(key, 0, 10)


async def test_a_truncated_event_page_is_rejected_by_the_certified_counter(node, proxy, paid, verifying) -> None:
    async with Client(node.url + "/v1") as client:
        key = (await client.must_get_account(BOB.address)).received_events_key
    proxy.tamper = _rewrite("get_events_with_proofs", lambda result: result[:1])
    with pytest.raises(VerificationError, match="certified counter is 2"):
        await verifying.get_events(key, 0, 10)
