"""The official Diem Python SDK (1.7.1), unmodified, against a real 4-validator devnet.

Everything here goes through `diem.jsonrpc.Client`, `diem.testnet.Faucet` and `LocalAccount`
exactly as a Diem wallet would use them; nothing of ours is imported on the client side.
"""

from __future__ import annotations

import pytest
from diem import constants, identifier, jsonrpc, stdlib, testnet, txnmetadata, utils
from diem.testing import LocalAccount

from tests.compat.conftest import DevnetEndpoints

XUS = "XUS"
PAYMENT_MICRO = 1_234_567
TRAVEL_RULE_LIMIT_MICRO = 1_000_000_000
FUNDING_MICRO = 100_000_000_000
pytestmark = pytest.mark.timeout(300)


def make_client(endpoints: DevnetEndpoints, index: int = 0) -> jsonrpc.Client:
    return jsonrpc.Client(endpoints.rpc_urls[index])


def test_metadata_currencies_and_treasury_account(endpoints: DevnetEndpoints) -> None:
    client = make_client(endpoints)
    metadata = client.get_metadata()
    assert metadata.chain_id == 2
    assert metadata.dual_attestation_limit == TRAVEL_RULE_LIMIT_MICRO
    assert [currency.code for currency in client.get_currencies()] == ["XUS", "XDX"]
    treasury = client.get_account(constants.TREASURY_ADDRESS)
    assert treasury.role.type == "treasury_compliance"
    assert client.get_account(LocalAccount.generate().account_address) is None


def test_faucet_creates_and_funds_accounts(endpoints: DevnetEndpoints) -> None:
    client = make_client(endpoints)
    faucet = testnet.Faucet(client, url=endpoints.faucet_url)
    account = faucet.gen_account()
    on_chain = client.must_get_account(account.account_address)
    assert on_chain.role.type == "parent_vasp"
    assert [(b.amount, b.currency) for b in on_chain.balances] == [(FUNDING_MICRO, XUS)]
    faucet.mint(account.auth_key.hex(), 5, XUS)
    assert client.must_get_account(account.account_address).balances[0].amount == FUNDING_MICRO + 5


def test_payments_as_script_function_and_as_legacy_script(endpoints: DevnetEndpoints) -> None:
    client = make_client(endpoints, 1)
    faucet = testnet.Faucet(client, url=endpoints.faucet_url)
    sender, receiver = faucet.gen_account(), faucet.gen_account()
    metadata = txnmetadata.general_metadata(None, bytes.fromhex("0102030405060708"))
    function_payload = stdlib.encode_peer_to_peer_with_metadata_script_function(
        currency=utils.currency_code(XUS), payee=receiver.account_address, amount=PAYMENT_MICRO,
        metadata=metadata, metadata_signature=b"")
    signed = sender.create_txn(client, payload=function_payload)
    client.submit(signed)
    executed = client.wait_for_transaction(signed, timeout_secs=30)
    assert executed.vm_status.type == "executed"
    assert [event.data.type for event in executed.events] == ["sentpayment", "receivedpayment"]
    script = stdlib.encode_peer_to_peer_with_metadata_script(
        currency=utils.currency_code(XUS), payee=receiver.account_address, amount=PAYMENT_MICRO,
        metadata=metadata, metadata_signature=b"")
    legacy = sender.submit_and_wait_for_txn(client, script)
    assert legacy.transaction.script.type == "peer_to_peer_with_metadata"
    assert legacy.transaction.script.metadata == metadata.hex()
    received = client.get_events(client.must_get_account(receiver.account_address).received_events_key, 0, 10)
    payments = [event for event in received if event.data.sender == utils.account_address_hex(sender.account_address)]
    assert [event.data.amount.amount for event in payments] == [PAYMENT_MICRO, PAYMENT_MICRO]
    assert all(event.data.metadata == metadata.hex() for event in payments)


def test_a_failed_payment_is_reported_as_a_move_abort(endpoints: DevnetEndpoints) -> None:
    client = make_client(endpoints, 2)
    faucet = testnet.Faucet(client, url=endpoints.faucet_url)
    sender, receiver = faucet.gen_account(), faucet.gen_account()
    script = stdlib.encode_peer_to_peer_with_metadata_script(
        currency=utils.currency_code(XUS), payee=receiver.account_address, amount=FUNDING_MICRO * 10,
        metadata=b"", metadata_signature=b"")
    sequence = client.get_account_sequence(sender.account_address)
    with pytest.raises(jsonrpc.TransactionExecutionFailed, match="move_abort"):
        sender.submit_and_wait_for_txn(client, script)
    status = client.get_account_transaction(sender.account_address, sequence).vm_status
    assert status.type == "move_abort" and status.abort_code == 1288
    assert status.location == "00000000000000000000000000000001::DiemAccount"
    assert status.explanation.reason == "EINSUFFICIENT_BALANCE"
    assert client.get_account_sequence(sender.account_address) == sequence + 1


