"""Items 15 and 16 with standard tools alone: params canonicalised with JCS (RFC 8785), the request signed with
Ed25519 over SHA3-256 hashes for the node the client asked, and the node's signature on the answer verified;
`regulator_client.sh` does it with openssl and curl."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from node.compliance.regulator.identity import NodeIdentity, get_request_signature
from node.compliance.regulator.server import build_regulator_api, start_regulator_server
from node.config import RegulatorConfig, RegulatorKeyConfig
from primitives.keys import PrivateKey
from tests.node.compliance.admission.chain import ComplianceChain
from tests.adversarial.test_regulator_node_binding import start_fake_node
from tests.node.compliance.regulator.harness import NODE_KEY

CLIENT = Path(__file__).with_name("regulator_client.sh")
CLIENT_RFC9421 = Path(__file__).with_name("regulator_client_rfc9421.sh")
CHAIN_ID = 2

pytestmark = pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("curl")), reason="needs openssl and curl")


def make_openssl_key(directory: Path) -> tuple[Path, str]:
    """Return an Ed25519 key made by openssl and its raw public key in hex."""
    path = directory / "regulator.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(path)], check=True)
    der = subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return path, der[-32:].hex()


async def run_script(url: str, key: Path, method: str, params: str, *pinned: str) -> tuple[int, str, str]:
    """Return the script's exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec("bash", str(CLIENT), url, str(key), str(CHAIN_ID), method, params,
                                                   *pinned, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, stdout.decode(), stderr.decode()


async def run_client(url: str, key: Path, method: str, params: str) -> tuple[int, dict]:
    code, stdout, stderr = await run_script(url, key, method, params)
    assert code == 0, stderr
    body, status = stdout.rstrip("\n").rsplit("\n", 1)
    return int(status), json.loads(body)


@asynccontextmanager
async def serve_shell_regulator(directory: Path, public_key: str) -> AsyncIterator[tuple[object, str]]:
    """Serve a regulator listener that knows one key, "shell" (every method); yield its API and URL."""
    config = RegulatorConfig(regulators=[RegulatorKeyConfig(name="shell", public_key=public_key, methods=["*"])])
    api = build_regulator_api(config, ComplianceChain().ledger, None, directory, NODE_KEY)
    runner, port = await start_regulator_server(api, "127.0.0.1", 0)
    try:
        yield api, f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


async def test_a_client_with_openssl_and_curl_alone_is_authenticated(tmp_path: Path) -> None:
    key, public_key = make_openssl_key(tmp_path)
    async with serve_shell_regulator(tmp_path, public_key) as (api, url):
        status, answer = await run_client(url, key, "compliance_get_supply_and_reserves", "[]")
        assert status == 200 and "result" in answer, answer
        # JCS matters here: sorted keys and UTF-8 (not \\u-escaped) text; the method then refuses the params,
        # but only after the signature over their canonical form verified.
        status, answer = await run_client(url, key, "compliance_get_account_report", '[{"a":"é","b":1}]')
        assert status == 200 and answer["error"]["code"] == -32602, answer
        entries = api.audit.read(0, 10)
        assert [entry["regulator"] for entry in entries] == ["shell", "shell"]
        code, _, stderr = await run_script(url, key, "compliance_get_supply_and_reserves", "[]", "ab" * 32)
        assert code == 3 and "not " + "ab" * 32 in stderr, "a pinned node id that is not the node's stops the script"


async def test_the_shell_client_refuses_an_answer_not_signed_by_the_node(tmp_path: Path) -> None:
    key, _ = make_openssl_key(tmp_path)
    node, impostor = PrivateKey.from_seed_material(b"node"), PrivateKey.from_seed_material(b"impostor")
    discovery = json.dumps({"node_id": node.public_key().hex(), "chain_id": CHAIN_ID}).encode()

    async def answer(request: web.Request) -> web.Response:
        # A forged answer: it names the node, but the signature is the impostor's.
        body = b'{"jsonrpc":"2.0","id":1,"result":{"currencies":[]}}'
        signature = get_request_signature(request.headers)
        headers = NodeIdentity(impostor, CHAIN_ID).sign_response(200, signature, body)
        headers["X-Regulator-Node"] = node.public_key().hex()
        return web.Response(body=body, headers=headers)

    async def discover(_request: web.Request) -> web.Response:
        return web.Response(body=discovery)

    app = web.Application()
    app.router.add_get("/v1/node", discover)
    app.router.add_post("/v1", answer)
    async with TestServer(app, host="127.0.0.1") as server:
        code, stdout, stderr = await run_script(str(server.make_url("/v1")), key, "compliance_get_supply_and_reserves",
                                                "[]")
    assert code == 4 and "NOT signed" in stderr and "currencies" not in stdout


