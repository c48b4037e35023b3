"""The layout's rules, checked on the source (docs/architecture.md): sizes, signatures and layer imports.

Known exceptions are listed with the reason and the issue that removes them; an entry that no longer
breaks its rule fails the test, so the lists only shrink.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "hubspot_loader"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
MAX_PUBLIC_PARAMETERS = 8

#: modules over the limit that are not data tables yet
LONG_MODULES: dict[str, str] = {}
#: functions over the length limit
LONG_FUNCTIONS: dict[str, str] = {}
#: public functions and constructors over the parameter limit
WIDE_SIGNATURES: dict[str, str] = {}

#: what each layer may not import (top-level module names, or hubspot_loader subpackages)
FORBIDDEN = {
    "core": {"requests", "urllib3", "dagster", "dagster_dbt", "pydantic", "hubspot_loader.http",
             "hubspot_loader.state", "hubspot_loader.dagster", "hubspot_loader.cli",
             "hubspot_loader.sandbox", "hubspot_loader.load", "hubspot_loader.preflight_step"},
    "http": {"dagster", "dagster_dbt", "hubspot_loader.state", "hubspot_loader.dagster",
             "hubspot_loader.cli", "hubspot_loader.sandbox", "hubspot_loader.load"},
    "state": {"dagster", "hubspot_loader.dagster", "hubspot_loader.cli", "hubspot_loader.sandbox"},
    "load.py": {"dagster", "hubspot_loader.dagster", "hubspot_loader.cli"},
    "preflight_step.py": {"dagster", "hubspot_loader.dagster", "hubspot_loader.cli"},
    "errors.py": {"requests", "dagster", "hubspot_loader.http", "hubspot_loader.state",
                  "hubspot_loader.dagster", "hubspot_loader.sandbox"},
    "cli": {"dagster", "hubspot_loader.dagster"},
    "dagster": {"hubspot_loader.cli"},
}
#: the loader modules that may start a sandbox: the opt-in Dagster resource for tests and the demo, and the
#: CLI's ``hubspot-loader sandbox`` command
SANDBOX_BRIDGES = {"dagster/sandbox_resource.py", "cli/sandbox_command.py"}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE).as_posix(), path


def _layer(name: str) -> str:
    return name.split("/")[0] if "/" in name else name


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _functions(tree: ast.AST) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield prefix + child.name, child
                yield from walk(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, prefix + child.name + ".")

    yield from walk(tree, "")


def _parameters(func: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = func.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    return len([n for n in names if n not in ("self", "cls")])


def _is_public(qualname: str) -> bool:
    parts = qualname.split(".")
    return all(not p.startswith("_") or p == "__init__" for p in parts)


def test_modules_stay_under_500_lines_unless_they_are_data_tables() -> None:
    long = {}
    for name, path in _modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_MODULE_LINES and "data table" not in (lines[0] if lines else "").lower():
            long[name] = len(lines)
    assert set(long) == set(LONG_MODULES), long


def test_functions_stay_under_80_lines() -> None:
    long = {}
    for name, path in _modules():
        for qualname, func in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            length = (func.end_lineno or func.lineno) - func.lineno + 1
            if length > MAX_FUNCTION_LINES:
                long[f"{name}:{qualname}"] = length
    assert set(long) == set(LONG_FUNCTIONS), long


def test_public_signatures_take_at_most_8_parameters() -> None:
    wide = {}
    for name, path in _modules():
        for qualname, func in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            if _is_public(qualname) and _parameters(func) > MAX_PUBLIC_PARAMETERS:
                wide[f"{name}:{qualname}"] = _parameters(func)
    assert set(wide) == set(WIDE_SIGNATURES), wide


def test_layers_import_only_what_they_may() -> None:
    breaks = []
    for name, path in _modules():
        imported = _imports(ast.parse(path.read_text(encoding="utf-8")))
        rules = FORBIDDEN.get(_layer(name), set())
        if name.startswith("sandbox/"):
            loader = {m for m in imported if m.startswith("hubspot_loader.")}
            loader -= {m for m in loader if m.startswith("hubspot_loader.sandbox")}
            breaks += [f"{name} imports {m}" for m in sorted(loader)]
            continue
        if name not in SANDBOX_BRIDGES:
            rules = rules | {"hubspot_loader.sandbox"}
        for module in sorted(imported):
            if any(module == rule or module.startswith(rule + ".") for rule in rules):
                breaks.append(f"{name} imports {module}")
    assert breaks == []


def test_only_the_dagster_layer_imports_dagster() -> None:
    users = sorted(
        name
        for name, path in _modules()
        if any(m == "dagster" or m.startswith("dagster.") for m in _imports(ast.parse(path.read_text())))
    )
    assert users and all(name.startswith("dagster/") for name in users), users
