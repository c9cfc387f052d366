"""Index writes at commit, on a real chain: each event kind lands in the right indexes with who/when/version."""

from __future__ import annotations

import pytest

from contracts.transaction_builder import (
    compose_peer_to_peer,
    compose_rotate_dual_attestation_info,
    compose_script_function,
    encode_u64,
)
from node.compliance.index.events import ActivityKind
from node.compliance.index.writes import IndexedTransaction, compute_index_writes
from node.storage import schema
from primitives.codec import unpack
from primitives.keys import PrivateKey
from primitives.metadata import Metadata, TravelRuleMetadataV0, compute_dual_attestation_message
from primitives.types.names import AccountAddress
from tests.node.compliance.index.chain import IndexedChain
from wallet.treasury import (
    TC_SCRIPTS,
    compose_attest_reserves,
    compose_burn,
    compose_freeze,
    compose_mint,
    compose_pause,
    compose_preburn,
    compose_revoke_kyc,
    compose_set_tier_limits,
    compose_wipe,
)
from wallet.treasury import currency_type_tag

XUS = 1_000_000
DD = AccountAddress.TESTNET_DD.value
K = ActivityKind


def last_version(chain: IndexedChain) -> int:
    return chain.ledger.version


def kinds_at(chain: IndexedChain, version: int) -> list[str]:
    txn = chain.index.get_transaction(version)
    return [] if txn is None else [K(a.kind).name for a in txn.activities]


@pytest.fixture(scope="module")
def story() -> tuple[IndexedChain, dict[str, int]]:
    """Pre-state: genesis. Actions: one transaction of each kind; the dict maps a label to its version."""
    chain = IndexedChain()
    at: dict[str, int] = {}
    tc, dealer, auditor = chain.keys["treasury"], chain.keys["dealer"], chain.keys["auditor"]
    chain.alice = chain.create_vasp("alice", 5_000 * XUS, kyc_tier=2)
    at["kyc"] = last_version(chain)
    chain.bob = chain.create_vasp("bob", 0)
    compliance_key = PrivateKey.from_seed_material(b"bob compliance")
    chain.run(chain.bob, compose_rotate_dual_attestation_info(b"https://bob.example", compliance_key.public_key().data))
    at["rotation"] = last_version(chain)
    chain.run(chain.alice, compose_peer_to_peer(chain.bob.address, 7 * XUS))
    at["payment"] = last_version(chain)
    metadata = Metadata(TravelRuleMetadataV0("ref-42")).to_bcs()
    amount = 1_500 * XUS
    signature = compliance_key.sign(compute_dual_attestation_message(metadata, AccountAddress(chain.alice.address),
                                                                     amount))
    chain.run(chain.alice, compose_peer_to_peer(chain.bob.address, amount, "XUS", metadata, signature))
    at["travel_rule"] = last_version(chain)
    signature = compliance_key.sign(compute_dual_attestation_message(b"", AccountAddress(chain.alice.address), 2 * XUS))
    chain.run(chain.alice, compose_peer_to_peer(chain.bob.address, 2 * XUS, "XUS", b"", signature))
    at["signed_only"] = last_version(chain)
    chain.run(tc, compose_mint("XUS", DD, 100 * XUS))
    at["mint"] = last_version(chain)
    chain.run(dealer, compose_preburn("XUS", 10 * XUS))
    at["preburn"] = last_version(chain)
    chain.run(tc, compose_burn("XUS", DD, 10 * XUS))
    at["burn"] = last_version(chain)
    chain.run(tc, compose_freeze(chain.bob.address))
    at["freeze"] = last_version(chain)
    chain.run(tc, compose_wipe("XUS", chain.bob.address))
    at["wipe"] = last_version(chain)
    chain.run(tc, compose_freeze(chain.bob.address, is_freeze=False))
    at["unfreeze"] = last_version(chain)
    chain.run(tc, compose_pause())
    at["pause"] = last_version(chain)
    chain.run(tc, compose_pause(is_pause=False))
    at["unpause"] = last_version(chain)
    chain.run(tc, compose_set_tier_limits("XUS", 0, 10**12, 10**12, 10**12, 10**13, 86_400 * 10**6))
    at["tier_limits"] = last_version(chain)
    chain.run(tc, compose_revoke_kyc(chain.alice.address))
    at["revoke"] = last_version(chain)
    args = (encode_u64(0), chain.alice.address, *(encode_u64(v) for v in (10**12, 10**12, 10**13, 86_400 * 10**6)))
    chain.run(tc, compose_script_function(TC_SCRIPTS, "publish_account_limit_definition",
                                          (currency_type_tag("XUS"),), args))
    at["limits_definition"] = last_version(chain)
    chain.run(tc, compose_script_function(TC_SCRIPTS, "publish_account_limit_window", (currency_type_tag("XUS"),),
                                          (encode_u64(0), chain.bob.address, chain.alice.address)))
    at["limits_window"] = last_version(chain)
    chain.run(auditor, compose_attest_reserves("XUS", 10**15, b"\xab" * 32, 1_700_000_000_000_000))
    at["attestation"] = last_version(chain)
    return chain, at


