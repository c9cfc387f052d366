"""TransactionInfo encoding and the wallet's verification path: accumulator root -> TransactionInfo -> state."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.state import (
    AccountStateProof,
    InMemoryAccumulatorStore,
    InMemoryNodeStore,
    MerkleAccumulator,
    SparseMerkleTree,
    TransactionInfo,
    TransactionInfoWithProof,
    compute_event_root,
    compute_leaf_hash,
    compute_state_change_hash,
    compute_value_hash,
    get_account_state_with_proof,
    get_transaction_info_with_proof,
)
from contracts.state.hashes import INTERNAL_PREFIX, LEAF_PREFIX, VALUE_PREFIX
from primitives.errors import DecodeError, InvariantViolation
from primitives.hashing import get_salt, hash_with_salt

BLOCK_TRANSACTIONS = 4


def make_hash(label: str) -> bytes:
    return hashlib.sha3_256(label.encode()).digest()


def make_info(index: int, state_root: bytes | None) -> TransactionInfo:
    return TransactionInfo(
        transaction_hash=make_hash(f"txn-{index}"),
        state_change_hash=compute_state_change_hash({make_hash(f"key-{index}"): b"v"}),
        event_root_hash=compute_event_root([make_hash(f"event-{index}")]),
        state_root_hash=state_root,
        gas_used=600 + index,
        status_code=0 if index % 3 else 4001,
    )


def test_salts_are_the_shared_hash_with_salt_ones() -> None:
    assert VALUE_PREFIX == get_salt("StateValue") and LEAF_PREFIX == get_salt("SparseMerkleLeaf")
    assert INTERNAL_PREFIX == get_salt("SparseMerkleInternal")
    assert compute_value_hash(b"abc") == hash_with_salt("StateValue", b"abc")
    key = make_hash("k")
    assert compute_leaf_hash(key, make_hash("v")) == hash_with_salt("SparseMerkleLeaf", key + make_hash("v"))


def test_transaction_info_round_trips_and_every_field_changes_its_hash() -> None:
    info = make_info(7, make_hash("root"))
    assert TransactionInfo.from_bcs(info.to_bcs()) == info
    assert info.hash() == hash_with_salt("TransactionInfo", info.to_bcs())
    variants = [
        replace(info, transaction_hash=make_hash("x")),
        replace(info, state_change_hash=make_hash("x")),
        replace(info, event_root_hash=make_hash("x")),
        replace(info, state_root_hash=None),
        replace(info, state_root_hash=make_hash("x")),
        replace(info, gas_used=info.gas_used + 1),
        replace(info, status_code=info.status_code + 1),
    ]
    assert len({info.hash(), *(variant.hash() for variant in variants)}) == len(variants) + 1
    assert TransactionInfo.from_bcs(variants[3].to_bcs()) == variants[3]


@pytest.mark.parametrize(
    "field, value", [("transaction_hash", b"short"), ("state_root_hash", b""), ("gas_used", -1), ("status_code", 2**64)]
)
def test_malformed_transaction_info_is_a_programmer_error(field: str, value: object) -> None:
    with pytest.raises(InvariantViolation):
        replace(make_info(1, None), **{field: value})


@settings(max_examples=300, deadline=None)
@given(garbage=st.binary(max_size=200))
def test_garbage_bytes_raise_decode_error_or_decode_cleanly(garbage: bytes) -> None:
    for decoded_type in (TransactionInfo, TransactionInfoWithProof, AccountStateProof):
        try:
            decoded = decoded_type.from_bcs(garbage)
        except DecodeError:
            continue
        assert decoded_type.from_bcs(decoded.to_bcs()) == decoded


def test_state_change_hash_is_canonical() -> None:
    changes = {make_hash("a"): b"1", make_hash("b"): None, make_hash("c"): b""}
    reordered = dict(reversed(list(changes.items())))
    assert compute_state_change_hash(changes) == compute_state_change_hash(reordered)
    assert compute_state_change_hash(changes) != compute_state_change_hash({**changes, make_hash("c"): None})
    assert compute_state_change_hash({}) != compute_state_change_hash({make_hash("a"): None})


class Ledger:
    """A miniature executor: one tree version and one TransactionInfo with a state root per block end."""

    def __init__(self) -> None:
        self.tree = SparseMerkleTree(InMemoryNodeStore())
        self.accumulator = MerkleAccumulator(InMemoryAccumulatorStore())
        self.infos: list[TransactionInfo] = []
        self.state: dict[bytes, bytes] = {}
        self.snapshots: dict[int, dict[bytes, bytes]] = {}

    def commit_block(self, updates: dict[bytes, bytes | None]) -> int:
        first = len(self.infos)
        last = first + BLOCK_TRANSACTIONS - 1
        root = self.tree.apply(last, updates)
        for key, value in updates.items():
            if value is None:
                self.state.pop(key, None)
            else:
                self.state[key] = value
        self.snapshots[last] = dict(self.state)
        new_infos = [make_info(i, root if i == last else None) for i in range(first, last + 1)]
        self.infos.extend(new_infos)
        self.accumulator.append([info.hash() for info in new_infos])
        return last


def build_ledger() -> Ledger:
    ledger = Ledger()
    ledger.commit_block({make_hash(f"account-{i}"): b"balance-100" for i in range(20)})
    ledger.commit_block({make_hash("account-1"): b"balance-90", make_hash("account-2"): b"balance-110"})
    ledger.commit_block({make_hash("account-3"): None, make_hash("account-99"): b"balance-5"})
    return ledger


def test_a_wallet_verifies_balances_at_every_block_end_against_a_later_ledger() -> None:
    ledger = build_ledger()
    ledger_version = len(ledger.infos) - 1
    accumulator_root = ledger.accumulator.get_root()
    for version, snapshot in ledger.snapshots.items():
        for label in ("account-1", "account-3", "account-99", "account-1000"):
            key = make_hash(label)
            value, proof = get_account_state_with_proof(
                ledger.tree, ledger.accumulator, ledger.infos[version], key, version, ledger_version
            )
            assert value == snapshot.get(key)
            assert proof.verify(accumulator_root, version, key, value, ledger_version)
            decoded = AccountStateProof.from_bcs(proof.to_bcs())
            assert decoded == proof and decoded.verify(accumulator_root, version, key, value, ledger_version)
            assert not proof.verify(accumulator_root, version, key, b"balance-1000000", ledger_version)
            assert not proof.verify(accumulator_root, version - 1, key, value, ledger_version)
            assert not proof.verify(accumulator_root, version, key, value, 2 * ledger_version + 2)
            assert not proof.verify(make_hash("forged"), version, key, value, ledger_version)


def test_any_altered_byte_of_an_account_state_proof_fails() -> None:
    ledger = build_ledger()
    ledger_version = len(ledger.infos) - 1
    version = 7
    key = make_hash("account-1")
    value, proof = get_account_state_with_proof(
        ledger.tree, ledger.accumulator, ledger.infos[version], key, version, ledger_version
    )
    encoded = proof.to_bcs()
    for position in range(len(encoded)):
        altered = encoded[:position] + bytes([encoded[position] ^ 0x04]) + encoded[position + 1 :]
        try:
            decoded = AccountStateProof.from_bcs(altered)
        except DecodeError:
            continue
        assert not decoded.verify(ledger.accumulator.get_root(), version, key, value, ledger_version), position


def test_a_transaction_info_without_a_state_root_cannot_prove_state() -> None:
    ledger = build_ledger()
    key = make_hash("account-1")
    _, proof = get_account_state_with_proof(ledger.tree, ledger.accumulator, ledger.infos[7], key, 7, 11)
    mid_block = AccountStateProof(ledger.accumulator.get_proof(6, 12), ledger.infos[6], proof.transaction_info_to_account_proof)
    assert not mid_block.verify(ledger.accumulator.get_root(), 6, key, b"balance-90", 11)


def test_a_wallet_verifies_a_transaction_by_its_info() -> None:
    ledger = build_ledger()
    root = ledger.accumulator.get_root()
    for version in range(len(ledger.infos)):
        bundle = get_transaction_info_with_proof(ledger.accumulator, ledger.infos[version], version, 11)
        assert bundle.verify(root, version, 11)
        assert bundle.transaction_info.transaction_hash == make_hash(f"txn-{version}")
        assert TransactionInfoWithProof.from_bcs(bundle.to_bcs()) == bundle
        forged = replace(bundle, transaction_info=replace(bundle.transaction_info, status_code=0, gas_used=1))
        assert not forged.verify(root, version, 11)
