"""Scenarios and invariants of the versioned sparse Merkle tree and its proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.state import (
    SPARSE_MERKLE_PLACEHOLDER_HASH,
    InMemoryNodeStore,
    OverlayNodeStore,
    SparseMerkleProof,
    SparseMerkleTree,
    verify_proof,
)
from primitives.errors import DecodeError, InvariantViolation
from tests.contracts.state.reference_tree import reference_root


def make_key(label: int | str) -> bytes:
    """Return a well-spread 32-byte key, as a caller hashing its state keys would."""
    return hashlib.sha3_256(str(label).encode()).digest()


# Prefixes make keys collide on their first nibbles, so trees get deep and chains of one-child nodes appear.
PREFIXES = [b"", b"\x00", b"\x00\x00\x00", b"\x12\x30", b"\x12\x3f", b"\x12\x3f\x00", bytes(31)]
keys_strategy = st.tuples(st.sampled_from(PREFIXES), st.binary(min_size=32, max_size=32)).map(
    lambda parts: (parts[0] + parts[1])[:32]
)
values_strategy = st.binary(min_size=0, max_size=40)
states_strategy = st.dictionaries(keys_strategy, values_strategy, max_size=40)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def new_tree() -> SparseMerkleTree:
    return SparseMerkleTree(InMemoryNodeStore())


def test_empty_tree_has_the_placeholder_root_and_proves_absence() -> None:
    tree = new_tree()
    root = tree.apply(0, {})
    assert root == SPARSE_MERKLE_PLACEHOLDER_HASH == reference_root({})
    value, proof = tree.get_with_proof(make_key(1), 0)
    assert value is None and proof.leaf is None and proof.levels == ()
    assert verify_proof(root, make_key(1), None, proof)
    assert not verify_proof(root, make_key(1), b"", proof)


def test_single_key_tree_root_is_the_leaf() -> None:
    tree = new_tree()
    root = tree.apply(0, {make_key(1): b"one"})
    assert root == reference_root({make_key(1): b"one"})
    value, proof = tree.get_with_proof(make_key(1), 0)
    assert value == b"one" and proof.levels == ()
    assert verify_proof(root, make_key(1), b"one", proof)
    absent_value, absent_proof = tree.get_with_proof(make_key(2), 0)
    assert absent_value is None and absent_proof.leaf is not None  # absence shown by a different leaf
    assert verify_proof(root, make_key(2), None, absent_proof)


def test_present_and_absent_keys_verify_in_a_populated_tree() -> None:
    tree = new_tree()
    state = {make_key(i): f"value-{i}".encode() for i in range(300)}
    root = tree.apply(1, state)
    assert root == reference_root(state)
    kinds = set()
    for i in range(400):
        key = make_key(i)
        value, proof = tree.get_with_proof(key, 1)
        assert value == state.get(key) == tree.get(key, 1)
        assert verify_proof(root, key, value, proof)
        assert not verify_proof(root, key, b"other", proof)
        if value is not None:
            assert not verify_proof(root, key, None, proof)
        kinds.add("leaf" if proof.leaf is None else ("present" if proof.leaf.key == key else "other-leaf"))
    assert kinds == {"present", "other-leaf", "leaf"}  # all three shapes of proof were exercised


def test_depth_grows_like_log16_of_the_key_count() -> None:
    tree = new_tree()
    tree.apply(1, {make_key(i): b"v" for i in range(4096)})
    depths = [len(tree.get_with_proof(make_key(i), 1)[1].levels) for i in range(0, 4096, 7)]
    assert max(depths) <= 6 and sum(depths) / len(depths) < 4.5


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("label", [3, 1000])  # 3 is present, 1000 absent
def test_any_altered_byte_of_proof_value_key_or_root_fails(label: int) -> None:
    tree = new_tree()
    state = {make_key(i): f"value-{i}".encode() for i in range(60)}
    root = tree.apply(1, state)
    key = make_key(label)
    value, proof = tree.get_with_proof(key, 1)
    assert verify_proof(root, key, value, proof)
    encoded = proof.to_bcs()
    for index in range(len(encoded)):
        try:
            altered = SparseMerkleProof.from_bcs(flip(encoded, index))
        except DecodeError:
            continue
        assert not verify_proof(root, key, value, altered), f"byte {index} of the proof"
    for index in range(32):
        assert not verify_proof(flip(root, index), key, value, proof)
        other_key = flip(key, index)
        if value is not None or 2 * index + 1 < len(proof.levels):  # flip() changes nibble 2*index+1
            assert not verify_proof(root, other_key, value, proof)
        else:
            # An absence proof also proves absence of keys sharing its path; it must never lie.
            assert not verify_proof(root, other_key, None, proof) or other_key not in state
    if value is not None:
        for index in range(len(value)):
            assert not verify_proof(root, key, flip(value, index), proof)
        assert not verify_proof(root, key, value + b"\x00", proof)


def test_deleting_returns_to_the_earlier_root_and_old_versions_stay_readable() -> None:
    tree = new_tree()
    base = {make_key(i): b"base" for i in range(50)}
    root_1 = tree.apply(1, base)
    extra = {make_key(i): b"extra" for i in range(50, 80)}
    root_2 = tree.apply(2, {**extra, make_key(0): b"changed"})
    root_3 = tree.apply(3, {**{key: None for key in extra}, make_key(0): b"base"})
    assert root_3 == root_1 != root_2
    root_4 = tree.apply(4, {key: None for key in base})
    assert root_4 == SPARSE_MERKLE_PLACEHOLDER_HASH
    # Every version keeps its root, its values and its proofs.
    for version, root, state in [(1, root_1, base), (2, root_2, {**base, **extra, make_key(0): b"changed"})]:
        assert tree.get_root_hash(version) == root
        for i in range(0, 90, 3):
            value, proof = tree.get_with_proof(make_key(i), version)
            assert value == state.get(make_key(i))
            assert verify_proof(root, make_key(i), value, proof)
    assert tree.get(make_key(0), 4) is None


def test_deleting_an_absent_key_or_applying_nothing_keeps_the_root() -> None:
    tree = new_tree()
    root = tree.apply(1, {make_key(i): b"v" for i in range(20)})
    assert tree.apply(2, {make_key(999): None}) == root
    assert tree.apply(3, {}) == root
    assert tree.get_root_hash(3) == root and tree.get(make_key(5), 3) == b"v"


def test_rewriting_a_key_to_its_old_value_gives_the_same_root() -> None:
    tree = new_tree()
    root = tree.apply(1, {make_key(i): b"v" for i in range(20)})
    assert tree.apply(2, {make_key(3): b"w"}) != root
    assert tree.apply(3, {make_key(3): b"v"}) == root


@SETTINGS
@given(state=states_strategy, data=st.data())
def test_root_is_independent_of_insertion_order_and_batch_split(state: dict, data: st.DataObject) -> None:
    expected = reference_root(state)
    keys = data.draw(st.permutations(sorted(state)))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(keys)), max_size=4)))
    tree = new_tree()
    version = 0
    root = tree.apply(version, {})
    for start, end in zip([0, *cuts], [*cuts, len(keys)]):
        version += 1
        root = tree.apply(version, {key: state[key] for key in keys[start:end]})
    assert root == expected


@SETTINGS
@given(initial=states_strategy, batches=st.lists(st.dictionaries(keys_strategy, st.none() | values_strategy, max_size=12), max_size=5))
def test_every_version_matches_the_reference_after_inserts_and_deletes(initial: dict, batches: list) -> None:
    tree = new_tree()
    state = dict(initial)
    history = [(0, tree.apply(0, initial), dict(state))]
    for version, batch in enumerate(batches, start=1):
        # Also delete some keys that exist, so collapses are exercised.
        batch = {**batch, **{key: None for key in list(state)[: version]}}
        for key, value in batch.items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        history.append((version, tree.apply(version, batch), dict(state)))
    for version, root, snapshot in history:
        assert root == reference_root(snapshot) == tree.get_root_hash(version)
        for key in list(snapshot)[:5] + list(initial)[:5]:
            value, proof = tree.get_with_proof(key, version)
            assert value == snapshot.get(key)
            assert verify_proof(root, key, value, proof)


@SETTINGS
@given(state=states_strategy, probe=keys_strategy)
def test_proofs_round_trip_through_bytes(state: dict, probe: bytes) -> None:
    tree = new_tree()
    root = tree.apply(0, state)
    for key in [probe, *list(state)[:3]]:
        value, proof = tree.get_with_proof(key, 0)
        decoded = SparseMerkleProof.from_bcs(proof.to_bcs())
        assert decoded == proof and verify_proof(root, key, value, decoded)


@settings(max_examples=300, deadline=None)
@given(garbage=st.binary(max_size=200))
def test_garbage_proof_bytes_raise_decode_error_or_decode_cleanly(garbage: bytes) -> None:
    try:
        proof = SparseMerkleProof.from_bcs(garbage)
    except DecodeError:
        return
    assert SparseMerkleProof.from_bcs(proof.to_bcs()) == proof
    assert verify_proof(SPARSE_MERKLE_PLACEHOLDER_HASH, bytes(32), None, proof) in (True, False)


def test_truncated_and_oversized_proofs_are_decode_errors() -> None:
    tree = new_tree()
    tree.apply(0, {make_key(i): b"v" for i in range(100)})
    encoded = tree.get_with_proof(make_key(1), 0)[1].to_bcs()
    for cut in range(len(encoded)):
        with pytest.raises(DecodeError):
            SparseMerkleProof.from_bcs(encoded[:cut])
    with pytest.raises(DecodeError):
        SparseMerkleProof.from_bcs(encoded + b"\x00")
    with pytest.raises(DecodeError):
        SparseMerkleProof.from_bcs(b"\x00\x41" + b"\x01\x00\x00" * 65)  # 65 levels


def test_speculative_versions_in_overlays_do_not_touch_the_base() -> None:
    base_store = InMemoryNodeStore()
    tree = SparseMerkleTree(base_store)
    root_1 = tree.apply(1, {make_key(i): b"v" for i in range(30)})
    stored = len(base_store)
    fork_a = SparseMerkleTree(OverlayNodeStore(base_store), latest_version=1)
    fork_b = SparseMerkleTree(OverlayNodeStore(base_store), latest_version=1)
    root_a = fork_a.apply(2, {make_key(1): b"a"})
    root_b = fork_b.apply(2, {make_key(1): b"b"})
    assert root_a != root_b and len(base_store) == stored
    assert fork_a.get(make_key(1), 2) == b"a" and fork_b.get(make_key(1), 2) == b"b"
    base_store.put_batch(fork_b.store.take_pending())  # commit fork b
    assert tree.get(make_key(1), 2) == b"b" and tree.get_root_hash(1) == root_1


def test_compute_update_writes_nothing_and_apply_writes_the_same_nodes() -> None:
    tree = new_tree()
    tree.apply(1, {make_key(i): b"v" for i in range(30)})
    stored = len(tree.store)
    root, nodes = tree.compute_update(2, {make_key(3): None, make_key(40): b"w"})
    assert len(tree.store) == stored and nodes
    assert all(key[:8] == (2).to_bytes(8, "big") for key in nodes)
    assert tree.apply(2, {make_key(3): None, make_key(40): b"w"}) == root


def test_applying_from_an_explicit_base_version_forks_history() -> None:
    tree = new_tree()
    root_1 = tree.apply(1, {make_key(1): b"a"})
    tree.apply(2, {make_key(2): b"b"})
    root_3 = tree.apply(3, {}, base_version=1)
    assert root_3 == root_1 and tree.get(make_key(2), 3) is None


@pytest.mark.parametrize(
    "updates",
    [{b"short": b"v"}, {bytes(33): b"v"}, {bytes(32): "text"}, {bytes(32): bytearray(b"v")}],
)
def test_malformed_updates_are_programmer_errors(updates: dict) -> None:
    with pytest.raises(InvariantViolation):
        new_tree().apply(0, updates)


def test_versions_must_increase_and_unknown_versions_are_errors() -> None:
    tree = new_tree()
    tree.apply(5, {})
    with pytest.raises(InvariantViolation):
        tree.apply(5, {})
    with pytest.raises(InvariantViolation):
        tree.get_root_hash(4)
    assert not tree.has_version(4) and tree.has_version(5)
