"""Issue I end to end: four operators and a full node launch a network on separate hosts, as `docs/operations.md`
says, then live through a cut link, a full-node restart and a validator moving to a new address.

Each node runs in its own network namespace on one bridge (198.18.0.0/15), its link shaped with `tc tbf`, its
files in its operator's own directory. The issuer onboards a VASP through the full node (no faucet); payments are
submitted through the full node and read back through it with the verifying wallet.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.netns.ceremony import CLIENT, FULL_NODE, REPO_ROOT, VALIDATORS, OperatorNetwork, stablechain
from tests.netns.cluster import read_client_result
from tests.netns.fabric import Fabric
from tests.netns.test_link_cut import assert_rate_kept, cut_link_under_load

LINK_MBIT = 100
NEW_HOST = "v3-moved"
CUT = "v3"
# The load: closed-loop payments for CUT_AFTER_S, then v3's link down for CUT_FOR_S (issue I: 20 s), then healed.
CUT_AFTER_S = 18
CUT_FOR_S = 20
AFTER_HEAL_S = 12
LOAD_S = CUT_AFTER_S + CUT_FOR_S + AFTER_HEAL_S
# Issue I asks that the healed validator catch up; how fast is issue M's bound, proven by test_link_cut.py on four
# nodes. Here a fifth process (the full node) shares the cores, so this only bounds "it catches up".
CATCH_UP_S_MAX = 30
MINT_XUS = "30000000"
VASP_PAYMENT_XUS = "1000"
VASP_PAYMENT_MICRO = 1_000_000_000
MOVE_TIMEOUT_S = 120


def is_ready(report: dict) -> bool:
    """Return True for a node in sync."""
    return bool(report.get("ready"))


def onboard_a_vasp(net: OperatorNetwork, full_url: str) -> str:
    """The issuer attests reserves, mints to the dealer, creates a parent VASP and the dealer pays it, all through the
    full node with the treasury CLI; return the VASP's address."""
    issuer = "issuer"
    (net.root / "reserves-report.txt").write_text("reserve attestation of the launch\n")
    url = ["--url", full_url]
    net.run(stablechain("treasury", "attest-reserves", "--amount", str(90_000_000), "--report",
                        "reserves-report.txt", "--key-file", f"{issuer}/auditor.key", *url), host=CLIENT)
    net.run(stablechain("treasury", "mint", "--amount", MINT_XUS, "--key-file", f"{issuer}/treasury.key", *url),
            host=CLIENT)
    keygen = net.run(stablechain("treasury", "keygen", "--out", "acme.key"), host=CLIENT)
    public_key = keygen.split("public key: ")[1].split()[0]
    address = keygen.split("address: ")[1].split()[0]
    compliance = net.run(stablechain("treasury", "keygen", "--out", "acme-compliance.key"), host=CLIENT)
    net.run(stablechain("treasury", "create-vasp", "--public-key", public_key, "--name", "acme", "--base-url",
                        "https://acme.example/offchain", "--compliance-key",
                        compliance.split("public key: ")[1].split()[0], "--vasp-key-file", "acme.key",
                        "--diem-id-domain", "acme", "--key-file", f"{issuer}/treasury.key", *url), host=CLIENT)
    net.run(stablechain("treasury", "pay", "--to", address, "--amount", VASP_PAYMENT_XUS, "--key-file",
                        f"{issuer}/dealer.key", *url), host=CLIENT)
    return address


def read_verified_balance_micro(net: OperatorNetwork, address: str) -> int:
    """Read a balance through the full node with the verifying wallet (certificates and proofs checked)."""
    output = net.run(stablechain("wallet", "balance", address, "--waypoint", net.waypoint, "--url",
                                 net.get_rpc_url(FULL_NODE), "--json"), host=CLIENT)
    answer = json.loads(output)
    assert answer["verified"], answer
    return answer["amount_micro"]