async def run_rfc9421_script(url: str, key: Path, method: str, params: str, *pinned: str) -> tuple[int, str, str]:
    """Return the RFC 9421 script's exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec("bash", str(CLIENT_RFC9421), url, str(key), method, params, *pinned,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, stdout.decode(), stderr.decode()


async def test_a_client_with_openssl_and_curl_alone_signs_and_verifies_in_rfc_9421(tmp_path: Path) -> None:
    key, public_key = make_openssl_key(tmp_path)
    async with serve_shell_regulator(tmp_path, public_key) as (api, url):
        code, stdout, stderr = await run_rfc9421_script(url, key, "compliance_get_supply_and_reserves", '["XUS"]')
        assert code == 0, stderr
        body, status = stdout.rstrip("\n").rsplit("\n", 1)
        assert status == "200" and json.loads(body)["result"]["currencies"][0]["currency"] == "XUS"
        # A body that is not canonical JSON is fine here: the digest covers the bytes as sent.
        code, stdout, stderr = await run_rfc9421_script(url, key, "compliance_get_account_report", '[ "zz" ]')
        assert code == 0 and stdout.rstrip("\n").endswith("\n200") and '"code":-32602' in stdout, stderr
        assert [entry["regulator"] for entry in api.audit.read(0, 10)] == ["shell", "shell"]
        code, _, stderr = await run_rfc9421_script(url, key, "compliance_get_supply_and_reserves", "[]", "ab" * 32)
        assert code == 3, stderr


async def serve_rfc9421_forgery(node: PrivateKey, impostor: PrivateKey) -> TestServer:
    """Return a started server whose answers are well-formed RFC 9421 answers under the node's keyid, signed by impostor."""
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms
    from http_message_signatures.structures import CaseInsensitiveDict

    from node.compliance.regulator.httpsig import RESPONSE_COMPONENTS, ResponseView
    from node.compliance.regulator.server import view_request

    class Forger(HTTPSignatureKeyResolver):
        def resolve_private_key(self, key_id: str) -> ed25519.Ed25519PrivateKey:
            return ed25519.Ed25519PrivateKey.from_private_bytes(impostor.seed)

    async def discover(_request: web.Request) -> web.Response:
        return web.Response(body=json.dumps({"node_id": node.public_key().hex(), "chain_id": CHAIN_ID}).encode())

    async def answer(request: web.Request) -> web.Response:
        body = b'{"jsonrpc":"2.0","id":1,"result":{"currencies":[]}}'
        response = ResponseView(200, CaseInsensitiveDict(), view_request(request))
        HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=Forger()).sign(
            response, key_id=node.public_key().hex(), label="node", tag="stablechain-regulator",
            covered_component_ids=RESPONSE_COMPONENTS, body=body)
        return web.Response(body=body, headers=dict(response.headers))

    return await start_fake_node(discover, answer)


async def test_the_rfc_9421_shell_client_refuses_an_answer_not_signed_by_the_node(tmp_path: Path) -> None:
    from tests.adversarial.test_regulator_node_binding import serve_forgery

    key, _ = make_openssl_key(tmp_path)
    node, impostor = PrivateKey.from_seed_material(b"node"), PrivateKey.from_seed_material(b"impostor")
    for serve in (lambda: serve_rfc9421_forgery(node, impostor), lambda: serve_forgery(node, None)):
        server = await serve()
        try:
            code, stdout, stderr = await run_rfc9421_script(str(server.make_url("/v1")), key,
                                                            "compliance_get_supply_and_reserves", "[]")
        finally:
            await server.close()
        assert code == 4 and "NOT signed" in stderr and "currencies" not in stdout, (code, stderr)
