"""Builders for signed blocks, QCs and TCs over a test validator set (insecure fast signatures)."""

from __future__ import annotations

from consensus.safety import SafetyRules, SigningContext
from consensus.types import Block, SignedTimeout, Timeout, TimeoutCertificate, TimeoutSigningRepr, make_genesis_qc
from consensus.election import compute_failed_authors, get_weighted_leader
from consensus.epoch import make_genesis_epoch_state
from primitives.certified.blocks import BlockData, QuorumCertificate, VoteData, compute_block_id
from primitives.certified.domains import (
    COMMIT_VOTE_DOMAIN,
    PROPOSAL_DOMAIN,
    TIMEOUT_DOMAIN,
    VOTE_DOMAIN,
    compute_signing_bytes,
)
from primitives.certified.ledger_info import LedgerInfo, LedgerInfoWithSignatures
from primitives.certified.signatures import InsecureHashSigner
from tests.consensus.harness import CHAIN_ID, make_address, make_public_key, make_validators


class Chain:
    """A validator set and helpers to make correctly signed consensus values for it."""

    def __init__(self, powers: list[int] | None = None) -> None:
        self.powers = powers or [1, 1, 1, 1]
        self.validators = make_validators(self.powers)
        self.epoch_state = make_genesis_epoch_state(self.validators)
        self.genesis = self.epoch_state.genesis_block
        self.genesis_qc = make_genesis_qc(self.genesis)
        self.epoch = self.epoch_state.epoch

    def signer(self, index: int) -> InsecureHashSigner:
        return InsecureHashSigner(make_public_key(index))

    def context(self, index: int) -> SigningContext:
        return SigningContext(make_address(index), self.signer(index), CHAIN_ID)

    def make_block(self, round_: int, qc: QuorumCertificate, author: int = 0, payload: tuple = (b"t",),
                   epoch: int | None = None, failed_authors: tuple[tuple[int, bytes], ...] | None = None) -> Block:
        parent = qc.certified_block
        if failed_authors is None:  # [ELECT-4] the plain power-weighted leaders of the rounds skipped after the QC
            failed_authors = compute_failed_authors(lambda skipped: get_weighted_leader(self.validators, self.epoch, skipped),
                                                    qc.round, round_)
        data = BlockData(self.epoch if epoch is None else epoch, round_, parent.timestamp_usecs + round_ + 1,
                         make_address(author), parent.id, qc, payload, failed_authors)
        block_id = compute_block_id(data)
        signature = self.signer(author).sign(compute_signing_bytes(PROPOSAL_DOMAIN, CHAIN_ID, block_id))
        return Block(data, block_id, signature)

    def make_qc(self, block: Block, signers: list[int] | None = None) -> QuorumCertificate:
        parent_qc = block.quorum_cert
        parent = parent_qc.certified_block if parent_qc is not None else block.get_info()
        data = VoteData(block.get_info(), parent)
        message = compute_signing_bytes(VOTE_DOMAIN, CHAIN_ID, data)
        indexes = signers if signers is not None else list(range(len(self.powers)))
        signatures = sorted((make_address(i), self.signer(i).sign(message)) for i in indexes)
        return QuorumCertificate(data, tuple(signatures))

    def make_timeout(self, index: int, round_: int, high_qc: QuorumCertificate) -> SignedTimeout:
        timeout = Timeout(self.epoch, round_, high_qc)
        message = compute_signing_bytes(TIMEOUT_DOMAIN, CHAIN_ID, TimeoutSigningRepr(self.epoch, round_, high_qc.round))
        return SignedTimeout(timeout, make_address(index), self.signer(index).sign(message))

    def make_tc(self, round_: int, high_qcs: dict[int, QuorumCertificate]) -> TimeoutCertificate:
        timeouts = [self.make_timeout(i, round_, qc) for i, qc in high_qcs.items()]
        high_qc = max((t.timeout.high_qc for t in timeouts), key=lambda qc: qc.round)
        signatures = tuple(sorted((t.author, t.timeout.high_qc.round, t.signature) for t in timeouts))
        return TimeoutCertificate(self.epoch, round_, high_qc, signatures)

    def make_chain(self, rounds: list[int]) -> tuple[list[Block], list[QuorumCertificate]]:
        """Blocks at the given rounds, each extending the previous one's QC."""
        blocks, qcs = [], []
        qc = self.genesis_qc
        for round_ in rounds:
            block = self.make_block(round_, qc)
            qc = self.make_qc(block)
            blocks.append(block)
            qcs.append(qc)
        return blocks, qcs

    def make_ledger_info(self, block: Block, version: int = 1, next_set=None) -> LedgerInfo:
        return LedgerInfo(block.epoch, block.round, block.id, block.timestamp_usecs, version, b"s" * 32,
                          b"a" * 32, next_set)

    def certify(self, info: LedgerInfo, signers: list[int] | None = None) -> LedgerInfoWithSignatures:
        message = compute_signing_bytes(COMMIT_VOTE_DOMAIN, CHAIN_ID, info)
        indexes = signers if signers is not None else list(range(len(self.powers)))
        return LedgerInfoWithSignatures(info, tuple(sorted((make_address(i), self.signer(i).sign(message))
                                                           for i in indexes)))


RULES = SafetyRules()
