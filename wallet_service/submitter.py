"""Crash-safe on-chain submission: persist the signed transaction first, then send it; never sign twice.

The parent VASP's sequence numbers are the guard against double payment. A payment gets a sequence
number and its signed transaction in one durable write *before* anything is sent; after a crash the
same bytes are sent again (a node accepts an identical resubmission). A payment is re-signed only
under the same sequence number, and only once the ledger's clock is past the old expiration, so at
most one version of it can ever commit. A sequence number goes back to the pool only when the chain
shows it unused and the node refused the transaction.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from primitives.types.transactions import SignedTransaction, TransactionPayload
from wallet.errors import JsonRpcError, NetworkError, WalletError
from wallet.models import Transaction
from wallet_service.chain import Chain
from wallet_service.ledger import STATUS_CANCELED, STATUS_COMPLETED, STATUS_PENDING, STATUS_SUBMITTED, update_payment
from wallet_service.limits import SUBMIT_GAS_MAX, TRANSACTION_EXPIRATION_S
from wallet_service.store import Store

NEXT_SEQUENCE_KEY = "next_sequence"
ADMISSION_REFUSED_CODE = -32050  # a node's admission hook refused the payment: it will refuse it again
RESUBMIT_INTERVAL_S = 2.0
MICROS_PER_SECOND = 1_000_000

log = logging.getLogger("wallet_service.submitter")


@dataclass
class Submitter:
    """Signs, persists, submits and confirms the parent VASP's transactions."""

    store: Store
    chain: Chain
    last_submit_s: dict[str, float] = field(default_factory=dict)

    async def start(self) -> None:
        """Align the sequence counter with the chain (after a restart or another signer's use of the key)."""
        chain_sequence = await self.chain.client.get_account_sequence(self.chain.address)
        with self.store.transaction():
            stored = int(self.store.get_meta(NEXT_SEQUENCE_KEY) or 0)
            self.store.set_meta(NEXT_SEQUENCE_KEY, str(max(stored, chain_sequence)))
            self.store.execute("DELETE FROM free_sequences WHERE sequence_number < ?", (chain_sequence,))

    def allocate_sequence(self) -> int:
        """Take the lowest released sequence number, or the next new one (inside a transaction)."""
        free = self.store.query_one("SELECT MIN(sequence_number) AS n FROM free_sequences")
        if free is not None and free["n"] is not None:
            self.store.execute("DELETE FROM free_sequences WHERE sequence_number = ?", (free["n"],))
            return int(free["n"])
        sequence = int(self.store.get_meta(NEXT_SEQUENCE_KEY) or 0)
        self.store.set_meta(NEXT_SEQUENCE_KEY, str(sequence + 1))
        return sequence

    def sign(self, payload: TransactionPayload, sequence_number: int, ledger_time_s: int = 0) -> SignedTransaction:
        """Sign a payload at a sequence number, expiring a while after the later of our clock and the ledger's."""
        expiration_s = max(int(time.time()), ledger_time_s) + TRANSACTION_EXPIRATION_S
        return self.chain.account.sign(payload, sequence_number, expiration_s, chain_id=self.chain.chain_id,
                                       max_gas_amount=SUBMIT_GAS_MAX)

    def sign_payment(self, payment_id: str, payload: TransactionPayload, metadata: bytes,
                     metadata_signature: bytes) -> None:
        """Give a payment its sequence number and signed transaction, durably, before it is sent."""
        with self.store.transaction():
            signed = self.sign(payload, self.allocate_sequence())
            update_payment(self.store, payment_id, status=STATUS_SUBMITTED, signed_transaction=signed.to_bcs().hex(),
                           sequence_number=signed.sequence_number,
                           expiration_s=signed.raw_txn.expiration_timestamp_secs, metadata=metadata.hex(),
                           metadata_signature=metadata_signature.hex())

    async def advance(self, payment_id: str) -> None:
        """Move one submitted payment forward: send, confirm, re-sign after expiry, or release."""
        payment = self.store.query_one("SELECT * FROM payments WHERE id = ?", (payment_id,))
        if payment is None or payment["status"] != STATUS_SUBMITTED:
            return
        signed = decode_signed(payment["signed_transaction"])
        committed = await self.chain.client.get_account_transaction(self.chain.address, signed.sequence_number)
        if committed is not None:
            self.on_committed(payment_id, signed, committed)
            return
        if await self.is_expired(signed):
            self.resign(payment_id, signed)
            return
        if time.monotonic() - self.last_submit_s.get(payment_id, 0.0) >= RESUBMIT_INTERVAL_S:
            await self.submit(payment_id, signed)

    def on_committed(self, payment_id: str, signed: SignedTransaction, committed: Transaction) -> None:
        """Record how a payment's sequence number was used on chain."""
        self.last_submit_s.pop(payment_id, None)
        with self.store.transaction():
            if committed.hash != signed.hash().hex():
                # Another holder of the key used this sequence number: sign the payment again, later.
                update_payment(self.store, payment_id, status=STATUS_PENDING, signed_transaction=None,
                               sequence_number=None)
            elif committed.vm_status.is_executed():
                update_payment(self.store, payment_id, status=STATUS_COMPLETED, version=committed.version)
            else:
                update_payment(self.store, payment_id, status=STATUS_CANCELED, version=committed.version,
                               cancel_reason=f"the chain refused the payment: {committed.vm_status.describe()}")

    async def is_expired(self, signed: SignedTransaction) -> bool:
        """Return True iff the ledger's clock is past the transaction's expiration (it can never commit)."""
        await self.chain.client.get_metadata()
        ledger = self.chain.client.last_known_state
        return ledger is not None and ledger.timestamp_usecs >= signed.raw_txn.expiration_timestamp_secs * MICROS_PER_SECOND

    def resign(self, payment_id: str, old: SignedTransaction) -> None:
        """Sign the same payload again under the same sequence number, with a new expiration."""
        ledger = self.chain.client.last_known_state
        ledger_time_s = 0 if ledger is None else ledger.timestamp_usecs // MICROS_PER_SECOND
        with self.store.transaction():
            signed = self.sign(old.raw_txn.payload, old.sequence_number, ledger_time_s)
            update_payment(self.store, payment_id, signed_transaction=signed.to_bcs().hex(),
                           expiration_s=signed.raw_txn.expiration_timestamp_secs)
        self.last_submit_s.pop(payment_id, None)

    async def submit(self, payment_id: str, signed: SignedTransaction) -> None:
        """Send the persisted bytes; on a refusal, release the sequence number if the chain shows it unused."""
        self.last_submit_s[payment_id] = time.monotonic()
        try:
            await self.chain.client.submit(signed)
        except NetworkError as error:
            log.info("payment %s not sent yet: %s", payment_id, error)
        except JsonRpcError as error:
            await self.on_refused(payment_id, signed, error)

    async def on_refused(self, payment_id: str, signed: SignedTransaction, error: JsonRpcError) -> None:
        """Handle a node's refusal of a payment transaction."""
        if await self.chain.client.get_account_transaction(self.chain.address, signed.sequence_number) is not None:
            return  # it (or another transaction) committed meanwhile: the next advance() records it
        chain_sequence = await self.chain.client.get_account_sequence(self.chain.address)
        with self.store.transaction():
            if signed.sequence_number >= chain_sequence:
                self.store.execute("INSERT OR IGNORE INTO free_sequences VALUES (?)", (signed.sequence_number,))
            if error.code == ADMISSION_REFUSED_CODE:
                update_payment(self.store, payment_id, status=STATUS_CANCELED, signed_transaction=None,
                               sequence_number=None, cancel_reason=f"the node refused the payment: {error.message}")
            else:
                update_payment(self.store, payment_id, status=STATUS_PENDING, signed_transaction=None,
                               sequence_number=None)
        log.warning("payment %s refused by the node (%s); sequence %d released", payment_id, error,
                    signed.sequence_number)


def decode_signed(text: str) -> SignedTransaction:
    """Decode a stored signed transaction."""
    return SignedTransaction.from_bcs(bytes.fromhex(text))


async def submit_and_wait(chain: Chain, payload: TransactionPayload, timeout_s: float) -> Transaction:
    """Sign at the chain's sequence number, submit and wait (set-up transactions, before any payment)."""
    sequence = await chain.client.get_account_sequence(chain.address)
    signed = chain.account.sign(payload, sequence, int(time.time()) + TRANSACTION_EXPIRATION_S,
                                chain_id=chain.chain_id, max_gas_amount=SUBMIT_GAS_MAX)
    try:
        await chain.client.submit(signed)
        return await chain.client.wait_for_transaction(signed, timeout_s)
    except WalletError as error:
        raise RuntimeError(f"set-up transaction failed: {error}") from None
