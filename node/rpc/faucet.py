"""The devnet faucet (diem-compat §2): POST /mint creates and funds accounts, returning the txns it sent.

Every transaction it returns must end `executed` (the Diem SDK crashes otherwise), so it checks
before signing: it never re-creates an existing account, adds a domain only when absent, removes
one only when present, and never pays more than the dealer holds. Requests are serialized so the
treasury and dealer sequence numbers never race.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from contracts.framework import diem_id
from contracts.transaction_builder import (
    Account,
    compose_create_designated_dealer,
    compose_create_parent_vasp,
    compose_diem_id_domain,
    compose_peer_to_peer,
)
from contracts.vm.storage import StateView
from node.config import FAUCET_AMOUNT_MAX_MICRO, NodeConfig
from node.keys.files import load_private_key
from node.rpc.accounts import compute_account_view, compute_currency_views, read_resource
from node.rpc.jsonrpc import JsonObject
from node.rpc.ledger import LedgerReader
from node.rpc.ratelimit import RateLimiter
from node.rpc.submit import compose_submit_error
from node.runtime.submit import SubmitResult
from primitives.bcs import Serializer
from primitives.types.names import AccountAddress
from primitives.types.transactions import TransactionPayload
from primitives.types.transactions import SignedTransaction

AUTH_KEY_HEX_LENGTH = 64
DOMAIN_LENGTH_MAX = 63
EXPIRATION_S = 30
TRUE_VALUES = ("true", "1")
DEALER_ADDRESS = AccountAddress.TESTNET_DD.value


class FaucetRefusal(Exception):
    """A mint request that cannot succeed; answered with HTTP 400 and the reason."""


@dataclass(frozen=True, slots=True)
class MintRequest:
    """The parsed query of POST /mint."""

    amount_micro: int
    auth_key: bytes
    currency: str
    return_txns: bool
    is_designated_dealer: bool
    diem_id_domain: bytes | None
    is_remove_domain: bool

    @property
    def receiver(self) -> bytes:
        """The receiving address: the last 16 bytes of the auth key."""
        return self.auth_key[16:]


def parse_mint_request(query: Mapping[str, str], known_currencies: set[str],
                       amount_max_micro: int = FAUCET_AMOUNT_MAX_MICRO) -> MintRequest:
    """Validate the query parameters of a mint request (FaucetRefusal says what is wrong)."""
    try:
        amount = int(query.get("amount", ""))
        auth_key = bytes.fromhex(query.get("auth_key", ""))
    except ValueError:
        raise FaucetRefusal("amount must be an integer and auth_key 64 hex characters") from None
    if len(auth_key) * 2 != AUTH_KEY_HEX_LENGTH:
        raise FaucetRefusal("auth_key must be 64 hex characters")
    if not 0 < amount <= amount_max_micro:
        raise FaucetRefusal(f"amount must be between 1 and {amount_max_micro} (this faucet's cap per request)")
    currency = query.get("currency_code", "")
    if currency not in known_currencies:
        raise FaucetRefusal(f"unknown currency_code {currency!r}")
    domain = query.get("diem_id_domain")
    if domain is not None and not is_valid_domain(domain):
        raise FaucetRefusal("diem_id_domain must be 1 to 63 ASCII letters, digits or dots")
    return MintRequest(
        amount, auth_key, currency, query.get("return_txns", "").lower() in TRUE_VALUES,
        query.get("is_designated_dealer", "").lower() in TRUE_VALUES,
        None if domain is None else domain.encode("ascii"), query.get("is_remove_domain", "").lower() in TRUE_VALUES,
    )


def is_valid_domain(domain: str) -> bool:
    """Return whether a Diem ID domain is 1 to 63 ASCII letters, digits or dots (str.isalnum alone admits 'é')."""
    return 0 < len(domain) <= DOMAIN_LENGTH_MAX and domain.isascii() and domain.replace(".", "").isalnum()


class Faucet:
    """Signs with the treasury-compliance and dealer keys; one request at a time."""

    def __init__(self, ledger: LedgerReader, submit: Callable[[SignedTransaction], SubmitResult], treasury: Account,
                 dealer: Account, chain_id: int, amount_max_micro: int = FAUCET_AMOUNT_MAX_MICRO,
                 limiter: RateLimiter | None = None) -> None:
        self.ledger, self.submit, self.treasury, self.dealer, self.chain_id = ledger, submit, treasury, dealer, chain_id
        self.amount_max_micro = amount_max_micro
        # Its own per-client limit (a mint costs two synced commits' worth of chain space, a read does not).
        self.limiter = limiter
        self.lock = asyncio.Lock()
        # Next sequence number per signer, past what the mempool accepted from us; only sent transactions move it.
        self.next_sequence: dict[bytes, int] = {}
        # Sequence numbers handed out while composing one request, kept only once its transactions are sent.
        self._pending: dict[bytes, int] = {}

    def get_next_sequence(self, view: StateView, version: int, account: Account) -> int:
        """Return the signer's next sequence number, counting transactions still in the mempool."""
        on_chain = compute_account_view(view, account.address, version)
        committed = 0 if on_chain is None else on_chain["sequence_number"]
        return max(committed, self.next_sequence.get(account.address, 0), self._pending.get(account.address, 0))

    def sign(self, signer: Account, payload: TransactionPayload, view: StateView, version: int) -> SignedTransaction:
        """Sign payload with the signer's next sequence number (reserved for this request only)."""
        sequence = self.get_next_sequence(view, version, signer)
        self._pending[signer.address] = sequence + 1
        return signer.sign(payload, sequence, int(time.time()) + EXPIRATION_S, chain_id=self.chain_id)

    def compose_transactions(self, request: MintRequest) -> list[SignedTransaction]:
        """Return the transactions that create (if needed), tag and fund the receiver."""
        snapshot = self.ledger.get_snapshot()
        view = self.ledger.get_state_view(snapshot.version)
        receiver = compute_account_view(view, request.receiver, snapshot.version)
        transactions = []
        if receiver is None:
            prefix, name = request.auth_key[:16], f"No. {self.get_next_sequence(view, snapshot.version, self.treasury)}"
            payload = (compose_create_designated_dealer(request.receiver, prefix, f"{name} DD".encode(), request.currency)
                       if request.is_designated_dealer
                       else compose_create_parent_vasp(request.receiver, prefix, f"{name} VASP".encode(), request.currency))
            transactions.append(self.sign(self.treasury, payload, view, snapshot.version))
        elif not any(b["currency"] == request.currency for b in receiver["balances"]):
            raise FaucetRefusal(f"account {request.receiver.hex()} cannot hold {request.currency}")
        if request.diem_id_domain is not None and self.is_domain_change_possible(view, request, receiver is None):
            payload = compose_diem_id_domain(request.receiver, request.diem_id_domain, request.is_remove_domain)
            transactions.append(self.sign(self.treasury, payload, view, snapshot.version))
        dealer = compute_account_view(view, self.dealer.address, snapshot.version)
        held = sum(b["amount"] for b in (dealer or {}).get("balances", []) if b["currency"] == request.currency)
        if held < request.amount_micro:
            raise FaucetRefusal(f"the faucet holds {held} {request.currency}, less than {request.amount_micro}")
        payment = compose_peer_to_peer(request.receiver, request.amount_micro, request.currency)
        transactions.append(self.sign(self.dealer, payment, view, snapshot.version))
        return transactions

    def is_domain_change_possible(self, view: StateView, request: MintRequest, is_new: bool) -> bool:
        """Return True iff adding (removing) the domain will succeed for a parent VASP."""
        if request.is_designated_dealer:
            return False
        domains = None if is_new else read_resource(view, diem_id.DiemIdDomains.rtype(), request.receiver)
        if not is_new and domains is None:
            return False
        present = domains is not None and any(item.domain == request.diem_id_domain for item in domains.domains)
        return present if request.is_remove_domain else not present

    def send(self, transactions: list[SignedTransaction]) -> None:
        """Submit in order; a sequence number counts as used only once the mempool took its transaction."""
        for transaction in transactions:
            try:
                error = compose_submit_error(self.submit(transaction), transaction.raw_txn.gas_unit_price)
            except Exception:
                self.next_sequence.clear()  # resync from the chain: we no longer know what the mempool holds
                raise
            if error is not None:
                self.next_sequence.clear()
                raise FaucetRefusal(f"submission refused: {error.message}")
            self.next_sequence[transaction.sender.value] = transaction.sequence_number + 1

    async def handle(self, request: web.Request) -> web.Response:
        """Serve POST /mint."""
        known = {info["code"] for info in _get_currency_codes(self.ledger)}
        async with self.lock:
            try:
                mint = parse_mint_request(request.query, known, self.amount_max_micro)
                transactions = self.compose_transactions(mint)
                self.send(transactions)
            except FaucetRefusal as refusal:
                return web.Response(status=400, text=str(refusal))
            finally:
                self._pending.clear()
        if not mint.return_txns:
            return web.Response(text=str(self.next_sequence.get(self.dealer.address, 0)))
        return web.Response(text=encode_transaction_list(transactions).hex())