def test_an_unexecuted_transaction_is_reported_as_expired(endpoints: DevnetEndpoints) -> None:
    client = make_client(endpoints)
    account = testnet.Faucet(client, url=endpoints.faucet_url).gen_account()
    script = stdlib.encode_peer_to_peer_with_metadata_script(
        currency=utils.currency_code(XUS), payee=account.account_address, amount=1, metadata=b"", metadata_signature=b"")
    # A sequence-number gap parks the transaction in the mempool until it expires.
    account.txn_expire_duration_secs = 3
    parked = account.create_signed_txn(client.get_account_sequence(account.account_address) + 1,
                                       stdlib_payload(script), chain_id=2)
    client.submit(parked)
    with pytest.raises(jsonrpc.TransactionExpired):
        client.wait_for_transaction(parked, timeout_secs=60)


def stdlib_payload(script):  # noqa: ANN001, ANN201
    from diem import diem_types

    return diem_types.TransactionPayload__Script(value=script)


def test_child_vasp_and_dual_attestation_rotation(endpoints: DevnetEndpoints) -> None:
    client = make_client(endpoints, 3)
    parent = testnet.Faucet(client, url=endpoints.faucet_url).gen_account()
    child = parent.gen_child_vasp(client, 1_000_000, XUS)
    child_account = client.must_get_account(child.account_address)
    assert child_account.role.type == "child_vasp"
    assert child_account.role.parent_vasp_address == utils.account_address_hex(parent.account_address)
    assert child_account.balances[0].amount == 1_000_000
    parent.rotate_dual_attestation_info(client, base_url="http://localhost:9999")
    base_url, key = client.get_base_url_and_compliance_key(child.account_address)
    assert base_url == "http://localhost:9999"
    assert utils.public_key_bytes(key) == parent.compliance_public_key_bytes


def test_travel_rule_payment_needs_the_receivers_signature(endpoints: DevnetEndpoints) -> None:
    client = make_client(endpoints, 1)
    faucet = testnet.Faucet(client, url=endpoints.faucet_url)
    sender = faucet.gen_account()
    faucet.mint(sender.auth_key.hex(), TRAVEL_RULE_LIMIT_MICRO * 3, XUS)
    receiver = faucet.gen_account()
    receiver.rotate_dual_attestation_info(client, base_url="http://localhost:9998")
    metadata, signing_message = txnmetadata.travel_rule("6cd81d79-f041-4f28-867f-e4d54950833e",
                                                         sender.account_address, TRAVEL_RULE_LIMIT_MICRO)
    good_signature = receiver.compliance_key.sign(signing_message)
    script = stdlib.encode_peer_to_peer_with_metadata_script(
        currency=utils.currency_code(XUS), payee=receiver.account_address, amount=TRAVEL_RULE_LIMIT_MICRO,
        metadata=metadata, metadata_signature=good_signature)
    assert sender.submit_and_wait_for_txn(client, script).vm_status.type == "executed"
    bad_signature = bytes(64)
    bad = stdlib.encode_peer_to_peer_with_metadata_script(
        currency=utils.currency_code(XUS), payee=receiver.account_address, amount=TRAVEL_RULE_LIMIT_MICRO,
        metadata=metadata, metadata_signature=bad_signature)
    sequence = client.get_account_sequence(sender.account_address)
    with pytest.raises(jsonrpc.TransactionExecutionFailed, match="move_abort"):
        sender.submit_and_wait_for_txn(client, bad)
    assert client.get_account_transaction(sender.account_address, sequence).vm_status.abort_code == 1031


def test_account_identifiers_decode_to_addresses(endpoints: DevnetEndpoints) -> None:
    account = LocalAccount.generate()
    encoded = identifier.encode_account(account.account_address, None, identifier.TDM)
    assert identifier.decode_account(encoded, identifier.TDM)[0] == account.account_address


def test_the_sdk_works_unchanged_against_a_full_node(endpoints: DevnetEndpoints) -> None:
    client = jsonrpc.Client(endpoints.full_node_url + "/v1")
    assert client.get_metadata().chain_id == 2
    faucet = testnet.Faucet(client, url=endpoints.full_node_url + "/mint")  # the faucet runs on the full node
    sender, receiver = faucet.gen_account(), faucet.gen_account()
    script = stdlib.encode_peer_to_peer_with_metadata_script(
        currency=utils.currency_code(XUS), payee=receiver.account_address, amount=PAYMENT_MICRO,
        metadata=b"", metadata_signature=b"")
    executed = sender.submit_and_wait_for_txn(client, script)  # submitted to the full node, forwarded, followed
    assert executed.vm_status.type == "executed"
    balances = client.must_get_account(receiver.account_address).balances
    assert [(b.amount, b.currency) for b in balances] == [(FUNDING_MICRO + PAYMENT_MICRO, XUS)]
    validator = make_client(endpoints)
    assert validator.get_account_transaction(sender.account_address, 0, False).hash == executed.hash