def test_each_event_kind_is_decoded_into_its_activity(story) -> None:  # noqa: ANN001
    chain, at = story
    expected = {
        "kyc": ["KYC_RECORD"], "rotation": ["COMPLIANCE_KEY_ROTATION", "BASE_URL_ROTATION"],
        "payment": ["PAYMENT"], "travel_rule": ["PAYMENT"], "signed_only": ["PAYMENT"], "mint": ["RECEIVED_MINT", "MINT", "RECEIVED_PAYMENT"],
        "preburn": ["PAYMENT", "PREBURN"], "burn": ["BURN"], "freeze": ["FREEZE"],
        "unfreeze": ["UNFREEZE"], "pause": ["PAUSE"], "unpause": ["UNPAUSE"], "tier_limits": ["KYC_TIER_LIMITS"],
        "revoke": ["KYC_RECORD"], "limits_definition": ["LIMITS_DEFINITION"], "limits_window": ["LIMITS_WINDOW"],
        "attestation": ["RESERVE_ATTESTATION"],
    }
    for label, kinds in expected.items():
        assert sorted(kinds_at(chain, at[label])) == sorted(kinds), label
    assert kinds_at(chain, at["wipe"]) == ["PREBURN", "BURN", "WIPE"]


def test_a_payment_is_one_activity_indexed_for_both_parties_and_by_amount(story) -> None:  # noqa: ANN001
    chain, at = story
    version = at["payment"]
    txn = chain.index.get_transaction(version)
    (payment,) = txn.activities
    assert (payment.account, payment.counterparty, payment.currency, payment.amount) == (
        chain.alice.address, chain.bob.address, "XUS", 7 * XUS)
    backend = chain.store.backend
    assert unpack(backend.get(schema.index_account_key(chain.alice.address, version))) == 1 | 2  # sender, payer
    assert unpack(backend.get(schema.index_account_key(chain.bob.address, version))) == 4  # payee
    assert backend.get(schema.index_event_type_key(K.PAYMENT, version)) == b""
    assert unpack(backend.get(schema.index_amount_key(b"XUS", 7 * XUS, version, payment.index))) == 7 * XUS
    assert backend.get(schema.index_travel_rule_key(version, payment.index)) is None


def test_a_dual_attested_payment_is_a_travel_rule_record(story) -> None:  # noqa: ANN001
    chain, at = story
    txn = chain.index.get_transaction(at["travel_rule"])
    (payment,) = txn.activities
    assert payment.details["travel_rule"] is True
    assert payment.details["off_chain_reference_id"] == "ref-42"
    assert len(payment.details["metadata_signature"]) == 64
    assert chain.store.backend.get(schema.index_travel_rule_key(at["travel_rule"], payment.index)) is not None
    # A signature alone (opt-in dual attestation, no travel-rule metadata) also makes a record.
    (signed,) = chain.index.get_transaction(at["signed_only"]).activities
    assert signed.details["travel_rule"] is True and "off_chain_reference_id" not in signed.details
    assert chain.store.backend.get(schema.index_travel_rule_key(at["signed_only"], signed.index)) is not None


def test_compliance_actions_record_who_and_whom(story) -> None:  # noqa: ANN001
    chain, at = story
    tc = chain.keys["treasury"].address
    for label, kind, subject in (("freeze", K.FREEZE, chain.bob.address), ("unfreeze", K.UNFREEZE, chain.bob.address),
                                 ("wipe", K.WIPE, chain.bob.address), ("pause", K.PAUSE, None),
                                 ("revoke", K.KYC_RECORD, chain.alice.address)):
        txn = chain.index.get_transaction(at[label])
        action = next(a for a in txn.activities if a.kind == kind)
        stored_kind, initiator = unpack(chain.store.backend.get(schema.index_action_key(at[label], action.index)))
        assert (stored_kind, initiator, action.account) == (kind, tc, subject), label
        if subject is not None:
            assert chain.store.backend.get(schema.index_account_key(subject, at[label])) is not None
    wipe = next(a for a in chain.index.get_transaction(at["wipe"]).activities if a.kind == K.WIPE)
    assert wipe.amount == 1_509 * XUS and wipe.currency == "XUS"
    revoke = next(a for a in chain.index.get_transaction(at["revoke"]).activities if a.kind == K.KYC_RECORD)
    assert revoke.details["removed"] is True
    attestation = chain.index.get_transaction(at["attestation"]).activities[0]
    assert attestation.initiator == chain.keys["auditor"].address and attestation.amount == 10**15


def test_block_time_maps_to_versions(story) -> None:  # noqa: ANN001
    chain, at = story
    txn = chain.index.get_transaction(at["freeze"])
    low, high = chain.index.resolve_range(None, None, txn.timestamp_us, txn.timestamp_us, last_version(chain))
    assert low <= at["freeze"] <= high and high - low <= 1  # the block: its metadata transaction and the freeze


def test_block_metadata_and_undecodable_events_are_not_indexed(story) -> None:  # noqa: ANN001
    chain, at = story
    assert chain.index.get_transaction(at["freeze"] - 1) is None  # the block's metadata transaction
    commit = chain.make_commit(chain.ledger.transactions[at["payment"] - 1:at["payment"] + 1])
    broken = commit.events[0].__class__(commit.events[0].event_key, 0, at["payment"], 0, b"\x07garbage")
    damaged = commit.__class__(commit.round_number, commit.block_id, commit.block, b"", b"", commit.ledger_info,
                               commit.transactions, (broken,) + commit.events[2:])
    puts = dict(compute_index_writes(damaged))
    stored = IndexedTransaction.from_plain(at["payment"], unpack(puts[schema.index_transaction_key(at["payment"])]))
    assert stored.sender == chain.alice.address and stored.status == "executed"
