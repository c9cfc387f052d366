"""The black-box cases against `stablechain devnet up`: hostile HTTP from outside, the chain goes on."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.transaction_builder import Account, compose_peer_to_peer
from node.config import FAUCET_AMOUNT_MAX_MICRO
from node.mempool import MEMPOOL_EXPIRATION_HORIZON_S, MEMPOOL_SEQUENCE_WINDOW
from node.rpc.jsonrpc import INVALID_REQUEST, MEMPOOL_INVALID_SEQUENCE_NUMBER
from primitives.keys import PrivateKey
from tests.devnet.cluster import NETWORK_PORT_OFFSET, find_base_port

pytestmark = pytest.mark.timeout(240)
START_TIMEOUT_S = 90.0
POLL_S = 0.2
IDLE_SOCKETS = 2_000
OTHER_LOOPBACK_CLIENT = "127.0.0.2"


class Devnet:
    """One `stablechain devnet up` process group and the URLs of its node."""

    def __init__(self, process: subprocess.Popen[bytes], base_port: int) -> None:
        self.process, self.base_port = process, base_port
        self.rpc_url = f"http://127.0.0.1:{base_port}/v1"
        self.root_url = f"http://127.0.0.1:{base_port}"

    def call(self, method: str, params: list, body: bytes | None = None) -> dict:
        data = body if body is not None else json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        request = urllib.request.Request(self.rpc_url, data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def mint(self, query: dict[str, str]) -> tuple[int, str]:
        url = f"{self.root_url}/mint?" + urllib.parse.urlencode(query)
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST"), timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def get_version(self) -> int:
        return self.call("get_metadata", [])["result"]["version"]


def wait_until(condition, timeout_s: float = START_TIMEOUT_S) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(POLL_S)
    return False


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    base = find_base_port(1, 23_080)
    command = [sys.executable, "-m", "cli.main", "devnet", "up", "--validators", "1", "--base-port", str(base),
               "--network-base-port", str(base + NETWORK_PORT_OFFSET), "--dir", str(tmp_path_factory.mktemp("up"))]
    log = open(Path(tmp_path_factory.mktemp("log")) / "devnet.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    net = Devnet(process, base)
    try:
        assert wait_until(lambda: net.get_version() > 0), "the devnet did not start"
        yield net
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        log.close()


def new_account(name: str) -> Account:
    return Account(PrivateKey.from_seed_material(f"blackbox {name}".encode()))


def test_deep_json_is_refused_with_the_envelope(devnet: Devnet) -> None:
    answer = devnet.call("", [], body=b"[" * 5_000 + b"]" * 5_000)
    assert answer["error"]["code"] == INVALID_REQUEST and "nests deeper" in answer["error"]["message"]


def test_the_faucet_refuses_bad_input_with_4xx_and_keeps_serving(devnet: Devnet) -> None:
    alice = new_account("alice")
    base = {"auth_key": alice.auth_key.hex(), "currency_code": "XUS", "return_txns": "true"}
    assert devnet.mint({**base, "amount": "10", "diem_id_domain": "é"})[0] == 400
    status, reason = devnet.mint({**base, "amount": str(FAUCET_AMOUNT_MAX_MICRO + 1)})
    assert status == 400 and "cap" in reason
    assert devnet.mint({**base, "amount": "1000000"})[0] == 200
    assert wait_until(lambda: devnet.call("get_account", [alice.address.hex()])["result"] is not None, 30)


def test_the_mempool_refuses_far_sequence_numbers_and_expirations(devnet: Devnet) -> None:
    bob = new_account("bob")
    assert devnet.mint({"auth_key": bob.auth_key.hex(), "currency_code": "XUS", "amount": "1000000"})[0] == 200
    assert wait_until(lambda: devnet.call("get_account", [bob.address.hex()])["result"] is not None, 30)
    payment = compose_peer_to_peer(new_account("carol").address, 1)
    far = bob.sign(payment, MEMPOOL_SEQUENCE_WINDOW + 5, int(time.time()) + 60)
    assert devnet.call("submit", [far.to_bcs().hex()])["error"]["code"] == MEMPOOL_INVALID_SEQUENCE_NUMBER
    forever = bob.sign(payment, 0, int(time.time()) + 2 * MEMPOOL_EXPIRATION_HORIZON_S)
    assert "too far in the future" in devnet.call("submit", [forever.to_bcs().hex()])["error"]["message"]


def test_two_thousand_idle_sockets_neither_stop_the_node_nor_its_other_clients(devnet: Devnet) -> None:
    before = devnet.get_version()
    sockets = []
    try:
        for _ in range(IDLE_SOCKETS):
            sockets.append(socket.create_connection(("127.0.0.1", devnet.base_port), timeout=5))
        other = socket.create_connection(("127.0.0.1", devnet.base_port), timeout=5,
                                         source_address=(OTHER_LOOPBACK_CLIENT, 0))
        with other:
            other.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert b"diem-node:ok" in other.recv(4096)
        assert wait_until(lambda: devnet.get_version() > before + 2, 30), "consensus kept committing"
    finally:
        for item in sockets:
            item.close()
    assert devnet.process.poll() is None, "the node is still running"
