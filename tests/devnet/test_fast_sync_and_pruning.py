"""Fast sync and pruning on real validator processes (ADR 0018): a node that joined from a snapshot serves the
same wallet-verified reads as an archive node, and history a node no longer holds is refused clearly."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from cli.bench import read_verified_accounts
from devnet.launcher import call_rpc
from devnet.layout import NODE_DATA_DIR, compute_waypoint
from wallet.errors import WalletError
from tests.devnet.cluster import Issuer, Load, get_urls, get_version, make_devnet, wait_until

pytestmark = pytest.mark.timeout(240)
ARCHIVE, PRUNING, SYNCED = 0, 2, 3
RETENTION_VERSIONS = 100  # the shortest window a node honours (node.storage.pruner.RETENTION_VERSIONS_MIN)
VERSION_PRUNED = -32030
PRUNING_TOML = f"\n[storage]\nledger_retention_versions = {RETENTION_VERSIONS}\n" \
               f"state_retention_versions = {RETENTION_VERSIONS}\nprune_batch_versions = 50\n"
FAST_SYNC_TOML = "\n[storage]\nfast_sync = true\n"


def append_config(devnet, index: int, text: str) -> None:  # noqa: ANN001 - Devnet
    with devnet.layout.validators[index].config_path.open("a") as config:
        config.write(text)


def get_error(url: str, method: str, params: list) -> dict | None:
    return call_rpc(url, method, params).get("error")


def test_a_node_joined_by_fast_sync_serves_verified_reads_and_pruned_history_is_refused(tmp_path: Path) -> None:
    devnet = make_devnet(tmp_path)
    append_config(devnet, PRUNING, PRUNING_TOML)
    urls = get_urls(devnet.layout)
    chain_id = devnet.layout.manifest.chain_id
    waypoint = compute_waypoint(devnet.layout)
    with devnet:
        devnet.start()
        devnet.wait_healthy()
        issuer = Issuer(devnet.layout, urls[0])
        payer = issuer.create_funded_account(10**9, b"payer")
        with Load(urls[:3], payer, issuer.dealer.address):
            wait_until(lambda: get_version(urls[0]) > 3 * RETENTION_VERSIONS, what="a few hundred versions")
        # A fresh node joins by fast sync: its database is gone, the switch is on.
        devnet.stop_node(SYNCED)
        shutil.rmtree(devnet.layout.validators[SYNCED].directory / NODE_DATA_DIR)
        append_config(devnet, SYNCED, FAST_SYNC_TOML)
        devnet.start_node(SYNCED)
        devnet.wait_healthy(indexes=[SYNCED])
        accounts = [payer.address, issuer.dealer.address]
        target = get_version(urls[ARCHIVE])

        def is_serving_verified_reads() -> bool:
            try:
                version, _ = read_verified_accounts(urls[SYNCED], waypoint, chain_id, accounts)
            except WalletError:  # still syncing
                return False
            return version >= target

        wait_until(is_serving_verified_reads, what="verified reads from the synced node")
        time.sleep(1)  # nothing is submitted now: both nodes settle on the same state
        assert read_verified_accounts(urls[SYNCED], waypoint, chain_id, accounts)[1] == \
            read_verified_accounts(urls[ARCHIVE], waypoint, chain_id, accounts)[1]
        # History before the snapshot is refused with a clear error; the archive node still serves it.
        error = get_error(urls[SYNCED], "get_transactions", [1, 1, False])
        assert error is not None and error["code"] == VERSION_PRUNED and error["data"]["oldest_version"] > 1
        assert "pruned" in error["message"]
        assert get_error(urls[ARCHIVE], "get_transactions", [1, 1, False]) is None
        # The pruning node dropped what lies outside its window, and says so, and still proves its latest state.
        wait_until(lambda: get_error(urls[PRUNING], "get_transactions", [1, 1, False]) is not None,
                   what="the pruning node to prune")
        assert get_error(urls[PRUNING], "get_transactions", [1, 1, False])["code"] == VERSION_PRUNED
        recent = get_version(urls[PRUNING]) - 10
        assert get_error(urls[PRUNING], "get_transactions", [recent, 1, False]) is None
        assert read_verified_accounts(urls[PRUNING], waypoint, chain_id, accounts)[1] == \
            read_verified_accounts(urls[ARCHIVE], waypoint, chain_id, accounts)[1]
