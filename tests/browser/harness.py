"""Real processes and a real browser for the web face's tests: `stablechain explorer`, `stablechain regulator
dashboard`, and Debian's Chromium driven by Playwright (which never downloads a browser of its own)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.devnet import cluster

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOT_DIR = Path(os.environ.get("STABLECHAIN_TEST_OUTPUT", ROOT / ".test-output")) / "screenshots"
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
POLL_S = 0.2
PORT_SEARCH_START = 28_070


def find_free_port(start: int = PORT_SEARCH_START) -> int:
    """Return a free port on 127.0.0.1 from start on."""
    return cluster.find_free_port(start, 1_000, "a web process")


def require_chromium() -> Path:
    """Return the system Chromium; its absence is a failure with the way to fix it, never a skip."""
    if not CHROMIUM_PATH.exists():
        raise AssertionError(f"Chromium is not installed at {CHROMIUM_PATH}: `make test` installs Debian's chromium "
                             "package (as root, with apt), or run `apt-get install -y chromium` yourself")
    return CHROMIUM_PATH


@dataclass
class WebProcess:
    """One `stablechain ...` web server in its own process group, with its output in a log file."""

    args: list[str]
    port: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebProcess:
        """Start the server and wait until it answers; fail with its log when it does not."""
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "cli", *self.args], stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
                                            start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.is_answering():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{' '.join(self.args[:2])} did not start:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(POLL_S)
        return self

    def is_answering(self) -> bool:
        """Return True iff the server answers HTTP on its port (any status)."""
        try:
            with urllib.request.urlopen(f"{self.url}/static/site.css", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM to its group, SIGKILL after a grace period)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_S)


def take_screenshots(page, name: str) -> list[Path]:  # noqa: ANN001 - a Playwright Page
    """Save full-page screenshots of the current page at desktop and phone widths; return their paths."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for tag, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(250)  # the chart redraws on resize
        path = SCREENSHOT_DIR / f"{name}-{tag}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size({"width": VIEWPORTS["desktop"][0], "height": VIEWPORTS["desktop"][1]})
    return paths
