"""Run wallet services as real processes against a devnet, and talk to them like an app does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from primitives.keys import PrivateKey

from tests.devnet import cluster

SERVICE_PORT_SEARCH_START = 29_100
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0
WAIT_TIMEOUT_S = 60.0
POLL_S = 0.2
HTTP_TIMEOUT_S = 10.0
XUS = 1_000_000


def find_free_port(start: int = SERVICE_PORT_SEARCH_START) -> int:
    """Return a free port on 127.0.0.1."""
    return cluster.find_free_port(start, 2_000, "a wallet service")


@dataclass
class WalletService:
    """One `stablechain wallet serve` process and its data directory."""

    name: str
    data_dir: Path
    rpc_url: str
    faucet_url: str
    port: int = field(default_factory=find_free_port)
    webhook_url: str | None = None
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WalletService:
        """Start the process and wait until it serves."""
        command = [sys.executable, "-m", "cli", "wallet", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--rpc", self.rpc_url, "--faucet", self.faucet_url, "--data", str(self.data_dir),
                   "--name", self.name]
        if self.webhook_url:
            command += ["--webhook-url", self.webhook_url]
        log = open(self.data_dir.parent / f"{self.name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}: see {log.name}")
            try:
                requests.get(f"{self.url}/kyc_sample", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(POLL_S)
        raise AssertionError(f"{self.name} did not start within {START_TIMEOUT_S:.0f} s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the process (SIGKILL simulates a crash)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_S)

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
        return requests.post(f"{self.url}{path}", json=body, headers=headers or {}, timeout=HTTP_TIMEOUT_S)

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=HTTP_TIMEOUT_S)

    def create_account(self, **body: Any) -> str:
        answer = self.post("/accounts", body)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def new_identifier(self, account_id: str) -> str:
        answer = self.post(f"/accounts/{account_id}/account_identifiers")
        assert answer.status_code == 201, answer.text
        return answer.json()["account_identifier"]

    def pay(self, account_id: str, payee: str, amount: int, key: str | None = None) -> str:
        headers = {"Idempotency-Key": key} if key else {}
        answer = self.post(f"/accounts/{account_id}/payments",
                           {"payee": payee, "currency": "XUS", "amount": amount}, headers)
        assert answer.status_code in (200, 202), answer.text
        return answer.json()["id"]

    def balance(self, account_id: str) -> int:
        return self.get(f"/accounts/{account_id}/balances").json()["XUS"]

    def payment(self, account_id: str, payment_id: str) -> dict[str, Any]:
        return self.get(f"/accounts/{account_id}/payments/{payment_id}").json()

    def events(self, account_id: str) -> list[dict[str, Any]]:
        return self.get(f"/accounts/{account_id}/events").json()

    def vasp_address(self) -> str:
        """Return the service's parent VASP address (hex), derived from its key in --data."""
        key = (self.data_dir / "account.key").read_text().strip()
        return PrivateKey.from_hex(key).public_key().address().hex()

    def domain(self) -> str:
        """Return the Diem ID domain the service registered (derived from its VASP address)."""
        return f"w{self.vasp_address()[:16]}"


def wait_for(condition: Any, what: str, timeout_s: float = WAIT_TIMEOUT_S) -> None:
    """Poll condition until it holds; fail naming what after timeout_s."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = condition()
            if last:
                return
        except (requests.RequestException, KeyError) as error:
            last = error
        time.sleep(POLL_S)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what} (last: {last!r})")
