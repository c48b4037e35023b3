"""The README's "Using it in your own project" example, executed as written against the sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import dagster as dg

from hubspot_loader import HubSpotResource
from hubspot_loader.sandbox import SandboxHandle

README = Path(__file__).resolve().parents[2] / "README.md"


def _example_source() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Using it in your own project") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "the README lost its example"
    return match.group(1)


def test_readme_example_runs_against_the_sandbox(sandbox: SandboxHandle, monkeypatch: Any) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", sandbox.token)
    namespace: dict[str, Any] = {}
    exec(compile(_example_source(), str(README), "exec"), namespace)
    defs: dg.Definitions = namespace["defs"]
    configured = defs.resources["hubspot"]
    assert isinstance(configured, HubSpotResource) and configured.requests_per_10s == 190

    # Same definitions; the resource points at the sandbox instead of api.hubapi.com.
    hubspot = HubSpotResource(access_token=sandbox.token, base_url=sandbox.base_url, state_path="")
    assets = [namespace[n] for n in ("account_rows", "customer_rows", "companies", "contacts")]
    result = dg.materialize(assets, resources={"hubspot": hubspot})
    assert result.success

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
