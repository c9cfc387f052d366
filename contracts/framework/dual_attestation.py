"""DualAttestation: credentials (base URL, compliance key), the travel-rule limit and the payment check."""

from __future__ import annotations

from functools import lru_cache

from contracts.framework import DIEM_ROOT, currency, roles, vasp
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import KEY, Module, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BYTES, U64, StructField, encode_values
from primitives.keys import is_valid_public_key, is_valid_signature
from primitives.limits import U64_MAX
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("DualAttestation")
_W = MODULE.claim()
DOMAIN_SEPARATOR = b"@@$$DIEM_ATTEST$$@@"
SIGNATURE_LENGTH = 64
INITIAL_DUAL_ATTESTATION_LIMIT_XDX = 1000
XDX_SCALING_FACTOR = 1_000_000
INITIAL_LIMIT_MICRO_XDX = INITIAL_DUAL_ATTESTATION_LIMIT_XDX * XDX_SCALING_FACTOR

ERRORS = ErrorTable(MODULE, {
    "ECREDENTIAL": (0, " A credential is not or already published."),
    "ELIMIT": (1, " A limit is not or already published."),
    "EINVALID_PUBLIC_KEY": (2, " Cannot parse this as an ed25519 public key"),
    "EMALFORMED_METADATA_SIGNATURE": (3, " Cannot parse this as an ed25519 signature (e.g., != 64 bytes)"),
    "EINVALID_METADATA_SIGNATURE": (4, " Signature does not match message and public key"),
    "EPAYEE_COMPLIANCE_KEY_NOT_SET": (5, " The recipient of a dual attestation payment needs to set a compliance public key"),
    "EPAYEE_BASE_URL_NOT_SET": (6, " The recipient of a dual attestation payment needs to set a base URL"),
})


@struct(MODULE, KEY)
class Credential(Struct):
    """Travel-rule identity of a parent VASP or designated dealer."""

    __slots__ = ()
    FIELDS = (
        ("human_name", BYTES), ("base_url", BYTES), ("compliance_public_key", BYTES), ("expiration_date", U64),
        ("compliance_key_rotation_events", StructField(EventHandle)),
        ("base_url_rotation_events", StructField(EventHandle)),
    )


@struct(MODULE, KEY)
class Limit(Struct):
    """The travel-rule threshold in micro-XDX (at Diem root)."""

    __slots__ = ()
    FIELDS = (("micro_xdx_limit", U64),)


@struct(MODULE, KEY)
class LimitUpdateEvents(Struct):
    """Beyond Diem: the stream of dual-attestation limit changes (at treasury compliance)."""

    __slots__ = ()
    FIELDS = (("events", StructField(EventHandle)),)


CREDENTIAL = Credential.rtype()
LIMIT = Limit.rtype()
LIMIT_EVENTS = LimitUpdateEvents.rtype()


@lru_cache(maxsize=None)
def _event_tag(name: str) -> StructTag:
    return StructTag(AccountAddress.CORE_CODE, "DualAttestation", name, ())


def publish_credential(ctx: Context, account: Signer, creator: Signer, human_name: bytes) -> None:
    """Publish an empty Credential (handles: compliance-key rotation, then base-url rotation)."""
    roles.assert_treasury_compliance(ctx, creator)
    if ctx.exists(CREDENTIAL, account.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "ECREDENTIAL")
    key_events = ctx.new_event_handle(account)
    url_events = ctx.new_event_handle(account)
    ctx.move_to(_W, account, Credential(_W, human_name, b"", b"", U64_MAX, key_events, url_events))


def initialize(ctx: Context, dr: Signer, tc: Signer) -> None:
    """Publish the limit at Diem root and its update stream at TC (genesis)."""
    roles.assert_diem_root(ctx, dr)
    ctx.move_to(_W, dr, Limit(_W, INITIAL_LIMIT_MICRO_XDX))
    ctx.move_to(_W, tc, LimitUpdateEvents(_W, ctx.new_event_handle(tc)))


def get_cur_microdiem_limit(ctx: Context) -> int:
    """Return the travel-rule threshold in micro-XDX."""
    found = ctx.get(LIMIT, DIEM_ROOT)
    if found is None:
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ELIMIT")
    return found.micro_xdx_limit


