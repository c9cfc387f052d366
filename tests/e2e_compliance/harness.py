"""A compliance devnet for end-to-end tests: hooks on some validators, a regulator API, users, CLI drivers."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from cli import regulator as regulator_cli
from cli import treasury as treasury_cli
from contracts.transaction_builder import Account, compose_create_parent_vasp, compose_peer_to_peer
from devnet.launcher import Devnet, call_rpc
from devnet.layout import DevnetLayout, load_issuer_keys, prepare_devnet
from devnet.manifest import Manifest
from node.config import AdmissionConfig, RegulatorConfig
from primitives.keys import PrivateKey
from primitives.types.names import AccountAddress
from tests.devnet.cluster import find_base_port, get_sequence_number, is_port_free, wait_until
from wallet import regulator

XUS = 1_000_000
VALIDATORS = 4
HOOKED_VALIDATORS = [0, 1, 2]  # validator 3 runs no admission hook: what reaches it meets only the on-chain rules
REGULATOR_VALIDATOR = 0
PORT_SEARCH_START = 24_080
NETWORK_PORT_OFFSET = 1_000
REGULATOR_PORT_OFFSET = 2_000
KYC_MIN_TIER = 1
KYC_THRESHOLD_MICRO = 100 * XUS
EXPIRATION_S = 300
HTTP_TIMEOUT_S = 10.0
CHAIN_ID = 2
# The narrow key may read supply and reserves in XUS, nothing else.
NARROW_METHODS = ["compliance_get_supply_and_reserves"]

runner = CliRunner()


def find_regulator_port(start: int) -> int:
    """Return a free port for validator 0's regulator listener."""
    for port in range(start, start + 1_000):
        if is_port_free(port):
            return port
    raise RuntimeError("no free port for the regulator API")


def compose_manifest(sanctions_path: Path, regulators: dict[str, PrivateKey]) -> Manifest:
    """Return a 4-validator manifest: sanctions + KYC hooks on 0..2, none on 3, a regulator API on 0."""
    base = find_base_port(VALIDATORS, PORT_SEARCH_START)
    admission = AdmissionConfig.model_validate({
        "hooks": ["sanctions", "kyc"], "isolation": "thread",
        "sanctions": {"list_file": str(sanctions_path)},
        "kyc": {"min_tier": KYC_MIN_TIER, "threshold_micro": KYC_THRESHOLD_MICRO},
    })
    regulator = RegulatorConfig.model_validate({"listen_port": find_regulator_port(base + REGULATOR_PORT_OFFSET),
                                                "regulators": [
        {"name": "finma", "public_key": regulators["finma"].public_key().hex(), "methods": ["*"], "audit_scope": "all"},
        {"name": "narrow", "public_key": regulators["narrow"].public_key().hex(), "methods": NARROW_METHODS,
         "currencies": ["XUS"]},
    ]})
    return Manifest(validators=VALIDATORS, base_port=base, network_base_port=base + NETWORK_PORT_OFFSET,
                    rpc_client_rate_per_s=0, admission=admission, admission_validators=HOOKED_VALIDATORS,
                    regulator=regulator, regulator_validators=[REGULATOR_VALIDATOR])


