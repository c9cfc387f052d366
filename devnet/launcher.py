"""Run a devnet's node processes on 127.0.0.1 and stop every one of them on the way out."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devnet.layout import DevnetLayout, dump_pids

HEALTH_TIMEOUT_S = 60.0
HEALTH_POLL_INTERVAL_S = 0.2
STOP_GRACE_S = 10.0
HTTP_TIMEOUT_S = 5.0


class DevnetError(RuntimeError):
    """A devnet could not be started, reached or stopped."""


def compose_node_command(config_path: Path) -> list[str]:
    """Return the command that runs one validator."""
    return [sys.executable, "-m", "cli", "node", "start", "--config", str(config_path)]


@dataclass
class Devnet:
    """The processes of a running devnet; always stop() it (it is a context manager)."""

    layout: DevnetLayout
    processes: dict[int, subprocess.Popen] = field(default_factory=dict)
    log_handles: dict[int, Any] = field(default_factory=dict)
    # Per node, words put before its command (e.g. `ip netns exec NAME`, to run it on a test host of its own).
    command_prefixes: dict[int, list[str]] = field(default_factory=dict)

    def start_node(self, index: int) -> None:
        """Start validator index (again, after a stop or a kill)."""
        files = self.layout.validators[index]
        if index in self.processes and self.processes[index].poll() is None:
            raise DevnetError(f"validator {index} is already running")
        handle = files.log_path.open("ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        command = self.command_prefixes.get(index, []) + compose_node_command(files.config_path)
        self.processes[index] = subprocess.Popen(
            command, cwd=files.directory, stdout=handle,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        )
        self.log_handles[index] = handle
        dump_pids(self.layout, {i: p.pid for i, p in self.processes.items() if p.poll() is None})

    def start(self) -> None:
        """Start every validator."""
        for files in self.layout.validators:
            self.start_node(files.index)

    def kill_node(self, index: int) -> None:
        """Kill validator index with SIGKILL, as a crash would."""
        process = self.processes[index]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_GRACE_S)

    def stop_node(self, index: int) -> None:
        """Stop validator index gracefully (SIGTERM), killing it after a grace period."""
        stop_process(self.processes.get(index))

    def stop(self) -> None:
        """Stop every process this devnet started."""
        for index in list(self.processes):
            try:
                self.stop_node(index)
            except ProcessLookupError:
                pass
        for handle in self.log_handles.values():
            handle.close()
        self.layout.pid_path.unlink(missing_ok=True)

    def wait_healthy(self, timeout_s: float = HEALTH_TIMEOUT_S, indexes: list[int] | None = None) -> None:
        """Wait until each node answers its health check; fail with the node's log tail if one dies."""
        deadline = time.monotonic() + timeout_s
        pending = set(range(len(self.layout.validators)) if indexes is None else indexes)
        while pending:
            for index in sorted(pending):
                self._raise_if_exited(index)
                if is_healthy(self.layout.manifest.get_rpc_port(index), self.layout.manifest.get_host(index)):
                    pending.discard(index)
            if pending and time.monotonic() > deadline:
                raise DevnetError(f"validators {sorted(pending)} not healthy after {timeout_s:.0f} s")
            if pending:
                time.sleep(HEALTH_POLL_INTERVAL_S)

    def _raise_if_exited(self, index: int) -> None:
        process = self.processes.get(index)
        if process is not None and process.poll() is not None:
            tail = read_log_tail(self.layout.validators[index].log_path)
            raise DevnetError(f"validator {index} exited with {process.returncode}:\n{tail}")

    def __enter__(self) -> Devnet:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def stop_process(process: subprocess.Popen | None) -> None:
    """Stop a node's process group gracefully (SIGTERM), killing it after a grace period."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_GRACE_S)


def is_healthy(port: int, host: str = "127.0.0.1") -> bool:
    """Return True iff the node on port answers GET /-/healthy."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/-/healthy", timeout=HTTP_TIMEOUT_S) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def read_log_tail(path: Path, lines: int = 30) -> str:
    """Return the last lines of a node's log."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def call_rpc(url: str, method: str, params: list[Any], timeout_s: float = HTTP_TIMEOUT_S) -> dict[str, Any]:
    """Make one JSON-RPC call and return the whole response object."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.loads(response.read())


def stop_recorded_processes(layout: DevnetLayout, on_stop: Callable[[int, int], None] | None = None) -> int:
    """Stop the processes a launcher recorded in pids.json; return how many were signalled."""
    if not layout.pid_path.exists():
        return 0
    stopped = 0
    for index, pid in json.loads(layout.pid_path.read_text()).items():
        try:
            os.killpg(pid, signal.SIGTERM)
            stopped += 1
            if on_stop is not None:
                on_stop(int(index), pid)
        except ProcessLookupError:
            continue
    layout.pid_path.unlink(missing_ok=True)
    return stopped


def run_until_interrupted(devnet: Devnet, on_ready: Callable[[], None]) -> None:
    """Start the devnet, report it ready, and stop everything on Ctrl-C or SIGTERM."""
    # Installed explicitly: a shell may start us with SIGINT ignored (background jobs), and Ctrl-C
    # or SIGTERM must still stop every process this launcher started.
    previous = {sig: signal.signal(sig, _raise_keyboard_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        devnet.start()
        devnet.wait_healthy()
        on_ready()
        while True:
            for index, process in devnet.processes.items():
                if process.poll() is not None:
                    raise DevnetError(f"validator {index} exited with {process.returncode}; see {devnet.layout.validators[index].log_path}")
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        devnet.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _raise_keyboard_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
