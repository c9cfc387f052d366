"""Decoupled execution: sign executed ledger infos, aggregate commit votes, commit certified blocks."""

from __future__ import annotations

from consensus.events import BlockExecuted, Broadcast, CommitBlocks, VerifiedCommitVote
from consensus.safety import Refusal
from consensus.state import Work
from consensus.epoch import start_next_epoch
from consensus.ordering import order_to
from consensus.retrieval import request_blocks
from consensus.types import CommitVoteMsg
from primitives.certified.ledger_info import LedgerInfo, LedgerInfoWithSignatures
from primitives.errors import invariant

MAX_COMMIT_VOTE_ROUNDS_AHEAD = 200


def process_block_executed(work: Work, event: BlockExecuted) -> None:
    """[COMMIT-2] Record our execution result for the next ordered block and sign its ledger info."""
    state = work.state
    tree = state.tree
    block = tree.blocks.get(event.block_id)
    if block is None or event.block_id in state.executed or block.round > tree.get_ordered().round:
        return
    parent_done = block.parent_id == tree.root_id or block.parent_id in state.executed
    if not parent_done or any(info.is_epoch_ending() for info in state.executed.values()):
        return  # out of order, or past the reconfiguration block: never certified in this epoch
    ledger_info = LedgerInfo(block.epoch, block.round, block.id, block.timestamp_usecs, event.version,
                             event.state_root, event.accumulator_root, event.next_validator_set)
    state.executed[block.id] = ledger_info
    if state.is_validator():
        signed = state.config.safety_rules.sign_commit_vote(state.safety, ledger_info, block.get_info(),
                                                            state.get_signing_context())
        if not isinstance(signed, Refusal):
            state.last_commit_vote = signed
            work.emit(Broadcast(CommitVoteMsg(signed)))
            add_commit_vote(work, ledger_info, signed.author, signed.signature)
    try_commit(work, state.config.author)


def process_commit_vote(work: Work, event: VerifiedCommitVote) -> None:
    """Add a peer's commit vote; a quorum forms a commit certificate."""
    vote = event.message.commit_vote
    root_round = work.state.tree.get_root().round
    # A window above the root bounds what a faulty peer can make us store.
    if root_round < vote.ledger_info.round <= root_round + MAX_COMMIT_VOTE_ROUNDS_AHEAD:
        add_commit_vote(work, vote.ledger_info, vote.author, vote.signature)


def add_commit_vote(work: Work, ledger_info: LedgerInfo, author: bytes, signature: bytes) -> None:
    """[COMMIT-4] Collect votes per ledger info; more than 2/3 of power certifies it."""
    state = work.state
    if any(author in votes for info, votes in state.commit_votes.items()
           if info.round == ledger_info.round and info != ledger_info):
        return  # one ledger info per author and round: an equivocator cannot make us store more
    signatures = dict(state.commit_votes.get(ledger_info, {}))
    signatures[author] = signature
    state.commit_votes[ledger_info] = signatures
    validators = state.epoch_state.validators
    if validators.get_power_of(signatures) >= validators.get_quorum_power():
        certificate = LedgerInfoWithSignatures(ledger_info, tuple(sorted(signatures.items())))
        process_commit_cert(work, certificate, author)


def process_commit_cert(work: Work, certificate: LedgerInfoWithSignatures, sender: bytes) -> None:
    """Adopt a higher commit certificate of our epoch; commit once its block is executed here."""
    state = work.state
    info = certificate.ledger_info
    if info.epoch != state.epoch_state.epoch or info.round <= state.tree.get_root().round:
        return
    if state.highest_commit_cert is None or info.round > state.highest_commit_cert.ledger_info.round:
        state.highest_commit_cert = certificate
    try_commit(work, sender)


def try_commit(work: Work, sender: bytes) -> None:
    """[COMMIT-5] Commit up to the certified block when it is known, ordered and executed here."""
    state = work.state
    certificate = state.highest_commit_cert
    tree = state.tree
    if certificate is None or certificate.ledger_info.round <= tree.get_root().round:
        return
    info = certificate.ledger_info
    if not tree.is_known(info.block_id):
        request_blocks(work, sender, info.block_id, info.round)
        return
    if tree.get_ordered().round < info.round:
        order_to(work, info.block_id)  # a commit certificate proves the block was ordered
    executed = state.executed.get(info.block_id)
    if executed is None:
        return  # wait for BlockExecuted
    # Our executor disagrees with more than 2/3 of power: halting beats diverging.
    invariant(executed == info, "local execution result differs from the certified ledger info")
    commit(work, certificate)


def commit(work: Work, certificate: LedgerInfoWithSignatures) -> None:
    """Emit CommitBlocks for the path to the certified block, prune, and start a new epoch if it says so."""
    state = work.state
    info = certificate.ledger_info
    blocks = state.tree.commit_to(info.block_id)
    work.persist_sync_info_if_changed()
    work.emit(CommitBlocks(certificate, tuple(blocks)))
    root_round = info.round
    state.executed = {block_id: li for block_id, li in state.executed.items() if li.round > root_round}
    state.commit_votes = {li: votes for li, votes in state.commit_votes.items() if li.round > root_round}
    if state.last_commit_vote is not None and state.last_commit_vote.ledger_info.round <= root_round:
        state.last_commit_vote = None
    if info.next_validator_set is not None:
        start_next_epoch(work, certificate)
