"""Lint for what Python cannot forbid: no framework file uses another module's witness or forges a signer."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FRAMEWORK = sorted((ROOT / "contracts" / "framework").glob("*.py"))
VM_ONLY_NAMES = {"vm_signer", "_witness", "_VM_TOKEN", "_SIGNER_PRIVILEGED"}


def get_violations(path: Path) -> list[str]:
    """Return privacy violations in one framework file."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [f"imports {a.name}" for a in node.names if a.name.startswith("_") or a.name in VM_ONLY_NAMES]
        elif isinstance(node, ast.Attribute) and (node.attr in VM_ONLY_NAMES or node.attr in {"_W", "_TW", "_EW"}):
            found.append(f"uses .{node.attr} (line {node.lineno})")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "claim":
            owner = node.func.value
            if not (isinstance(owner, ast.Name) and owner.id.isupper()):
                found.append(f"claims a foreign witness (line {node.lineno})")
    return found


def test_framework_modules_respect_module_privacy() -> None:
    violations = {path.name: get_violations(path) for path in FRAMEWORK}
    assert {name: v for name, v in violations.items() if v} == {}


def test_the_lint_catches_a_foreign_witness(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from contracts.framework import account\nx = account._W\nfrom contracts.vm.structs import vm_signer\n")
    assert len(get_violations(bad)) == 2
