"""Diem JSON views of accounts and currencies, read from the framework's resources at one version."""

from __future__ import annotations

from typing import Any

from contracts.framework import account, currency, designated_dealer, diem_id, dual_attestation, freezing, roles, vasp
from contracts.vm.storage import StateView
from contracts.vm.structs import ResourceType
from node.rpc.jsonrpc import JsonObject
from primitives.types.names import AccountAddress

FIXED_POINT_32_SCALE = 2**32


def read_resource(view: StateView, rtype: ResourceType, address: bytes) -> Any | None:
    """Return the decoded resource at address, or None when it is not published."""
    data = view.get(rtype.state_key(address))
    return None if data is None else rtype.decode(data)


def get_registered_codes(view: StateView) -> tuple[bytes, ...]:
    """Return the currency codes in registration order."""
    registered = read_resource(view, currency.REGISTERED, AccountAddress.DIEM_ROOT.value)
    return () if registered is None else tuple(registered.currency_codes)


def compute_currency_views(view: StateView) -> list[JsonObject]:
    """Return the `get_currencies` list, in registration order."""
    views = []
    for code in get_registered_codes(view):
        info = read_resource(view, currency.info_type(currency.tag_of_code(code)), AccountAddress.DIEM_ROOT.value)
        if info is None:
            continue
        views.append({
            "code": code.decode("ascii"),
            "scaling_factor": info.scaling_factor,
            "fractional_part": info.fractional_part,
            "to_xdx_exchange_rate": info.to_xdx_exchange_rate / FIXED_POINT_32_SCALE,
            "mint_events_key": info.mint_events.guid.hex(),
            "burn_events_key": info.burn_events.guid.hex(),
            "preburn_events_key": info.preburn_events.guid.hex(),
            "cancel_burn_events_key": info.cancel_burn_events.guid.hex(),
            "exchange_rate_update_events_key": info.exchange_rate_update_events.guid.hex(),
        })
    return views


def compute_balances(view: StateView, address: bytes, codes: tuple[bytes, ...]) -> list[JsonObject]:
    """Return one Amount per Balance<C> the account holds, sorted by currency code."""
    balances = []
    for code in sorted(codes):
        balance = read_resource(view, account.Balance.of(currency.tag_of_code(code)), address)
        if balance is not None:
            balances.append({"amount": balance.coin.value, "currency": code.decode("ascii")})
    return balances


def compute_account_view(view: StateView, address: bytes, version: int) -> JsonObject | None:
    """Return the `get_account` view, keys in Diem's order, or None when no account exists."""
    resource = read_resource(view, account.ACCOUNT, address)
    if resource is None:
        return None
    codes = get_registered_codes(view)
    frozen = read_resource(view, freezing.FreezingBit.rtype(), address)
    return {
        "address": address.hex(),
        "balances": compute_balances(view, address, codes),
        "sequence_number": resource.sequence_number,
        "authentication_key": resource.authentication_key.hex(),
        "sent_events_key": resource.sent_events.guid.hex(),
        "received_events_key": resource.received_events.guid.hex(),
        "delegated_key_rotation_capability": resource.key_rotation_capability is None,
        "delegated_withdrawal_capability": resource.withdraw_capability is None,
        # After delegated_withdrawal_capability: the SDK's proto maps that JSON name onto is_frozen.
        "is_frozen": bool(frozen is not None and frozen.is_frozen),
        "role": compute_role_view(view, address, codes),
        "version": version,
    }


def compute_role_view(view: StateView, address: bytes, codes: tuple[bytes, ...]) -> JsonObject:
    """Return the `role` object of an account."""
    role = read_resource(view, roles.RoleId.rtype(), address)
    role_id = None if role is None else role.role_id
    if role_id == roles.ROLE_CHILD_VASP:
        child = read_resource(view, vasp.ChildVASP.rtype(), address)
        return {"type": "child_vasp", "parent_vasp_address": child.parent_vasp_addr.hex()}
    if role_id == roles.ROLE_PARENT_VASP:
        return compute_parent_vasp_view(view, address)
    if role_id == roles.ROLE_DESIGNATED_DEALER:
        return compute_designated_dealer_view(view, address, codes)
    if role_id == roles.ROLE_TREASURY_COMPLIANCE:
        manager = read_resource(view, diem_id.DiemIdDomainManager.rtype(), address)
        key = "" if manager is None else manager.diem_id_domain_events.guid.hex()
        return {"type": "treasury_compliance", "diem_id_domain_events_key": key}
    return {"type": "unknown"}


def compute_credential_fields(view: StateView, address: bytes) -> tuple[JsonObject, Any]:
    """Return the credential fields shared by parent VASPs and designated dealers, and the credential."""
    credential = read_resource(view, dual_attestation.Credential.rtype(), address)
    return {
        "human_name": credential.human_name.decode("utf-8", errors="replace"),
        "base_url": credential.base_url.decode("utf-8", errors="replace"),
        "expiration_time": credential.expiration_date,
        "compliance_key": credential.compliance_public_key.hex(),
    }, credential


def compute_parent_vasp_view(view: StateView, address: bytes) -> JsonObject:
    """Return the role object of a parent VASP."""
    fields, credential = compute_credential_fields(view, address)
    parent = read_resource(view, vasp.ParentVASP.rtype(), address)
    domains = read_resource(view, diem_id.DiemIdDomains.rtype(), address)
    return {
        "type": "parent_vasp",
        **fields,
        "num_children": parent.num_children,
        "compliance_key_rotation_events_key": credential.compliance_key_rotation_events.guid.hex(),
        "base_url_rotation_events_key": credential.base_url_rotation_events.guid.hex(),
        "diem_id_domains": None if domains is None else [
            item.domain.decode("utf-8", errors="replace") for item in domains.domains
        ],
    }


def compute_designated_dealer_view(view: StateView, address: bytes, codes: tuple[bytes, ...]) -> JsonObject:
    """Return the role object of a designated dealer, with its preburn queues."""
    fields, credential = compute_credential_fields(view, address)
    dealer = read_resource(view, designated_dealer.DEALER, address)
    balances, queues = [], []
    for code in codes:
        queue = read_resource(view, designated_dealer.queue_type(currency.tag_of_code(code)), address)
        if queue is None:
            continue
        name = code.decode("ascii")
        preburns = [
            {"preburn": {"amount": item.to_burn_value, "currency": name}, "metadata": item.metadata.hex()}
            for item in queue.preburns
        ]
        balances.append({"amount": sum(item.to_burn_value for item in queue.preburns), "currency": name})
        queues.append({"currency": name, "preburns": preburns})
    return {
        "type": "designated_dealer",
        **fields,
        "preburn_balances": balances,
        "received_mint_events_key": "" if dealer is None else dealer.mint_event_handle.guid.hex(),
        "compliance_key_rotation_events_key": credential.compliance_key_rotation_events.guid.hex(),
        "base_url_rotation_events_key": credential.base_url_rotation_events.guid.hex(),
        "preburn_queues": queues,
    }
