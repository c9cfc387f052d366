"""Proof methods as a verifying wallet uses them: every answer checks against a certified ledger info."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.framework import account, currency
from contracts.state import AccountStateProof, AccumulatorConsistencyProof, TransactionInfoWithProof, verify_consistency
from contracts.state.accumulator import compute_event_root
from contracts.state.event_proof import EventWithProof
from contracts.state.hashes import compute_event_hashes
from contracts.vm.structs import compute_state_key
from node.rpc import proofs
from node.rpc.proof_types import decode_account_blob
from primitives.certified.ledger_info import (
    LedgerInfoWithSignatures,
    check_ledger_info_signatures,
    compute_genesis_hash,
    decode_epoch_change_proof,
    decode_ledger_info,
    encode_ledger_info,
)
from primitives.certified.signatures import Ed25519Scheme
from primitives.certified.trust import EpochChange, follow_epoch_change_proof
from primitives.certified.validators import ValidatorSet
from primitives.errors import DecodeError
from primitives.types.events import ContractEvent
from primitives.types.ledger_transactions import Transaction
from primitives.types.type_tags import StructTag
from tests.node.rpc.harness import Chain, new_account, open_chain
from tests.node.rpc.memory_ledger import CHAIN_ID, MemoryLedger

SCHEME = Ed25519Scheme()
ALTERATIONS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Wallet:
    """A verifying client: trusts genesis, follows epoch changes, checks every proof it reads."""

    def __init__(self, chain: Chain, genesis: LedgerInfoWithSignatures) -> None:
        self.chain = chain
        self.genesis_hash = compute_genesis_hash(genesis)
        self.epoch, self.validators = 1, genesis.ledger_info.next_validator_set
        self.version = 0
        self.accumulator_root = genesis.ledger_info.accumulator_root

    async def sync(self) -> LedgerInfoWithSignatures:
        """Ratchet to the node's latest ledger info; return it once verified."""
        answer = await self.chain.result("get_state_proof", self.version)
        certificate = decode_ledger_info(bytes.fromhex(answer["ledger_info_with_signatures"]))
        proof = decode_epoch_change_proof(bytes.fromhex(answer["epoch_change_proof"]))
        if self.version == 0:
            assert compute_genesis_hash(proof.ledger_infos[0]) == self.genesis_hash
        if any(link.ledger_info.epoch >= self.epoch for link in proof.ledger_infos):
            moved = follow_epoch_change_proof(proof, self.epoch, self.validators, SCHEME, CHAIN_ID)
            assert isinstance(moved, EpochChange), moved
            self.epoch, self.validators = moved.epoch, moved.validators
        assert check_ledger_info_signatures(certificate, self.validators, SCHEME, CHAIN_ID) is None
        info = certificate.ledger_info
        consistency = AccumulatorConsistencyProof.from_bcs(bytes.fromhex(answer["ledger_consistency_proof"]))
        assert verify_consistency(self.accumulator_root, self.version + 1, info.accumulator_root, info.version + 1,
                                  consistency)
        self.version, self.accumulator_root = info.version, info.accumulator_root
        return certificate


@pytest.fixture
async def chain():  # noqa: ANN201
    async with open_chain() as opened:
        alice, bob = new_account("alice"), new_account("bob")
        await opened.mint(alice, 1_000_000)
        await opened.mint(bob, 10)
        opened.pay(alice, bob, 250_000, 0)
        opened.ledger.commit_block()
        yield opened


def get_genesis(ledger: MemoryLedger) -> LedgerInfoWithSignatures:
    return ledger.get_epoch_ending_ledger_info(0)


def balance_key(address: bytes) -> bytes:
    return account.Balance.of(currency.tag_of_code(b"XUS")).state_key(address)


async def test_a_wallet_trusting_only_genesis_verifies_the_latest_ledger_info_across_epochs(chain: Chain) -> None:
    wallet = Wallet(chain, get_genesis(chain.ledger))
    first = await wallet.sync()
    assert first.ledger_info.version == chain.ledger.version and wallet.epoch == 1
    chain.ledger.change_epoch("epoch-2")
    chain.ledger.commit_block()
    chain.ledger.change_epoch("epoch-3")
    chain.ledger.commit_block()
    latest = await wallet.sync()
    assert (wallet.epoch, latest.ledger_info.epoch) == (3, 3)
    assert latest.ledger_info.version == chain.ledger.version
    again = await wallet.sync()
    assert again == latest, "a wallet in the latest epoch gets an empty epoch proof"


