"""The built-in admission hooks (sanctions, KYC gate, velocity, amount caps) and the pipeline built from config."""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from contracts.framework import kyc
from contracts.payments import Payment
from contracts.payments import decode_payment
from node.compliance.admission.codes import ACCEPT, AdmissionCode, Decision, Reject
from node.compliance.admission.pipeline import AdmissionHook, AdmissionPipeline, RejectionLog
from node.compliance.admission.view import USECS_PER_SEC, LedgerView
from node.config import AdmissionConfig
from primitives.types.transactions import SignedTransaction

ADDRESS_LENGTH = 16
SANCTIONS_FILE_BYTES_MAX = 64 * 1024 * 1024
ANY_CURRENCY = "*"
DEFAULT_EXEMPT_ROLES = ("diem_root", "treasury_compliance", "designated_dealer")


class SanctionsListError(ValueError):
    """The sanctions file is missing, too large or has a line that is not an address."""


def parse_sanctions_list(text: str) -> frozenset[bytes]:
    """Return the addresses of a sanctions file: one hex address per line (0x optional), '#' comments."""
    addresses = set()
    for number, line in enumerate(text.splitlines(), start=1):
        cleaned = line.split("#", 1)[0].strip().lower().removeprefix("0x")
        if not cleaned:
            continue
        try:
            address = bytes.fromhex(cleaned)
        except ValueError:
            raise SanctionsListError(f"line {number}: {line.strip()!r} is not a hex address") from None
        if len(address) != ADDRESS_LENGTH:
            raise SanctionsListError(f"line {number}: an address has {2 * ADDRESS_LENGTH} hex characters")
        addresses.add(address)
    return frozenset(addresses)


class SanctionsHook:
    """Refuse transactions sent by, or paying, a listed address; the file is re-read whenever it changes."""

    name = "sanctions"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._addresses: frozenset[bytes] = frozenset()
        self._error: str | None = "not loaded yet"
        self._lock = threading.Lock()
        self.reload_count = 0

    def refresh(self) -> None:
        """Re-read the file if its (mtime, size, inode) changed; a broken file makes every check refuse."""
        try:
            status = os.stat(self.path)
        except OSError as error:
            with self._lock:
                self._stamp, self._error = None, f"cannot read {self.path}: {error.strerror}"
            return
        stamp = (status.st_mtime_ns, status.st_size, status.st_ino)
        if stamp == self._stamp:
            return
        try:
            if status.st_size > SANCTIONS_FILE_BYTES_MAX:
                raise SanctionsListError(f"larger than {SANCTIONS_FILE_BYTES_MAX} bytes")
            addresses, error = parse_sanctions_list(self.path.read_text("utf-8")), None
        except (OSError, UnicodeDecodeError, SanctionsListError) as problem:
            addresses, error = frozenset(), f"{self.path}: {problem}"
        with self._lock:
            self._stamp, self._addresses, self._error = stamp, addresses, error
            self.reload_count += 1

    @property
    def addresses(self) -> frozenset[bytes]:
        """The addresses currently listed."""
        return self._addresses

    def check(self, transaction: SignedTransaction, view: LedgerView) -> Decision:
        """Refuse a listed sender or payee; refuse everything while the list is unavailable."""
        self.refresh()
        with self._lock:
            addresses, error = self._addresses, self._error
        if error is not None:
            return Reject(AdmissionCode.SANCTIONS_LIST_UNAVAILABLE, f"the sanctions list is unavailable ({error})")
        sender = transaction.sender.value
        if sender in addresses:
            return Reject(AdmissionCode.SANCTIONED_SENDER, f"sender {sender.hex()} is on the sanctions list")
        payment = decode_payment(transaction)
        if payment is not None and payment.payee in addresses:
            return Reject(AdmissionCode.SANCTIONED_PAYEE, f"payee {payment.payee.hex()} is on the sanctions list")
        return ACCEPT


def get_subject_payment(transaction: SignedTransaction, view: LedgerView, exempt_roles: Iterable[str]) -> Payment | None:
    """Return the transaction's payment unless it moves no value or the sender's role is exempt."""
    payment = decode_payment(transaction)
    if payment is None or view.get_role_name(payment.payer) in set(exempt_roles):
        return None
    return payment


