"""A validator with its JSON-RPC off: it votes and commits, serves only its probes and metrics, refuses a faucet."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request

import pytest

from node.config import ConfigError, load_config
from tests.node.runtime.harness import make_transfer
from tests.node.runtime.processes import ProcessNode, call_rpc, kill, start, wait_for, write_network

STARTUP_TIMEOUT_S = 30
COMMIT_TIMEOUT_S = 60
HTTP_TIMEOUT_S = 2.0
QUIET_VALIDATOR = 3
EXPIRATION_AHEAD_S = 600


def turn_json_rpc_off(node: ProcessNode) -> None:
    """Set rpc.json_rpc = false in the node's config file."""
    text = node.config_path.read_text()
    node.config_path.write_text(text.replace("[rpc]\n", "[rpc]\njson_rpc = false\n", 1))


def get_http_status(url: str, body: bytes | None = None) -> int:
    """Return the HTTP status of a GET (or a POST when body is given), 0 when nothing answers."""
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def get_ledger_version(node: ProcessNode) -> int | None:
    """Return the committed version the node's /metrics reports, or None."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{node.rpc_port}/metrics", timeout=HTTP_TIMEOUT_S) as response:
            text = response.read().decode()
    except OSError:
        return None
    found = re.search(r"^stablechain_ledger_version (\S+)$", text, re.MULTILINE)
    return None if found is None else int(float(found.group(1)))


def test_a_validator_without_json_rpc_commits_and_serves_only_probes(tmp_path) -> None:  # noqa: ANN001
    nodes = write_network(tmp_path, 4)
    quiet = nodes[QUIET_VALIDATOR]
    turn_json_rpc_off(quiet)
    base = f"http://127.0.0.1:{quiet.rpc_port}"
    try:
        for node in nodes:
            start(node)
        assert wait_for(lambda: get_http_status(f"{base}/-/healthy") == 200 and all(
            call_rpc(node, "get_metadata", []) is not None for node in nodes if node is not quiet), STARTUP_TIMEOUT_S)
        transfer = make_transfer(0, expiration_secs=int(time.time()) + EXPIRATION_AHEAD_S)
        answer = call_rpc(nodes[0], "submit", [transfer.to_bcs().hex()])
        assert answer is not None and answer.get("error") is None, answer
        sender_hex = transfer.sender.value.hex()

        def get_committed_version() -> int | None:
            answer = call_rpc(nodes[0], "get_account_transaction", [sender_hex, 0, False])
            result = None if answer is None else answer.get("result")
            return None if result is None else result["version"]

        assert wait_for(lambda: get_committed_version() is not None, COMMIT_TIMEOUT_S)
        version = get_committed_version()
        assert wait_for(lambda: (get_ledger_version(quiet) or -1) >= version, COMMIT_TIMEOUT_S), (
            (quiet.directory / "node.log").read_text()[-3000:])
        assert get_http_status(f"{base}/-/ready") in (200, 503)
        assert get_http_status(f"{base}/v1", b'{"jsonrpc":"2.0","id":1,"method":"get_metadata","params":[]}') == 404
        assert get_http_status(f"{base}/", b'{"jsonrpc":"2.0","id":1,"method":"get_metadata","params":[]}') == 404
        assert get_http_status(f"{base}/v1/stream/ws") == 404
        assert get_http_status(f"{base}/mint?amount=1&currency=XUS&auth_key=00", b"") == 404
    finally:
        for node in nodes:
            kill(node)


def test_a_faucet_on_a_port_without_json_rpc_is_refused(tmp_path) -> None:  # noqa: ANN001
    node = write_network(tmp_path, 4)[0]
    turn_json_rpc_off(node)
    node.config_path.write_text(node.config_path.read_text()
                                + '\n[faucet]\ntreasury_key_file = "tc.key"\ndealer_key_file = "dd.key"\n')
    with pytest.raises(ConfigError, match="faucet is served on the JSON-RPC port"):
        load_config(node.config_path)