def _get_currency_codes(ledger: LedgerReader) -> list[JsonObject]:
    snapshot = ledger.get_snapshot()
    return compute_currency_views(ledger.get_state_view(snapshot.version))


def encode_transaction_list(transactions: list[SignedTransaction]) -> bytes:
    """Return BCS(Vec<SignedTransaction>), the faucet's response body."""
    ser = Serializer()
    ser.uleb128(len(transactions))
    for transaction in transactions:
        ser.fixed_bytes(transaction.to_bcs())
    return ser.output()



def create_faucet(config: NodeConfig, ledger: LedgerReader,
                  submit: Callable[[SignedTransaction], SubmitResult]) -> Faucet | None:
    """Return the faucet a node config asks for (its `[faucet]` section), or None."""
    if config.faucet is None:
        return None
    treasury = Account(load_private_key(config.faucet.treasury_key_file), AccountAddress.TREASURY_COMPLIANCE.value)
    dealer = Account(load_private_key(config.faucet.dealer_key_file), DEALER_ADDRESS)
    limiter = RateLimiter(config.faucet.client_rate_per_s, config.faucet.client_burst,
                          exempt=frozenset(config.rpc.client_rate_exempt_hosts))
    return Faucet(ledger, submit, treasury, dealer, config.chain_id, config.faucet.amount_max_micro, limiter)
