"""A pytest plugin for the Diem SDK's own MiniWallet test suites: point them at our devnet."""

from __future__ import annotations

import os

from diem import testnet

testnet.JSON_RPC_URL = os.environ["STABLECHAIN_DMW_RPC"]
testnet.FAUCET_URL = os.environ["STABLECHAIN_DMW_FAUCET"]
