"""The issue's wallet flows through our SDK: child VASP, dual attestation, travel rule, received events."""

from __future__ import annotations

import pytest

from primitives.keys import PrivateKey
from primitives.metadata import Metadata, TravelRuleMetadataV0, compute_dual_attestation_message
from primitives.types.names import AccountAddress
from wallet.builder import Account, compose_create_child_vasp, compose_peer_to_peer, compose_rotate_dual_attestation_info
from wallet.client import Client
from wallet.errors import TransactionExecutionFailed
from wallet.verifying_client import VerifyingClient

PAYER = Account(PrivateKey.from_seed_material(b"flow-payer"))
PAYEE = Account(PrivateKey.from_seed_material(b"flow-payee"))
CHILD = Account(PrivateKey.from_seed_material(b"flow-child"))
COMPLIANCE_KEY = PrivateKey.from_seed_material(b"flow-payee-compliance")
FUNDING_MICRO = 3_000_000_000


async def _execute(client: Client, account: Account, payload) -> object:
    signed = await client.create_transaction(account, payload)
    await client.submit(signed)
    return await client.wait_for_transaction(signed, timeout_s=10)


@pytest.fixture
async def client(node):
    async with Client(node.url + "/v1", poll_interval_s=0.01) as connected:
        await connected.mint(PAYER.auth_key, FUNDING_MICRO)
        await connected.mint(PAYEE.auth_key, 1)
        yield connected


async def test_a_parent_vasp_creates_and_funds_a_child(client) -> None:
    await _execute(client, PAYER, compose_create_child_vasp(CHILD.address, CHILD.auth_key_prefix, 1_000_000))
    child = await client.must_get_account(CHILD.address)
    assert child.role.type == "child_vasp" and child.role.parent_vasp_address == PAYER.address.hex()
    assert child.get_balance() == 1_000_000


async def test_travel_rule_payments_need_the_payees_compliance_signature(client, node) -> None:
    await _execute(client, PAYEE, compose_rotate_dual_attestation_info(b"http://payee.example", COMPLIANCE_KEY.public_key().data))
    assert (await client.must_get_account(PAYEE.address)).role.compliance_key == COMPLIANCE_KEY.public_key().hex()
    limit = (await client.get_metadata()).dual_attestation_limit
    metadata = Metadata(TravelRuleMetadataV0("ref-1")).to_bcs()
    message = compute_dual_attestation_message(metadata, AccountAddress(PAYER.address), limit)
    good = COMPLIANCE_KEY.sign(message)
    committed = await _execute(client, PAYER, compose_peer_to_peer(PAYEE.address, limit, metadata=metadata,
                                                                   metadata_signature=good))
    assert committed.vm_status.is_executed()
    bad = PrivateKey.from_seed_material(b"someone else").sign(message)
    with pytest.raises(TransactionExecutionFailed) as failed:
        await _execute(client, PAYER, compose_peer_to_peer(PAYEE.address, limit, metadata=metadata,
                                                           metadata_signature=bad))
    assert failed.value.transaction.vm_status.abort_code == 1031
    received = await client.get_events((await client.must_get_account(PAYEE.address)).received_events_key, 0, 10)
    assert [(e.data.amount.amount, e.data.metadata) for e in received] == [(1, ""), (limit, metadata.hex())]
    verifying = VerifyingClient.from_waypoint(client, node.ledger.genesis_hash.hex(), 2)
    assert [e.sequence_number for e in await verifying.get_events(received[0].key, 0, 10)] == [0, 1]
    assert await verifying.get_balance(PAYEE.address) == limit + 1
