"""A devnet laid out under a relative --dir (the default `.devnet`) still starts its nodes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devnet.layout import get_layout, prepare_devnet
from devnet.manifest import Manifest


def test_a_relative_directory_becomes_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    layout = prepare_devnet(Path(".devnet"), Manifest(validators=2))
    assert layout.root.is_absolute() and layout.root == (tmp_path / ".devnet").resolve()
    assert all(files.config_path.is_absolute() for files in layout.validators)
    os.chdir(layout.validators[1].directory)
    assert layout.validators[1].config_path.exists(), "a node process runs in its own directory"
    assert get_layout(Path("../.."), Manifest(validators=2)).root.is_absolute()