class KycGateHook:
    """Above threshold_micro, payer and payee need an unexpired on-chain KYC record of at least min_tier."""

    name = "kyc"

    def __init__(self, min_tier: int, threshold_micro: int, exempt_roles: Iterable[str] = DEFAULT_EXEMPT_ROLES) -> None:
        self.min_tier = min_tier
        self.threshold_micro = threshold_micro
        self.exempt_roles = frozenset(exempt_roles)

    def check(self, transaction: SignedTransaction, view: LedgerView) -> Decision:
        """Refuse a payment above the threshold unless both sides hold a valid record of the minimum tier."""
        payment = get_subject_payment(transaction, view, self.exempt_roles)
        if payment is None or payment.amount_micro <= self.threshold_micro:
            return ACCEPT
        sides = ((payment.payer, "sender", AdmissionCode.KYC_SENDER_MISSING),
                 (payment.payee, "payee", AdmissionCode.KYC_PAYEE_MISSING))
        for address, label, missing in sides:
            if label == "payee" and view.get_role_name(address) in self.exempt_roles:
                continue
            rejection = self._check_record(view, address, label, missing, payment.amount_micro)
            if rejection is not None:
                return rejection
        return ACCEPT

    def _check_record(self, view: LedgerView, address: bytes, label: str, missing: AdmissionCode,
                      amount_micro: int) -> Reject | None:
        # Codes of one side are consecutive: missing, expired, tier too low.
        expired, too_low = AdmissionCode(missing + 1), AdmissionCode(missing + 2)
        record = view.get_kyc_record(address)
        above = f"payments above {self.threshold_micro} micro-units (this one: {amount_micro})"
        if record is None:
            return Reject(missing, f"{label} {address.hex()} has no KYC record; {above} need tier {self.min_tier}")
        if view.now_us >= record.expiration_us:
            return Reject(expired, f"the KYC record of {label} {address.hex()} expired at {record.expiration_us} us")
        if record.tier < self.min_tier:
            return Reject(too_low, f"{label} {address.hex()} has KYC tier {record.tier}; {above} need tier {self.min_tier}")
        return None


@dataclass(frozen=True, slots=True)
class VelocityWindow:
    """At most max_transfers and max_amount_micro sent within window_us (None = no such limit)."""

    window_us: int
    max_transfers: int | None
    max_amount_micro: int | None
    currency: str = ANY_CURRENCY


class VelocityHook:
    """Per-account velocity: the sender's committed and pending transfers in each window, plus this one."""

    name = "velocity"

    def __init__(self, windows: Iterable[VelocityWindow], exempt_roles: Iterable[str] = DEFAULT_EXEMPT_ROLES) -> None:
        self.windows = tuple(windows)
        self.exempt_roles = frozenset(exempt_roles)

    @property
    def retention_us(self) -> int:
        """How far back the transfer history must reach."""
        return max((window.window_us for window in self.windows), default=0)

    def check(self, transaction: SignedTransaction, view: LedgerView) -> Decision:
        """Refuse a payment that would break a window's count or amount for its sender."""
        payment = get_subject_payment(transaction, view, self.exempt_roles)
        if payment is None:
            return ACCEPT
        own_hash = transaction.hash()
        history = [r for r in view.transfers.get_outgoing(payment.payer, view.now_us - self.retention_us)
                   if r.txn_hash != own_hash]  # a resubmission must not count itself twice
        for window in self.windows:
            if window.currency not in (ANY_CURRENCY, payment.currency):
                continue
            since_us = view.now_us - window.window_us
            inside = [r for r in history if (r.is_pending or r.time_us >= since_us)
                      and window.currency in (ANY_CURRENCY, r.currency)]
            label = f"{window.window_us // USECS_PER_SEC} s"
            if window.max_transfers is not None and len(inside) + 1 > window.max_transfers:
                return Reject(AdmissionCode.VELOCITY_COUNT_EXCEEDED,
                              f"sender {payment.payer.hex()} already has {len(inside)} transfers in the last {label} "
                              f"(limit {window.max_transfers})")
            total = sum(r.amount_micro for r in inside) + payment.amount_micro
            if window.max_amount_micro is not None and total > window.max_amount_micro:
                return Reject(AdmissionCode.VELOCITY_AMOUNT_EXCEEDED,
                              f"sender {payment.payer.hex()} would send {total} micro-units in {label} "
                              f"(limit {window.max_amount_micro})")
        return ACCEPT


