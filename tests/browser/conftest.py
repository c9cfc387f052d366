"""One compliance devnet, the explorer and the regulator's dashboard in their own processes, and Chromium."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner

from cli.wallet import app as wallet_app
from devnet.layout import compute_waypoint
from tests.browser.harness import CHROMIUM_ARGS, WebProcess, find_free_port, require_chromium
from tests.devnet.cluster import get_version, wait_until
from tests.e2e_compliance.harness import CHAIN_ID, XUS, ComplianceNet, start_compliance_net

PASSPHRASE_ENV = "BROWSER_TEST_PASSPHRASE"
ATTESTED_ABOVE_SUPPLY_MICRO = 1_000 * XUS
MINTED_MICRO = 400 * XUS
PAGE_TIMEOUT_MS = 20_000
FIRST_BLOCKS = 3
runner = CliRunner()
T = TypeVar("T")


@dataclass
class Story:
    """The running devnet, the web processes, the wallet CLI's keystore, and what the tests did so far."""

    net: ComplianceNet
    explorer: WebProcess
    dashboard: WebProcess
    keystore: Path
    facts: dict


def in_thread(function: Callable[..., T], *args: Any) -> T:
    """Call function in a thread of its own: Playwright's sync API keeps an event loop running in this one,
    and the CLIs start their own with asyncio.run."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(function, *args).result()


def run_cli(app: object, *args: str) -> str:
    """Run a CLI command in-process; fail with its output when it fails; return its output."""
    result = in_thread(lambda: runner.invoke(app, list(args), env={PASSPHRASE_ENV: "a passphrase for the tests"}))
    assert result.exit_code == 0, f"{' '.join(args[:2])} failed:\n{result.output}"
    return result.output


def run_wallet(story: Story, *args: str) -> dict:
    """Run `stablechain wallet ARGS --json` against validator 0 and return its JSON answer."""
    output = run_cli(wallet_app, *args, "--keystore", str(story.keystore), "--json")
    return json.loads(output)


def get_regulator_supply(net: ComplianceNet, export_path: Path) -> dict:
    """Return the XUS row of `stablechain regulator supply --export jsonl`."""
    result = in_thread(lambda: net.regulator("supply", "--currency", "XUS", "--export", "jsonl", str(export_path),
                                             methods=("compliance_get_supply_and_reserves",)))
    assert result.exit_code == 0, result.output
    return json.loads(export_path.read_text().splitlines()[0])


def back_the_supply_and_mint(net: ComplianceNet) -> None:
    """The auditor attests reserves above the supply, then treasury compliance mints within them."""
    # An attestation is dated with the ledger's time: wait for the first blocks, or it would be dated 1970.
    wait_until(lambda: get_version(net.urls[0]) > FIRST_BLOCKS, what="the first blocks")
    supply = get_regulator_supply(net, net.root / "supply-before.jsonl")["total_supply"]
    reserves = supply + ATTESTED_ABOVE_SUPPLY_MICRO
    report = net.root / "reserves-report.pdf"
    report.write_bytes(b"independent auditor's reserve report for the browser tests")
    attested = net.treasury("attest-reserves", "--amount", f"{reserves // XUS}.{reserves % XUS:06d}",
                            "--report", str(report), role="auditor")
    assert attested.exit_code == 0, attested.output
    minted = net.treasury("mint", "--amount", str(MINTED_MICRO // XUS))
    assert minted.exit_code == 0, minted.output


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    root = Path(tmp_path_factory.mktemp("browser"))
    net = start_compliance_net(root)
    explorer = dashboard = None
    with net.devnet:
        try:
            net.devnet.wait_healthy()
            back_the_supply_and_mint(net)
            explorer_port = find_free_port()
            explorer = WebProcess(["explorer", "--rpc", net.urls[1], "--port", str(explorer_port), "--waypoint",
                                   compute_waypoint(net.layout)], explorer_port, root / "explorer.log").start()
            dashboard_port = find_free_port(explorer.port + 1)
            dashboard = WebProcess(["regulator", "dashboard", "--url", net.regulator_url, "--key-file",
                                    str(net.get_key_file("finma")), "--chain-id", str(CHAIN_ID), "--port",
                                    str(dashboard_port)], dashboard_port, root / "dashboard.log").start()
            yield Story(net, explorer, dashboard, root / "keystore", {})
        finally:
            for process in (dashboard, explorer):
                if process is not None:
                    process.stop()


@dataclass
class Browser:
    """A Chromium page, and what it complained about: console errors and any dialog a script opened."""

    page: Any
    console_errors: list[str]
    dialogs: list[str]

    def get_policy_violations(self) -> list[str]:
        """Return the console errors that report something the Content-Security-Policy refused."""
        return [text for text in self.console_errors if "Content Security Policy" in text]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A Chromium page with a fresh profile; the system browser, never one Playwright would download."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(executable), headless=True, args=CHROMIUM_ARGS)
        try:
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            watched = Browser(context.new_page(), [], [])
            watched.page.on("console", lambda message: message.type == "error"
                            and watched.console_errors.append(message.text))
            watched.page.on("dialog", lambda dialog: watched.dialogs.append(dialog.message))
            yield watched
        finally:
            context.close()
