"""An account page from proven resources and certified payment events."""

from __future__ import annotations

from typing import Any

from contracts.framework import account, diem_id, dual_attestation, freezing, roles, vasp
from contracts.framework.currency import tag_of_code
from explorer.chain import ChainReader
from explorer.decode import get_role_name
from explorer.inputs import AccountRef, NotFound
from explorer.models import AccountView, Payment
from primitives.account_identifier import TESTNET_HRP, encode_account_identifier
from primitives.types.names import AccountAddress
from wallet.models import Event

PAYMENTS_SHOWN = 20  # per direction; the page links to the counts of all of them

BASE_RESOURCES = [account.ACCOUNT, roles.ROLE_ID, freezing.FreezingBit.rtype(), vasp.PARENT, vasp.CHILD,
                  dual_attestation.Credential.rtype(), diem_id.DOMAINS]


async def get_account_view(reader: ChainReader, ref: AccountRef) -> AccountView:
    """Return an account's role, state, balances and recent payments, every figure proven."""
    address = ref.address if ref.address is not None else await reader.resolve_diem_id(ref)
    codes = await reader.get_registered_codes()
    balance_types = [account.Balance.of(tag_of_code(code.encode("ascii"))) for code in codes]
    version, values = await reader.get_resources(address, BASE_RESOURCES + balance_types)
    resource, role, frozen, parent, child, credential, domains = values[:len(BASE_RESOURCES)]
    if resource is None:
        raise NotFound(f"there is no account {address.hex()} on the chain (proven absent at version {version})")
    balances = tuple((code, balance.coin.value) for code, balance in zip(codes, values[len(BASE_RESOURCES):])
                     if balance is not None)
    payments = await get_payments(reader, resource)
    trust = await reader.get_trust()
    return AccountView(
        address=address.hex(), identifier=encode_account_identifier(TESTNET_HRP, AccountAddress(address),
                                                                    ref.subaddress),
        subaddress=None if ref.subaddress is None else ref.subaddress.hex(),
        role=get_role_name(None if role is None else role.role_id),
        human_name=None if credential is None else credential.human_name.decode("utf-8", errors="replace"),
        base_url=None if credential is None else credential.base_url.decode("utf-8", errors="replace"),
        parent_vasp=None if child is None else bytes(child.parent_vasp_addr).hex(),
        diem_id_domains=() if domains is None else tuple(
            entry.domain.decode("ascii", errors="replace") for entry in domains.domains),
        is_frozen=frozen is not None and frozen.is_frozen, sequence_number=resource.sequence_number,
        balances=balances, payments=payments, sent_count=resource.sent_events.counter,
        received_count=resource.received_events.counter, proven_version=version, trust=trust,
    )


async def get_payments(reader: ChainReader, resource: Any) -> tuple[Payment, ...]:
    """Return the latest sent and received payments of an account, newest first, from certified events."""
    verifying = await reader.get_verifying()
    payments: list[Payment] = []
    for direction, handle in (("sent", resource.sent_events), ("received", resource.received_events)):
        start = max(0, handle.counter - PAYMENTS_SHOWN)
        if handle.counter == start:
            continue
        events = await verifying.get_events(bytes(handle.guid).hex(), start, handle.counter - start)
        payments += [compute_payment(direction, event) for event in events if event.data.amount is not None]
    return tuple(sorted(payments, key=lambda payment: (payment.version, payment.direction), reverse=True))


def compute_payment(direction: str, event: Event) -> Payment:
    """Return one verified payment event (its fields were checked against the certified bytes)."""
    data = event.data
    counterparty = data.receiver if direction == "sent" else data.sender
    amount = data.amount
    return Payment(event.transaction_version, direction, counterparty or "", amount.amount if amount else 0,
                   amount.currency if amount else "", data.metadata or "")
