"""The submitter's crash-safety rules, against a scripted chain: persist before send, re-sign only under the same
sequence number after expiry, and give a sequence number back only when the chain shows it unused.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from contracts.transaction_builder import Account as LocalAccount, compose_peer_to_peer
from primitives.keys import PrivateKey
from primitives.types.transactions import SignedTransaction
from wallet.client import LedgerState
from wallet.errors import JsonRpcError
from wallet_service.chain import Chain
from wallet_service.ledger import DIRECTION_OUT, STATUS_PENDING, get_payment, insert_payment
from wallet_service.store import Store
from wallet_service.submitter import Submitter, decode_signed

VASP = LocalAccount(PrivateKey.from_seed_material(b"vasp"))
PAYEE = PrivateKey.from_seed_material(b"payee").public_key().address()
MICROS = 1_000_000


@dataclass
class ScriptedChain:
    """A stand-in for the node: what was submitted, what committed, and the ledger's clock."""

    sequence: int = 0
    ledger_time_s: int = 0
    submitted: list[SignedTransaction] = field(default_factory=list)
    committed: dict[int, SignedTransaction] = field(default_factory=dict)
    refuse_with: JsonRpcError | None = None
    last_known_state: LedgerState | None = None

    async def get_account_sequence(self, _address: bytes) -> int:
        return self.sequence

    async def get_account_transaction(self, _address: bytes, sequence: int, include_events: bool = False):
        signed = self.committed.get(sequence)
        if signed is None:
            return None
        executed = SimpleNamespace(is_executed=lambda: True, describe=lambda: "executed")
        return SimpleNamespace(hash=signed.hash().hex(), vm_status=executed, version=100 + sequence)

    async def get_metadata(self) -> None:
        self.last_known_state = LedgerState(2, 1, self.ledger_time_s * MICROS)

    async def submit(self, signed: SignedTransaction) -> None:
        if self.refuse_with is not None:
            raise self.refuse_with
        self.submitted.append(signed)

    def commit(self, signed: SignedTransaction) -> None:
        self.committed[signed.sequence_number] = signed
        self.sequence = signed.sequence_number + 1


def make_submitter(directory: Path, node: ScriptedChain) -> Submitter:
    chain = Chain(node, VASP, PrivateKey.from_seed_material(b"c"), 2, "tdm", False)  # type: ignore[arg-type]
    submitter = Submitter(Store(directory), chain)
    asyncio.run(submitter.start())
    return submitter


def accept_payment(submitter: Submitter, amount: int = 5) -> str:
    with submitter.store.transaction():
        payment_id = insert_payment(submitter.store, account_id=None, direction=DIRECTION_OUT, status=STATUS_PENDING,
                                    currency="XUS", amount_micro=amount, payee="x")
    submitter.sign_payment(payment_id, compose_peer_to_peer(PAYEE, amount), b"", b"")
    return payment_id


def test_a_payment_is_signed_durably_before_it_is_sent_and_resent_identically_after_a_crash(tmp_path: Path) -> None:
    node = ScriptedChain()
    payment_id = accept_payment(make_submitter(tmp_path, node))
    assert node.submitted == []                       # nothing left the process before the write
    restarted = make_submitter(tmp_path, node)        # the process died here; a new one starts
    asyncio.run(restarted.advance(payment_id))
    stored = decode_signed(get_payment(restarted.store, payment_id)["signed_transaction"])
    assert node.submitted == [stored]
    node.commit(stored)
    asyncio.run(restarted.advance(payment_id))
    assert get_payment(restarted.store, payment_id)["status"] == "completed"


def test_an_expired_payment_is_resigned_under_the_same_sequence_number(tmp_path: Path) -> None:
    node = ScriptedChain()
    submitter = make_submitter(tmp_path, node)
    payment_id = accept_payment(submitter)
    first = decode_signed(get_payment(submitter.store, payment_id)["signed_transaction"])
    node.ledger_time_s = first.raw_txn.expiration_timestamp_secs   # it can never commit now
    asyncio.run(submitter.advance(payment_id))
    second = decode_signed(get_payment(submitter.store, payment_id)["signed_transaction"])
    assert second.sequence_number == first.sequence_number and second.hash() != first.hash()


def test_a_refused_payment_releases_its_sequence_number_only_if_the_chain_shows_it_unused(tmp_path: Path) -> None:
    node = ScriptedChain(refuse_with=JsonRpcError(-32001, "refused", None))
    submitter = make_submitter(tmp_path, node)
    payment_id = accept_payment(submitter)
    asyncio.run(submitter.advance(payment_id))
    assert get_payment(submitter.store, payment_id)["status"] == STATUS_PENDING
    with submitter.store.transaction():
        assert submitter.allocate_sequence() == 0     # the unused number is taken again


def test_a_refusal_after_the_payment_committed_does_not_free_its_sequence_number(tmp_path: Path) -> None:
    node = ScriptedChain()
    submitter = make_submitter(tmp_path, node)
    payment_id = accept_payment(submitter)
    stored = decode_signed(get_payment(submitter.store, payment_id)["signed_transaction"])
    node.commit(stored)                               # it committed (sent before a crash) ...
    node.refuse_with = JsonRpcError(-32001, "SEQUENCE_NUMBER_TOO_OLD", None)
    asyncio.run(submitter.on_refused(payment_id, stored, node.refuse_with))  # ... and the resend is refused
    with submitter.store.transaction():
        assert submitter.allocate_sequence() == 1     # never handed out twice: no second payment can use 0
    asyncio.run(submitter.advance(payment_id))
    assert get_payment(submitter.store, payment_id)["status"] == "completed"
