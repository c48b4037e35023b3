"""Fixtures for the example warehouse: the ``warehouse`` module and one real ``dbt build`` per session."""

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

DBT_EXAMPLES = Path(__file__).resolve().parents[2] / "dbt_examples"
VENV_BIN = Path(sys.executable).parent


def dbt_env(**extra: str) -> dict[str, str]:
    """The environment for a dbt subprocess: the venv's bin on PATH, no telemetry, plus ``extra``."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["DO_NOT_TRACK"] = "1"
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env.update(extra)
    return env


@pytest.fixture(autouse=True)
def _dbt_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """dagster-dbt runs the ``dbt`` on PATH; make it the venv's, with telemetry off."""
    monkeypatch.setenv("PATH", f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("DO_NOT_TRACK", "1")


EXAMPLE_PACKAGE = DBT_EXAMPLES / "hubspot_example"
"""The example's dg project package (``dbt_examples`` is the project root, ``dg.toml``)."""


def import_example(module: str) -> ModuleType:
    """A module of the example package, imported as ``dg`` imports it (``dbt_examples`` on ``sys.path``)."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    if str(DBT_EXAMPLES) not in sys.path:
        sys.path.insert(0, str(DBT_EXAMPLES))
    return importlib.import_module(f"hubspot_example.{module}")


@pytest.fixture(scope="session")
def warehouse() -> ModuleType:
    """``hubspot_example.warehouse``, with ``dbt_examples/target/manifest.json`` prepared (locked against
    parallel workers), as ``definitions.py`` prepares it before the dbt component loads.
    """
    module = import_example("warehouse")
    module.prepare_manifest()
    return module


@dataclass(frozen=True)
class BuiltWarehouse:
    """The outcome of one ``dbt build`` into a fresh DuckDB file."""

    database: Path
    target: Path
    returncode: int
    output: str

    def run_results(self) -> list[dict[str, Any]]:
        """The ``results`` of ``run_results.json``."""
        results: list[dict[str, Any]] = json.loads((self.target / "run_results.json").read_text())["results"]
        return results


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    """Run a real ``dbt build`` into a temporary DuckDB file, from an unrelated working directory.

    Target and log paths are private to this session, so parallel workers and earlier runs do not interact.
    """
    root = tmp_path_factory.mktemp("dbt_build")
    database, target = root / "warehouse.duckdb", root / "target"
    args = [
        str(VENV_BIN / "dbt"), "build",
        "--project-dir", str(DBT_EXAMPLES), "--profiles-dir", str(DBT_EXAMPLES),
        "--target-path", str(target), "--log-path", str(root / "logs"),
    ]  # fmt: skip
    proc = subprocess.run(
        args,
        cwd=root,
        env=dbt_env(HUBSPOT_LOADER_DUCKDB=str(database)),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    yield BuiltWarehouse(database, target, proc.returncode, proc.stdout + proc.stderr)
