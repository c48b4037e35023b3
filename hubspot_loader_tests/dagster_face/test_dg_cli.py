"""The real ``dg`` CLI on a fresh project: list the component, scaffold it, check it, then run the scaffold.

One slow test: every ``dg`` call imports Dagster and the registered libraries (10-35 s each here). The last
step loads the scaffolded defs folder in this process and materializes it against a sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from hubspot_loader.sandbox import SandboxHandle

TYPE = "hubspot_loader.dagster.HubSpotLoadCollectionComponent"
DG_CALL_TIMEOUT_S = 300  # a hang guard: on a loaded 2-core machine one call takes up to about a minute

DG_TOML = """\
directory_type = "project"

[project]
root_module = "hs_trial"

[cli]
telemetry.enabled = false
"""

DEFINITIONS = """\
from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
"""

ROWS = """\
import dagster as dg
import pandas as pd


@dg.asset
def account_rows() -> pd.DataFrame:
    return pd.DataFrame({"account_id": ["A-1", "A-2"], "name": ["Acme", "Globex"]})
"""


def _project(root: Path) -> Path:
    package = root / "hs_trial"
    (package / "defs").mkdir(parents=True)
    (root / "dg.toml").write_text(DG_TOML)
    (package / "__init__.py").write_text("")
    (package / "definitions.py").write_text(DEFINITIONS)
    (package / "defs" / "__init__.py").write_text("")
    (package / "defs" / "rows.py").write_text(ROWS)
    return package / "defs"


def _env(tmp_path: Path, sandbox: SandboxHandle) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "DAGSTER_"))}
    env.update(
        DAGSTER_HOME=str(home),
        HUBSPOT_ACCESS_TOKEN=sandbox.token,
        HUBSPOT_BASE_URL=sandbox.base_url,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        DO_NOT_TRACK="1",
    )
    return env


def _dg(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dagster_dg_cli.cli", *args],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=DG_CALL_TIMEOUT_S,
        check=False,
    )


@pytest.mark.slow
def test_dg_lists_scaffolds_and_checks_the_component_and_the_scaffold_runs(
    tmp_path: Path, sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "trial"
    defs_dir = _project(project)
    env = _env(tmp_path, sandbox)

    listed = _dg(project, env, "list", "components", "--json")
    assert listed.returncode == 0, listed.stderr[-3000:]
    items = {item["key"]: item["summary"] for item in json.loads(listed.stdout)["items"]}
    assert "HubSpot" in items[TYPE]

    scaffold_args = ["--object-type", "companies", "--source", "account_rows", "--key-column", "account_id"]
    scaffolded = _dg(project, env, "scaffold", "defs", TYPE, "companies", *scaffold_args)
    assert scaffolded.returncode == 0, scaffolded.stdout[-3000:] + scaffolded.stderr[-3000:]
    defs_yaml = defs_dir / "companies" / "defs.yaml"
    text = defs_yaml.read_text()
    assert f"type: {TYPE}" in text and "{{ env('HUBSPOT_ACCESS_TOKEN') }}" in text

    checked = _dg(project, env, "check", "defs")
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr

    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("key_column:"))
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    defs_yaml.write_text("\n".join([*lines[: at + 1], f"{indent}preflight: blok", *lines[at + 1 :]]) + "\n")
    broken = _dg(project, env, "check", "defs")
    output = broken.stdout + broken.stderr
    assert broken.returncode != 0, output[-3000:]
    assert f"defs.yaml:{at + 2}" in output, output[-3000:]
    wanted = "preflight must be one of off, block, quarantine, offline, offline_block (got 'blok')"
    assert wanted in output, output[-3000:]
    defs_yaml.write_text(text)

    # The scaffold as written, against the sandbox the environment names (the ledger under tmp_path).
    for name in ("HUBSPOT_ACCESS_TOKEN", "HUBSPOT_BASE_URL"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(project))
    defs = dg.load_from_defs_folder(path_within_project=project)
    result = dg.materialize(
        list(defs.resolve_asset_graph().assets_defs), instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    assert sorted(o["properties"]["name"] for o in sandbox.objects("companies")) == ["Acme", "Globex"]
    for module in [m for m in sys.modules if m == "hs_trial" or m.startswith("hs_trial.")]:
        monkeypatch.delitem(sys.modules, module)
