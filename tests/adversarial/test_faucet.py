"""Item 2: the faucet caps each request, limits each client, spends sequence numbers only on sent transactions,
and answers 4xx with a reason for every invalid input."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from node.config import FAUCET_AMOUNT_MAX_MICRO
from node.rpc.accounts import compute_account_view
from node.rpc.faucet import Faucet
from node.rpc.methods import create_dispatcher
from node.rpc.ratelimit import RateLimiter
from node.rpc.server import create_app
from node.runtime.submit import SubmitResult, SubmitStatus
from primitives.types.transactions import SignedTransaction
from tests.node.rpc.harness import new_account, open_chain
from tests.node.rpc.memory_ledger import DEALER_BALANCE_MICRO, MemoryLedger

XUS_MICRO = 1_000_000


def mint_query(account_name: str, amount_micro: int, **extra: str) -> dict[str, str]:
    return {"amount": str(amount_micro), "auth_key": new_account(account_name).auth_key.hex(), "currency_code": "XUS",
            "return_txns": "true", **extra}


def make_client(ledger: MemoryLedger, faucet: Faucet) -> TestClient:
    app = create_app(create_dispatcher(ledger, ledger.submit, 20, 32 * 1024), faucet, ledger=ledger)
    return TestClient(TestServer(app, host="127.0.0.1"))


def make_faucet(ledger: MemoryLedger, **options: object) -> Faucet:
    return Faucet(ledger, ledger.submit, ledger.keys["treasury"], ledger.keys["dealer"], 2, **options)  # type: ignore[arg-type]


async def test_the_default_cap_serves_the_sdks_largest_mint_and_refuses_more_with_a_reason() -> None:
    async with open_chain() as chain:
        assert FAUCET_AMOUNT_MAX_MICRO == 3_000_000 * XUS_MICRO
        await chain.mint(new_account("sdk"), FAUCET_AMOUNT_MAX_MICRO)
        response = await chain.client.post("/mint", params=mint_query("greedy", FAUCET_AMOUNT_MAX_MICRO + 1))
        assert response.status == 400 and "cap per request" in await response.text()


async def test_a_refused_request_spends_no_sequence_number_so_the_next_one_executes() -> None:
    ledger = MemoryLedger()
    async with make_client(ledger, make_faucet(ledger, amount_max_micro=10**18)) as client:
        # Pre-state: a request that composes a create-account (treasury) and then finds the dealer short.
        refused = await client.post("/mint", params=mint_query("too-much", DEALER_BALANCE_MICRO + 1))
        assert refused.status == 400 and "less than" in await refused.text()
        # Action: an ordinary request.
        served = await client.post("/mint", params=mint_query("alice", 5 * XUS_MICRO))
        assert served.status == 200
        ledger.commit_block()
        # Post-state: it executed: the treasury's sequence number had not been consumed by the refusal.
        account = await (await client.post("/v1", json={"jsonrpc": "2.0", "id": 1, "method": "get_account",
                                                        "params": [new_account("alice").address.hex()]})).json()
        assert account["result"]["balances"] == [{"amount": 5 * XUS_MICRO, "currency": "XUS"}]


async def test_after_a_failed_submission_the_faucet_resyncs_its_sequence_numbers_from_the_chain() -> None:
    ledger = MemoryLedger()
    failures = [SubmitResult(SubmitStatus.MALFORMED)]

    def flaky_submit(signed: SignedTransaction) -> SubmitResult:
        return failures.pop() if failures else ledger.submit(signed)

    faucet = Faucet(ledger, flaky_submit, ledger.keys["treasury"], ledger.keys["dealer"], 2)
    async with make_client(ledger, faucet) as client:
        assert (await client.post("/mint", params=mint_query("bob", XUS_MICRO))).status == 400
        assert faucet.next_sequence == {}, "nothing is assumed about what the mempool holds"
        assert (await client.post("/mint", params=mint_query("bob", XUS_MICRO))).status == 200
        ledger.commit_block()
        state = ledger.get_state_view(ledger.version)
        assert compute_account_view(state, new_account("bob").address, ledger.version) is not None, "it executed"


async def test_every_invalid_input_is_a_4xx_with_a_reason_including_a_non_ascii_domain() -> None:
    async with open_chain() as chain:
        for extra in ({"diem_id_domain": "é"}, {"diem_id_domain": "ﬀ.com"}, {"diem_id_domain": ""},
                      {"diem_id_domain": "a" * 64}, {"amount": "-1"}, {"amount": "1e3"}, {"amount": "9" * 5000},
                      {"auth_key": "zz" * 32}, {"currency_code": "€"}):
            query = {**mint_query("carol", 10), **extra}
            response = await chain.client.post("/mint", params=query)
            assert response.status == 400, (extra, response.status)
            assert await response.text(), "the answer says why"


async def test_a_client_over_its_faucet_rate_gets_429_and_a_local_exempt_client_does_not() -> None:
    ledger = MemoryLedger()
    limiter = RateLimiter(rate_per_s=0.001, burst=2)
    async with make_client(ledger, make_faucet(ledger, limiter=limiter)) as client:
        answers = [(await client.post("/mint", params=mint_query(f"c{i}", 10))).status for i in range(3)]
        assert answers == [200, 200, 429]
    exempt = RateLimiter(rate_per_s=0.001, burst=2, exempt=frozenset({"127.0.0.1"}))
    ledger = MemoryLedger()
    async with make_client(ledger, make_faucet(ledger, limiter=exempt)) as client:
        assert [(await client.post("/mint", params=mint_query(f"d{i}", 10))).status for i in range(3)] == [200] * 3
