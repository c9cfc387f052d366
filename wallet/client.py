"""Async JSON-RPC client for a stablechain (Diem-compatible) node, with the Diem SDK's envelope checks.

Every response carries (chain id, ledger version, ledger timestamp). The client pins the chain id and
refuses answers from an older ledger than one it has seen (StaleResponseError), retrying reads like
the Diem SDK does; `submit` ignores staleness. `wait_for_transaction` has the SDK's semantics.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from primitives.bcs import Deserializer
from primitives.errors import DecodeError
from primitives.types.transactions import SignedTransaction, TransactionPayload
from wallet.builder import DEFAULT_EXPIRATION_S, DEFAULT_GAS_CURRENCY, DEFAULT_MAX_GAS_AMOUNT, Account as LocalAccount
from wallet.errors import (
    AccountNotFoundError,
    FaucetError,
    InvalidServerResponse,
    JsonRpcError,
    NetworkError,
    StaleResponseError,
    TransactionExecutionFailed,
    TransactionExpired,
    TransactionHashMismatchError,
    WaitForTransactionTimeout,
)
from wallet.models import Account, Currency, Event, Metadata, Transaction

DEFAULT_URL = "http://127.0.0.1:8080/v1"
USER_AGENT = "stablechain-wallet/0.1"
STALE_RETRY_ATTEMPTS = 15  # the Diem SDK's retry count for stale reads
STALE_RETRY_BACKOFF_S = 0.2  # sleep backoff × attempt between stale retries
WAIT_POLL_INTERVAL_S = 0.2
WAIT_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 30.0
MICROS_PER_SECOND = 1_000_000
FAUCET_PATH = "/mint"

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class LedgerState:
    """What every response envelope says about the ledger it was answered from."""

    chain_id: int
    version: int
    timestamp_usecs: int


def get_faucet_url(rpc_url: str) -> str:
    """Return the faucet URL served beside a JSON-RPC URL (same host and port, path /mint)."""
    parts = urlsplit(rpc_url)
    return urlunsplit((parts.scheme, parts.netloc, FAUCET_PATH, "", ""))


def decode_signed_transactions(text: str) -> list[SignedTransaction]:
    """Decode the faucet's answer: hex of BCS Vec<SignedTransaction>; FaucetError if malformed."""
    try:
        deserializer = Deserializer(bytes.fromhex(text.strip()))
        count = deserializer.length("transactions")
        transactions = [SignedTransaction.deserialize(deserializer) for _ in range(count)]
        deserializer.finish()
    except (ValueError, DecodeError) as error:
        raise FaucetError(f"the faucet returned unreadable transactions: {error}") from None
    return transactions


