"""Equivocation evidence: verify two signed votes or proposals of one round, slash (burn) and remove the signer."""

from __future__ import annotations

from contracts.framework import TREASURY_COMPLIANCE, currency, staking, staking_epoch, system
from contracts.framework.staking import BPS_DENOMINATOR, STAKE_CURRENCY
from contracts.vm.context import Context
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import Module, Signer
from contracts.vm.values import ADDRESS, U8, U64, encode_values
from primitives.certified.blocks import BlockHeader, VoteData, compute_header_id
from primitives.certified.domains import PROPOSAL_DOMAIN, VOTE_DOMAIN, compute_signing_bytes
from primitives.certified.plain import from_plain
from primitives.codec import unpack
from primitives.errors import DecodeError
from primitives.hashing import sha3_256
from primitives.keys import is_valid_signature

MODULE = Module("Evidence")
_W = MODULE.claim()

KIND_DOUBLE_VOTE = 0
KIND_DOUBLE_PROPOSAL = 1
EVIDENCE_ID_DOMAIN = b"stablechain::evidence"
MAX_EVIDENCE_DATA_BYTES = 32_768
VERIFY_GAS_UNITS = 2_000  # two strict Ed25519 verifications and two hashes

ERRORS = ErrorTable(MODULE, {
    "EUNKNOWN_KIND": (1, " Only double votes and double proposals are evidence"),
    "EMALFORMED": (2, " The signed data does not decode as consensus data"),
    "ENOT_CONFLICTING": (3, " The two messages are equal, or not of one epoch, round and author"),
    "EINVALID_SIGNATURE": (4, " A signature does not verify under the author's consensus key of that epoch"),
    "EEXPIRED": (5, " The evidence is older than the maximum evidence age, or its epoch is no longer remembered"),
    "ENOT_A_VALIDATOR": (6, " The author was not a validator in that epoch"),
    "EALREADY_USED": (7, " This equivocation was already punished"),
    "EFUTURE_EPOCH": (8, " The evidence is about an epoch that has not started"),
    "EALREADY_SLASHED": (9, " The validator was already slashed for equivocation"),
})


def _decode(data: bytes, kind: type) -> object:
    """Return the consensus value (VoteData or BlockHeader) data encodes, or abort EMALFORMED."""
    if len(data) > MAX_EVIDENCE_DATA_BYTES:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EMALFORMED")
    try:
        return from_plain(kind, unpack(data))
    except DecodeError:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EMALFORMED") from None


def read_vote(data: bytes, chain_id: int) -> tuple[int, int, bytes]:
    """Return (epoch, round, signed message) of canonical msgpack VoteData [proposed, parent]."""
    vote_data: VoteData = _decode(data, VoteData)  # type: ignore[assignment]
    proposed = vote_data.proposed
    return proposed.epoch, proposed.round, compute_signing_bytes(VOTE_DOMAIN, chain_id, vote_data)


def read_proposal(data: bytes, chain_id: int) -> tuple[int, int, bytes, bytes]:
    """Return (epoch, round, author, signed message) of a canonical msgpack block header; the block id is its hash."""
    header: BlockHeader = _decode(data, BlockHeader)  # type: ignore[assignment]
    if not header.is_well_formed():
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EMALFORMED")
    block_id = compute_header_id(header)
    return header.epoch, header.round, header.author, compute_signing_bytes(PROPOSAL_DOMAIN, chain_id, block_id)


def compute_evidence_id(author: bytes, epoch: int, round_number: int) -> bytes:
    """Return the id of an equivocation: one per (author, epoch, round), whatever the conflicting pair."""
    return sha3_256(EVIDENCE_ID_DOMAIN, author, epoch.to_bytes(8, "big"), round_number.to_bytes(8, "big"))


def _read_pair(kind: int, author: bytes, data_a: bytes, data_b: bytes, chain_id: int) -> tuple[int, int, bytes, bytes]:
    if kind == KIND_DOUBLE_VOTE:
        epoch_a, round_a, message_a = read_vote(data_a, chain_id)
        epoch_b, round_b, message_b = read_vote(data_b, chain_id)
        authors_match = True
    elif kind == KIND_DOUBLE_PROPOSAL:
        epoch_a, round_a, author_a, message_a = read_proposal(data_a, chain_id)
        epoch_b, round_b, author_b, message_b = read_proposal(data_b, chain_id)
        authors_match = author_a == author_b == author
    else:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EUNKNOWN_KIND")
    if data_a == data_b or (epoch_a, round_a) != (epoch_b, round_b) or not authors_match:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ENOT_CONFLICTING")
    return epoch_a, round_a, message_a, message_b


