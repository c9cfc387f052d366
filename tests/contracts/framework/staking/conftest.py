"""Install the stand-ins for the requested framework hooks for every staking test (undone afterwards)."""

from __future__ import annotations

import pytest

from tests.contracts.framework.staking import shims


@pytest.fixture(autouse=True)
def _staking_hooks(monkeypatch):  # noqa: ANN001, ANN202
    shims.install(monkeypatch)
