"""The background pruner (ADR 0018): one bounded step at a time on the event loop, between commits."""

from __future__ import annotations

import asyncio

from node.config import StorageConfig
from node.logging import get_logger
from node.runtime.recovery import RECOVERED_HISTORY_ROUNDS
from node.storage.pruner import ROUNDS_KEPT_MIN, PruneConfig, PruneProgress, prune_step
from node.storage.store import Store
from primitives.errors import invariant

# Between steps while there is a backlog (commits and requests run in between), and when there is none.
PRUNE_BACKLOG_PAUSE_MS = 20
PRUNE_IDLE_INTERVAL_MS = 1_000
MS_PER_SEC = 1_000

invariant(ROUNDS_KEPT_MIN >= RECOVERED_HISTORY_ROUNDS, "pruning keeps every block a restart reads back")

log = get_logger("stablechain.pruner")


def make_prune_config(storage: StorageConfig) -> PruneConfig | None:
    """Return the pruner's config, or None when the node keeps all history (an archive node)."""
    if not storage.ledger_retention_versions and not storage.state_retention_versions:
        return None
    return PruneConfig(storage.ledger_retention_versions, storage.state_retention_versions,
                       storage.prune_batch_versions)


async def run_pruner(store: Store, config: PruneConfig) -> None:
    """Prune forever: a step, then a short pause while a backlog remains, else a longer one."""
    progress = PruneProgress()
    while True:
        deleted = prune_step(store, config, progress)
        if deleted:
            log.debug("pruned", deleted=deleted, ledger_floor=store.oldest_ledger_version,
                      state_floor=store.oldest_state_version)
        await asyncio.sleep((PRUNE_BACKLOG_PAUSE_MS if deleted else PRUNE_IDLE_INTERVAL_MS) / MS_PER_SEC)