class Client:
    """A JSON-RPC client bound to one URL; use `async with Client(url) as client:`."""

    def __init__(self, url: str = DEFAULT_URL, *, chain_id: int | None = None, faucet_url: str | None = None,
                 session: aiohttp.ClientSession | None = None, stale_retry_attempts: int = STALE_RETRY_ATTEMPTS,
                 stale_retry_backoff_s: float = STALE_RETRY_BACKOFF_S, poll_interval_s: float = WAIT_POLL_INTERVAL_S,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.url = url
        self.faucet_url = faucet_url or get_faucet_url(url)
        self.expected_chain_id = chain_id
        self.last_known_state: LedgerState | None = None
        self.stale_retry_attempts = stale_retry_attempts
        self.stale_retry_backoff_s = stale_retry_backoff_s
        self.poll_interval_s = poll_interval_s
        self.sleep = sleep
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
            self._session = aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": USER_AGENT})
        return self._session

    # ---- transport and envelope -------------------------------------------------------------

    async def execute(self, method: str, params: list[Any], *, ignore_stale: bool = False) -> Any:
        """Call method and return its raw result, retrying stale answers (unless ignore_stale)."""
        for attempt in range(1, self.stale_retry_attempts + 1):
            try:
                return await self.execute_once(method, params, ignore_stale=ignore_stale)
            except StaleResponseError:
                if attempt == self.stale_retry_attempts:
                    raise
                await self.sleep(self.stale_retry_backoff_s * attempt)
        raise StaleResponseError(f"{method}: no fresh answer")  # unreachable unless attempts == 0

    async def execute_once(self, method: str, params: list[Any], *, ignore_stale: bool = False) -> Any:
        """Send one request; check the envelope; return the result or raise the JSON-RPC error."""
        request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        body = await self._post_json(request)
        if not isinstance(body, dict):
            raise InvalidServerResponse(f"{method}: the response is not a JSON object")
        self.update_last_known_state(self._read_envelope(body), ignore_stale)
        if "error" in body:
            error = body["error"] if isinstance(body["error"], dict) else {}
            code = error.get("code") if type(error.get("code")) is int else 0
            raise JsonRpcError(code, str(error.get("message", "unknown error")), error.get("data"))
        if "result" not in body:
            raise InvalidServerResponse(f"{method}: the response has neither result nor error")
        return body["result"]

    async def _post_json(self, request: dict[str, Any]) -> Any:
        try:
            async with self._get_session().post(self.url, json=request) as response:
                if response.status // 100 != 2:
                    raise NetworkError(f"{self.url} answered HTTP {response.status}")
                try:
                    return await response.json()
                except (aiohttp.ContentTypeError, ValueError) as error:
                    raise InvalidServerResponse(f"{self.url} did not answer JSON: {error}") from None
        except aiohttp.ClientError as error:
            raise NetworkError(f"cannot reach {self.url}: {error}") from None
        except asyncio.TimeoutError:
            raise NetworkError(f"{self.url} did not answer within {HTTP_TIMEOUT_S:.0f} s") from None

    @staticmethod
    def _read_envelope(body: dict[str, Any]) -> LedgerState:
        values = [body.get(name) for name in ("diem_chain_id", "diem_ledger_version", "diem_ledger_timestampusec")]
        if any(type(value) is not int or value < 0 for value in values):
            raise InvalidServerResponse("the response lacks diem_chain_id / diem_ledger_version / diem_ledger_timestampusec")
        return LedgerState(*values)

    def update_last_known_state(self, state: LedgerState, ignore_stale: bool = False) -> None:
        """Pin the chain id and refuse a ledger older than one already seen (unless ignore_stale)."""
        expected = self.expected_chain_id
        if expected is None and self.last_known_state is not None:
            expected = self.last_known_state.chain_id
        if expected is not None and state.chain_id != expected:
            raise InvalidServerResponse(f"chain id mismatch: expected {expected}, the node answered {state.chain_id}")
        last = self.last_known_state
        if last is not None and (state.version < last.version or state.timestamp_usecs < last.timestamp_usecs):
            if ignore_stale:
                return
            raise StaleResponseError(f"ledger version {state.version} / time {state.timestamp_usecs} is older than "
                                     f"version {last.version} / time {last.timestamp_usecs} seen before")
        self.last_known_state = state

    # ---- reads ------------------------------------------------------------------------------

    async def get_metadata(self, version: int | None = None) -> Metadata:
        """Return the ledger metadata (latest, or at version)."""
        return Metadata.from_json(await self.execute("get_metadata", [] if version is None else [version]))

    async def get_currencies(self) -> list[Currency]:
        """Return the registered currencies."""
        return [Currency.from_json(item) for item in await self.execute("get_currencies", []) or []]

    async def get_account(self, address: bytes) -> Account | None:
        """Return the account, or None when it does not exist."""
        result = await self.execute("get_account", [address.hex()])
        return None if not result else Account.from_json(result)

    async def must_get_account(self, address: bytes) -> Account:
        """Return the account, or raise AccountNotFoundError."""
        account = await self.get_account(address)
        if account is None:
            raise AccountNotFoundError(f"account {address.hex()} does not exist")
        return account

    async def get_account_sequence(self, address: bytes) -> int:
        """Return the account's next sequence number."""
        return (await self.must_get_account(address)).sequence_number

    async def get_account_transaction(self, address: bytes, sequence_number: int,
                                      include_events: bool = False) -> Transaction | None:
        """Return the committed transaction of (sender, sequence number), or None."""
        result = await self.execute("get_account_transaction", [address.hex(), sequence_number, include_events])
        return None if not result else Transaction.from_json(result)

    async def get_account_transactions(self, address: bytes, start: int, limit: int,
                                       include_events: bool = False) -> list[Transaction]:
        """Return the sender's transactions with sequence numbers start .. start + limit - 1."""
        result = await self.execute("get_account_transactions", [address.hex(), start, limit, include_events])
        return [Transaction.from_json(item) for item in result or []]

    async def get_transactions(self, start_version: int, limit: int, include_events: bool = False) -> list[Transaction]:
        """Return the transactions of versions start_version .. start_version + limit - 1."""
        result = await self.execute("get_transactions", [start_version, limit, include_events])
        return [Transaction.from_json(item) for item in result or []]

    async def get_events(self, key: str, start: int, limit: int) -> list[Event]:
        """Return the events of a stream from sequence number start."""
        return [Event.from_json(item) for item in await self.execute("get_events", [key, start, limit]) or []]

    # ---- writes -----------------------------------------------------------------------------

    async def submit(self, transaction: SignedTransaction) -> None:
        """Submit a signed transaction to the mempool (JsonRpcError if refused)."""
        await self.execute("submit", [transaction.to_bcs().hex()], ignore_stale=True)

    async def create_transaction(self, account: LocalAccount, payload: TransactionPayload, *,
                                 sequence_number: int | None = None, expiration_s: int = DEFAULT_EXPIRATION_S,
                                 max_gas_amount: int = DEFAULT_MAX_GAS_AMOUNT,
                                 gas_currency: str = DEFAULT_GAS_CURRENCY) -> SignedTransaction:
        """Sign payload for account at its next sequence number (read from chain unless given)."""
        if sequence_number is None:
            sequence_number = await self.get_account_sequence(account.address)
        chain_id = self.expected_chain_id
        if chain_id is None:
            chain_id = (await self.get_metadata()).chain_id
        expiration = int(time.time()) + expiration_s
        return account.sign(payload, sequence_number, expiration, chain_id=chain_id, max_gas_amount=max_gas_amount,
                            gas_currency=gas_currency)

    async def wait_for_transaction(self, transaction: SignedTransaction,
                                   timeout_s: float | None = None) -> Transaction:
        """Wait until transaction is committed and executed; raise the distinct TransactionError otherwise."""
        raw = transaction.raw_txn
        return await self.wait_for_transaction2(raw.sender.value, raw.sequence_number, raw.expiration_timestamp_secs,
                                                transaction.hash().hex(), timeout_s)

    async def wait_for_transaction2(self, sender: bytes, sequence_number: int, expiration_timestamp_secs: int,
                                    transaction_hash: str, timeout_s: float | None = None, *,
                                    check_hash: bool = True) -> Transaction:
        """Poll (sender, sequence) until committed: hash mismatch, failed, expired or timeout raise."""
        deadline = time.monotonic() + (timeout_s or WAIT_TIMEOUT_S)
        while time.monotonic() < deadline:
            committed = await self.get_account_transaction(sender, sequence_number, include_events=True)
            if committed is not None:
                if check_hash and committed.hash != transaction_hash.lower():
                    raise TransactionHashMismatchError(
                        f"{sender.hex()}#{sequence_number} committed with hash {committed.hash}, not {transaction_hash}")
                if not committed.vm_status.is_executed():
                    raise TransactionExecutionFailed(
                        f"transaction {committed.hash} failed: {committed.vm_status.describe()}", committed)
                return committed
            last = self.last_known_state
            if last is not None and expiration_timestamp_secs * MICROS_PER_SECOND <= last.timestamp_usecs:
                raise TransactionExpired(f"{sender.hex()}#{sequence_number} expired at {expiration_timestamp_secs} s "
                                         f"(ledger time {last.timestamp_usecs} µs) without being committed")
            await self.sleep(self.poll_interval_s)
        raise WaitForTransactionTimeout(f"{sender.hex()}#{sequence_number} not committed within "
                                        f"{timeout_s or WAIT_TIMEOUT_S:.1f} s")

    async def mint(self, auth_key: bytes, amount_micro: int, currency: str = "XUS", *,
                   is_designated_dealer: bool = False, diem_id_domain: str | None = None,
                   is_remove_domain: bool = False, wait: bool = True,
                   timeout_s: float | None = None) -> list[SignedTransaction]:
        """Ask the faucet to create/fund the account of auth_key; wait for every returned transaction."""
        query = {"amount": str(amount_micro), "auth_key": auth_key.hex(), "currency_code": currency,
                 "return_txns": "true", "is_designated_dealer": str(is_designated_dealer).lower(),
                 "is_remove_domain": str(is_remove_domain).lower()}
        if diem_id_domain is not None:
            query["diem_id_domain"] = diem_id_domain
        try:
            async with self._get_session().post(self.faucet_url, params=query) as response:
                text = await response.text()
                if response.status // 100 != 2:
                    raise FaucetError(f"the faucet refused (HTTP {response.status}): {text.strip()[:200]}")
        except aiohttp.ClientError as error:
            raise NetworkError(f"cannot reach the faucet at {self.faucet_url}: {error}") from None
        transactions = decode_signed_transactions(text)
        if wait:
            for transaction in transactions:
                await self.wait_for_transaction(transaction, timeout_s)
        return transactions
