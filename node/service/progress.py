"""A progress bar of committed rounds while the node catches up, shown when its stderr is a terminal."""

from __future__ import annotations

from rich.progress import Progress, TaskID

from node.runtime.runtime import Runtime


class CatchUpProgress:
    """A rich progress bar of committed rounds while this node is behind its peers."""

    def __init__(self) -> None:
        self.progress = Progress(transient=True)
        self.task: TaskID | None = None

    def update(self, runtime: Runtime, is_behind: bool) -> None:
        """Show, advance or remove the bar."""
        seen = runtime.catchup.highest_seen_commit
        current = runtime.state.tree.get_root().round
        if is_behind and seen is not None:
            if self.task is None:
                self.progress.start()
                self.task = self.progress.add_task("catching up", total=seen[1])
            self.progress.update(self.task, completed=current, total=seen[1])
        elif self.task is not None:
            self.progress.stop()
            self.task = None
