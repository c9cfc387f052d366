"""Epoch change: a committed ledger info with a next validator set starts the next epoch ([EPOCH-*])."""

from __future__ import annotations

from consensus.block_tree import BlockTree
from consensus.events import NewEpoch, PersistSafety, Send, VerifiedEpochChangeProof, VerifiedEpochRetrievalRequest
from consensus.rounds import enter_epoch_round
from consensus.safety import SafetyData
from consensus.state import Work
from consensus.types import EpochState, make_epoch_state, make_genesis_qc
from primitives.certified.ledger_info import MAX_EPOCH_PROOF_LENGTH, EpochChangeProof, LedgerInfoWithSignatures
from primitives.certified.validators import ValidatorSet
from primitives.errors import invariant

GENESIS_EPOCH = 1


def make_genesis_epoch_state(validators: ValidatorSet) -> EpochState:
    """Return the first epoch of a chain, with its genesis block."""
    return make_epoch_state(GENESIS_EPOCH, validators)


def compute_next_epoch_state(certificate: LedgerInfoWithSignatures) -> EpochState:
    """[EPOCH-2] Derive the next epoch deterministically from its epoch-ending ledger info."""
    info = certificate.ledger_info
    validators = info.next_validator_set
    assert_epoch_ending(certificate)
    return make_epoch_state(info.epoch + 1, validators, info.block_id, info.timestamp_usecs)  # type: ignore[arg-type]


def assert_epoch_ending(certificate: LedgerInfoWithSignatures) -> None:
    """Raise InvariantViolation unless the certificate ends an epoch."""
    invariant(certificate.ledger_info.next_validator_set is not None, "ledger info does not end the epoch")


def start_next_epoch(work: Work, certificate: LedgerInfoWithSignatures) -> None:
    """[EPOCH-1] Switch to the epoch the certificate announces; drop old blocks and reset safety data."""
    state = work.state
    discarded = tuple(state.tree.get_descendants(state.tree.root_id))
    state.epoch_proofs = (state.epoch_proofs + (certificate,))[-MAX_EPOCH_PROOF_LENGTH:]
    _reset_to_epoch(work, compute_next_epoch_state(certificate))
    work.emit(NewEpoch(state.epoch_state, certificate, discarded))
    enter_epoch_round(work)


def _reset_to_epoch(work: Work, epoch_state: EpochState) -> None:
    state = work.state
    genesis = epoch_state.genesis_block
    genesis_qc = make_genesis_qc(genesis)
    state.epoch_state = epoch_state
    # [EPOCH-3] a new epoch starts with fresh safety data, persisted before anything is signed in it.
    state.safety = SafetyData(epoch_state.epoch)
    work.emit(PersistSafety(state.safety))
    state.tree = BlockTree.create(genesis, genesis_qc)
    state.highest_qc = genesis_qc
    state.highest_ordered_cert = None
    state.highest_tc = None
    state.highest_commit_cert = None
    state.current_round = 0
    state.proposed_round = 0
    state.votes = {}
    state.timeouts = {}
    state.commit_votes = {}
    state.executed = {}
    state.execution_sent_id = genesis.id
    state.pending_qcs = {}
    state.requested_blocks = frozenset()
    state.pending_proposal = None
    state.fetched_chain = ()
    state.last_commit_vote = None
    state.history = ()
    state.turns = {}
    state.leader_cache = {}
    state.first_proposals = {}
    state.reported_equivocations = frozenset()
    work.persist_sync_info_if_changed()


def process_epoch_retrieval(work: Work, event: VerifiedEpochRetrievalRequest) -> None:
    """[EPOCH-5] Answer with the epoch-ending ledger infos the peer asked for."""
    request = event.request
    proofs = tuple(cert for cert in work.state.epoch_proofs
                   if request.start_epoch <= cert.ledger_info.epoch < request.end_epoch)
    if proofs:
        work.emit(Send(event.sender, EpochChangeProof(proofs, False)))


def process_epoch_change_proof(work: Work, event: VerifiedEpochChangeProof) -> None:
    """[EPOCH-4] Jump to the newest epoch the (verified) proof reaches; the runtime syncs the ledger to it."""
    state = work.state
    newer = [cert for cert in event.proof.ledger_infos if cert.ledger_info.epoch >= state.epoch_state.epoch]
    if not newer:
        return
    discarded = tuple(state.tree.get_descendants(state.tree.root_id))
    state.epoch_proofs = (state.epoch_proofs + tuple(newer))[-MAX_EPOCH_PROOF_LENGTH:]
    last = newer[-1]
    _reset_to_epoch(work, compute_next_epoch_state(last))
    work.emit(NewEpoch(state.epoch_state, last, discarded))
    enter_epoch_round(work)