@dataclass
class ComplianceNet:
    """A running compliance devnet, its users, key files and the regulator calls made so far."""

    devnet: Devnet
    root: Path
    sanctions_path: Path
    users: dict[str, Account] = field(default_factory=dict)
    regulator_calls: list[str] = field(default_factory=list)

    @property
    def layout(self) -> DevnetLayout:
        return self.devnet.layout

    @property
    def urls(self) -> list[str]:
        return [self.layout.manifest.get_rpc_url(i) for i in range(VALIDATORS)]

    @property
    def regulator_url(self) -> str:
        return self.layout.manifest.get_regulator_url(REGULATOR_VALIDATOR)

    @property
    def audit_path(self) -> Path:
        return self.layout.validators[REGULATOR_VALIDATOR].directory / "data" / "regulator-audit.jsonl"

    def get_key_file(self, name: str) -> Path:
        """Return an issuer key file (treasury, dealer, auditor) or a regulator key file (finma, narrow, stranger)."""
        issuer = self.layout.get_key_path(name)
        return issuer if issuer.exists() else self.root / f"{name}.key"

    def treasury(self, *args: str, role: str = "treasury", node: int = 0) -> Result:
        """Run `stablechain treasury ARGS` signed with a role's key file against a node."""
        return runner.invoke(treasury_cli.app, [*args, "--url", self.urls[node], "--key-file",
                                                str(self.get_key_file(role))])

    def regulator(self, *args: str, methods: tuple[str, ...], key: str = "finma") -> Result:
        """Run `stablechain regulator ARGS` against validator 0's regulator API, recording the calls it makes."""
        self.regulator_calls.extend(methods)
        return runner.invoke(regulator_cli.app, [*args, "--url", self.regulator_url, "--key-file",
                                                 str(self.get_key_file(key)), "--chain-id", str(CHAIN_ID)])

    def call_regulator(self, method: str, params: list[Any]) -> Any:
        """Make one signed regulator call with the wallet's client (for methods the CLI has no command for)."""
        import asyncio

        from wallet.treasury import load_signing_key

        self.regulator_calls.append(method)
        client = regulator.RegulatorClient(self.regulator_url, load_signing_key(self.get_key_file("finma")))
        return asyncio.run(client.call(method, params))

    def pay(self, node: int, sender: str, payee: str, amount_micro: int, sequence: int | None = None) -> dict:
        """Sign a payment sender -> payee and submit it to a node; return the JSON-RPC response."""
        account = self.users[sender]
        if sequence is None:
            sequence = get_sequence_number(self.urls[node], account.address)
        signed = account.sign(compose_peer_to_peer(self.users[payee].address, amount_micro), sequence,
                              int(time.time()) + EXPIRATION_S, CHAIN_ID)
        return call_rpc(self.urls[node], "submit", [signed.to_bcs().hex()])

    def wait_committed(self, name: str, sequence: int) -> None:
        """Wait until every validator shows the user's transaction `sequence` committed."""
        address = self.users[name].address
        wait_until(lambda: all(get_sequence_number(url, address) > sequence for url in self.urls),
                   what=f"{name} seq {sequence} on every validator")

    def get_sequence(self, name: str) -> int:
        """Return a user's next sequence number on validator 0."""
        return get_sequence_number(self.urls[0], self.users[name].address)

    def regulator_offline_verify(self) -> Result:
        """Run `stablechain regulator verify-audit` on the node's own audit file (no regulator call)."""
        return runner.invoke(regulator_cli.app, ["verify-audit", str(self.audit_path)])

    def get_transaction(self, name: str, sequence: int) -> dict:
        """Return a user's committed transaction view."""
        return call_rpc(self.urls[0], "get_account_transaction", [self.users[name].address.hex(), sequence, False])[
            "result"]

    def get_balance(self, name: str) -> int:
        """Return a user's XUS balance on validator 0."""
        account = call_rpc(self.urls[0], "get_account", [self.users[name].address.hex()])["result"]
        return sum(b["amount"] for b in account["balances"] if b["currency"] == "XUS")


def start_compliance_net(root: Path) -> ComplianceNet:
    """Lay out and start the devnet (the caller stops it), with regulator key files next to it."""
    regulators = {name: PrivateKey.from_seed_material(f"e2e-{name}-{time.monotonic_ns()}".encode())
                  for name in ("finma", "narrow", "stranger")}
    for name, key in regulators.items():
        (root / f"{name}.key").write_text(key.seed.hex())
    sanctions_path = root / "sanctions.txt"
    sanctions_path.write_text("# e2e sanctions list\n")
    devnet = Devnet(prepare_devnet(root / "devnet", compose_manifest(sanctions_path, regulators)))
    net = ComplianceNet(devnet, root, sanctions_path)
    devnet.start()
    return net


def create_users(net: ComplianceNet, balances_micro: dict[str, int], node: int) -> None:
    """Create one parent VASP per name (treasury) and fund it (dealer), batched, through one validator."""
    keys = load_issuer_keys(net.layout)
    treasury = Account(keys["treasury"], AccountAddress.TREASURY_COMPLIANCE.value)
    dealer = Account(keys["dealer"], AccountAddress.TESTNET_DD.value)
    url, expiration = net.urls[node], int(time.time()) + EXPIRATION_S
    for name in balances_micro:
        net.users[name] = Account(PrivateKey.from_seed_material(f"e2e-user-{name}-{time.monotonic_ns()}".encode()))
    for issuer, compose in ((treasury, lambda user, name, _: compose_create_parent_vasp(
            user.address, user.auth_key_prefix, name.encode())),
                            (dealer, lambda user, _, amount: compose_peer_to_peer(user.address, amount))):
        start = get_sequence_number(url, issuer.address)
        for offset, (name, amount) in enumerate(balances_micro.items()):
            signed = issuer.sign(compose(net.users[name], name, amount), start + offset, expiration, CHAIN_ID)
            answer = call_rpc(url, "submit", [signed.to_bcs().hex()])
            assert "error" not in answer, answer
        last = start + len(balances_micro) - 1
        wait_until(lambda: all(get_sequence_number(u, issuer.address) > last for u in net.urls),
                   what="account creation and funding on every validator")


def canonical_request(method: str, params: list[Any]) -> bytes:
    """Return one JSON-RPC request object as the regulator client sends it."""
    return regulator.canonical_json({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})


def get_node_id(url: str) -> bytes:
    """Return the node id the regulator API announces at URL/node (what requests to it are signed for)."""
    with urllib.request.urlopen(url.rstrip("/") + "/node", timeout=HTTP_TIMEOUT_S) as response:
        return bytes.fromhex(json.loads(response.read())["node_id"])


def post_raw(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    """POST a body to the regulator API; return (HTTP status, parsed JSON body)."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def read_audit_file(path: Path) -> list[dict]:
    """Return the node's audit log entries (the file is fsynced before each answer leaves)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
