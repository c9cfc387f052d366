"""Ordering: blocks a 2-chain orders go to the executor in order, none past a reconfiguration ([COMMIT-1])."""

from __future__ import annotations

from consensus.events import ExecuteBlocks
from consensus.state import Work
from primitives.errors import invariant


def order_to(work: Work, block_id: bytes) -> None:
    """Order block_id and its unordered ancestors, and hand them to the executor."""
    tree = work.state.tree
    path = tree.get_path(tree.ordered_id, block_id)
    # Two ordered blocks that do not extend each other mean more than 1/3 of power is faulty.
    invariant(path is not None, "conflicting blocks ordered: the BFT assumption is broken")
    tree.ordered_id = block_id
    work.state.record_ordered(path)  # type: ignore[arg-type]
    send_for_execution(work)


def send_for_execution(work: Work) -> None:
    """Emit ExecuteBlocks for ordered blocks not yet handed to the executor (none past a reconfiguration)."""
    state = work.state
    tree = state.tree
    start_id = state.execution_sent_id if tree.is_known(state.execution_sent_id) else tree.root_id
    path = tree.get_path(start_id, tree.ordered_id)
    if not path or _is_epoch_ended(work):
        return
    state.execution_sent_id = path[-1].id
    work.emit(ExecuteBlocks(tuple(path)))


def _is_epoch_ended(work: Work) -> bool:
    return any(info.is_epoch_ending() for info in work.state.executed.values())
