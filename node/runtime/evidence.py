"""Any node that sees equivocation submits it: the core's ReportEquivocation becomes an evidence transaction."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from consensus.events import EQUIVOCATION_KIND_PROPOSAL, ReportEquivocation
from contracts.transaction_builder import compose_script_function, encode_bytes
from node.logging import get_logger
from node.runtime.submit import SubmitResult, SubmitStatus
from primitives.certified.blocks import BlockData, VoteData, compute_block_header
from primitives.certified.plain import to_plain
from primitives.codec import pack
from primitives.keys import PrivateKey
from primitives.limits import MAX_TRANSACTION_SIZE_BYTES
from primitives.types.names import AccountAddress, ChainId
from primitives.types.transactions import RawTransaction, SignedTransaction, TransactionPayload, sign_raw_transaction

# StakingScripts::submit_equivocation_evidence(kind: u8, author: address, data_a, sig_a, data_b, sig_b).
EVIDENCE_MODULE = "StakingScripts"
EVIDENCE_FUNCTION = "submit_equivocation_evidence"
EVIDENCE_MAX_GAS_UNITS = 1_000_000  # verification charges 2,000 units; the rest covers the slash and events
EVIDENCE_GAS_UNIT_PRICE = 0  # the chain accepts free transactions, and a validator account may hold no XUS
EVIDENCE_GAS_CURRENCY = "XUS"
# The evidence transaction stays valid this long after the runtime clock read when it was built.
EVIDENCE_EXPIRATION_SECS = 3_600
# Equivocations already handled in this process (oldest forgotten first): one submission each.
MAX_REMEMBERED_EQUIVOCATIONS = 4_096
USECS_PER_SEC = 1_000_000

log = get_logger("stablechain.evidence")


@dataclass(frozen=True, slots=True)
class EvidenceAccount:
    """The validator account that signs evidence transactions: its private key and on-chain address."""

    private_key: PrivateKey
    address: bytes

    @classmethod
    def from_key(cls, private_key: PrivateKey, address: bytes | None = None) -> EvidenceAccount:
        """Return the account of private_key; address defaults to the one its public key derives."""
        return cls(private_key, address if address is not None else private_key.public_key().address())

    def __repr__(self) -> str:
        return f"EvidenceAccount(address={self.address.hex()})"  # never the secret


def encode_evidence_half(kind: int, signed: VoteData | BlockData) -> bytes:
    """Return one signed half as the framework reads it: msgpack VoteData (kind 0) or BlockHeader (kind 1)."""
    # A proposal signature covers the block id, which the header determines: it carries the QC and the payload
    # as digests, so the evidence has the same small size whatever the block holds and the validator count.
    if kind == EQUIVOCATION_KIND_PROPOSAL and isinstance(signed, BlockData):
        return pack(to_plain(compute_block_header(signed)))
    return pack(to_plain(signed))


def compose_evidence_payload(report: ReportEquivocation) -> TransactionPayload:
    """Return the submit_equivocation_evidence payload: both halves as canonical msgpack and their signatures."""
    args = (bytes([report.kind]), report.author,
            encode_bytes(encode_evidence_half(report.kind, report.first)), encode_bytes(report.first_signature),
            encode_bytes(encode_evidence_half(report.kind, report.second)), encode_bytes(report.second_signature))
    return compose_script_function(EVIDENCE_MODULE, EVIDENCE_FUNCTION, (), args)


def make_evidence_transaction(report: ReportEquivocation, account: EvidenceAccount, sequence_number: int,
                              chain_id: int, now_usecs: int) -> SignedTransaction:
    """Return the evidence transaction signed by the account key, free, expiring EVIDENCE_EXPIRATION_SECS later."""
    raw = RawTransaction(AccountAddress(account.address), sequence_number, compose_evidence_payload(report),
                         EVIDENCE_MAX_GAS_UNITS, EVIDENCE_GAS_UNIT_PRICE, EVIDENCE_GAS_CURRENCY,
                         now_usecs // USECS_PER_SEC + EVIDENCE_EXPIRATION_SECS, ChainId(chain_id))
    return sign_raw_transaction(account.private_key, raw)


def get_equivocation_key(report: ReportEquivocation) -> tuple[bytes, int, int, int]:
    """Return what identifies one equivocation for deduplication: (author, epoch, round, kind)."""
    return report.author, report.epoch, report.round, report.kind


class EvidenceReporter:
    """Queues the core's reports while its effects run; submits each once afterwards, through the mempool path."""

    def __init__(self, account: EvidenceAccount | None, chain_id: int, get_sequence_number: Callable[[bytes], int],
                 submit: Callable[[SignedTransaction], SubmitResult], clock_usecs: Callable[[], int]) -> None:
        self.account = account
        self.chain_id = chain_id
        # The account's next sequence number: committed, past its transactions already waiting in the mempool.
        self.get_sequence_number = get_sequence_number
        self.submit_signed = submit
        self.clock_usecs = clock_usecs
        self.seen: OrderedDict[tuple[bytes, int, int, int], None] = OrderedDict()
        self.queue: list[ReportEquivocation] = []
        self.submitted_count = 0
        self.failed_count = 0

    def on_report(self, report: ReportEquivocation) -> None:
        """Remember a report; it is submitted by flush(), after the step's other effects (never mid-step)."""
        key = get_equivocation_key(report)
        if key in self.seen:
            return
        self.seen[key] = None
        if len(self.seen) > MAX_REMEMBERED_EQUIVOCATIONS:
            self.seen.popitem(last=False)
        log.warning("equivocation detected", author=report.author.hex(), epoch=report.epoch, round=report.round,
                    kind=report.kind)
        if self.account is None:
            log.warning("no account key configured: evidence not submitted", author=report.author.hex(),
                        epoch=report.epoch, round=report.round)
            return
        self.queue.append(report)

    def flush(self) -> None:
        """Submit every queued report to this node's own mempool (gossip spreads it); never raise."""
        reports, self.queue = self.queue, []
        for report in reports:
            self.submit(report)

    def submit(self, report: ReportEquivocation) -> bool:
        """Build, sign and submit one evidence transaction; return True iff the mempool took it."""
        account = self.account
        if account is None:
            return False
        try:
            sequence_number = self.get_sequence_number(account.address)
            txn = make_evidence_transaction(report, account, sequence_number, self.chain_id, self.clock_usecs())
            size_bytes = len(txn.to_bcs())
            if size_bytes > MAX_TRANSACTION_SIZE_BYTES:  # headers keep both kinds far below; never expected
                self.failed_count += 1
                log.error("evidence too large to prove in one transaction", author=report.author.hex(),
                          epoch=report.epoch, round=report.round, kind=report.kind, size_bytes=size_bytes)
                return False
            result = self.submit_signed(txn)
        except Exception:  # noqa: BLE001 - evidence is best effort: a failure must never stop consensus
            self.failed_count += 1
            log.exception("evidence transaction failed", author=report.author.hex(), epoch=report.epoch,
                          round=report.round)
            return False
        return self.on_submitted(report, result, sequence_number)

    def on_submitted(self, report: ReportEquivocation, result: SubmitResult, sequence_number: int) -> bool:
        """Count and log what the mempool made of one evidence transaction; True iff it took it."""
        if result.status != SubmitStatus.ACCEPTED:
            self.failed_count += 1
            log.warning("evidence transaction refused", author=report.author.hex(), epoch=report.epoch,
                        round=report.round, status=result.status.name, vm_status=result.vm_status_code,
                        mempool_status=getattr(result.mempool_status, "name", None))
            return False
        self.submitted_count += 1
        log.info("evidence transaction submitted", author=report.author.hex(), epoch=report.epoch,
                 round=report.round, kind=report.kind, txn_hash=result.txn_hash.hex(),
                 sequence_number=sequence_number)
        return True
