"""Indexes are written in the same atomic batch as their block: a commit that fails writes neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.transaction_builder import compose_peer_to_peer
from node.compliance.index.queries import ComplianceIndex
from node.storage import LevelStore, MemoryStore, schema
from primitives.errors import InvariantViolation
from tests.node.compliance.index.chain import IndexedChain, commit_with_indexes

XUS = 1_000_000


class SpyBackend:
    """Wraps a backend and records the keys of every write batch."""

    def __init__(self, backend) -> None:  # noqa: ANN001
        self.backend = backend
        self.batches: list[list[bytes]] = []

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.backend, name)

    def write(self, puts, deletes, sync) -> None:  # noqa: ANN001
        self.batches.append([key for key, _ in puts])
        self.backend.write(puts, deletes, sync)


@pytest.fixture(scope="module")
def chain() -> IndexedChain:
    """Commits: genesis; alice's creation; bob's creation; a payment alice -> bob."""
    chain = IndexedChain()
    chain.alice = chain.create_vasp("alice", 0)
    chain.bob = chain.create_vasp("bob", 0)
    chain.run(chain.keys["dealer"], compose_peer_to_peer(chain.alice.address, 9 * XUS))
    assert len(chain.commits) == 4
    return chain


def count_keys(store, prefix: bytes) -> int:  # noqa: ANN001
    return sum(1 for _ in store.backend.scan(prefix, prefix, False))


def test_a_commit_writes_its_blocks_and_their_indexes_in_one_batch(chain: IndexedChain) -> None:
    # Pre-state: a store holding genesis. Action: three blocks through the hook.
    store = MemoryStore()
    commit_with_indexes(store, chain.commits[:1])
    spy = store.backend = SpyBackend(store.backend)
    commit_with_indexes(store, chain.commits[1:])
    # Post-state: one batch holds the transactions and every index entry; the store's backend is unwrapped.
    (batch,) = spy.batches
    alice_created = chain.commits[1].transactions[-1].version
    assert schema.transaction_key(alice_created) in batch
    assert schema.index_account_key(chain.alice.address, alice_created) in batch
    assert schema.index_transaction_key(chain.commits[3].transactions[-1].version) in batch
    assert store.backend is spy
    history = ComplianceIndex(store).get_account_history(chain.alice.address, (0, 100))
    assert [item["version"] for item in history.items] == [alice_created, chain.commits[3].transactions[-1].version]


def test_a_refused_commit_writes_neither_block_nor_indexes(chain: IndexedChain, tmp_path: Path) -> None:
    # Pre-state: a LevelDB store holding genesis and alice's block.
    store = LevelStore(str(tmp_path / "db"))
    try:
        backend = store.backend
        commit_with_indexes(store, chain.commits[:2])
        before = {prefix: count_keys(store, prefix) for prefix in (schema.TRANSACTION_PREFIX, schema.INDEX_PREFIX)}
        # Action: the payment block without bob's block before it (a version gap): the store refuses it.
        with pytest.raises(InvariantViolation):
            commit_with_indexes(store, chain.commits[3:])
        # Post-state: nothing of it, neither chain data nor index entries; the backend is unwrapped.
        assert {prefix: count_keys(store, prefix) for prefix in before} == before
        payment_version = chain.commits[3].transactions[-1].version
        assert store.backend.get(schema.index_transaction_key(payment_version)) is None
        assert store.backend is backend
        # The right sequence then commits both.
        commit_with_indexes(store, chain.commits[2:])
        assert store.get_transaction(payment_version) is not None
        assert store.backend.get(schema.index_transaction_key(payment_version)) is not None
    finally:
        store.close()


def test_the_indexes_survive_a_restart(chain: IndexedChain, tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with LevelStore(path) as store:
        commit_with_indexes(store, chain.commits)
    with LevelStore(path) as store:
        page = ComplianceIndex(store).get_large_transfers("XUS", 9 * XUS, (0, 100))
        assert [(item["counterparty"], item["amount"]) for item in page.items][-1] == (chain.alice.address.hex(), 9 * XUS)


def test_a_store_taking_extra_puts_gets_the_indexes_through_them(chain: IndexedChain) -> None:
    class ExtraPutsStore(MemoryStore):
        """A store whose commit_blocks appends extra puts itself (the interface asked of node-prep)."""

        def commit_blocks(self, commits, extra_puts=()) -> None:  # noqa: ANN001
            self.received = list(extra_puts)
            spy = self.backend = SpyBackend(self.backend)
            original_write = spy.write
            spy.write = lambda puts, deletes, sync: original_write(puts + self.received, deletes, sync)
            super().commit_blocks(commits)

    store = ExtraPutsStore()
    commit_with_indexes(store, chain.commits)
    alice_created = schema.index_account_key(chain.alice.address, chain.commits[1].transactions[-1].version)
    assert alice_created in [key for key, _ in store.received]
    assert len(store.backend.batches) == 1
