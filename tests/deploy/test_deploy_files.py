"""What operators deploy, checked against running nodes: the alert rules and the dashboard name only metrics a node
exports, every exported metric is documented, logs are JSON lines when configured, and a full node follows the
chain and serves verified reads."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet.launcher import Devnet
from node.ceremony import DEALER_ADDRESS
from tests.devnet.cluster import make_devnet
from tests.devnet.full_node import running_full_node

REPO = Path(__file__).resolve().parents[2]
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = REPO / "deploy" / "grafana" / "stablechain-dashboard.json"
SYSTEMD_UNIT = REPO / "deploy" / "systemd" / "stablechain@.service"
OPERATIONS = REPO / "docs" / "operations.md"
METRIC_NAME = re.compile(r"\bstablechain_[a-z_]+\b")
# Sample names a histogram exports besides its own.
SERIES_SUFFIXES = ("_bucket", "_count", "_sum")
LOG_FIELDS = {"timestamp", "level", "event", "node"}
WAIT_S = 60.0
POLL_S = 0.3

pytestmark = pytest.mark.timeout(300)


def fetch(url: str) -> tuple[int, str]:
    """GET url; return (status, body)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def wait_for(condition, what: str) -> None:  # noqa: ANN001
    """Poll until condition() holds or fail after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {WAIT_S:.0f} s"
        time.sleep(POLL_S)


def get_families(metrics_text: str) -> set[str]:
    """Return the metric names a /metrics page declares (counters as `…_total`, without the `…_created` twins)."""
    return {line.split()[2] for line in metrics_text.splitlines()
            if line.startswith("# HELP ") and not line.split()[2].endswith("_created")}


def get_family(name: str, families: set[str]) -> str | None:
    """Return the family a sample or family name belongs to, if exported."""
    if name in families:
        return name
    for suffix in SERIES_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in families:
            return name[: -len(suffix)]
    return None


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Devnet, str]]:
    """Two validators (devnet, validator 0 logging JSON) and a full node serving the faucet, all on 127.0.0.1."""
    root = tmp_path_factory.mktemp("deploy")
    devnet = make_devnet(root / "devnet", validators=2)
    with devnet.layout.validators[0].config_path.open("a") as config:
        config.write('\n[log]\nformat = "json"\nlevel = "debug"\n')
    with devnet:
        devnet.start()
        devnet.wait_healthy()
        with running_full_node(devnet, root / "full", with_faucet=True) as url:
            yield devnet, url


def test_every_metric_the_alerts_and_the_dashboard_name_is_exported_by_running_nodes(network) -> None:  # noqa: ANN001
    devnet, full_url = network
    named = set(METRIC_NAME.findall(ALERTS.read_text())) | set(METRIC_NAME.findall(DASHBOARD.read_text()))
    assert len(named) >= 10, named
    for url in (f"http://127.0.0.1:{devnet.layout.manifest.get_rpc_port(0)}", full_url):
        families = get_families(fetch(url + "/metrics")[1])
        missing = sorted(name for name in named if get_family(name, families) is None)
        assert not missing, f"{url} does not export {missing}"
    json.loads(DASHBOARD.read_text())  # valid JSON, as Grafana imports it


def test_every_exported_metric_is_documented_and_every_documented_one_exported(network) -> None:  # noqa: ANN001
    devnet, _full_url = network
    families = get_families(fetch(f"http://127.0.0.1:{devnet.layout.manifest.get_rpc_port(0)}/metrics")[1])
    exported = {name for name in families if name.startswith("stablechain_")}
    documented = set(re.findall(r"^\| `(stablechain_[a-z_]+)` \|", OPERATIONS.read_text(), re.MULTILINE))
    assert exported == documented, f"undocumented: {exported - documented}; not exported: {documented - exported}"


def test_the_full_node_follows_the_chain_and_serves_verified_reads(network) -> None:  # noqa: ANN001
    from wallet.client import Client
    from wallet.verifying_client import VerifyingClient
    from devnet.layout import compute_waypoint

    devnet, full_url = network
    validator = f"http://127.0.0.1:{devnet.layout.manifest.get_rpc_port(0)}"
    target = json.loads(fetch(validator + "/-/ready")[1])["version"]
    wait_for(lambda: json.loads(fetch(full_url + "/-/ready")[1])["version"] >= target, "the full node follows")

    async def read_dealer_balance() -> int:
        async with Client(full_url + "/v1") as client:
            verifying = VerifyingClient.from_waypoint(client, compute_waypoint(devnet.layout), 2)
            return await verifying.get_balance(DEALER_ADDRESS)

    assert asyncio.run(read_dealer_balance()) > 0
    report = json.loads(fetch(full_url + "/-/ready")[1])
    assert report["role"] == "full" and report["ready"] and report["connected_peers"] == 2


def test_the_faucet_runs_on_the_full_node(network) -> None:  # noqa: ANN001
    from primitives.keys import PrivateKey

    _devnet, full_url = network
    key = PrivateKey(bytes(range(32)))
    auth_key = key.public_key().auth_key().hex()
    request = urllib.request.Request(f"{full_url}/mint?amount=5000000&currency_code=XUS&auth_key={auth_key}",
                                     method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    body = {"jsonrpc": "2.0", "id": 1, "method": "get_account", "params": [key.public_key().address().hex()]}

    def get_balance() -> int:
        post = urllib.request.Request(f"{full_url}/v1", data=json.dumps(body).encode(),
                                      headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(post, timeout=5) as response:
            account = json.loads(response.read())["result"]
        return 0 if account is None else sum(b["amount"] for b in account["balances"])

    wait_for(lambda: get_balance() == 5_000_000, "the faucet's payment reaches the account")


def read_json_lines(path: Path) -> list[dict]:
    """Return a log file's lines, each parsed as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_node_start_writes_json_lines_with_the_node_and_its_position(network) -> None:  # noqa: ANN001
    devnet, _full_url = network
    for path in (devnet.layout.validators[0].log_path, devnet.layout.root.parent / "full" / "node.log"):
        lines = read_json_lines(path)
        assert lines and all(LOG_FIELDS <= line.keys() for line in lines), lines[:3]
        assert any("version" in line for line in lines)
    validator_lines = read_json_lines(devnet.layout.validators[0].log_path)
    assert any({"epoch", "round"} <= line.keys() for line in validator_lines)


def test_the_systemd_unit_starts_the_node_from_its_config() -> None:
    unit = SYSTEMD_UNIT.read_text()
    assert "ExecStart=/opt/stablechain/.venv/bin/stablechain node start --config" in unit
    assert "KillSignal=SIGTERM" in unit and "Restart=on-failure" in unit
