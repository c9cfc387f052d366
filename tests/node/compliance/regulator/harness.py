"""A regulator API over a real in-memory chain, with a settable clock, for scenario tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from node.compliance.admission.pipeline import RejectionLog
from node.compliance.regulator.audit import AuditLog
from node.compliance.regulator.auth import AUDIT_SCOPE_ALL, Authenticator, RegulatorKey, ReplayCache
from node.compliance.regulator.identity import NodeIdentity
from node.compliance.regulator.methods import ComplianceMethods
from node.compliance.regulator.server import RegulatorApi
from primitives.keys import PrivateKey
from tests.node.compliance.admission.chain import ComplianceChain
from wallet.regulator import compose_signed_headers

NOW_MS = 1_800_000_000_000
CHAIN_ID = 2
ALL_METHODS = frozenset({"*"})
NODE_KEY = PrivateKey.from_seed_material(b"regulator harness node A")
NODE_ID = NODE_KEY.public_key().data


def regulator_key(name: str) -> PrivateKey:
    return PrivateKey.from_seed_material(f"regulator {name}".encode())


class Clock:
    def __init__(self) -> None:
        self.now_ms = NOW_MS

    def __call__(self) -> int:
        return self.now_ms


def build_api(chain: ComplianceChain, audit_path: Path, rejections: RejectionLog | None = None,
              replay_entries_max: int = 1_000, node_key: PrivateKey = NODE_KEY) -> tuple[RegulatorApi, Clock]:
    """Keys: "full" (every method, every currency, every audit entry), "supply-only" (one method), "xdx-only"
    (currency XDX), "own-audit" (every method, its own audit entries only)."""
    keys = [
        RegulatorKey("full", regulator_key("full").public_key().data, ALL_METHODS, frozenset({"*"}), AUDIT_SCOPE_ALL),
        RegulatorKey("supply-only", regulator_key("supply-only").public_key().data,
                     frozenset({"compliance_get_supply_and_reserves"}), frozenset({"*"})),
        RegulatorKey("xdx-only", regulator_key("xdx-only").public_key().data, ALL_METHODS, frozenset({"XDX"})),
        RegulatorKey("own-audit", regulator_key("own-audit").public_key().data, ALL_METHODS, frozenset({"*"})),
    ]
    clock = Clock()
    audit = AuditLog(audit_path)
    identity = NodeIdentity(node_key, CHAIN_ID)
    authenticator = Authenticator(keys, CHAIN_ID, identity.node_id, clock, 60_000, ReplayCache(replay_entries_max))
    methods = ComplianceMethods(chain.ledger, rejections, audit, identity, clock,
                                getattr(chain, "index", None)).get_methods()
    return RegulatorApi(methods, authenticator, audit, chain.ledger.get_snapshot, identity), clock


def compose_request(method: str, params: list[Any], key: PrivateKey | None, timestamp_ms: int = NOW_MS,
                    nonce: bytes = b"\x01" * 16, chain_id: int = CHAIN_ID,
                    node_id: bytes = NODE_ID) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (body, headers) of a signed request to node_id (no headers when key is None)."""
    body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": params}
    headers = {} if key is None else compose_signed_headers(key, chain_id, node_id, method, params, timestamp_ms,
                                                             nonce)
    return body, headers
