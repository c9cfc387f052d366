"""Item 16: a regulator signs with standard tools alone. Params are canonicalised with JCS (RFC 8785) and the
request is signed with Ed25519 over SHA3-256 hashes; `regulator_client.sh` does it with openssl and curl."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from node.compliance.regulator.server import build_regulator_api, start_regulator_server
from node.config import RegulatorConfig, RegulatorKeyConfig
from tests.node.compliance.admission.chain import ComplianceChain

CLIENT = Path(__file__).with_name("regulator_client.sh")
CHAIN_ID = 2

pytestmark = pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("curl")), reason="needs openssl and curl")


def make_openssl_key(directory: Path) -> tuple[Path, str]:
    """Return an Ed25519 key made by openssl and its raw public key in hex."""
    path = directory / "regulator.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(path)], check=True)
    der = subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"], check=True,
                         capture_output=True).stdout
    return path, der[-32:].hex()


async def run_client(url: str, key: Path, method: str, params: str) -> tuple[int, dict]:
    process = await asyncio.create_subprocess_exec("bash", str(CLIENT), url, str(key), str(CHAIN_ID), method, params,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    body, status = stdout.decode().rstrip("\n").rsplit("\n", 1)
    return int(status), json.loads(body)


async def test_a_client_with_openssl_and_curl_alone_is_authenticated(tmp_path: Path) -> None:
    key, public_key = make_openssl_key(tmp_path)
    config = RegulatorConfig(regulators=[RegulatorKeyConfig(name="shell", public_key=public_key, methods=["*"])])
    api = build_regulator_api(config, ComplianceChain().ledger, None, tmp_path)
    runner, port = await start_regulator_server(api, "127.0.0.1", 0)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        status, answer = await run_client(url, key, "compliance_get_supply_and_reserves", "[]")
        assert status == 200 and "result" in answer, answer
        # JCS matters here: sorted keys and UTF-8 (not \\u-escaped) text; the method then refuses the params,
        # but only after the signature over their canonical form verified.
        status, answer = await run_client(url, key, "compliance_get_account_report", '[{"a":"é","b":1}]')
        assert status == 200 and answer["error"]["code"] == -32602, answer
        entries = api.audit.read(0, 10)
        assert [entry["regulator"] for entry in entries] == ["shell", "shell"]
    finally:
        await runner.cleanup()
