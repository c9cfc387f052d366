"""Four real `run_node` processes on 127.0.0.1 commit a transaction submitted over JSON-RPC."""

from __future__ import annotations

import signal
import time

import pytest

from tests.node.runtime.harness import make_transfer
from tests.node.runtime.processes import call_rpc, kill, start, wait_for, write_network

STARTUP_TIMEOUT_S = 30
SHUTDOWN_TIMEOUT_S = 10
COMMIT_TIMEOUT_S = 60
DOWNTIME_VERSIONS = 8
EXPIRATION_AHEAD_S = 600


def get_expiration_secs() -> int:
    """Real processes run on the wall clock: expire a while after now, within the mempool's horizon."""
    return int(time.time()) + EXPIRATION_AHEAD_S


def is_committed_on(node, sender_hex: str) -> bool:  # noqa: ANN001
    answer = call_rpc(node, "get_account_transaction", [sender_hex, 0, False])
    return answer is not None and answer.get("result") is not None


@pytest.mark.timeout(120)
def test_four_processes_commit_a_submitted_transaction(tmp_path) -> None:  # noqa: ANN001
    nodes = write_network(tmp_path, 4)
    try:
        for node in nodes:
            start(node)
        assert wait_for(lambda: all(call_rpc(node, "get_metadata", []) is not None for node in nodes),
                        STARTUP_TIMEOUT_S)
        txn = make_transfer(0, expiration_secs=get_expiration_secs())
        answer = call_rpc(nodes[1], "submit", [txn.to_bcs().hex()])
        assert answer is not None and answer.get("error") is None, answer
        sender_hex = txn.sender.value.hex()
        assert wait_for(lambda: all(is_committed_on(node, sender_hex) for node in nodes), COMMIT_TIMEOUT_S), [
            (node.directory / "node.log").read_text()[-3000:] for node in nodes[:1]]
        versions = [call_rpc(node, "get_account_transaction", [sender_hex, 0, False])["result"]["version"]
                    for node in nodes]
        assert len(set(versions)) == 1
        # SIGTERM stops a node gracefully: it closes its database and exits 0.
        nodes[0].process.send_signal(signal.SIGTERM)
        assert nodes[0].process.wait(timeout=SHUTDOWN_TIMEOUT_S) == 0
        assert "database closed" in (nodes[0].directory / "node.log").read_text()
    finally:
        for node in nodes:
            kill(node)


def get_version(node) -> int | None:  # noqa: ANN001
    answer = call_rpc(node, "get_metadata", [])
    return None if answer is None else answer["result"]["version"]


def get_transaction_hash(node, version: int) -> str | None:  # noqa: ANN001
    answer = call_rpc(node, "get_transactions", [version, 1, False])
    if answer is None or not answer.get("result"):
        return None
    return answer["result"][0]["hash"]


@pytest.mark.timeout(180)
def test_killed_validator_restarts_from_disk_and_catches_up(tmp_path) -> None:  # noqa: ANN001
    nodes = write_network(tmp_path, 4)
    victim = nodes[3]
    try:
        for node in nodes:
            start(node)
        assert wait_for(lambda: all(get_version(node) is not None for node in nodes), STARTUP_TIMEOUT_S)
        sender_hex = make_transfer(0, expiration_secs=get_expiration_secs()).sender.value.hex()
        for sequence in range(3):
            call_rpc(nodes[sequence % 3], "submit", [make_transfer(sequence, expiration_secs=get_expiration_secs()).to_bcs().hex()])
        kill(victim)  # kill -9 under load
        for sequence in range(3, 6):
            call_rpc(nodes[sequence % 3], "submit", [make_transfer(sequence, expiration_secs=get_expiration_secs()).to_bcs().hex()])
        live = nodes[:3]
        assert wait_for(lambda: all(is_committed_at(node, sender_hex, 5) for node in live), COMMIT_TIMEOUT_S)
        # Stay down while the others commit well past what their block trees keep.
        down_until = (get_version(live[0]) or 0) + DOWNTIME_VERSIONS
        assert wait_for(lambda: (get_version(live[0]) or 0) >= down_until, COMMIT_TIMEOUT_S)
        start(victim)
        target = max(get_version(node) or 0 for node in live)
        assert wait_for(lambda: (get_version(victim) or 0) >= target, COMMIT_TIMEOUT_S), (
            victim.directory / "node.log").read_text()[-3000:]
        assert is_committed_at(victim, sender_hex, 5)
        for version in range(0, target + 1, max(1, target // 20)):
            assert len({get_transaction_hash(node, version) for node in nodes}) == 1, version
    finally:
        for node in nodes:
            kill(node)


def is_committed_at(node, sender_hex: str, sequence: int) -> bool:  # noqa: ANN001
    answer = call_rpc(node, "get_account_transaction", [sender_hex, sequence, False])
    return answer is not None and answer.get("result") is not None