def set_microdiem_limit(ctx: Context, tc: Signer, micro_xdx_limit: int) -> None:
    """Change the threshold (TC only) and emit DualAttestationLimitUpdateEvent (beyond Diem)."""
    roles.assert_treasury_compliance(ctx, tc)
    ctx.borrow_mut(_W, LIMIT, DIEM_ROOT).micro_xdx_limit = micro_xdx_limit
    holder = ctx.borrow_mut(_W, LIMIT_EVENTS, tc.address)
    ctx.emit(holder.events, _event_tag("DualAttestationLimitUpdateEvent"), encode_values((U64, micro_xdx_limit)))


def rotate_base_url(ctx: Context, account: Signer, new_url: bytes) -> None:
    """Set the base URL and emit BaseUrlRotationEvent (aborts 5 without a Credential)."""
    if not ctx.exists(CREDENTIAL, account.address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ECREDENTIAL")
    credential = ctx.borrow_mut(_W, CREDENTIAL, account.address)
    credential.base_url = new_url
    payload = encode_values((BYTES, new_url), (U64, ctx.now_seconds()))
    ctx.emit(credential.base_url_rotation_events, _event_tag("BaseUrlRotationEvent"), payload)


def rotate_compliance_public_key(ctx: Context, account: Signer, new_key: bytes) -> None:
    """Set the compliance key (a valid Ed25519 point, else 519) and emit ComplianceKeyRotationEvent."""
    if not ctx.exists(CREDENTIAL, account.address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ECREDENTIAL")
    if not is_valid_public_key(new_key):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_PUBLIC_KEY")
    credential = ctx.borrow_mut(_W, CREDENTIAL, account.address)
    credential.compliance_public_key = new_key
    payload = encode_values((BYTES, new_key), (U64, ctx.now_seconds()))
    ctx.emit(credential.compliance_key_rotation_events, _event_tag("ComplianceKeyRotationEvent"), payload)


def get_dual_attestation_message(payer: bytes, metadata: bytes, deposit_value: int) -> bytes:
    """Return metadata || payer || u64 LE amount || "@@$$DIEM_ATTEST$$@@" (the signed message)."""
    return metadata + payer + deposit_value.to_bytes(8, "little") + DOMAIN_SEPARATOR


def is_dual_attestation_required(ctx: Context, ccy: StructTag, payer: bytes, payee: bytes, amount: int) -> bool:
    """Required iff amount in XDX >= limit, payer != payee, both VASPs and different parents."""
    if payer == payee or amount == 0:
        return False
    # Pure reads: cheap role checks first, the result is the same in any order.
    if not (vasp.is_vasp(ctx, payer) and vasp.is_vasp(ctx, payee)):
        return False
    if currency.approx_xdx_for_value(ctx, ccy, amount) < get_cur_microdiem_limit(ctx):
        return False
    return vasp.parent_address(ctx, payer) != vasp.parent_address(ctx, payee)


def assert_payment_ok(
    ctx: Context, ccy: StructTag, payer: bytes, payee: bytes, amount: int, metadata: bytes, signature: bytes
) -> None:
    """Verify the payee VASP's attestation when required or when a signature is supplied (opt-in)."""
    if not signature and not is_dual_attestation_required(ctx, ccy, payer, payee, amount):
        return
    if len(signature) != SIGNATURE_LENGTH:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EMALFORMED_METADATA_SIGNATURE")
    holder = vasp.parent_address(ctx, payee) if vasp.is_vasp(ctx, payee) else payee
    credential = ctx.get(CREDENTIAL, holder)
    if credential is None:
        raise ERRORS.abort(Category.NOT_PUBLISHED, "ECREDENTIAL")
    if not credential.compliance_public_key:
        raise ERRORS.abort(Category.INVALID_STATE, "EPAYEE_COMPLIANCE_KEY_NOT_SET")
    if not credential.base_url:
        raise ERRORS.abort(Category.INVALID_STATE, "EPAYEE_BASE_URL_NOT_SET")
    message = get_dual_attestation_message(payer, metadata, amount)
    if not is_valid_signature(credential.compliance_public_key, message, signature):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_METADATA_SIGNATURE")