def run_load_with_a_cut_link(net: OperatorNetwork, fabric: Fabric, tmp_path: Path) -> tuple[dict, float, float]:
    """Fund the paying accounts through the full node, then pay in a closed loop through validators 0-2 while v3's
    link is cut and healed (as issue M's test does: each payment may go to another node than the last, and a node
    only admits a sender's next sequence number once it has the previous one, so the full node's half-second lag
    would refuse some; a wallet submits and reads through one node)."""
    watch = [net.get_rpc_url(name) for name in (*VALIDATORS, FULL_NODE)]
    submit = [net.get_rpc_url(FULL_NODE)]
    result_path = tmp_path / "load.json"
    command = net.hosts[CLIENT].get_command([sys.executable, "-m", "tests.netns.client", "load", str(result_path),
                                             "--submit", *submit, "--pay-through", *watch[:3], "--watch", *watch,
                                             "--keys",
                                             str(net.root / "issuer"), "--duration", str(LOAD_S), "--rate", "0"])
    client = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    cut_s, heal_s = cut_link_under_load(fabric, CUT, client, result_path, (CUT_AFTER_S, CUT_FOR_S, LOAD_S))
    return read_client_result(result_path), cut_s, heal_s


def restart_the_full_node(net: OperatorNetwork) -> None:
    """Stop the full node, let the chain move on, start it again: it resyncs from the validators."""
    net.stop(FULL_NODE)
    target = net.get_status(["v0"])["v0"]["version"] + 1
    net.start(FULL_NODE)
    net.wait_until([FULL_NODE], lambda r: r[FULL_NODE].get("version", -1) >= target and is_ready(r[FULL_NODE]),
                   "the restarted full node resyncs")


def move_v3(net: OperatorNetwork) -> None:
    """v3 registers a new address with `validator set-address`, then moves there; peers reach it after the boundary."""
    epoch = net.get_status(["v0"])["v0"]["epoch"]
    new_address = f"{net.hosts[NEW_HOST].address}:6180"
    net.run(stablechain("validator", "set-address", "--address", new_address, "--key-file", "v3/keys/account.key",
                        "--url", net.get_rpc_url(FULL_NODE)), host=CLIENT)
    net.wait_until(["v0"], lambda r: r["v0"].get("epoch", 0) > epoch, "the epoch boundary after set-address")
    net.stop("v3")
    net.move_config("v3", NEW_HOST)
    net.start("v3", NEW_HOST)
    v3_address = net.read_account_address("v3")
    others = ["v0", "v1", "v2"]
    reports = net.wait_until(
        [*others, "v3"],
        lambda r: all(r[name].get("peers", {}).get(v3_address) == 1.0 for name in others) and is_ready(r["v3"])
        and r["v3"].get("version", -1) >= r["v0"].get("version", 0) - 5,
        "peers reconnect to v3 at its new address", MOVE_TIMEOUT_S)
    assert reports["v3"]["epoch"] == reports["v0"]["epoch"] > epoch


def test_operators_launch_a_network_with_a_full_node_on_separate_hosts(tmp_path: Path) -> None:
    with Fabric() as fabric:
        hosts = {name: fabric.add_host(name) for name in (*VALIDATORS, FULL_NODE, CLIENT, NEW_HOST)}
        for name in hosts:
            fabric.shape(name, LINK_MBIT)
        net = OperatorNetwork(fabric, tmp_path / "operators", hosts)
        net.root.mkdir()
        try:
            net.walk_ceremony()
            for name in (*VALIDATORS, FULL_NODE):
                net.start(name)
            names = [*VALIDATORS, FULL_NODE]
            net.wait_until(names, lambda r: all(is_ready(r[name]) for name in names), "all nodes ready")

            vasp = onboard_a_vasp(net, net.get_rpc_url(FULL_NODE))
            assert read_verified_balance_micro(net, vasp) == VASP_PAYMENT_MICRO

            result, cut_s, heal_s = run_load_with_a_cut_link(net, fabric, tmp_path)
            assert_rate_kept(result["timeline_per_s"], cut_s, heal_s, result["versions"])
            target = net.get_status(["v0"])["v0"]["version"]
            net.wait_until([CUT], lambda r: r[CUT].get("version", -1) >= target, "v3 catches up after the heal",
                           CATCH_UP_S_MAX)

            restart_the_full_node(net)
            assert read_verified_balance_micro(net, vasp) == VASP_PAYMENT_MICRO

            move_v3(net)
        finally:
            net.stop_all()