async def test_a_long_epoch_history_comes_in_pages_marked_more(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proofs, "MAX_EPOCH_PROOF_LENGTH", 2)
    for epoch in range(2, 6):
        chain.ledger.change_epoch(f"epoch-{epoch}")
    chain.ledger.commit_block()
    wallet = Wallet(chain, get_genesis(chain.ledger))
    first = decode_epoch_change_proof(bytes.fromhex((await chain.result("get_state_proof", 0))["epoch_change_proof"]))
    assert first.more and [link.ledger_info.epoch for link in first.ledger_infos] == [0, 1]
    later = decode_epoch_change_proof(bytes.fromhex(
        (await chain.result("get_state_proof", first.ledger_infos[-1].ledger_info.version + 1))["epoch_change_proof"]))
    assert later.more and [link.ledger_info.epoch for link in later.ledger_infos] == [2, 3]
    moved = follow_epoch_change_proof(first, wallet.epoch, wallet.validators, SCHEME, CHAIN_ID)
    assert isinstance(moved, EpochChange) and moved.epoch == 2
    assert isinstance(follow_epoch_change_proof(later, moved.epoch, moved.validators, SCHEME, CHAIN_ID), EpochChange)


async def test_a_ledger_info_signed_by_the_wrong_validators_is_rejected(chain: Chain) -> None:
    answer = await chain.result("get_state_proof", 0)
    certificate = decode_ledger_info(bytes.fromhex(answer["ledger_info_with_signatures"]))
    validators = get_genesis(chain.ledger).ledger_info.next_validator_set
    assert check_ledger_info_signatures(certificate, validators, SCHEME, CHAIN_ID) is None
    author, signature = certificate.signatures[0]
    forged = LedgerInfoWithSignatures(certificate.ledger_info,
                                      ((author, bytes([signature[0] ^ 1]) + signature[1:]),) + certificate.signatures[1:])
    assert check_ledger_info_signatures(forged, validators, SCHEME, CHAIN_ID) is not None
    stranger = ValidatorSet(tuple(sorted(validators.members, key=lambda m: m.address)[1:]))
    assert check_ledger_info_signatures(certificate, stranger, SCHEME, CHAIN_ID) is not None
    assert encode_ledger_info(certificate).hex() == answer["ledger_info_with_signatures"]


async def proven_state(chain: Chain, address: bytes, *params: Any) -> tuple[dict[str, Any], LedgerInfoWithSignatures]:
    wallet = Wallet(chain, get_genesis(chain.ledger))
    certificate = await wallet.sync()
    answer = await chain.result("get_account_state_with_proof", address.hex(), None, None, *params)
    assert answer["ledger_version"] == certificate.ledger_info.version
    return answer, certificate


def verify_resource(item: dict[str, Any], address: bytes, answer: dict[str, Any], root: bytes) -> bool:
    key = compute_state_key(address, bytes.fromhex(item["struct_tag"]))
    assert key.hex() == item["key"]
    value = None if item["value"] is None else bytes.fromhex(item["value"])
    proof = AccountStateProof.from_bcs(bytes.fromhex(item["proof"]))
    return proof.verify(root, answer["version"], key, value, answer["ledger_version"])


async def test_an_account_state_proves_every_resource_and_the_balance_reads_from_it(chain: Chain) -> None:
    bob = new_account("bob")
    answer, certificate = await proven_state(chain, bob.address)
    root = certificate.ledger_info.accumulator_root
    assert all(verify_resource(item, bob.address, answer, root) for item in answer["resources"])
    tags = [StructTag.from_bcs(bytes.fromhex(item["struct_tag"])) for item in answer["resources"]]
    assert [tag.name for tag in tags[:3]] == ["DiemAccount", "Balance", "Balance"]
    balance = next(item for item in answer["resources"] if item["key"] == balance_key(bob.address).hex())
    decoded = account.Balance.of(currency.tag_of_code(b"XUS")).decode(bytes.fromhex(balance["value"]))
    assert decoded.coin.value == 250_010
    blob = decode_account_blob(bytes.fromhex(answer["blob"]))
    assert len(blob) == sum(item["value"] is not None for item in answer["resources"])
    proof = answer["proof"]
    first = AccountStateProof.from_bcs(bytes.fromhex(answer["resources"][0]["proof"]))
    assert proof["transaction_info"] == first.transaction_info.to_bcs().hex()
    assert proof["transaction_info_to_account_proof"] == first.transaction_info_to_account_proof.to_bcs().hex()


