"""Item 15 on the regulator listener: requests bound to one node, answers signed by it, audit reads scoped to the
caller, and a signed audit head that exposes a rewritten log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from node.compliance.regulator.audit import compute_entry_hash
from node.compliance.regulator.identity import NodeIdentity, get_request_signature
from node.compliance.regulator.server import build_regulator_api, create_regulator_app, start_regulator_server
from node.compliance.regulator.throttle import REFUSED_BURST, RefusalThrottle
from node.config import RegulatorConfig
from primitives.keys import PrivateKey
from tests.node.compliance.admission.chain import ComplianceChain
from tests.node.compliance.regulator.harness import NODE_KEY, NOW_MS, build_api, compose_request, regulator_key
from wallet.errors import WalletError
from wallet.regulator import RegulatorClient, UnsignedResponse, check_response_signature
from wallet.regulator_audit import HeadStore, SignedHead, verify_audit_chain

Handler = Callable[[web.Request], Awaitable[web.Response]]

NODE_B_KEY = PrivateKey.from_seed_material(b"regulator harness node B")
SUPPLY = "compliance_get_supply_and_reserves"


def make_config(*names_and_scopes: tuple[str, str]) -> RegulatorConfig:
    return RegulatorConfig.model_validate({"listen_port": 0, "regulators": [
        {"name": name, "public_key": regulator_key(name).public_key().hex(), "methods": ["*"], "audit_scope": scope}
        for name, scope in names_and_scopes]})


@pytest.fixture
async def two_nodes(tmp_path: Path) -> AsyncIterator[tuple[TestClient, TestClient, object]]:
    chain = ComplianceChain()
    node_a, _ = build_api(chain, tmp_path / "a.jsonl")
    node_b, _ = build_api(chain, tmp_path / "b.jsonl", node_key=NODE_B_KEY)
    node_b.throttle = RefusalThrottle(clock=lambda: 100.0)
    async with TestClient(TestServer(create_regulator_app(node_a), host="127.0.0.1")) as client_a, \
            TestClient(TestServer(create_regulator_app(node_b), host="127.0.0.1")) as client_b:
        yield client_a, client_b, node_b


async def test_a_request_signed_for_one_node_is_refused_by_another_audited_and_throttled(two_nodes) -> None:  # noqa: ANN001
    client_a, client_b, node_b = two_nodes
    body, headers = compose_request(SUPPLY, [], regulator_key("full"), timestamp_ms=NOW_MS)
    answer_b = await client_b.post("/v1", json=body, headers=headers)
    assert (answer_b.status, (await answer_b.json())["reason"]) == (401, "wrong_node")
    assert (await client_a.post("/v1", json=body, headers=headers)).status == 200, "valid on the node it names"
    entry = node_b.audit.read(0, 1)[0]
    assert (entry["outcome"], entry["status"], entry["reason"]) == ("refused", 401, "wrong_node")
    # Naming node B in the header does not help: the signature covers the node id it was made for.
    forged = {**headers, "X-Regulator-Node": NODE_B_KEY.public_key().hex()}
    answer = await client_b.post("/v1", json=body, headers=forged)
    assert (answer.status, (await answer.json())["reason"]) == (401, "bad_signature")
    for _ in range(REFUSED_BURST):
        status = (await client_b.post("/v1", json=body, headers=headers)).status
    assert status == 429, "refusals for another node are throttled like any other"


async def test_every_answer_is_signed_by_the_node_and_bound_to_its_request(two_nodes) -> None:  # noqa: ANN001
    client_a, _, _ = two_nodes
    node_id = NODE_KEY.public_key().data
    discovery = await client_a.get("/v1/node")
    raw = await discovery.read()
    assert json.loads(raw)["node_id"] == node_id.hex()
    check_response_signature(node_id, 200, discovery.headers, b"", raw)
    lowered = {name.lower(): value for name, value in discovery.headers.items()}  # as an HTTP/2 proxy spells them
    check_response_signature(node_id, 200, lowered, b"", raw)
    key = regulator_key("full")
    for nonce, timestamp_ms in ((b"\x05" * 16, NOW_MS), (b"\x06" * 16, NOW_MS - 3_600_000)):  # answered, then stale
        body, headers = compose_request(SUPPLY, [], key, timestamp_ms=timestamp_ms, nonce=nonce)
        answer = await client_a.post("/v1", json=body, headers=headers)
        raw = await answer.read()
        signature = bytes.fromhex(headers["X-Regulator-Signature"])
        check_response_signature(node_id, answer.status, answer.headers, signature, raw)
        with pytest.raises(UnsignedResponse):  # the same answer does not pass for another request's
            check_response_signature(node_id, answer.status, answer.headers, bytes(64), raw)
        with pytest.raises(UnsignedResponse):  # nor with another status
            check_response_signature(node_id, 503, answer.headers, signature, raw)
    assert answer.status == 401, "refusals are signed too"


async def serve_forgery(node: PrivateKey, signer: PrivateKey | None) -> TestServer:
    """Return a started server that announces node but signs answers with signer (None: no signature at all)."""
    async def discover(_request: web.Request) -> web.Response:
        body = json.dumps({"node_id": node.public_key().hex(), "chain_id": 2}).encode()
        return web.Response(body=body, headers=NodeIdentity(node, 2).sign_response(200, b"", body))

    async def answer(request: web.Request) -> web.Response:
        body = b'{"jsonrpc":"2.0","id":1,"result":{"currencies":[]}}'
        headers = {} if signer is None else NodeIdentity(signer, 2).sign_response(
            200, get_request_signature(request.headers), body)
        headers["X-Regulator-Node"] = node.public_key().hex()
        return web.Response(body=body, headers=headers)

    return await start_fake_node(discover, answer)


async def start_fake_node(discover: Handler, answer: Handler) -> TestServer:
    """Return a started server with a regulator listener's two routes: node discovery and the API."""
    app = web.Application()
    app.router.add_get("/v1/node", discover)
    app.router.add_post("/v1", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


@pytest.mark.parametrize("signer", ["impostor", "none"])
async def test_the_client_refuses_answers_not_signed_by_the_node(signer: str) -> None:
    impostor = PrivateKey.from_seed_material(b"impostor")
    server = await serve_forgery(NODE_KEY, impostor if signer == "impostor" else None)
    try:
        client = RegulatorClient(str(server.make_url("/v1")), regulator_key("full"))
        with pytest.raises(UnsignedResponse, match="not signed by node"):
            await client.call(SUPPLY, [])
        pinned = RegulatorClient(str(server.make_url("/v1")), regulator_key("full"), node_id=NODE_B_KEY.public_key().data)
        with pytest.raises(WalletError, match="not the pinned"):
            await pinned.call(SUPPLY, [])
    finally:
        await server.close()


async def test_audit_reads_show_the_caller_its_own_entries_and_still_verify(tmp_path: Path) -> None:
    api, _ = build_api(ComplianceChain(), tmp_path / "audit.jsonl")
    async with TestClient(TestServer(create_regulator_app(api), host="127.0.0.1")) as client:
        async def post(name: str, method: str, params: list, nonce: int) -> dict:
            body, headers = compose_request(method, params, regulator_key(name), nonce=bytes([nonce]) * 16)
            return await (await client.post("/v1", json=body, headers=headers)).json()

        await post("xdx-only", SUPPLY, [], 1)
        await post("own-audit", SUPPLY, [], 2)
        await post("xdx-only", SUPPLY, [], 3)
        mine = (await post("own-audit", "compliance_get_audit_log", [], 4))["result"]
        everything = (await post("full", "compliance_get_audit_log", [], 5))["result"]
    own_key = regulator_key("own-audit").public_key().hex()
    assert mine["scope"] == "own" and [set(e) for e in mine["entries"]] == [{"seq", "hash"}, mine["entries"][1].keys(),
                                                                             {"seq", "hash"}]
    assert mine["entries"][1]["public_key"] == own_key and mine["entries"][1]["regulator"] == "own-audit"
    check = verify_audit_chain(mine["entries"])
    assert check.ok and check.stubs == 2 and check.head_hash == mine["head"]["head_hash"]
    assert [e["hash"] for e in mine["entries"]] == [e["hash"] for e in everything["entries"][:3]]
    assert everything["scope"] == "all" and all("method" in e for e in everything["entries"])
    SignedHead.from_json(mine["head"], NODE_KEY.public_key().data, 2)
    with pytest.raises(WalletError, match="not signed"):
        SignedHead.from_json({**mine["head"], "count": 1}, NODE_KEY.public_key().data, 2)
    tampered = [dict(e) for e in mine["entries"]]
    tampered[1]["method"] = "compliance_get_nothing"
    assert not verify_audit_chain(tampered).ok, "the caller's own entries are checked in full"


def rewrite_log(path: Path, seq: int) -> None:
    """Change one entry's method and recompute every hash after it: a chain that verifies on its own."""
    entries = [json.loads(line) for line in path.read_bytes().splitlines()]
    entries[seq]["method"] = "compliance_get_account_report"
    for index in range(seq, len(entries)):
        if index > 0:
            entries[index]["prev_hash"] = entries[index - 1]["hash"]
        entries[index]["hash"] = compute_entry_hash(entries[index])
    path.write_bytes(b"".join(json.dumps(e, sort_keys=True, separators=(",", ":")).encode() + b"\n" for e in entries))


@pytest.mark.parametrize("scope", ["all", "own"])
async def test_a_rewritten_audit_log_is_detected_against_a_head_the_regulator_kept(tmp_path: Path, scope: str) -> None:
    config = make_config(("finma", scope), ("other", "own"))
    heads_file = tmp_path / "heads.jsonl"
    checks = []
    for restart in range(2):  # the node, then the same node restarted over a rewritten log
        api = build_regulator_api(config, ComplianceChain().ledger, None, tmp_path / "node", NODE_KEY)
        runner, port = await start_regulator_server(api, "127.0.0.1", 0)
        try:
            url = f"http://127.0.0.1:{port}/v1"
            await RegulatorClient(url, regulator_key("other")).call(SUPPLY, [])
            client = RegulatorClient(url, regulator_key("finma"), heads=HeadStore(heads_file))
            head = await client.fetch_audit_head()
            assert head.count == api.audit.next_seq - 1, "the head is the log before this request's own entry"
            checks.append(client.check_audit(await client.fetch_audit_log()))
        finally:
            await runner.cleanup()
        if restart == 0:
            rewrite_log(api.audit.path, 0)  # the first entry: another regulator's call, hidden from an "own" key
    assert checks[0].ok, checks[0].error
    assert not checks[1].ok and "rewritten" in checks[1].error, checks[1]
    # Every head the node signed is kept between sessions, the contradicting one too: it is the node's own evidence.
    assert len(HeadStore(heads_file).heads) == 4


def test_an_unknown_audit_scope_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ValueError, match="audit_scope"):
        make_config(("finma", "everything"))
    assert make_config(("finma", "all")).regulators[0].audit_scope == "all"
    default = RegulatorConfig.model_validate({"regulators": [
        {"name": "finma", "public_key": regulator_key("finma").public_key().hex(), "methods": ["*"]}]})
    assert default.regulators[0].audit_scope == "own", "a key reads only its own entries unless granted more"
