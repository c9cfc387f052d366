"""Helpers for tests that run real validator processes: ports, funded accounts, waiting on the chain."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from contracts.transaction_builder import Account, compose_create_parent_vasp, compose_peer_to_peer
from devnet.bench import get_sequence_number
from devnet.launcher import Devnet, call_rpc
from devnet.layout import DevnetLayout, load_issuer_keys, prepare_devnet
from devnet.manifest import Manifest
from primitives.keys import PrivateKey
from primitives.types.names import AccountAddress
from primitives.types.transactions import SignedTransaction

PORT_SEARCH_START = 21_080
PORT_SEARCH_STEP = 10
NETWORK_PORT_OFFSET = 1_000
WAIT_TIMEOUT_S = 60.0
POLL_S = 0.2
EXPIRATION_S = 300


def is_port_free(port: int) -> bool:
    """Return True iff nothing listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Ports this test process already handed out: a port picked for a process that has not bound it yet still
# looks free, and handing it out twice let a second service "start" on the first one's listener.
_HANDED_OUT_PORTS: set[int] = set()


def find_free_port(start: int, span: int, what: str) -> int:
    """Return the first port from start on (within span) that is free and not handed out before by this process."""
    for port in range(start, start + span):
        if port not in _HANDED_OUT_PORTS and is_port_free(port):
            _HANDED_OUT_PORTS.add(port)
            return port
    raise RuntimeError(f"no free port for {what}")


def find_base_port(validators: int, start: int = PORT_SEARCH_START) -> int:
    """Return a base port whose JSON-RPC and network ports are all free."""
    for base in range(start, start + 2_000, PORT_SEARCH_STEP):
        ports = [base + i for i in range(validators)] + [base + NETWORK_PORT_OFFSET + i for i in range(validators)]
        if all(is_port_free(port) for port in ports):
            return base
    raise RuntimeError("no free port range for a devnet")


def make_devnet(root: Path, validators: int = 4, start_port: int = PORT_SEARCH_START) -> Devnet:
    """Lay out (not start) a devnet on free ports."""
    base = find_base_port(validators, start_port)
    manifest = Manifest(validators=validators, base_port=base, network_base_port=base + NETWORK_PORT_OFFSET)
    return Devnet(prepare_devnet(root, manifest))


def get_urls(layout: DevnetLayout) -> list[str]:
    """Return every node's JSON-RPC URL."""
    return [layout.manifest.get_rpc_url(i) for i in range(layout.manifest.validators)]


def get_version(url: str) -> int:
    """Return a node's committed ledger version."""
    return call_rpc(url, "get_metadata", [])["result"]["version"]


def submit(url: str, signed: SignedTransaction) -> dict:
    """Submit a transaction and return the JSON-RPC response."""
    return call_rpc(url, "submit", [signed.to_bcs().hex()])


def wait_until(condition, timeout_s: float = WAIT_TIMEOUT_S, what: str = "condition") -> None:  # noqa: ANN001
    """Poll condition until it holds; fail with what after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if condition():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(POLL_S)


def wait_committed_everywhere(urls: list[str], sender: bytes, sequence_number: int, timeout_s: float = WAIT_TIMEOUT_S) -> None:
    """Wait until every node shows sender's transaction sequence_number committed."""
    wait_until(lambda: all(get_sequence_number(url, sender) > sequence_number for url in urls), timeout_s,
               f"{sender.hex()} seq {sequence_number} on every node")


@dataclass
class Issuer:
    """Creates and funds accounts with the devnet's treasury and dealer keys."""

    layout: DevnetLayout
    url: str

    def __post_init__(self) -> None:
        keys = load_issuer_keys(self.layout)
        self.treasury = Account(keys["treasury"], AccountAddress.TREASURY_COMPLIANCE.value)
        self.dealer = Account(keys["dealer"], AccountAddress.TESTNET_DD.value)

    def create_funded_account(self, amount_micro: int, name: bytes) -> Account:
        """Create a parent VASP funded by the dealer and wait for both transactions."""
        account = Account(PrivateKey.from_seed_material(name + str(time.monotonic_ns()).encode()))
        expiration = int(time.time()) + EXPIRATION_S
        chain_id = self.layout.manifest.chain_id
        treasury_seq = get_sequence_number(self.url, self.treasury.address)
        create = compose_create_parent_vasp(account.address, account.auth_key_prefix, name)
        check_accepted(submit(self.url, self.treasury.sign(create, treasury_seq, expiration, chain_id)))
        wait_until(lambda: get_sequence_number(self.url, self.treasury.address) > treasury_seq, what="account creation")
        dealer_seq = get_sequence_number(self.url, self.dealer.address)
        fund = compose_peer_to_peer(account.address, amount_micro)
        check_accepted(submit(self.url, self.dealer.sign(fund, dealer_seq, expiration, chain_id)))
        wait_until(lambda: get_sequence_number(self.url, self.dealer.address) > dealer_seq, what="funding")
        return account


def check_accepted(answer: dict) -> None:
    """Fail loudly when a submission was refused."""
    if "error" in answer:
        raise AssertionError(f"submission refused: {answer['error']}")


@dataclass
class Load:
    """Background transfers from one account, round robin over nodes, until stopped."""

    urls: list[str]
    sender: Account
    payee: bytes
    chain_id: int = 2
    submitted: int = 0
    stop_event: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        sequence = get_sequence_number(self.urls[0], self.sender.address)
        while not self.stop_event.is_set():
            for url in self.urls:
                try:
                    signed = self.sender.sign(compose_peer_to_peer(self.payee, 1), sequence,
                                              int(time.time()) + EXPIRATION_S, self.chain_id)
                    if "error" not in submit(url, signed):
                        sequence += 1
                        self.submitted += 1
                except OSError:
                    continue  # that node is down; others take the load
                break
            time.sleep(0.02)

    def __enter__(self) -> Load:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)
