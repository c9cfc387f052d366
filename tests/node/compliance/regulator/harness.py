"""A regulator API over a real in-memory chain, with a settable clock, for scenario tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from node.compliance.admission.pipeline import RejectionLog
from node.compliance.regulator.audit import AuditLog
from node.compliance.regulator.auth import Authenticator, RegulatorKey, ReplayCache
from node.compliance.regulator.methods import ComplianceMethods
from node.compliance.regulator.server import RegulatorApi
from primitives.keys import PrivateKey
from tests.node.compliance.admission.chain import ComplianceChain
from wallet.regulator import compose_signed_headers

NOW_MS = 1_800_000_000_000
CHAIN_ID = 2
ALL_METHODS = frozenset({"*"})


def regulator_key(name: str) -> PrivateKey:
    return PrivateKey.from_seed_material(f"regulator {name}".encode())


class Clock:
    def __init__(self) -> None:
        self.now_ms = NOW_MS

    def __call__(self) -> int:
        return self.now_ms


def build_api(chain: ComplianceChain, audit_path: Path, rejections: RejectionLog | None = None,
              replay_entries_max: int = 1_000) -> tuple[RegulatorApi, Clock]:
    """Keys: "full" (every method, every currency), "supply-only" (one method), "xdx-only" (currency XDX)."""
    keys = [
        RegulatorKey("full", regulator_key("full").public_key().data, ALL_METHODS, frozenset({"*"})),
        RegulatorKey("supply-only", regulator_key("supply-only").public_key().data,
                     frozenset({"compliance_get_supply_and_reserves"}), frozenset({"*"})),
        RegulatorKey("xdx-only", regulator_key("xdx-only").public_key().data, ALL_METHODS, frozenset({"XDX"})),
    ]
    clock = Clock()
    audit = AuditLog(audit_path)
    authenticator = Authenticator(keys, CHAIN_ID, clock, 60_000, ReplayCache(replay_entries_max))
    methods = ComplianceMethods(chain.ledger, rejections, audit, getattr(chain, "index", None)).get_methods()
    return RegulatorApi(methods, authenticator, audit, chain.ledger.get_snapshot), clock


def compose_request(method: str, params: list[Any], key: PrivateKey | None, timestamp_ms: int = NOW_MS,
                    nonce: bytes = b"\x01" * 16, chain_id: int = CHAIN_ID) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (body, headers) of a signed request (no headers when key is None)."""
    body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": params}
    headers = {} if key is None else compose_signed_headers(key, chain_id, method, params, timestamp_ms, nonce)
    return body, headers
