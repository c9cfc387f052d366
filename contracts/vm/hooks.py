"""Lazy calls into the compliance modules; a module that does not exist yet means "no restriction"."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

_PACKAGE = "contracts.framework."
_LOADED: dict[str, ModuleType | None] = {}


def get_module(name: str) -> ModuleType | None:
    """Return contracts.framework.<name> if it exists (cached), else None."""
    if name not in _LOADED:
        try:
            _LOADED[name] = importlib.import_module(_PACKAGE + name)
        except ModuleNotFoundError as exc:
            if exc.name != _PACKAGE + name:
                raise
            _LOADED[name] = None
    return _LOADED[name]


_FUNCTIONS: dict[tuple[str, str], Any] = {}
_UNRESOLVED = object()
_IS_FROZEN = ("freezing", "is_frozen")
_WITHDRAW = ("limits", "process_withdraw")
_DEPOSIT = ("limits", "process_deposit")
_KYC = ("kyc", "check_transfer")
_PAUSE = ("pause", "assert_not_paused")


def _get(module: str, function: str) -> Any:
    key = (module, function)
    if key not in _FUNCTIONS:  # resolved once; later calls are one dict look-up
        found = get_module(module)
        _FUNCTIONS[key] = getattr(found, function, None) if found is not None else None
    return _FUNCTIONS[key]


def publish_freezing_bit(ctx: Any, account_signer: Any) -> None:
    """freezing.publish_freezing_bit, if the freezing module exists."""
    hook = _get("freezing", "publish_freezing_bit")
    if hook is not None:
        hook(ctx, account_signer)


def is_frozen(ctx: Any, address: bytes) -> bool:
    """freezing.is_frozen, False when the freezing module does not exist."""
    hook = _FUNCTIONS.get(_IS_FROZEN, _UNRESOLVED)
    if hook is _UNRESOLVED:
        hook = _get(*_IS_FROZEN)
    return bool(hook(ctx, address)) if hook is not None else False


def assert_not_paused(ctx: Any) -> None:
    """pause.assert_not_paused (aborts inside pause when transfers are paused)."""
    hook = _FUNCTIONS.get(_PAUSE, _UNRESOLVED)
    if hook is _UNRESOLVED:
        hook = _get(*_PAUSE)
    if hook is not None:
        hook(ctx)


def process_withdraw(ctx: Any, address: bytes, currency_code: bytes, amount: int, payee: bytes | None) -> bool:
    """limits.process_withdraw (payee=None means inter-VASP); True (allowed) when limits does not exist."""
    hook = _FUNCTIONS.get(_WITHDRAW, _UNRESOLVED)
    if hook is _UNRESOLVED:
        hook = _get(*_WITHDRAW)
    return bool(hook(ctx, address, currency_code, amount, payee=payee)) if hook is not None else True


def process_deposit(ctx: Any, payer: bytes, payee: bytes, currency_code: bytes, amount: int) -> bool:
    """limits.process_deposit; True (allowed) when the limits module does not exist."""
    hook = _FUNCTIONS.get(_DEPOSIT, _UNRESOLVED)
    if hook is _UNRESOLVED:
        hook = _get(*_DEPOSIT)
    return bool(hook(ctx, payer, payee, currency_code, amount)) if hook is not None else True


def check_transfer(ctx: Any, payer: bytes, payee: bytes, currency_code: bytes, amount: int) -> None:
    """kyc.check_transfer (aborts inside kyc when the transfer breaks a KYC rule)."""
    hook = _FUNCTIONS.get(_KYC, _UNRESOLVED)
    if hook is _UNRESOLVED:
        hook = _get(*_KYC)
    if hook is not None:
        hook(ctx, payer, payee, currency_code, amount)


def publish_dealer(ctx: Any, dd_signer: Any, currency_tag: Any, add_all_currencies: bool) -> None:
    """designated_dealer.publish_dealer, if the module exists."""
    hook = _get("designated_dealer", "publish_dealer")
    if hook is not None:
        hook(ctx, dd_signer, currency_tag, add_all_currencies)


def initialize_reserves(ctx: Any, dr_signer: Any, config: Any) -> None:
    """reserves.initialize at genesis, if the module exists."""
    hook = _get("reserves", "initialize")
    if hook is not None:
        hook(ctx, dr_signer, config)
