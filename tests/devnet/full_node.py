"""A full node on 127.0.0.1 following a running devnet, made with `node init --role full`'s own function."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devnet.launcher import Devnet
from node.operator_setup import NodeSetup, init_node
from primitives.network_address import NetworkAddress
from tests.devnet.cluster import NETWORK_PORT_OFFSET, find_base_port

READY_TIMEOUT_S = 60.0
POLL_S = 0.3
STOP_TIMEOUT_S = 15


def get_readiness(url: str) -> tuple[int, dict]:
    """Return (status, report) of a node's /-/ready ((0, {}) when it does not answer)."""
    try:
        with urllib.request.urlopen(url + "/-/ready", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError:
        return 0, {}


@contextmanager
def running_full_node(devnet: Devnet, directory: Path, with_faucet: bool = False) -> Iterator[str]:
    """Start a full node following devnet (optionally serving the faucet); yield its base URL; always stop it."""
    port = find_base_port(1, start=devnet.layout.manifest.base_port + 50)
    init_node(NodeSetup(directory, "full", "full-0", NetworkAddress("127.0.0.1", port + NETWORK_PORT_OFFSET),
                        NetworkAddress("127.0.0.1", port)), None)
    shutil.copy(devnet.layout.genesis_path, directory / "genesis.json")
    if with_faucet:
        with (directory / "node.toml").open("a") as config:
            config.write(f'\n[faucet]\ntreasury_key_file = "{devnet.layout.get_key_path("treasury")}"\n'
                         f'dealer_key_file = "{devnet.layout.get_key_path("dealer")}"\n')
    with (directory / "node.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "cli", "node", "start", "--config", "node.toml"],
                                   cwd=directory, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + READY_TIMEOUT_S
            while get_readiness(url)[0] != 200:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the full node did not get ready: {(directory / 'node.log').read_text()[-2000:]}")
                time.sleep(POLL_S)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
