"""DiemId: Diem-ID domains of parent VASPs, managed by treasury compliance, one event stream at TC."""

from __future__ import annotations

from contracts.framework import roles
from contracts.vm.context import Context, EventHandle
from contracts.vm.errors import Category, ErrorTable
from contracts.vm.structs import KEY, STORE, Module, Signer, Struct, struct
from contracts.vm.values import ADDRESS, BOOL, BYTES, StructField, Vector, encode_values
from primitives.types.names import AccountAddress
from primitives.types.type_tags import StructTag

MODULE = Module("DiemId")
_W = MODULE.claim()
DOMAIN_LENGTH = 63
DOMAIN_EVENT_TAG = StructTag(AccountAddress.CORE_CODE, "DiemId", "DiemIdDomainEvent", ())

ERRORS = ErrorTable(MODULE, {
    "EDIEM_ID_DOMAIN": (0, " DiemIdDomains resource is not or already published."),
    "EDIEM_ID_DOMAIN_MANAGER": (1, " DiemIdDomainManager resource is not or already published."),
    "EDOMAIN_NOT_FOUND": (2, " DiemID domain was not found"),
    "EDOMAIN_ALREADY_EXISTS": (3, " DiemID domain already exists"),
    "EDIEM_ID_DOMAINS_NOT_PUBLISHED": (4, " DiemIdDomains resource was not published for a VASP account"),
    "EINVALID_DIEM_ID_DOMAIN": (5, " Invalid domain for DiemIdDomain"),
})


@struct(MODULE, STORE)
class DiemIdDomain(Struct):
    """One domain (at most 63 bytes)."""

    __slots__ = ()
    FIELDS = (("domain", BYTES),)


@struct(MODULE, KEY)
class DiemIdDomains(Struct):
    """The domains of a parent VASP."""

    __slots__ = ()
    FIELDS = (("domains", Vector(StructField(DiemIdDomain))),)


@struct(MODULE, KEY)
class DiemIdDomainManager(Struct):
    """At TC: the single stream of domain add/remove events."""

    __slots__ = ()
    FIELDS = (("diem_id_domain_events", StructField(EventHandle)),)


DOMAINS = DiemIdDomains.rtype()
MANAGER = DiemIdDomainManager.rtype()


def publish_diem_id_domain_manager(ctx: Context, tc: Signer) -> None:
    """Publish the manager at TC (genesis; its handle is TC's counter 0)."""
    roles.assert_treasury_compliance(ctx, tc)
    if ctx.exists(MANAGER, tc.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EDIEM_ID_DOMAIN_MANAGER")
    ctx.move_to(_W, tc, DiemIdDomainManager(_W, ctx.new_event_handle(tc)))


def publish_diem_id_domains(ctx: Context, vasp: Signer) -> None:
    """Publish an empty domain list on a new parent VASP."""
    if ctx.exists(DOMAINS, vasp.address):
        raise ERRORS.abort(Category.ALREADY_PUBLISHED, "EDIEM_ID_DOMAIN")
    ctx.move_to(_W, vasp, DiemIdDomains(_W, ()))


def _prepare(ctx: Context, tc: Signer, address: bytes, domain: bytes) -> None:
    roles.assert_treasury_compliance(ctx, tc)
    if not ctx.exists(MANAGER, tc.address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EDIEM_ID_DOMAIN_MANAGER")
    if not ctx.exists(DOMAINS, address):
        raise ERRORS.abort(Category.NOT_PUBLISHED, "EDIEM_ID_DOMAINS_NOT_PUBLISHED")
    if len(domain) > DOMAIN_LENGTH:
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EINVALID_DIEM_ID_DOMAIN")


def _emit(ctx: Context, tc: Signer, removed: bool, domain: bytes, address: bytes) -> None:
    manager = ctx.borrow_mut(_W, MANAGER, tc.address)
    payload = encode_values((BOOL, removed), (BYTES, domain), (ADDRESS, address))
    ctx.emit(manager.diem_id_domain_events, DOMAIN_EVENT_TAG, payload)


def add_diem_id_domain(ctx: Context, tc: Signer, address: bytes, domain: bytes) -> None:
    """Add a domain to a parent VASP (aborts 775 on an exact duplicate); emits DiemIdDomainEvent."""
    _prepare(ctx, tc, address, domain)
    record = ctx.borrow_mut(_W, DOMAINS, address)
    if any(entry.domain == domain for entry in record.domains):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EDOMAIN_ALREADY_EXISTS")
    record.domains = record.domains + (DiemIdDomain(_W, domain),)
    _emit(ctx, tc, False, domain, address)


def remove_diem_id_domain(ctx: Context, tc: Signer, address: bytes, domain: bytes) -> None:
    """Remove a domain (aborts 519 if absent); emits DiemIdDomainEvent{removed: true}."""
    _prepare(ctx, tc, address, domain)
    record = ctx.borrow_mut(_W, DOMAINS, address)
    kept = tuple(entry for entry in record.domains if entry.domain != domain)
    if len(kept) == len(record.domains):
        raise ERRORS.abort(Category.INVALID_ARGUMENT, "EDOMAIN_NOT_FOUND")
    record.domains = kept
    _emit(ctx, tc, True, domain, address)


def get_domains(ctx: Context, address: bytes) -> tuple[bytes, ...] | None:
    """Return the domains of a parent VASP, or None when it has no DiemIdDomains."""
    found = ctx.get(DOMAINS, address)
    return None if found is None else tuple(entry.domain for entry in found.domains)
