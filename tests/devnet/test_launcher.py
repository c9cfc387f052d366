"""`stablechain devnet up` stops every node process it started on Ctrl-C (SIGINT) and on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devnet.launcher import is_healthy
from tests.devnet.cluster import NETWORK_PORT_OFFSET, find_base_port

pytestmark = pytest.mark.timeout(120)
STOP_WAIT_S = 20


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def ignore_sigint() -> None:
    # As a shell does for background jobs: the launcher must still honour Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def wait_for(condition, timeout_s: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_the_launcher_stops_every_node_it_started(tmp_path: Path, stop_signal: int) -> None:
    base = find_base_port(2, start=22_080 if stop_signal == signal.SIGINT else 22_280)
    command = [sys.executable, "-m", "cli", "devnet", "up", "--validators", "2", "--base-port", str(base),
               "--network-base-port", str(base + NETWORK_PORT_OFFSET), "--dir", str(tmp_path / "devnet")]
    launcher = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=ignore_sigint,
                                cwd=Path(__file__).resolve().parents[2])
    try:
        assert wait_for(lambda: is_healthy(base) and is_healthy(base + 1), 60), "devnet did not come up"
        pid_file = tmp_path / "devnet" / "pids.json"
        assert wait_for(pid_file.exists, 10)
        import json

        node_pids = [int(pid) for pid in json.loads(pid_file.read_text()).values()]
        assert len(node_pids) == 2 and all(is_alive(pid) for pid in node_pids)
        launcher.send_signal(stop_signal)
        launcher.wait(timeout=STOP_WAIT_S)
        assert wait_for(lambda: not any(is_alive(pid) for pid in node_pids), STOP_WAIT_S)
        assert not pid_file.exists()
    finally:
        if launcher.poll() is None:
            launcher.kill()
