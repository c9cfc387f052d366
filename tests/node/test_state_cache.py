"""The latest-state cache answers exactly what the database does, and never a value a commit replaced."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from node.storage import BlockCommit, LedgerInfoRecord, MemoryStore, StateValueWrite
from node.storage.state_cache import MISSING, LatestStateCache
from node.storage.store import Store
from tests.node.storage_fixtures import make_commit, make_hash

KEYS = [make_hash("key", number) for number in range(4)]


def read_uncached(store: Store, key: bytes, version: int) -> bytes | None:
    """Read a state value with the cache emptied first, i.e. straight from the backend."""
    store.state_cache.entries.clear()
    return store.get_state_value(key, version)


def make_state_commit(height: int, version: int, writes: list[tuple[int, bytes | None]]) -> BlockCommit:
    """Return a one-transaction commit at version writing (key index, value) pairs."""
    base = make_commit(height, version, count=1)
    values = tuple(StateValueWrite(KEYS[index], version, value) for index, value in writes)
    return BlockCommit(base.round_number, base.block_id, base.block, base.quorum_cert, base.commit_cert,
                       LedgerInfoRecord(version, base.ledger_info.epoch, base.ledger_info.ledger_info, False),
                       base.transactions, base.events, base.state_nodes, base.accumulator_nodes, values)


def test_a_read_at_the_latest_version_is_served_from_memory_after_the_first():
    store = MemoryStore()
    store.commit_block(make_state_commit(0, 0, [(0, b"a")]))
    assert store.get_state_value(KEYS[0], 0) == b"a"  # written by the commit: already cached
    hits = store.state_cache.hits
    assert store.get_state_value(KEYS[0], 0) == b"a"
    assert store.state_cache.hits == hits + 1


def test_a_commit_replaces_the_cached_value_and_older_versions_still_read_the_database():
    store = MemoryStore()
    store.commit_block(make_state_commit(0, 0, [(0, b"a")]))
    store.commit_block(make_state_commit(1, 1, [(0, b"b"), (1, b"x")]))
    assert store.get_state_value(KEYS[0], 1) == b"b"
    assert store.get_state_value(KEYS[0], 0) == b"a"  # below the cached write: the iterator answers
    store.commit_block(make_state_commit(2, 2, [(0, None)]))
    assert store.get_state_value(KEYS[0], 2) is None  # deleted
    assert store.get_state_value(KEYS[0], 1) == b"b"


def test_a_value_read_before_a_commit_is_not_installed_after_it():
    cache = LatestStateCache(latest_version=5)
    generation = cache.get_generation()
    cache.begin_commit([KEYS[0]])
    cache.end_commit([(KEYS[0], 6, b"new")], latest_version=6)
    cache.remember(generation, KEYS[0], 5, 3, b"old")  # the reader started before the commit
    assert cache.get(KEYS[0], 6) == b"new"


def test_a_read_below_the_latest_version_is_not_remembered():
    cache = LatestStateCache(latest_version=5)
    cache.remember(cache.get_generation(), KEYS[1], 4, 2, b"as-of-4")
    assert cache.get(KEYS[1], 5) is MISSING


def test_eviction_keeps_the_cache_bounded():
    cache = LatestStateCache(latest_version=0, capacity_entries=10)
    cache.end_commit([(make_hash("many", number), 0, b"v") for number in range(25)], latest_version=0)
    assert len(cache.entries) <= 10
    assert cache.get(make_hash("many", 24), 0) == b"v"  # the newest survive


write = st.tuples(st.integers(0, len(KEYS) - 1), st.one_of(st.none(), st.binary(min_size=1, max_size=3)))
step = st.one_of(
    st.tuples(st.just("commit"), st.lists(write, max_size=3)),
    st.tuples(st.just("read"), st.integers(0, len(KEYS) - 1), st.integers(0, 3)),
)


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(step, min_size=1, max_size=30))
def test_every_read_equals_the_uncached_read(steps):
    store = MemoryStore()
    version = -1
    for action in steps:
        if action[0] == "commit":
            version += 1
            store.commit_block(make_state_commit(version, version, action[1]))
        elif version >= 0:
            _, index, back = action
            at = max(0, version - back)
            cached = store.get_state_value(KEYS[index], at)
            assert cached == read_uncached(store, KEYS[index], at)