@dataclass(frozen=True, slots=True)
class AmountCap:
    """The largest payment a sender of effective KYC tier >= tier (until the next cap) may make."""

    tier: int
    max_amount_micro: int
    currency: str = ANY_CURRENCY


class AmountCapsHook:
    """A per-payment cap chosen by the sender's effective on-chain KYC tier (highest cap tier <= its tier)."""

    name = "amount_caps"

    def __init__(self, caps: Iterable[AmountCap], exempt_roles: Iterable[str] = DEFAULT_EXEMPT_ROLES) -> None:
        self.caps = tuple(sorted(caps, key=lambda cap: cap.tier))
        self.exempt_roles = frozenset(exempt_roles)

    def check(self, transaction: SignedTransaction, view: LedgerView) -> Decision:
        """Refuse a payment above the cap of its sender's effective tier."""
        payment = get_subject_payment(transaction, view, self.exempt_roles)
        if payment is None:
            return ACCEPT
        tier = kyc.compute_effective_tier(view.get_kyc_record(payment.payer), view.now_us)
        applicable = [cap for cap in self.caps if cap.tier <= tier and cap.currency in (ANY_CURRENCY, payment.currency)]
        if not applicable:
            return ACCEPT
        cap = applicable[-1]
        if payment.amount_micro > cap.max_amount_micro:
            return Reject(AdmissionCode.AMOUNT_CAP_EXCEEDED,
                          f"{payment.amount_micro} micro-units exceeds the {cap.max_amount_micro} cap of KYC tier {tier}")
        return ACCEPT


def resolve_path(path: Path, base: Path) -> Path:
    """Return path, made absolute against base when relative."""
    return path if path.is_absolute() else base / path


def build_hook(name: str, config: AdmissionConfig, data_dir: Path) -> AdmissionHook:
    """Return the hook named in [admission].hooks: a built-in, or `module:factory` called with the config."""
    if name == "sanctions" and config.sanctions is not None:
        return SanctionsHook(resolve_path(config.sanctions.list_file, data_dir))
    if name == "kyc" and config.kyc is not None:
        return KycGateHook(config.kyc.min_tier, config.kyc.threshold_micro, config.kyc.exempt_roles)
    if name == "velocity" and config.velocity is not None:
        windows = [VelocityWindow(w.window_s * USECS_PER_SEC, w.max_transfers, w.max_amount_micro, w.currency)
                   for w in config.velocity.windows]
        return VelocityHook(windows, config.velocity.exempt_roles)
    if name == "amount_caps" and config.amount_caps is not None:
        caps = [AmountCap(c.tier, c.max_amount_micro, c.currency) for c in config.amount_caps.caps]
        return AmountCapsHook(caps, config.amount_caps.exempt_roles)
    if ":" in name:
        module_name, factory = name.split(":", 1)
        return getattr(importlib.import_module(module_name), factory)(config)
    raise ValueError(f"[admission] hook {name!r} is not a built-in with its [admission.{name}] section, "
                     f"nor module:factory")


# Where the rejection log is kept, under the node's data_dir.
REJECTIONS_DIR = "admission"


def build_pipeline(config: AdmissionConfig, data_dir: Path) -> AdmissionPipeline:
    """Return the pipeline of an [admission] config section."""
    hooks = [build_hook(name, config, data_dir) for name in config.hooks]
    rejections = RejectionLog(config.rejection_log_entries_max, data_dir / REJECTIONS_DIR)
    return AdmissionPipeline(hooks, config.hook_budget_ms, rejections,
                             config.isolation)


def get_retention_us(pipeline: AdmissionPipeline) -> int:
    """Return how much transfer history the pipeline's velocity hooks need."""
    return max((hook.retention_us for hook in pipeline.hooks if isinstance(hook, VelocityHook)), default=0)
