"""The wheel: it builds, installs into a fresh virtual environment and brings every file it needs.

Offline: the wheel is built with the setuptools of this environment (no build isolation, no index) and
installed with ``--no-index --no-deps``. The fresh environment (``python -m venv --without-pip``, no
system site-packages) gets only the *third-party* packages of this environment, through a ``.pth``
line naming its site-packages: a ``.pth`` line only adds a directory, so this environment's editable
install of ``hubspot_loader`` (itself a ``.pth`` hook) does not come along. Every ``hubspot_loader``
module the checks import must then come from the wheel's own files, and the test asserts it.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import hubspot_loader

REPO = Path(__file__).resolve().parents[2]
BUILD_FILES = ("pyproject.toml", "README.md")
"""What the build reads besides the package (README.md is the metadata's readme); license files and a
MANIFEST.in are copied too when there are any."""
OFFLINE = {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

PROBE = """
import importlib, json, pathlib, sys
import hubspot_loader
public = {name: type(getattr(hubspot_loader, name)).__name__ for name in hubspot_loader.__all__}
import hubspot_loader.cli, hubspot_loader.dagster, hubspot_loader.sandbox
root = pathlib.Path(hubspot_loader.__file__).parent
names = sorted(
    ".".join(("hubspot_loader", *p.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
    for p in root.rglob("*.py") if p.name != "__main__.py"
)
files = {name: importlib.import_module(name).__file__ for name in names}
print(json.dumps({"public": public, "files": files, "version": hubspot_loader.__version__}))
"""


def _run(args: list[Any], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**env, **OFFLINE},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sources to build from: the working tree gets no build/ or egg-info, and the checks
    compare the wheel with exactly what it was built from (other work may add files meanwhile)."""
    source = tmp_path_factory.mktemp("wheel") / "source"
    shutil.copytree(
        REPO / "hubspot_loader", source / "hubspot_loader", ignore=shutil.ignore_patterns("__pycache__")
    )
    extras = [p.name for p in REPO.iterdir() if re.match(r"(LICEN[CS]E|COPYING|NOTICE|MANIFEST\.in)", p.name)]
    for name in (*BUILD_FILES, *extras):
        shutil.copy2(REPO / name, source / name)
    return source


@pytest.fixture(scope="module")
def wheel(source: Path) -> Path:
    """Build the wheel with ``pip wheel``: no build isolation, no index, no dependencies."""
    dist = source.parent / "dist"
    _run([sys.executable, "-m", "pip", "wheel", source, "--no-deps", "--no-build-isolation", "-w", dist])
    (built,) = dist.glob("hubspot_loader-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed, and this environment's third-party packages on its path."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", wheel])
    purelib = _run([python, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    site = Path(purelib.stdout.strip())
    (site / "third_party_from_the_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _package_files(source: Path) -> set[str]:
    return {p.relative_to(source).as_posix() for p in (source / "hubspot_loader").rglob("*") if p.is_file()}


def _metadata(wheel: Path) -> tuple[set[str], str]:
    """The wheel's files and its ``METADATA`` text."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        text = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    return names, text


def test_the_wheel_holds_the_package_files_and_nothing_else(source: Path, wheel: Path) -> None:
    names, _ = _metadata(wheel)
    assert {n for n in names if not n.startswith("hubspot_loader-")} == _package_files(source)
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "hubspot-loader = hubspot_loader.cli:main" in entry_points


def _top_level_imports(source: Path) -> set[str]:
    found: set[str] = set()
    for path in (source / "hubspot_loader").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"hubspot_loader", "__future__"}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_is_a_declared_dependency(source: Path, wheel: Path) -> None:
    """A package imported directly is in Requires-Dist (core or an extra), not only pulled in by another."""
    _, text = _metadata(wheel)
    declared = {
        _normalized(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
        for requirement in Parser().parsestr(text).get_all("Requires-Dist", [])
    }
    providers = metadata.packages_distributions()
    undeclared = {
        module: providers.get(module, ["(not installed)"])
        for module in sorted(_top_level_imports(source))
        if not any(_normalized(dist) in declared for dist in providers.get(module, []))
    }
    assert undeclared == {}, f"imported but not in the wheel's Requires-Dist: {undeclared}"


def test_the_installed_wheel_imports_its_public_api_from_its_own_files(source: Path, installed: Path) -> None:
    site = installed / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    probe = _run([installed / "bin" / "python", "-I", "-c", PROBE], cwd=installed.parent)
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found["version"] == hubspot_loader.__version__
    assert set(found["public"]) == set(hubspot_loader.__all__)
    outside = {name: file for name, file in found["files"].items() if not Path(file).is_relative_to(site)}
    assert outside == {}, "imported from outside the installed wheel"
    assert {
        "hubspot_loader",
        "hubspot_loader.cli",
        "hubspot_loader.dagster",
        "hubspot_loader.sandbox",
    } <= set(found["files"])
    modules = [p for p in _package_files(source) if p.endswith(".py") and not p.endswith("__main__.py")]
    assert len(found["files"]) == len(modules)  # every module of the package was imported


def test_the_installed_console_script_runs(installed: Path, tmp_path: Path) -> None:
    script = installed / "bin" / "hubspot-loader"
    assert script.read_text().splitlines()[0] == f"#!{installed / 'bin' / 'python'}"
    help_text = _run([script, "--help"], cwd=tmp_path).stdout
    assert "load " in help_text and "sandbox " in help_text
    version = _run([script, "--version"], cwd=tmp_path).stdout.strip()
    assert version == f"hubspot-loader {hubspot_loader.__version__}"
    (tmp_path / "rows.csv").write_text("id,email\n7,seven@example.com\n", encoding="utf-8")
    dry = _run(
        [script, "load", "rows.csv", "--object-type", "contacts", "--key", "id", "--dry-run", "--no-state"],
        cwd=tmp_path,
    )
    assert json.loads(dry.stdout[dry.stdout.index("[") :]) == [
        {"objectWriteTraceId": "7", "properties": {"email": "seven@example.com"}}
    ]
