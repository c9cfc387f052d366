"""A chain behind the real aiohttp app, and the calls a wallet makes to it (shared by the RPC tests)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from contracts.transaction_builder import Account, compose_peer_to_peer
from node.rpc.faucet import Faucet
from node.rpc.methods import create_dispatcher
from node.rpc.server import create_app
from primitives.bcs import Deserializer
from primitives.keys import PrivateKey
from primitives.types.transactions import SignedTransaction
from tests.node.rpc.memory_ledger import MemoryLedger

PAYMENT_EXPIRATION_S = 600


def new_account(name: str) -> Account:
    """Return a deterministic local account."""
    return Account(PrivateKey.from_seed_material(name.encode()))


class Chain:
    """A chain, its app and an HTTP client: what a wallet talks to."""

    def __init__(self, client: TestClient, ledger: MemoryLedger) -> None:
        self.client, self.ledger = client, ledger

    async def call(self, method: str, *params: Any) -> dict[str, Any]:
        response = await self.client.post("/v1", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        assert response.status == 200
        return await response.json()

    async def result(self, method: str, *params: Any) -> Any:
        answer = await self.call(method, *params)
        assert "error" not in answer, answer
        return answer["result"]

    async def mint(self, account: Account, amount: int, **extra: str) -> list[SignedTransaction]:
        """Ask the faucet, check it answered the transactions it submitted, and commit them."""
        query = {"amount": str(amount), "auth_key": account.auth_key.hex(), "currency_code": "XUS", "return_txns": "true",
                 **extra}
        response = await self.client.post("/mint", params=query)
        body = await response.text()
        assert response.status == 200, body
        de = Deserializer(bytes.fromhex(body))
        transactions = [SignedTransaction.deserialize(de) for _ in range(de.uleb128())]
        de.finish()
        self.ledger.commit_block()
        return transactions

    def pay(self, payer: Account, payee: Account, amount: int, sequence_number: int) -> SignedTransaction:
        """Queue a payment in the mempool (committed by the next commit_block)."""
        signed = payer.sign(compose_peer_to_peer(payee.address, amount, metadata=b"\x01"), sequence_number,
                            int(time.time()) + PAYMENT_EXPIRATION_S)
        assert self.ledger.submit(signed).is_accepted
        return signed


@asynccontextmanager
async def open_chain(ledger: MemoryLedger | None = None, **app_options: Any) -> AsyncIterator[Chain]:
    """Serve a memory ledger (with the faucet) on 127.0.0.1 and yield a client for it."""
    ledger = ledger or MemoryLedger()
    dispatcher = create_dispatcher(ledger, ledger.submit, 20, 32 * 1024)
    faucet = Faucet(ledger, ledger.submit, ledger.keys["treasury"], ledger.keys["dealer"], 2)
    app = create_app(dispatcher, faucet, ledger=ledger, **app_options)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield Chain(client, ledger)
