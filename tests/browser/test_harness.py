"""Without Chromium the browser tests fail and say how to install it; they never skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import harness


def test_a_missing_chromium_fails_with_the_way_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "CHROMIUM_PATH", Path("/nonexistent/chromium"))
    with pytest.raises(AssertionError, match="make test"):
        harness.require_chromium()
