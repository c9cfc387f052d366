"""The Diem SDK's own wallet test suites, run against our wallet service with the SDK's MiniWallet as counterparty.

`diem.testing.suites` is how Diem certified a wallet: it starts its reference MiniWallet (the "stub")
on our devnet and drives our service (the "target") through the MiniWallet API: accounts, balances,
identifiers, payments both ways below and above the travel-rule limit with every KYC outcome, Diem
ID payments both ways, refunds of invalid payments, and every off-chain protocol error case. The
suite only warns when an error code differs; here that warning fails the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.wallet_service.conftest import Net
from tests.wallet_service.harness import WalletService

ROOT = Path(__file__).resolve().parents[2]
SUITE_TIMEOUT_S = 540
SUITES = ("diem.testing.suites.basic", "diem.testing.suites.offchainv2")


def test_the_diem_sdk_wallet_suites_pass_against_our_service(net: Net, alpha: WalletService) -> None:
    env = {**os.environ, "DMW_TEST_TARGET": alpha.url, "STABLECHAIN_DMW_RPC": net.rpc_urls[2],
           "STABLECHAIN_DMW_FAUCET": net.faucet_url}
    command = [sys.executable, "-m", "pytest", "-p", "tests.wallet_service.dmw_plugin", "-p", "no:cacheprovider",
               "-q", "--timeout", "120", "-W", "error::Warning:diem.testing.suites.conftest",
               "--pyargs", *SUITES]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SUITE_TIMEOUT_S)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-2000:]
    assert result.returncode == 0, f"{summary}\n{result.stdout[-6000:]}"
    assert " passed" in summary and "failed" not in summary, summary
