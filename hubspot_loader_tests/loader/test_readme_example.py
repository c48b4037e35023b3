"""The README's "Using it in your own project" examples, run as written against the sandbox.

Only environment variables point them at the sandbox (``HUBSPOT_ACCESS_TOKEN``, ``HUBSPOT_BASE_URL``), as a
user would set them: the Python block's definitions run with their own resources, and the YAML block is
the ``defs.yaml`` of a defs folder whose upstream assets are the Python block's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster.components.testing import create_defs_folder_sandbox

from hubspot_loader import HubSpotResource
from hubspot_loader.dagster import HubSpotLoadCollectionComponent
from hubspot_loader.sandbox import SandboxHandle

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Using it in your own project"

UPSTREAM_ASSETS = """
import dagster as dg
import pandas as pd

from hubspot_loader_tests.loader.test_readme_example import python_example

_example = python_example()
account_rows = _example["account_rows"]
customer_rows = _example["customer_rows"]
"""


def _block(language: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match is not None, f"the README lost its {language} example"
    return match.group(1)


def python_example() -> dict[str, Any]:
    """The names the README's Python block defines, executed verbatim."""
    namespace: dict[str, Any] = {}
    exec(compile(_block("python"), str(README), "exec"), namespace)
    return namespace


@pytest.fixture
def sandbox_env(sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SandboxHandle:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", sandbox.token)
    monkeypatch.setenv("HUBSPOT_BASE_URL", sandbox.base_url)
    monkeypatch.chdir(tmp_path)  # the ledger's default path is relative to the run's working directory
    return sandbox


def _check_loaded(sandbox: SandboxHandle) -> None:
    companies = {o["properties"]["name"]: o["id"] for o in sandbox.objects("companies")}
    contacts = {o["properties"]["email"]: o for o in sandbox.objects("contacts")}
    assert set(companies) == {"Acme", "Globex"}
    assert set(contacts) == {"ann@acme.example", "bo@globex.example", "cy@example.com"}
    assert contacts["ann@acme.example"]["properties"]["firstname"] == "Ann"
    linked = {
        email: {str(a.get("toObjectId") or a.get("id")) for a in obj["associations"]}
        for email, obj in contacts.items()
    }
    assert linked == {
        "ann@acme.example": {companies["Acme"]},
        "bo@globex.example": {companies["Globex"]},
        "cy@example.com": set(),
    }


def test_readme_python_example_runs_against_the_sandbox(sandbox_env: SandboxHandle) -> None:
    defs: dg.Definitions = python_example()["defs"]
    configured = defs.resources["hubspot"]
    assert isinstance(configured, HubSpotResource) and configured.requests_per_10s == 190
    # the definitions as written, with their own resource: the environment points it at the sandbox
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    _check_loaded(sandbox_env)


def test_readme_yaml_example_runs_against_the_sandbox(sandbox_env: SandboxHandle) -> None:
    with create_defs_folder_sandbox() as folder:
        (folder.defs_folder_path / "upstream.py").write_text(UPSTREAM_ASSETS)
        path = folder.scaffold_component(
            component_cls=HubSpotLoadCollectionComponent, defs_path="hubspot_loads"
        )
        (path / "defs.yaml").write_text(_block("yaml"))
        with folder.build_all_defs() as defs:
            result = dg.materialize(
                list(defs.resolve_asset_graph().assets_defs), instance=dg.DagsterInstance.ephemeral()
            )
    assert result.success
    _check_loaded(sandbox_env)
