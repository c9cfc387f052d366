"""A real chain for compliance tests: MemoryLedger (real executor), VASPs with and without KYC records."""

from __future__ import annotations

from contracts.transaction_builder import (
    Account,
    compose_create_parent_vasp,
    compose_peer_to_peer,
    compose_script_function,
    encode_bytes,
    encode_u64,
)
from node.compliance.admission.view import InMemoryTransferTracker, LedgerView, make_view_provider
from primitives.keys import PrivateKey
from primitives.types.transactions import SignedTransaction, TransactionPayload
from tests.node.rpc.memory_ledger import GENESIS_TIME_US, MemoryLedger

EXPIRATION_S = GENESIS_TIME_US // 1_000_000 + 10**6
KYC_EXPIRATION_US = GENESIS_TIME_US + 365 * 86_400 * 10**6
RETENTION_US = 3_600 * 10**6


def new_account(name: str) -> Account:
    """A deterministic account derived from name."""
    return Account(PrivateKey.from_seed_material(name.encode()))


class ComplianceChain:
    """An in-memory chain with the issuer's keys, a transfer tracker and helpers to run transactions."""

    def __init__(self) -> None:
        self.ledger = MemoryLedger()
        self.keys = self.ledger.keys
        self.sequence: dict[bytes, int] = {}
        self.tracker = InMemoryTransferTracker(RETENTION_US)
        self.get_view = make_view_provider(self.ledger, self.tracker)

    def sign(self, account: Account, payload: TransactionPayload) -> SignedTransaction:
        """Sign payload at the account's next sequence number (counted locally)."""
        sequence = self.sequence.get(account.address, 0)
        self.sequence[account.address] = sequence + 1
        return account.sign(payload, sequence, EXPIRATION_S)

    def run(self, account: Account, payload: TransactionPayload) -> SignedTransaction:
        """Submit, commit one block and require the transaction executed."""
        signed = self.sign(account, payload)
        result = self.ledger.submit(signed)
        assert result.is_accepted, result
        committed = self.ledger.commit_block()
        status = committed[-1].status
        assert status.is_executed(), status
        return signed

    def view(self) -> LedgerView:
        """The latest committed LedgerView."""
        return self.get_view()

    def create_vasp(self, name: str, balance_micro: int = 0, kyc_tier: int | None = None,
                    kyc_expiration_us: int = KYC_EXPIRATION_US) -> Account:
        """Create a parent VASP, fund it from the dealer, optionally give it a KYC record."""
        account = new_account(name)
        self.run(self.keys["treasury"], compose_create_parent_vasp(account.address, account.auth_key_prefix,
                                                                    name.encode()))
        if balance_micro:
            self.run(self.keys["dealer"], compose_peer_to_peer(account.address, balance_micro))
        if kyc_tier is not None:
            self.set_kyc(account.address, kyc_tier, kyc_expiration_us)
        return account

    def set_kyc(self, address: bytes, tier: int, expiration_us: int) -> None:
        """Treasury compliance sets a KYC record."""
        args = (encode_u64(0), address, encode_u64(tier), encode_u64(expiration_us), encode_bytes(b"provider"))
        self.run(self.keys["treasury"], compose_script_function("TreasuryComplianceScripts", "set_kyc_record", (), args))

    def advance_blocks(self, count: int) -> None:
        """Commit empty blocks (each moves the ledger clock by one second)."""
        for _ in range(count):
            self.ledger.commit_block()
