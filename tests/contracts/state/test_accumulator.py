"""Scenarios and invariants of the transaction accumulator, its proofs and the event root."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.state import (
    ACCUMULATOR_PLACEHOLDER_HASH,
    AccumulatorConsistencyProof,
    AccumulatorProof,
    InMemoryAccumulatorStore,
    MerkleAccumulator,
    compute_accumulator_root,
    compute_event_root,
    verify_consistency,
    verify_inclusion,
)
from primitives.errors import DecodeError, InvariantViolation
from primitives.hashing import hash_with_salt

EXHAUSTIVE_LEAVES = 64


def make_leaf(index: int) -> bytes:
    return hashlib.sha3_256(b"leaf" + index.to_bytes(8, "big")).digest()


def build(num_leaves: int, chunk: int = 1) -> tuple[MerkleAccumulator, list[bytes]]:
    """Return an accumulator of num_leaves leaves appended chunk at a time, and the root after each size."""
    accumulator = MerkleAccumulator(InMemoryAccumulatorStore())
    roots = [accumulator.get_root()]
    leaves = [make_leaf(i) for i in range(num_leaves)]
    for start in range(0, num_leaves, chunk):
        accumulator.append(leaves[start : start + chunk])
        for size in range(start + 1, min(start + chunk, num_leaves) + 1):
            roots.append(accumulator.get_root(size))
    return accumulator, roots


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x80]) + data[index + 1 :]


def test_small_roots_follow_the_definition() -> None:
    a, b, c = make_leaf(0), make_leaf(1), make_leaf(2)

    def parent(left: bytes, right: bytes) -> bytes:
        return hash_with_salt("TransactionAccumulator", left + right)

    _, roots = build(3)
    assert roots[0] == ACCUMULATOR_PLACEHOLDER_HASH == b"ACCUMULATOR_PLACEHOLDER_HASH" + bytes(4)
    assert roots[1] == a
    assert roots[2] == parent(a, b)
    assert roots[3] == parent(parent(a, b), parent(c, ACCUMULATOR_PLACEHOLDER_HASH))


def test_roots_match_the_in_memory_computation_for_every_size_up_to_64() -> None:
    accumulator, roots = build(EXHAUSTIVE_LEAVES)
    leaves = [make_leaf(i) for i in range(EXHAUSTIVE_LEAVES)]
    for size in range(EXHAUSTIVE_LEAVES + 1):
        assert roots[size] == compute_accumulator_root(leaves[:size]) == accumulator.get_root(size)


def test_inclusion_proofs_for_every_leaf_of_every_size_up_to_64() -> None:
    accumulator, roots = build(EXHAUSTIVE_LEAVES)
    for size in range(1, EXHAUSTIVE_LEAVES + 1):
        for index in range(size):
            proof = accumulator.get_proof(index, size)
            assert verify_inclusion(roots[size], make_leaf(index), index, size, proof)
            assert not verify_inclusion(roots[size], make_leaf(index + 1), index, size, proof)
            assert not verify_inclusion(roots[size], make_leaf(index), index ^ 1, size, proof) or size == 1
            # A size with another tree height needs another number of siblings.
            assert not verify_inclusion(roots[size], make_leaf(index), index, 2 * size + 1, proof)


def test_consistency_proofs_for_every_pair_of_sizes_up_to_64() -> None:
    accumulator, roots = build(EXHAUSTIVE_LEAVES, chunk=5)
    for old in range(EXHAUSTIVE_LEAVES + 1):
        for new in range(old, EXHAUSTIVE_LEAVES + 1):
            proof = accumulator.get_consistency_proof(old, new)
            assert verify_consistency(roots[old], old, roots[new], new, proof)
            if new > old:
                assert not verify_consistency(roots[old], old, roots[new - 1], new, proof)
            if old > 0:
                assert not verify_consistency(roots[old - 1], old, roots[new], new, proof)


@settings(max_examples=25, deadline=None)
@given(size=st.integers(65, 3000), chunk=st.integers(1, 700), data=st.data())
def test_random_larger_accumulators_prove_inclusion_and_consistency(size: int, chunk: int, data) -> None:
    accumulator, roots = build(size, chunk)
    assert roots[size] == compute_accumulator_root([make_leaf(i) for i in range(size)])
    index = data.draw(st.integers(0, size - 1))
    proof = accumulator.get_proof(index, size)
    assert verify_inclusion(roots[size], make_leaf(index), index, size, proof)
    old = data.draw(st.integers(0, size))
    consistency = accumulator.get_consistency_proof(old, size)
    assert verify_consistency(roots[old], old, roots[size], size, consistency)
    assert AccumulatorConsistencyProof.from_bcs(consistency.to_bcs()) == consistency
    assert AccumulatorProof.from_bcs(proof.to_bcs()) == proof


def test_a_forked_history_is_not_consistent() -> None:
    honest, roots = build(20)
    forked = MerkleAccumulator(InMemoryAccumulatorStore())
    forked.append([make_leaf(i) for i in range(10)] + [make_leaf(100 + i) for i in range(10)])
    proof = forked.get_consistency_proof(12, 20)
    assert not verify_consistency(roots[12], 12, forked.get_root(), 20, proof)
    assert verify_consistency(forked.get_root(12), 12, forked.get_root(), 20, proof)
    assert not verify_consistency(roots[5], 5, roots[3], 3, honest.get_consistency_proof(3, 5))


def test_any_altered_byte_of_an_inclusion_proof_fails() -> None:
    accumulator, roots = build(37)
    for index in (0, 17, 36):
        encoded = accumulator.get_proof(index, 37).to_bcs()
        for position in range(len(encoded)):
            try:
                altered = AccumulatorProof.from_bcs(flip(encoded, position))
            except DecodeError:
                continue
            assert not verify_inclusion(roots[37], make_leaf(index), index, 37, altered)
        for position in range(32):
            assert not verify_inclusion(flip(roots[37], position), make_leaf(index), index, 37,
                                        AccumulatorProof.from_bcs(encoded))


def test_any_altered_byte_of_a_consistency_proof_fails() -> None:
    accumulator, roots = build(45)
    encoded = accumulator.get_consistency_proof(13, 45).to_bcs()
    for position in range(len(encoded)):
        try:
            altered = AccumulatorConsistencyProof.from_bcs(flip(encoded, position))
        except DecodeError:
            continue
        assert not verify_consistency(roots[13], 13, roots[45], 45, altered)


@settings(max_examples=300, deadline=None)
@given(garbage=st.binary(max_size=300))
def test_garbage_proof_bytes_raise_decode_error_or_decode_cleanly(garbage: bytes) -> None:
    for proof_type in (AccumulatorProof, AccumulatorConsistencyProof):
        try:
            proof = proof_type.from_bcs(garbage)
        except DecodeError:
            continue
        assert proof_type.from_bcs(proof.to_bcs()) == proof


def test_verifiers_reject_malformed_arguments_without_raising() -> None:
    accumulator, roots = build(8)
    proof = accumulator.get_proof(3, 8)
    assert not verify_inclusion(roots[8], make_leaf(3), 8, 8, proof)
    assert not verify_inclusion(roots[8], make_leaf(3), -1, 8, proof)
    assert not verify_inclusion(roots[8], make_leaf(3)[:31], 3, 8, proof)
    assert not verify_inclusion(roots[8], make_leaf(3), 3, 8, AccumulatorProof(proof.siblings[:-1]))
    assert not verify_inclusion(roots[8], make_leaf(3), 3, 8, AccumulatorProof((b"x",) * 3))
    consistency = accumulator.get_consistency_proof(2, 8)
    assert not verify_consistency(roots[2], -2, roots[8], 8, consistency)
    assert not verify_consistency(roots[2], 2, roots[8], 9, consistency)


def test_requests_beyond_the_accumulator_are_programmer_errors() -> None:
    accumulator, _ = build(5)
    with pytest.raises(InvariantViolation):
        accumulator.get_proof(5, 5)
    with pytest.raises(InvariantViolation):
        accumulator.get_root(6)
    with pytest.raises(InvariantViolation):
        accumulator.get_consistency_proof(4, 6)
    with pytest.raises(InvariantViolation):
        accumulator.append([b"short"])


def test_reopening_from_the_store_continues_the_same_accumulator() -> None:
    accumulator, roots = build(11)
    reopened = MerkleAccumulator(accumulator.store, num_leaves=11)
    assert reopened.append([make_leaf(11)]) == compute_accumulator_root([make_leaf(i) for i in range(12)])


def test_event_root_uses_its_own_salt() -> None:
    events = [make_leaf(i) for i in range(3)]
    assert compute_event_root([]) == ACCUMULATOR_PLACEHOLDER_HASH
    assert compute_event_root(events[:1]) == events[0]
    assert compute_event_root(events) == compute_accumulator_root(events, "EventAccumulator")
    assert compute_event_root(events) != compute_accumulator_root(events)
    assert compute_event_root(events[:2]) == hash_with_salt("EventAccumulator", events[0] + events[1])


def test_proofs_stay_logarithmic() -> None:
    accumulator, _ = build(1000, chunk=100)
    for old, new in [(0, 1000), (1, 1000), (511, 513), (999, 1000), (300, 700)]:
        proof = accumulator.get_consistency_proof(old, new)
        assert len(proof.old_subtrees) == bin(old).count("1")
        assert len(proof.new_subtrees) <= 2 * new.bit_length()
    assert len(accumulator.get_proof(999, 1000).siblings) == 10
