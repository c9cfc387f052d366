"""Equivocation evidence: verify two signed votes or proposals of one round, slash (burn) and remove the signer."""

from __future__ import annotations

from contracts.framework import TREASURY_COMPLIANCE, currency, staking, staking_epoch, system
from contracts.framework.staking import BPS_DENOMINATOR, STAKE_CURRENCY
from contracts.vm.context import Context
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import Module, Signer
from contracts.vm.values import ADDRESS, U8, U64, encode_values
from primitives.codec import pack, signing_bytes, unpack
from primitives.errors import DecodeError
from primitives.hashing import hash_with_salt, sha3_256
from primitives.keys import is_valid_signature

MODULE = Module("Evidence")
_W = MODULE.claim()

KIND_DOUBLE_VOTE = 0
KIND_DOUBLE_PROPOSAL = 1
# Consensus's domains (consensus/wire.py DOMAIN_PREFIX, consensus/safety.py *_DOMAIN): re-stated, not imported.
CONSENSUS_DOMAIN_PREFIX = "stablechain::consensus::"
VOTE_SIGNING_DOMAIN = CONSENSUS_DOMAIN_PREFIX + "sign::Vote"
PROPOSAL_SIGNING_DOMAIN = CONSENSUS_DOMAIN_PREFIX + "sign::Proposal"
# consensus/block_id.py: id = sha3(salt(BLOCK_ID_DOMAIN) || msgpack(header)), the header being [epoch, round,
# timestamp_usecs, author, parent_id, quorum_cert_digest, payload_digest, failed_authors_digest]; the digests are
# opaque 32 bytes here.
BLOCK_ID_DOMAIN = CONSENSUS_DOMAIN_PREFIX + "Block"
EVIDENCE_ID_DOMAIN = b"stablechain::evidence"
MAX_EVIDENCE_DATA_BYTES = 32_768
VERIFY_GAS_UNITS = 2_000  # two strict Ed25519 verifications and two hashes
ADDRESS_BYTES = 16
HASH_BYTES = 32
BLOCK_INFO_FIELDS = 4
BLOCK_HEADER_FIELDS = 8

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


def _is_uint(value: object) -> bool:
    return type(value) is int and value >= 0


def _is_bytes(value: object, length: int) -> bool:
    return isinstance(value, bytes) and len(value) == length


def _decode(data: bytes) -> object:
    if len(data) > MAX_EVIDENCE_DATA_BYTES:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EMALFORMED")
    try:
        return unpack(data)
    except DecodeError:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EMALFORMED") from None


def _is_block_info(plain: object) -> bool:
    return (isinstance(plain, list) and len(plain) == BLOCK_INFO_FIELDS and _is_uint(plain[0]) and _is_uint(plain[1])
            and isinstance(plain[2], bytes) and _is_uint(plain[3]))


def read_vote(data: bytes, chain_id: int) -> tuple[int, int, bytes]:
    """Return (epoch, round, signed message) of canonical msgpack VoteData [proposed, parent]."""
    plain = _decode(data)
    if not (isinstance(plain, list) and len(plain) == 2 and all(_is_block_info(info) for info in plain)):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EMALFORMED")
    proposed = plain[0]
    return proposed[0], proposed[1], sha3_256(signing_bytes(VOTE_SIGNING_DOMAIN, chain_id, plain))


def _is_block_header(plain: object) -> bool:
    return (isinstance(plain, list) and len(plain) == BLOCK_HEADER_FIELDS and all(map(_is_uint, plain[:3]))
            and _is_bytes(plain[3], ADDRESS_BYTES) and all(_is_bytes(value, HASH_BYTES) for value in plain[4:]))


def read_proposal(data: bytes, chain_id: int) -> tuple[int, int, bytes, bytes]:
    """Return (epoch, round, author, signed message) of a canonical msgpack block header; the block id is its hash."""
    plain = _decode(data)
    if not _is_block_header(plain):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EMALFORMED")
    block_id = hash_with_salt(BLOCK_ID_DOMAIN, pack(plain))
    return plain[0], plain[1], plain[3], sha3_256(signing_bytes(PROPOSAL_SIGNING_DOMAIN, chain_id, block_id))


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
