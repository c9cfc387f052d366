"""Item 16: the regulator API in the standard envelope, RFC 9421 HTTP Message Signatures with an RFC 9530
Content-Digest, bound to the node like v2, each answer signed by the node over its status and body and bound to the
request's own signature ("signature";req)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from http_message_signatures import HTTPMessageSigner, algorithms
from http_message_signatures.structures import CaseInsensitiveDict

from node.compliance.regulator.server import RegulatorApi, create_regulator_app
from primitives.keys import PrivateKey
from tests.adversarial.test_regulator_node_binding import NODE_B_KEY, serve_forgery
from tests.node.compliance.admission.chain import ComplianceChain
from tests.node.compliance.regulator.harness import NODE_KEY, NOW_MS, build_api, regulator_key
from wallet.regulator import ENVELOPE_RFC9421, RegulatorClient, UnsignedResponse
from wallet.regulator_httpsig import Ed25519Keys, RequestView, compose_rfc9421_headers, is_signed_rfc9421_answer

SUPPLY = "compliance_get_supply_and_reserves"
NODE_ID = NODE_KEY.public_key().data


def compose(params: list[Any], key: PrivateKey, url: str, node_id: bytes = NODE_ID, created_s: int = NOW_MS // 1_000,
            nonce: bytes = b"\x09" * 16) -> tuple[bytes, dict[str, str]]:
    """Return (body, headers) of a request signed in the RFC 9421 envelope."""
    body = json.dumps({"jsonrpc": "2.0", "id": 3, "method": SUPPLY, "params": params}).encode()
    return body, compose_rfc9421_headers(key, node_id, url, body, created_s, nonce)


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[TestClient, RegulatorApi]]:
    api, _ = build_api(ComplianceChain(), tmp_path / "audit.jsonl")
    async with TestClient(TestServer(create_regulator_app(api), host="127.0.0.1")) as client:
        yield client, api


async def post(client: TestClient, body: bytes, headers: dict[str, str]) -> tuple[int, str | None, Any]:
    response = await client.post("/v1", data=body, headers=headers)
    answer = await response.json()
    return response.status, answer.get("reason"), response


async def test_a_request_signed_with_rfc_9421_is_answered_audited_and_the_answer_is_signed(node) -> None:  # noqa: ANN001
    client, api = node
    url = str(client.make_url("/v1"))
    body, headers = compose([], regulator_key("full"), url)
    status, reason, response = await post(client, body, headers)
    assert (status, reason) == (200, None)
    raw = await response.read()
    assert is_signed_rfc9421_answer(NODE_ID, url, headers, 200, response.headers, raw)
    assert not is_signed_rfc9421_answer(NODE_ID, url, headers, 401, response.headers, raw), "the status is covered"
    assert not is_signed_rfc9421_answer(NODE_ID, url, headers, 200, response.headers, raw + b" "), "so is the body"
    _, other = compose([], regulator_key("full"), url, nonce=b"\x0a" * 16)
    assert not is_signed_rfc9421_answer(NODE_ID, url, other, 200, response.headers, raw), "bound to this request"
    entry = api.audit.read(0, 1)[0]
    assert (entry["regulator"], entry["nonce"], entry["outcome"]) == ("full", "09" * 16, "allowed")
    assert entry["public_key"] == regulator_key("full").public_key().hex()


async def test_rfc_9421_requests_are_bound_to_the_node_the_body_the_time_and_the_nonce(node) -> None:  # noqa: ANN001
    client, _ = node
    url = str(client.make_url("/v1"))
    key = regulator_key("full")
    body, headers = compose([], key, url, node_id=NODE_B_KEY.public_key().data)
    assert (await post(client, body, headers))[:2] == (401, "wrong_node")
    edited = {**headers, "X-Regulator-Node": NODE_ID.hex()}  # the node header is a covered component
    assert (await post(client, body, edited))[:2] == (401, "bad_signature")
    body, headers = compose([], key, url, nonce=b"\x01" * 16)
    other_body = body.replace(b"[]", b'["XUS"]')  # params changed after signing: the Content-Digest no longer holds
    assert (await post(client, other_body, headers))[:2] == (401, "bad_signature")
    assert (await post(client, body, headers))[:2] == (200, None)
    assert (await post(client, body, headers))[:2] == (401, "replayed_nonce")
    body, headers = compose([], key, url, created_s=NOW_MS // 1_000 - 3_600, nonce=b"\x02" * 16)
    assert (await post(client, body, headers))[:2] == (401, "stale_timestamp")
    body, headers = compose([], PrivateKey.from_seed_material(b"stranger"), url, nonce=b"\x03" * 16)
    assert (await post(client, body, headers))[:2] == (401, "bad_signature")
    body, headers = compose([], key, url, nonce=b"\x04" * 16)
    assert (await post(client, body, {**headers, "Signature-Input": "regulator=(("}))[:2] == (401, "malformed_signature")
    assert (await post(client, body, {**headers, "Signature": ""}))[:2] == (401, "missing_signature")


def compose_covering(components: tuple[str, ...], key: PrivateKey, url: str, nonce: bytes) -> tuple[bytes, dict]:
    """Return (body, headers) signed over only the given components (a client that leaves some out)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 3, "method": SUPPLY, "params": []}).encode()
    request = RequestView("POST", url, CaseInsensitiveDict({"Content-Type": "application/json",
                                                             "X-Regulator-Node": NODE_ID.hex()}))
    HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=Ed25519Keys(key)).sign(
        request, key_id=key.public_key().hex(), label="regulator", tag="stablechain-regulator", nonce=nonce.hex(),
        created=datetime.datetime.fromtimestamp(NOW_MS // 1_000, datetime.UTC), covered_component_ids=components,
        body=body if "content-digest" in components else None)  # given the body, the library covers its digest
    return body, dict(request.headers)


@pytest.mark.parametrize("left_out", ["x-regulator-node", "content-digest", "@path"])
async def test_a_signature_that_leaves_out_a_required_component_is_refused(node, left_out: str) -> None:  # noqa: ANN001
    client, _ = node
    components = tuple(c for c in ("@method", "@path", "content-digest", "x-regulator-node") if c != left_out)
    body, headers = compose_covering(components, regulator_key("full"), str(client.make_url("/v1")), b"\x05" * 16)
    # Without the node header covered the request would be valid on every node; without the digest, for any body.
    assert (await post(client, body, headers))[:2] == (401, "bad_signature")


def test_the_signature_base_is_the_one_rfc_9421_defines() -> None:
    # RFC 9421 section 2.5, written out for this envelope: what a regulator's own RFC 9421 library must produce
    # (the example of docs/compliance.md, "The RFC 9421 envelope").
    body = b'{"jsonrpc":"2.0","id":1,"method":"compliance_get_supply_and_reserves","params":[]}'
    key, nonce, node_id = PrivateKey(bytes(range(32))), bytes(range(16)), PrivateKey(bytes(range(32, 64))).public_key().data
    headers = compose_rfc9421_headers(key, node_id, "http://127.0.0.1:8090/v1", body, 1_800_000_000, nonce)
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert headers["Content-Digest"] == f"sha-256=:{digest}:" == "sha-256=:tI/geei75V6IjpJ5RoJERSO3X3ZXwB7CV5E+xyn9Di8=:"
    params = (f'("@method" "@path" "content-digest" "x-regulator-node");created=1800000000;'
              f'keyid="{key.public_key().hex()}";alg="ed25519";nonce="{nonce.hex()}";tag="stablechain-regulator"')
    assert headers["Signature-Input"] == f"regulator={params}"
    base = (f'"@method": POST\n"@path": /v1\n"content-digest": sha-256=:{digest}:\n'
            f'"x-regulator-node": {node_id.hex()}\n"@signature-params": {params}').encode()
    assert headers["Signature"] == f"regulator=:{base64.b64encode(key.sign(base)).decode()}:" == (
        "regulator=:oOFWw5cz1lMs0DafY/5quxwnTvA+DqMZLWzPXgsaLnhdD74inTYOWC1OEEzbROHSBp6tHBAjQ3Gd91f0Fh3bDw==:")


@pytest.mark.parametrize("signer", ["impostor", "none"])
async def test_the_client_in_rfc_9421_refuses_an_answer_not_signed_by_the_node(signer: str) -> None:
    server = await serve_forgery(NODE_KEY, PrivateKey.from_seed_material(b"impostor") if signer == "impostor" else None)
    try:
        client = RegulatorClient(str(server.make_url("/v1")), regulator_key("full"), envelope=ENVELOPE_RFC9421)
        with pytest.raises(UnsignedResponse, match="no RFC 9421 signature"):
            await client.call(SUPPLY, [])
    finally:
        await server.close()


async def test_the_sdk_in_rfc_9421_talks_to_a_real_listener(tmp_path: Path) -> None:
    from node.compliance.regulator.server import build_regulator_api, start_regulator_server
    from tests.adversarial.test_regulator_node_binding import make_config

    api = build_regulator_api(make_config(("finma", "own")), ComplianceChain().ledger, None, tmp_path, NODE_KEY)
    runner, port = await start_regulator_server(api, "127.0.0.1", 0)
    try:
        client = RegulatorClient(f"http://127.0.0.1:{port}/v1", regulator_key("finma"), envelope=ENVELOPE_RFC9421)
        assert (await client.call(SUPPLY, []))["currencies"][0]["currency"] == "XUS"
        fetched = await client.fetch_audit_log()
        assert client.check_audit(fetched).ok and fetched.head.count == 1
    finally:
        await runner.cleanup()


async def test_an_unknown_envelope_is_a_clear_error() -> None:
    from wallet.errors import WalletError

    with pytest.raises(WalletError, match="envelope is one of"):
        RegulatorClient("http://127.0.0.1:1/v1", regulator_key("full"), envelope="jws")
