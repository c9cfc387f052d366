"""The audit-log methods: pages scoped to the caller (hash-only stubs for others' entries) and the signed head."""

from __future__ import annotations

from collections.abc import Callable

from node.compliance.regulator.audit import AuditLog
from node.compliance.regulator.auth import AUDIT_SCOPE_ALL, AUDIT_SCOPE_OWN, RegulatorKey
from node.compliance.regulator.identity import NodeIdentity
from node.rpc.jsonrpc import JsonObject, JsonValue, LedgerSnapshot

# A stub keeps what the chain needs of an entry the caller may not read: its place and its hash.
STUB_FIELDS = ("seq", "hash")

PageParser = Callable[[str, list[JsonValue], int], tuple[int, int]]


def scope_entries(entries: list[JsonObject], key: RegulatorKey) -> list[JsonObject]:
    """Return the entries with every one the key may not read replaced by its stub {seq, hash}."""
    return [entry if key.may_read_audit_entry(entry["public_key"]) else {name: entry[name] for name in STUB_FIELDS}
            for entry in entries]


class AuditMethods:
    """compliance_get_audit_log and compliance_get_audit_head over the node's audit log and identity."""

    def __init__(self, audit: AuditLog, identity: NodeIdentity, wall_clock_ms: Callable[[], int],
                 parse_page: PageParser) -> None:
        self.audit = audit
        self.identity = identity
        self.wall_clock_ms = wall_clock_ms
        self.parse_page = parse_page

    def sign_current_head(self) -> tuple[JsonObject, int]:
        """Return the signed head of the log as it is now, and its count."""
        # One read of (count, hash) under the log's own ordering: appends only ever move both forward together.
        count, head_hash = self.audit.get_head()
        return self.identity.sign_head(count, head_hash, self.wall_clock_ms()), count

    async def get_audit_log(self, snapshot: LedgerSnapshot, params: list[JsonValue], key: RegulatorKey) -> JsonValue:
        """compliance_get_audit_log([start_seq?, limit?]): the caller's entries (all with scope "all"), stubs, the signed head."""
        start, limit = self.parse_page("compliance_get_audit_log", params, 0)
        # Sign the head first: the page never reaches past it, so (entries, head) are consistent.
        head, count = self.sign_current_head()
        entries = self.audit.read(start, min(limit, max(count - start, 0)))
        scope = AUDIT_SCOPE_ALL if key.audit_scope == AUDIT_SCOPE_ALL else AUDIT_SCOPE_OWN
        return {"next_seq": count, "head_hash": head["head_hash"], "head": head, "scope": scope,
                "entries": scope_entries(entries, key)}

    async def get_audit_head(self, snapshot: LedgerSnapshot, params: list[JsonValue], key: RegulatorKey) -> JsonValue:
        """compliance_get_audit_head([]): (count, head hash, node id, chain id, time) signed by the node's key."""
        return self.sign_current_head()[0]
