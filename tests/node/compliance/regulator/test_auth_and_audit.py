"""Signing bytes (a pinned vector; node and client agree), the replay cache, and the audit chain's integrity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.compliance.regulator import audit as node_audit
from node.compliance.regulator import auth as node_auth
from node.compliance.regulator.audit import AuditLog, verify_audit_entries
from node.compliance.regulator.auth import CanonicalParamsError, ReplayCache, compute_canonical_params
from primitives.keys import PrivateKey
from wallet import regulator as client
from wallet import regulator_audit as client_audit

KEY = PrivateKey(bytes(range(32)))
NODE_ID = PrivateKey(bytes(range(32, 64))).public_key().data
VECTOR_PARAMS = ["000000000000000000000000000000dd"]
VECTOR_MESSAGE = (
    "a22560453fe41fdfe87f3723e0d790c51468a95ef658b6e6d4a81e7f5c056bbe"  # sha3(domain v2)
    "02"  # chain id
    "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"  # node id
    "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"  # public key
    "1d" + "compliance_get_account_report".encode().hex() +
    "315e1636d16d65cd84e75e371782cad41b0c692d609852e4420d1f2a1fdf0676"  # sha3(canonical params)
    "00505c18a3010000"  # timestamp 1_800_000_000_000 ms, u64 LE
    "10" "000102030405060708090a0b0c0d0e0f"  # nonce
)
VECTOR_SIGNATURE = ("d5001c43b34e5515803feb99994418df53fb91fbefe45137a9fd751b76b088aa"
                    "f7dad1a844b9ec6b8b35b826ddf9b79f172eed6b7afbd6275e0cc8b9b6893d02")


def test_signing_bytes_match_the_documented_vector_on_both_sides() -> None:
    args = (2, NODE_ID, KEY.public_key().data, "compliance_get_account_report", VECTOR_PARAMS, 1_800_000_000_000,
            bytes(range(16)))
    assert node_auth.compute_signing_message(*args).hex() == VECTOR_MESSAGE
    assert client.compute_signing_message(*args).hex() == VECTOR_MESSAGE
    assert KEY.sign(bytes.fromhex(VECTOR_MESSAGE)).hex() == VECTOR_SIGNATURE


JCS_INTEGER_MAX = 2**53 - 1  # RFC 8785 numbers are IEEE doubles: larger integers have no canonical form
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-JCS_INTEGER_MAX, JCS_INTEGER_MAX) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(params=st.lists(json_values, max_size=4), method=st.text(min_size=1, max_size=20),
       timestamp=st.integers(0, 2**63), nonce=st.binary(min_size=16, max_size=64))
def test_the_client_and_the_node_sign_the_same_bytes(params: list, method: str, timestamp: int, nonce: bytes) -> None:
    args = (2, NODE_ID, KEY.public_key().data, method, params, timestamp, nonce)
    assert client.compute_signing_message(*args) == node_auth.compute_signing_message(*args)
    # A request that went through JSON and back signs the same bytes.
    assert node_auth.compute_signing_message(2, NODE_ID, args[2], method, json.loads(json.dumps(params)), timestamp,
                                             nonce) \
        == node_auth.compute_signing_message(*args)


def test_integers_beyond_53_bits_have_no_canonical_form() -> None:
    with pytest.raises(CanonicalParamsError):
        node_auth.compute_canonical_params([JCS_INTEGER_MAX + 1])


def test_floats_have_no_canonical_form() -> None:
    with pytest.raises(CanonicalParamsError):
        compute_canonical_params([1.0])
    # JCS (RFC 8785): sorted keys, no spaces, non-ASCII as UTF-8 (not escaped).
    assert compute_canonical_params([{"b": 1, "a": "é"}]) == '[{"a":"é","b":1}]'.encode()


def test_the_replay_cache_is_bounded_and_never_evicts_a_live_nonce() -> None:
    cache = ReplayCache(entries_max=2)
    key = b"k" * 32
    assert cache.add(key, b"1" * 16, expires_ms=100, now_ms=0) is None
    assert cache.add(key, b"1" * 16, expires_ms=100, now_ms=50) == "replayed_nonce"
    assert cache.add(key, b"2" * 16, expires_ms=200, now_ms=50) is None
    assert cache.add(key, b"3" * 16, expires_ms=200, now_ms=60) == "replay_cache_full"
    assert cache.add(key, b"3" * 16, expires_ms=300, now_ms=150) is None, "the expired nonce made room"
    assert len(cache) == 2


def fill(log: AuditLog, count: int) -> None:
    for n in range(count):
        log.append(1_000 + n, "full", "ab" * 32, "compliance_get_audit_log", "cd" * 32, "ef" * 16, n % 2 == 0,
                   200 if n % 2 == 0 else 401, "" if n % 2 == 0 else "bad_signature", 10 * n)


def test_the_audit_log_survives_a_reopen_and_drops_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    fill(AuditLog(path), 3)
    with open(path, "ab") as handle:
        handle.write(b'{"seq":3,"time')  # the crash happened before fsync: that request was never answered
    reopened = AuditLog(path)
    assert reopened.next_seq == 3 and verify_audit_entries(reopened.read(0, 10)).ok
    fill(reopened, 1)
    entries = reopened.read(0, 10)
    assert [e["seq"] for e in entries] == [0, 1, 2, 3] and entries[3]["prev_hash"] == entries[2]["hash"]
    assert reopened.read(2, 1) == entries[2:3]


@settings(max_examples=40, deadline=None)
@given(index=st.integers(0, 4), field=st.sampled_from(node_audit.ENTRY_FIELDS + ("hash",)), data=st.data())
def test_any_edit_of_any_entry_breaks_verification(tmp_path_factory, index: int, field: str, data) -> None:  # noqa: ANN001
    path = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    log = AuditLog(path)
    fill(log, 5)
    entries = log.read(0, 10)
    assert verify_audit_entries(entries).ok and client_audit.verify_audit_chain(entries).ok
    original = entries[index][field]
    replacement = data.draw(st.one_of(st.integers(), st.text(max_size=70), st.none()).filter(lambda v: v != original))
    entries[index] = {**entries[index], field: replacement}
    assert not verify_audit_entries(entries).ok
    assert not client_audit.verify_audit_chain(entries).ok


def test_dropping_or_reordering_entries_breaks_verification(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    fill(log, 4)
    entries = log.read(0, 10)
    assert not client_audit.verify_audit_chain(entries[:1] + entries[2:]).ok
    assert not client_audit.verify_audit_chain([entries[1], entries[0]] + entries[2:]).ok
    assert client_audit.verify_audit_chain(entries[:3]).ok, "a prefix verifies: compare its head with the node's head"