def verify(ctx: Context, kind: int, author: bytes, data_a: bytes, sig_a: bytes, data_b: bytes, sig_b: bytes) -> tuple[int, int]:
    """Check the evidence against the author's key of that epoch and its age; return (epoch, round) or abort."""
    ctx.charge(VERIFY_GAS_UNITS)
    epoch, round_number, message_a, message_b = _read_pair(kind, author, data_a, data_b, system.get_chain_id(ctx))
    state = staking.get_state(ctx)
    if epoch > state.epoch:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EFUTURE_EPOCH")
    if epoch not in state.history_epochs:
        raise ERRORS.abort(Category.INVALID_STATE, "EEXPIRED")
    key, ended_us = staking_epoch.get_historical_key(ctx, epoch, author)
    if ended_us is not None and ctx.now_microseconds() - ended_us > staking.get_params(ctx).max_evidence_age_us:
        raise ERRORS.abort(Category.INVALID_STATE, "EEXPIRED")
    if key is None:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ENOT_A_VALIDATOR")
    if not (is_valid_signature(key, message_a, sig_a) and is_valid_signature(key, message_b, sig_b)):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_SIGNATURE")
    return epoch, round_number


def submit(ctx: Context, submitter: Signer, kind: int, author: bytes, data_a: bytes, sig_a: bytes, data_b: bytes,
           sig_b: bytes) -> int:
    """Verify equivocation evidence, burn slash_bps of the author's stake, remove it next epoch; return the amount."""
    epoch, round_number = verify(ctx, kind, author, data_a, sig_a, data_b, sig_b)
    evidence_id = compute_evidence_id(author, epoch, round_number)
    if evidence_id in staking.get_state(ctx).used_evidence:
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EALREADY_USED")
    pool = staking.borrow_pool_mut(ctx, author)
    if pool.tombstoned:
        raise ERRORS.abort(Category.INVALID_STATE, "EALREADY_SLASHED")
    amount = _slash(ctx, pool, author, staking.get_params(ctx).slash_bps)
    pool.tombstoned = True
    state = staking.borrow_state_mut(ctx)
    state.used_evidence = (state.used_evidence + (evidence_id,))[-staking_epoch.MAX_USED_EVIDENCE:]
    state.used_evidence_epochs = (state.used_evidence_epochs + (epoch,))[-staking_epoch.MAX_USED_EVIDENCE:]
    if author in state.validators:
        state.reconfigure_pending = True
    staking.emit(ctx, "EquivocationEvidenceEvent", encode_values(
        (ADDRESS, author), (U8, kind), (U64, epoch), (U64, round_number), (ADDRESS, submitter.address)), "Evidence")
    staking.emit(ctx, "SlashEvent", encode_values((ADDRESS, author), (U64, amount), (U64, epoch)), "Evidence")
    return amount


def _slash(ctx: Context, pool: staking.StakePool, author: bytes, slash_bps: int) -> int:
    """Take slash_bps (rounded down per bucket and per unbonding entry) of every slashable coin and burn it."""
    taken = currency.withdraw(ctx, pool.active, pool.active.value * slash_bps // BPS_DENOMINATOR)
    pending = currency.withdraw(ctx, pool.pending_active, pool.pending_active.value * slash_bps // BPS_DENOMINATOR)
    currency.deposit(ctx, taken, pending)
    cuts = tuple(amount * slash_bps // BPS_DENOMINATOR for amount in pool.unbonding_amounts)
    pool.unbonding_amounts = tuple(amount - cut for amount, cut in zip(pool.unbonding_amounts, cuts))
    currency.deposit(ctx, taken, currency.withdraw(ctx, pool.unbonding, sum(cuts)))
    pool.pending_inactive_micro = min(pool.pending_inactive_micro, pool.active.value + pool.pending_active.value)
    amount = taken.value
    if amount == 0:
        currency.destroy_zero(ctx, taken)
        return 0
    cap = ctx.get(currency.BurnCapability.of(STAKE_CURRENCY), TREASURY_COMPLIANCE)
    currency.burn_now(ctx, cap, taken, author)  # supply falls by the slashed amount (PreburnEvent, BurnEvent)
    return amount
