"""The dependency rule of the hexagon, checked on every module's absolute imports.

First-party imports are ``orderdesk_mcp.<layer>...``; the rule is about the layer, so an
import's root is taken as the layer name for first-party modules and the top-level name
for everything else.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
PACKAGE = "orderdesk_mcp"

# Layer -> third-party (or first-party) roots it may import besides the standard library.
ALLOWED: dict[str, set[str]] = {
    "domain": {"domain", "msgspec", "anyio"},
    "domain/use_cases": {"domain", "msgspec", "anyio", "ports"},
    "ports": {"ports", "domain", "msgspec"},
    "adapters": {"adapters", "ports", "domain", "msgspec", "anyio", "aiohttp", "redis", "cryptography"},
    "entrypoints": {"*"},
    "__init__.py": set(),
}
LAYERS = {"domain", "ports", "adapters", "entrypoints"}
VALUE_MODULES_NEVER_IMPORT = {"ports"}  # domain value modules (not use cases) stay free of ports


def _layer(path: Path) -> str:
    rel = path.relative_to(SRC).as_posix()
    return "domain/use_cases" if rel.startswith("domain/use_cases/") else rel.split("/", 1)[0]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append((node.lineno, "relative import"))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, _root(alias.name)) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, _root(node.module)))
    return found


def _root(module: str) -> str:
    parts = module.split(".")
    return parts[1] if parts[0] == PACKAGE and len(parts) > 1 else parts[0]


def _violations() -> list[str]:
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        layer = _layer(path)
        allowed = ALLOWED[layer]
        for line, root in _imports(path):
            where = f"{path.relative_to(SRC)}:{line}"
            if root == "entrypoints" and layer != "entrypoints":
                problems.append(f"{where} imports entrypoints (nothing may)")
            elif "*" in allowed or root in STDLIB or root in allowed:
                continue
            else:
                problems.append(f"{where} ({layer}) imports {root}")
    return problems


def test_every_module_respects_the_dependency_rule() -> None:
    assert _violations() == []


def test_first_party_imports_name_the_installed_package() -> None:
    """``import domain`` would find PyPI's unrelated top-level packages once installed."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [
                f"{path.relative_to(SRC)}:{node.lineno} {n}" for n in names if n.split(".")[0] in LAYERS
            ]
    assert offenders == []


def test_domain_never_touches_io_libraries() -> None:
    forbidden = {"aiohttp", "redis", "mcp", "cryptography", "pydantic", "sqlite3", "socket", "subprocess"}
    offenders = [
        f"{path.relative_to(SRC)}:{line} imports {root}"
        for path in sorted((SRC / "domain").rglob("*.py"))
        for line, root in _imports(path)
        if root in forbidden
    ]
    assert offenders == []


def test_pydantic_is_confined_to_the_mcp_boundary() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if any(root == "pydantic" for _, root in _imports(path))
        and path.name not in {"mcp_schemas.py", "mcp_server.py", "mcp_schemas_reach.py"}
    ]
    assert offenders == []
