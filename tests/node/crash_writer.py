"""Child process for the crash-safety test: commits blocks forever, printing each committed height."""

from __future__ import annotations

import sys

from node.storage import LevelStore
from tests.node.storage_fixtures import make_commit

# Big enough that a kill often lands in the middle of a batch write.
CRASH_TEST_TRANSACTIONS_PER_BLOCK = 200


def main(path: str) -> None:
    """Commit blocks with contiguous versions until killed, resuming where the database stops."""
    store = LevelStore(path, chain_id=2, genesis_hash=b"\x11" * 32)
    latest_version = store.get_latest_version()
    version = 0 if latest_version is None else latest_version + 1
    height = version // CRASH_TEST_TRANSACTIONS_PER_BLOCK
    while True:
        store.commit_block(make_commit(height, version, CRASH_TEST_TRANSACTIONS_PER_BLOCK))
        print(height, flush=True)
        height += 1
        version += CRASH_TEST_TRANSACTIONS_PER_BLOCK


if __name__ == "__main__":
    main(sys.argv[1])
