"""Stale tree nodes: what a version replaces can be deleted once no kept version reads it (ADR 0018)."""

from __future__ import annotations

import random

from contracts.state.node_store import InMemoryNodeStore
from contracts.state.smt import SparseMerkleTree


def make_key(rng: random.Random) -> bytes:
    return rng.randbytes(32)


def test_deleting_nodes_stale_at_or_before_the_floor_keeps_every_later_version_readable() -> None:
    rng = random.Random(7)
    store = InMemoryNodeStore()
    tree = SparseMerkleTree(store)
    keys = [make_key(rng) for _ in range(400)]
    expected: list[dict[bytes, bytes]] = []
    current: dict[bytes, bytes] = {}
    stale_by_version: dict[int, list[bytes]] = {}
    roots = []
    for version in range(30):
        updates = {key: rng.randbytes(8) for key in rng.sample(keys, 40)}
        if version % 5 == 4:  # some deletions too
            updates.update({key: None for key in rng.sample(sorted(current), 3)})
        root, nodes, stale = tree.compute_update_with_stale(version, updates)
        store.put_batch(nodes)
        tree.latest_version = version
        stale_by_version[version] = stale
        for key, value in updates.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        expected.append(dict(current))
        roots.append(root)
    floor = 20
    before = len(store)
    for version in range(floor + 1):
        for node_key in stale_by_version[version]:
            del store.nodes[node_key]
    assert len(store) < before * 0.6  # most of the old versions' nodes are gone
    for version in range(floor, 30):
        assert tree.get_root_hash(version) == roots[version]
        for key in keys:
            assert tree.get(key, version) == expected[version].get(key)


def test_an_unchanged_node_is_never_reported_stale() -> None:
    store = InMemoryNodeStore()
    tree = SparseMerkleTree(store)
    rng = random.Random(3)
    keys = [make_key(rng) for _ in range(50)]
    _, nodes, _ = tree.compute_update_with_stale(0, {key: b"v" for key in keys})
    store.put_batch(nodes)
    tree.latest_version = 0
    _, nodes, stale = tree.compute_update_with_stale(1, {keys[0]: b"w"})
    assert all(key[8:] in {node_key[8:] for node_key in nodes} for key in stale)
    assert len(stale) == len(nodes)  # one replaced node per rewritten path: the root down to the leaf