async def test_a_missing_account_is_proven_absent_and_cannot_be_claimed_present(chain: Chain) -> None:
    nobody = new_account("nobody")
    answer, certificate = await proven_state(chain, nobody.address)
    root = certificate.ledger_info.accumulator_root
    assert answer["blob"] is None and all(item["value"] is None for item in answer["resources"])
    assert all(verify_resource(item, nobody.address, answer, root) for item in answer["resources"])
    item = answer["resources"][0]
    proof = AccountStateProof.from_bcs(bytes.fromhex(item["proof"]))
    assert not proof.verify(root, answer["version"], bytes.fromhex(item["key"]), b"\x00", answer["ledger_version"])


async def test_requested_struct_tags_and_an_old_version_prove_against_a_later_ledger(chain: Chain) -> None:
    alice = new_account("alice")
    balance_tag = account.Balance.of(currency.tag_of_code(b"XUS")).struct_tag.to_bcs().hex()
    before_payment = chain.ledger.version - 1  # the payment block's metadata: proved at the block before
    wallet = Wallet(chain, get_genesis(chain.ledger))
    certificate = await wallet.sync()
    answer = await chain.result("get_account_state_with_proof", alice.address.hex(), before_payment,
                                certificate.ledger_info.version, [balance_tag])
    assert answer["version"] < before_payment and len(answer["resources"]) == 1
    item = answer["resources"][0]
    assert verify_resource(item, alice.address, answer, certificate.ledger_info.accumulator_root)
    balance = account.Balance.of(currency.tag_of_code(b"XUS")).decode(bytes.fromhex(item["value"]))
    assert balance.coin.value == 1_000_000


async def test_bad_proof_requests_get_diem_errors(chain: Chain) -> None:
    latest = chain.ledger.version
    address = new_account("alice").address.hex()
    for method, params, code in [
        ("get_state_proof", [latest + 1], -32602),
        ("get_state_proof", ["0"], -32602),
        ("get_account_state_with_proof", [address, latest, latest - 1], -32602),
        ("get_account_state_with_proof", [address, None, latest + 1], -32602),
        ("get_account_state_with_proof", [address, None, None, ["zz"]], -32602),
        ("get_account_state_with_proof", [address, None, None, ["00"]], -32602),
        ("get_transactions_with_proofs", [0, 101, False], -32600),
        ("get_events_with_proofs", ["00" * 24, 0, 101], -32600),
        ("get_accumulator_consistency_proof", [latest + 1, latest], -32602),
    ]:
        answer = await chain.call(method, *params)
        assert answer["error"]["code"] == code, (method, params, answer)
        assert answer["diem_ledger_version"] == latest


async def test_transactions_with_proofs_verify_their_bytes_and_events(chain: Chain) -> None:
    wallet = Wallet(chain, get_genesis(chain.ledger))
    certificate = await wallet.sync()
    info = certificate.ledger_info
    answer = await chain.result("get_transactions_with_proofs", 0, 100, True, info.version)
    assert [item["version"] for item in answer["transactions"]] == list(range(info.version + 1))
    for item in answer["transactions"]:
        proof = TransactionInfoWithProof.from_bcs(bytes.fromhex(item["proof"]))
        assert proof.verify(info.accumulator_root, item["version"], info.version)
        assert Transaction.from_bcs(bytes.fromhex(item["bytes"])).hash() == proof.transaction_info.transaction_hash
        events = tuple(ContractEvent.from_bcs(bytes.fromhex(event)) for event in item["events"])
        assert compute_event_root(compute_event_hashes(events)) == proof.transaction_info.event_root_hash
    alice = new_account("alice")
    sent = await chain.result("get_account_transactions_with_proofs", alice.address.hex(), 0, 10, False)
    assert len(sent["transactions"]) == 1 and sent["transactions"][0]["events"] is None
    proof = TransactionInfoWithProof.from_bcs(bytes.fromhex(sent["transactions"][0]["proof"]))
    assert proof.verify(info.accumulator_root, sent["transactions"][0]["version"], info.version)


