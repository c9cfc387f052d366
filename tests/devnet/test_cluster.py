"""Issue C scenarios with real validator processes on 127.0.0.1, checked as a black box after each."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devnet.check import run_checks
from devnet.launcher import Devnet, call_rpc
from tests.devnet.cluster import (
    Issuer,
    Load,
    get_urls,
    get_version,
    make_devnet,
    submit,
    wait_committed_everywhere,
    wait_until,
)

pytestmark = pytest.mark.timeout(240)
HALT_OBSERVATION_S = 4.0
TRANSFER_MICRO = 1_000


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    devnet = make_devnet(Path(tmp_path_factory.mktemp("cluster")))
    with devnet:
        devnet.start()
        devnet.wait_healthy()
        yield devnet


@pytest.fixture(scope="module")
def issuer(cluster: Devnet) -> Issuer:
    return Issuer(cluster.layout, get_urls(cluster.layout)[0])


def check_black_box(cluster: Devnet) -> None:
    run_checks(get_urls(cluster.layout))


def test_an_idle_chain_stays_live(cluster: Devnet) -> None:
    url = get_urls(cluster.layout)[0]
    first = call_rpc(url, "get_metadata", [])
    time.sleep(3)
    second = call_rpc(url, "get_metadata", [])
    assert second["diem_ledger_timestampusec"] > first["diem_ledger_timestampusec"], "the ledger clock advances"
    assert second["diem_ledger_version"] > first["diem_ledger_version"]


def test_transactions_submitted_to_any_node_commit_on_all(cluster: Devnet, issuer: Issuer) -> None:
    urls = get_urls(cluster.layout)
    sender = issuer.create_funded_account(10**9, b"any-node")
    payee = issuer.create_funded_account(1, b"any-node-payee")
    for sequence, url in enumerate(urls):
        signed = sender.sign(compose_payment(payee.address), sequence, int(time.time()) + 300, 2)
        assert "error" not in submit(url, signed)
    started = time.monotonic()
    wait_committed_everywhere(urls, sender.address, len(urls) - 1)
    assert time.monotonic() - started < 30
    check_black_box(cluster)


def compose_payment(payee: bytes):  # noqa: ANN201
    from contracts.transaction_builder import compose_peer_to_peer

    return compose_peer_to_peer(payee, TRANSFER_MICRO)


def test_kill_9_under_load_then_restart_catches_up(cluster: Devnet, issuer: Issuer) -> None:
    urls = get_urls(cluster.layout)
    sender = issuer.create_funded_account(10**9, b"load")
    with Load(urls[:3], sender, issuer.dealer.address):
        time.sleep(2)
        cluster.kill_node(3)
        time.sleep(4)
        cluster.start_node(3)
        cluster.wait_healthy(indexes=[3])
        time.sleep(2)
    target = get_version(urls[0])
    wait_until(lambda: get_version(urls[3]) >= target, what="the restarted validator to catch up")
    check_black_box(cluster)


def test_two_of_four_down_halts_without_divergence_then_resumes(cluster: Devnet) -> None:
    urls = get_urls(cluster.layout)
    cluster.kill_node(2)
    cluster.kill_node(3)
    time.sleep(2)
    halted = [get_version(url) for url in urls[:2]]
    time.sleep(HALT_OBSERVATION_S)
    assert [get_version(url) for url in urls[:2]] == halted, "no commit without a quorum"
    run_checks(urls[:2])
    cluster.start_node(2)
    cluster.start_node(3)
    cluster.wait_healthy(indexes=[2, 3])
    wait_until(lambda: min(get_version(url) for url in urls) > max(halted), what="progress after the quorum returns")
    check_black_box(cluster)


def test_all_four_restarted_resume_from_disk(cluster: Devnet, issuer: Issuer) -> None:
    urls = get_urls(cluster.layout)
    account = issuer.create_funded_account(123_456, b"durable")
    before = get_version(urls[0])
    for index in range(4):
        cluster.kill_node(index)
    for index in range(4):
        cluster.start_node(index)
    cluster.wait_healthy()
    for url in urls:
        balances = call_rpc(url, "get_account", [account.address.hex()])["result"]["balances"]
        assert balances == [{"amount": 123_456, "currency": "XUS"}]
    wait_until(lambda: min(get_version(url) for url in urls) > before, what="commits after a full restart")
    check_black_box(cluster)


def test_a_stranger_with_a_valid_key_is_only_a_full_node_and_its_consensus_message_is_refused(
        cluster: Devnet) -> None:
    urls = get_urls(cluster.layout)
    before = get_version(urls[0])
    assert asyncio.run(try_stranger_connection(cluster))
    wait_until(lambda: get_version(urls[0]) > before, what="commits while a stranger knocks")


async def try_stranger_connection(cluster: Devnet) -> bool:
    """Dial validator 0 with a fresh key outside the validator set and send it a consensus message; True iff it
    let us in only as a full node and dropped us for that message."""
    import nacl.bindings

    from node.genesis import load_genesis_file
    from node.network import Network, TransportConfig, PeerInfo, generate_key_pair
    from node.network.transport import compute_network_prologue
    from node.runtime.wire import CHANNEL_CONSENSUS, encode_envelope

    manifest = cluster.layout.manifest
    validator = load_genesis_file(cluster.layout.genesis_path).validators[0]
    node_key = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(validator.network_public_key)
    target = PeerInfo(validator.address, node_key, manifest.host, manifest.get_network_port(0))
    config = TransportConfig(peer_id=b"\x42" * 16, key_pair=generate_key_pair(),
                             prologue=compute_network_prologue(manifest.chain_id))
    network = Network(config, [target])
    network.set_follower(True)
    await network.start()
    try:
        await asyncio.wait_for(network.wait_connected([target.peer_id]), timeout=10)
        network.send(target.peer_id, encode_envelope(CHANNEL_CONSENSUS, b"\x90"))
        await asyncio.wait_for(network.wait_disconnected(target.peer_id), timeout=10)
        return True
    except (TimeoutError, asyncio.TimeoutError):
        return False
    finally:
        await network.close()


def test_malformed_frames_and_oversized_requests_are_rejected_while_committing(cluster: Devnet) -> None:
    urls = get_urls(cluster.layout)
    port = cluster.layout.manifest.get_network_port(1)
    for garbage in (b"\x00" * 64, b"\xff\xff\xff\xff" + b"x" * 100, b"GET / HTTP/1.1\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(garbage)
            connection.settimeout(5)
            try:
                connection.recv(1024)
            except (TimeoutError, ConnectionResetError):
                pass
    oversized = call_rpc(urls[1], "submit", ["00" * 40_000])
    assert oversized["error"]["code"] in (-32600, -32001)
    before = get_version(urls[1])
    wait_until(lambda: get_version(urls[1]) > before, what="commits after garbage")
    check_black_box(cluster)
