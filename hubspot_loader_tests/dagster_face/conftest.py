"""Fixtures of the Dagster face: frames, upstream assets, and an environment that points at a sandbox."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from hubspot_loader.sandbox import SandboxHandle

ACCOUNTS = pd.DataFrame({"account_id": ["A-1", "A-2"], "name": ["Acme", "Globex"]})
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["C-1", "C-2", "C-3"],
        "email": ["ann@acme.example", "bo@globex.example", "cy@example.com"],
        "first_name": ["Ann", "Bo", None],
        "account_id": ["A-1", "A-2", None],
    }
)


@dg.asset
def account_rows() -> pd.DataFrame:
    return ACCOUNTS


@dg.asset
def customer_rows() -> pd.DataFrame:
    return CUSTOMERS


@pytest.fixture
def hubspot_env(sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SandboxHandle:
    """Only environment variables point at the sandbox; the run's working directory (ledger) is tmp_path."""
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", sandbox.token)
    monkeypatch.setenv("HUBSPOT_BASE_URL", sandbox.base_url)
    monkeypatch.chdir(tmp_path)
    return sandbox


def linked_companies(sandbox: SandboxHandle) -> dict[str, set[str]]:
    """Each contact's email → the names of the companies it is associated with, read from the sandbox."""
    names = {o["id"]: o["properties"]["name"] for o in sandbox.objects("companies")}
    return {
        o["properties"]["email"]: {names[str(a.get("toObjectId") or a.get("id"))] for a in o["associations"]}
        for o in sandbox.objects("contacts")
    }