async def test_events_with_proofs_verify_in_order(chain: Chain) -> None:
    wallet = Wallet(chain, get_genesis(chain.ledger))
    certificate = await wallet.sync()
    info = certificate.ledger_info
    bob = await chain.result("get_account", new_account("bob").address.hex())
    answer = await chain.result("get_events_with_proofs", bob["received_events_key"], 0, 10)
    proofs = [EventWithProof.from_bcs(bytes.fromhex(item["event_with_proof"])) for item in answer]
    assert [p.event.sequence_number for p in proofs] == [0, 1]
    assert [p.event.key.value.hex() for p in proofs] == [bob["received_events_key"]] * 2
    assert all(p.verify(info.accumulator_root, info.version) for p in proofs)


async def test_the_consistency_proof_method_links_two_ledger_versions(chain: Chain) -> None:
    old = chain.ledger.version
    old_root = chain.ledger.get_accumulator_root(old)
    chain.ledger.commit_block()
    new = chain.ledger.version
    answer = await chain.result("get_accumulator_consistency_proof", old, None)
    proof = AccumulatorConsistencyProof.from_bcs(bytes.fromhex(answer["ledger_consistency_proof"]))
    assert verify_consistency(old_root, old + 1, chain.ledger.get_accumulator_root(new), new + 1, proof)
    assert not verify_consistency(chain.ledger.get_accumulator_root(old - 1), old + 1,
                                  chain.ledger.get_accumulator_root(new), new + 1, proof)


def alter(data: bytes, index: int, mask: int) -> bytes:
    index %= len(data)
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1:]


@ALTERATIONS
@given(index=st.integers(min_value=0), mask=st.integers(min_value=1, max_value=255))
async def test_an_altered_byte_in_a_state_proof_or_value_fails(chain: Chain, index: int, mask: int) -> None:
    ledger = chain.ledger
    bob = new_account("bob")
    key = balance_key(bob.address)
    version = ledger.version
    value, tree_proof = ledger.get_state_value_with_proof(key, version)
    proof = AccountStateProof(ledger.get_accumulator_proof(version, version), ledger.get_transaction_info(version), tree_proof)
    root = ledger.get_accumulator_root(version)
    assert proof.verify(root, version, key, value, version)
    assert not proof.verify(root, version, key, alter(value, index, mask), version)
    try:
        altered = AccountStateProof.from_bcs(alter(proof.to_bcs(), index, mask))
    except DecodeError:
        return
    assert not altered.verify(root, version, key, value, version)


@ALTERATIONS
@given(index=st.integers(min_value=0), mask=st.integers(min_value=1, max_value=255))
async def test_an_altered_byte_in_an_event_or_transaction_proof_fails(chain: Chain, index: int, mask: int) -> None:
    ledger = chain.ledger
    version = ledger.version
    root = ledger.get_accumulator_root(version)
    bob = await chain.result("get_account", new_account("bob").address.hex())
    answer = await chain.result("get_events_with_proofs", bob["received_events_key"], 1, 1)
    event_bytes = bytes.fromhex(answer[0]["event_with_proof"])
    assert EventWithProof.from_bcs(event_bytes).verify(root, version)
    transaction = await chain.result("get_transactions_with_proofs", version, 1, False)
    info_bytes = bytes.fromhex(transaction["transactions"][0]["proof"])
    for data, decode, check in [
        (event_bytes, EventWithProof.from_bcs, lambda p: p.verify(root, version)),
        (info_bytes, TransactionInfoWithProof.from_bcs, lambda p: p.verify(root, version, version)),
    ]:
        try:
            altered = decode(alter(data, index, mask))
        except DecodeError:
            continue
        assert not check(altered)
