"""The shape of the code base, enforced: import direction, pure cores, file and function sizes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("primitives", "consensus", "contracts", "node", "wallet", "wallet_service", "devnet", "explorer")

# Which first-party packages each package may import (DESIGN.md "Layout").
ALLOWED_FIRST_PARTY = {
    "primitives": {"primitives"},
    "consensus": {"primitives", "consensus"},
    "contracts": {"primitives", "contracts"},
    "node": {"primitives", "consensus", "contracts", "node"},
    "wallet": {"primitives", "contracts", "wallet"},
    # The wallet service for apps builds on the SDK; it never reaches into a node or the consensus.
    "wallet_service": {"primitives", "contracts", "wallet", "wallet_service"},
    "devnet": {"primitives", "consensus", "contracts", "node", "devnet", "wallet"},
    # The web face reads the chain only through the wallet SDK (verified) and the signed regulator client.
    "explorer": {"primitives", "contracts", "wallet", "explorer"},
}

# Modules that bring I/O, wall-clock time or randomness: never inside the deterministic cores.
IMPURE_MODULES = {
    "asyncio", "time", "random", "os", "plyvel", "aiohttp", "socket", "threading",
    "subprocess", "datetime", "secrets", "multiprocessing", "selectors", "signal", "shutil",
    "tempfile", "uuid", "requests", "urllib", "http",
}
PURE_PACKAGES = ("primitives", "consensus", "contracts")
# The CLI is the composition root: the one module allowed to reach every package.
COMPOSITION_ROOTS = {"node/cli.py": set(PACKAGES)}

# Entry points of pure packages that run benchmarks by hand; they may read the clock.
PURE_EXEMPT_FILES = {"contracts/bench.py", "contracts/state/bench.py"}

# primitives is the leaf: stdlib plus the two libraries it wraps.
PRIMITIVES_THIRD_PARTY = {"nacl", "msgpack"}

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
SIZE_CHECKED_PACKAGES = ("consensus", "contracts", "wallet_service", "explorer")
# The SDK stays free of CLI libraries; only its command modules use them.
SDK_CLI_FILES = {"wallet/cli.py", "wallet/cli_payments.py", "wallet/treasury.py", "wallet/regulator.py",
                 "wallet/validator.py"}
CLI_LIBRARIES = {"typer", "rich"}


def get_python_files(package: str) -> list[Path]:
    """Return every Python file of a first-party package."""
    base = ROOT / package
    if not base.is_dir():
        return []
    return sorted(path for path in base.rglob("*.py") if "__pycache__" not in path.parts)


def get_imported_modules(tree: ast.AST) -> set[str]:
    """Return the top-level module names imported anywhere in a syntax tree."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def relative(path: Path) -> str:
    """Return a path relative to the repository root, with forward slashes."""
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package: str) -> None:
    violations = []
    for path in get_python_files(package):
        imported = get_imported_modules(ast.parse(path.read_text(), str(path)))
        allowed = COMPOSITION_ROOTS.get(relative(path), ALLOWED_FIRST_PARTY[package])
        forbidden = (imported & set(PACKAGES)) - allowed
        if forbidden:
            violations.append(f"{relative(path)} imports {sorted(forbidden)}")
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_cores_have_no_io(package: str) -> None:
    violations = []
    for path in get_python_files(package):
        if relative(path) in PURE_EXEMPT_FILES:
            continue
        imported = get_imported_modules(ast.parse(path.read_text(), str(path)))
        impure = imported & IMPURE_MODULES
        if impure:
            violations.append(f"{relative(path)} imports {sorted(impure)}")
    assert not violations, "\n".join(violations)


def test_primitives_is_a_leaf() -> None:
    import sys

    stdlib = set(sys.stdlib_module_names)
    violations = []
    for path in get_python_files("primitives"):
        imported = get_imported_modules(ast.parse(path.read_text(), str(path)))
        foreign = imported - stdlib - PRIMITIVES_THIRD_PARTY - {"primitives", "__future__"}
        if foreign:
            violations.append(f"{relative(path)} imports {sorted(foreign)}")
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("package", SIZE_CHECKED_PACKAGES)
def test_files_stay_small(package: str) -> None:
    too_long = []
    for path in get_python_files(package):
        lines = len(path.read_text().splitlines())
        if lines > MAX_FILE_LINES:
            too_long.append(f"{relative(path)}: {lines} lines > {MAX_FILE_LINES}")
    assert not too_long, "\n".join(too_long)


@pytest.mark.parametrize("package", SIZE_CHECKED_PACKAGES)
def test_functions_stay_small(package: str) -> None:
    too_long = []
    for path in get_python_files(package):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{relative(path)}:{node.lineno} {node.name}: {length} lines")
    assert not too_long, "\n".join(too_long)


def test_the_sdk_does_not_import_cli_libraries() -> None:
    violations = []
    for path in get_python_files("wallet"):
        if relative(path) in SDK_CLI_FILES:
            continue
        imported = get_imported_modules(ast.parse(path.read_text(), str(path)))
        if imported & CLI_LIBRARIES:
            violations.append(f"{relative(path)} imports {sorted(imported & CLI_LIBRARIES)}")
    assert not violations, "\n".join(violations)


def test_no_assert_statements_in_library_code() -> None:
    # `python -O` strips assert; library code uses primitives.errors.invariant instead.
    offenders = []
    for package in PACKAGES:
        for path in get_python_files(package):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Assert):
                    offenders.append(f"{relative(path)}:{node.lineno}")
    assert not offenders, "assert in library code:\n" + "\n".join(offenders)


def test_the_checker_catches_a_forbidden_import() -> None:
    tree = ast.parse("import asyncio\nfrom contracts.vm import x\nfrom . import y\n")
    assert get_imported_modules(tree) == {"asyncio", "contracts"}
