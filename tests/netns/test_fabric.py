"""The fabric's own hygiene: namespaces left by a killed run are swept, those of a live run are kept."""

from __future__ import annotations

import os

from tests.netns.fabric import PID_MODULUS, Fabric, list_namespaces, remove_stale_fabrics, run_ip


def get_dead_prefix() -> str:
    """Return a fabric prefix that no running process can own."""
    live = {int(entry) % PID_MODULUS for entry in os.listdir("/proc") if entry.isdigit()}
    return f"sc{next(n for n in range(PID_MODULUS - 1, 0, -1) if n not in live)}"


def test_a_killed_runs_namespaces_are_swept_and_a_live_runs_are_kept() -> None:
    stale = f"{get_dead_prefix()}-v0"
    with Fabric() as fabric:
        run_ip("netns", "add", stale)
        try:
            removed = remove_stale_fabrics()
            assert stale in removed and stale not in list_namespaces()
            assert fabric.switch in list_namespaces()
        finally:
            if stale in list_namespaces():
                run_ip("netns", "del", stale)
    assert fabric.switch not in list_namespaces()
