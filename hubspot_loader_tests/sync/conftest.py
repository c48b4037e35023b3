"""Helpers for the sync-mode tests: a ledger, fast clients, loads in a mode, and the sandbox's view."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from hubspot_loader.core.model import LoadResult
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.retry import RetryPolicy
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.ledger import SQLiteLedger
from hubspot_loader.state.sync import SyncMode

FAST_RETRY = RetryPolicy(max_attempts=10, backoff_base_s=0.01, backoff_max_s=0.05, max_elapsed_s=60)
PORTAL = "sync-portal"
CONTACTS = HubSpotLoadSpec(
    object_type="contacts", key_column="contact_key", unique_property="email", write_mode="upsert"
)


def contacts_frame(n: int, *, start: int = 0) -> pd.DataFrame:
    """``n`` contacts keyed ``c{i}`` with emails ``c{i}@example.com``, first and last names."""
    idx = range(start, start + n)
    return pd.DataFrame(
        {
            "contact_key": [f"c{i}" for i in idx],
            "email": [f"c{i}@example.com" for i in idx],
            "firstname": [f"First{i}" for i in idx],
            "lastname": [f"Last{i}" for i in idx],
        }
    )


def route_counts(sandbox: SandboxHandle) -> dict[str, int]:
    """Requests the sandbox received per ``"METHOD family"`` route (``POST batch/update`` ...)."""
    return {str(k): int(v) for k, v in sandbox.counters()["by_route"].items()}


def writes_since(before: dict[str, int], sandbox: SandboxHandle) -> dict[str, int]:
    """The routes requested since ``before`` (only those with a new request)."""
    after = route_counts(sandbox)
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def by_email(sandbox: SandboxHandle, *, archived: bool = False) -> dict[str, dict[str, Any]]:
    """Stored contacts by email (asserting no email is stored twice)."""
    objects = sandbox.objects("contacts", archived=archived)
    emails = [str(o["properties"].get("email")).lower() for o in objects]
    assert len(emails) == len(set(emails)), "a contact is stored twice"
    return dict(zip(emails, objects, strict=True))


def patch(sandbox: SandboxHandle, object_type: str, object_id: str, properties: dict[str, str]) -> None:
    """Edit a record in the sandbox as a salesperson would (one PATCH over HTTP)."""
    answer = requests.patch(
        f"{sandbox.base_url}/crm/objects/2026-03/{object_type}/{object_id}",
        json={"properties": properties},
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def create_unique_property(sandbox: SandboxHandle, object_type: str, name: str, group: str) -> None:
    """Create a text property with ``hasUniqueValue`` through the sandbox's properties API."""
    body = {
        "name": name,
        "label": name.replace("_", " ").title(),
        "type": "string",
        "fieldType": "text",
        "groupName": group,
        "hasUniqueValue": True,
    }
    answer = requests.post(
        f"{sandbox.base_url}/crm/properties/2026-03/{object_type}",
        json=body,
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SQLiteLedger]:
    opened = SQLiteLedger(tmp_path / "state.sqlite")
    yield opened
    opened.close()


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[HubSpotClient]:
    built = HubSpotClient(
        sandbox.token,
        base_url=sandbox.base_url,
        settings=ClientSettings(retry=FAST_RETRY, timeout=(2.0, 10.0)),
    )
    yield built
    built.close()


@pytest.fixture
def sync(client: HubSpotClient, ledger: SQLiteLedger) -> Callable[..., LoadResult]:
    """Run one load of ``frame`` with ``spec`` (default: contacts upsert) into the sandbox and the ledger."""

    def run(
        frame: pd.DataFrame,
        spec: HubSpotLoadSpec = CONTACTS,
        *,
        dry_run: bool = False,
        id_maps: dict[str, dict[str, str]] | None = None,
        sync_mode: SyncMode = "incremental",
        **changes: Any,
    ) -> LoadResult:
        return load_dataframe(
            frame,
            spec.replace(**changes) if changes else spec,
            client=client,
            ledger=ledger,
            id_maps=id_maps,
            run=LoadRun(portal=PORTAL, sync_mode=sync_mode),
            dry_run=dry_run,
        )

    return run
