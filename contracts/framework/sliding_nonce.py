"""SlidingNonce: admin transactions carry a nonce that may arrive out of order but is used at most once."""

from __future__ import annotations

from contracts.vm.context import Context
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import KEY, Module, Signer, Struct, struct
from contracts.vm.values import U64, U128

MODULE = Module("SlidingNonce")
_W = MODULE.claim()
NONCE_MASK_SIZE = 128
MAX_NONCE_JUMP = 10_000
_MASK_ALL = (1 << NONCE_MASK_SIZE) - 1

ERRORS = ErrorTable(MODULE, {
    "ESLIDING_NONCE": (0, " The `SlidingNonce` resource is in an invalid state"),
    "ENONCE_TOO_OLD": (1, " The nonce aborted because it's too old (nonce smaller than `min_nonce`)"),
    "ENONCE_TOO_NEW": (2, " The nonce is too large - this protects against nonce exhaustion"),
    "ENONCE_ALREADY_RECORDED": (3, " The nonce was already recorded previously"),
    "ENONCE_ALREADY_PUBLISHED": (4, " The sliding nonce resource was already published"),
})


@struct(MODULE, KEY)
class SlidingNonce(Struct):
    """The window: nonces below min_nonce are too old; bit i of the mask records min_nonce + i."""

    __slots__ = ()
    FIELDS = (("min_nonce", U64), ("nonce_mask", U128))


SLIDING_NONCE = SlidingNonce.rtype()


def publish(ctx: Context, account: Signer) -> None:
    """Publish an empty window (Diem root and TC at genesis)."""
    if ctx.exists(SLIDING_NONCE, account.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "ENONCE_ALREADY_PUBLISHED")
    ctx.move_to(_W, account, SlidingNonce(_W, 0, 0))


def record_nonce_or_abort(ctx: Context, account: Signer, nonce: int) -> None:
    """Record nonce (0 is always accepted and records nothing); abort 263 / 519 / 775 as Diem."""
    if nonce == 0:
        return
    if not ctx.exists(SLIDING_NONCE, account.address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ESLIDING_NONCE")
    window = ctx.borrow_mut(_W, SLIDING_NONCE, account.address)
    if nonce < window.min_nonce:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ENONCE_TOO_OLD")
    if nonce >= window.min_nonce + MAX_NONCE_JUMP:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ENONCE_TOO_NEW")
    position = nonce - window.min_nonce
    if position >= NONCE_MASK_SIZE:
        shift = position - NONCE_MASK_SIZE + 1
        if shift >= NONCE_MASK_SIZE:
            window.nonce_mask = 0
            window.min_nonce = nonce + 1 - NONCE_MASK_SIZE
        else:
            window.nonce_mask = (window.nonce_mask >> shift) & _MASK_ALL
            window.min_nonce += shift
        position = nonce - window.min_nonce
    bit = 1 << position
    if window.nonce_mask & bit:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "ENONCE_ALREADY_RECORDED")
    window.nonce_mask |= bit
