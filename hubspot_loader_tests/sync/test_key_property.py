"""``key_property`` over real HTTP: the unique property is created if missing, filled with the key, used."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import requests

from hubspot_loader.core.model import LoadResult
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.key_property import KeyPropertyError
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import SandboxConfig, SandboxHandle, TokenConfig
from hubspot_loader.state.ledger import SQLiteLedger

from .conftest import FAST_RETRY, PORTAL

Sync = Callable[..., LoadResult]
COMPANIES = HubSpotLoadSpec(
    object_type="companies", key_column="company_key", key_property="warehouse_key", write_mode="upsert"
)


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"company_key": [f"co{i}" for i in range(n)], "name": [f"Company {i}" for i in range(n)]}
    )


def _definition(client: HubSpotClient, name: str) -> dict[str, object] | None:
    return next((d for d in client.properties("companies") if d.get("name") == name), None)


def test_the_key_property_is_created_filled_and_used_to_adopt(
    sandbox: SandboxHandle, client: HubSpotClient, ledger: SQLiteLedger, sync: Sync, tmp_path: Path
) -> None:
    first = sync(_frame(4), COMPANIES)
    assert first.rows_created == 4
    assert any("created the key property 'warehouse_key'" in w for w in first.warnings)
    definition = _definition(client, "warehouse_key")
    assert definition is not None and definition["hasUniqueValue"] is True and definition["type"] == "string"
    stored = {o["properties"]["warehouse_key"]: o["properties"]["name"] for o in sandbox.objects("companies")}
    assert stored == {f"co{i}": f"Company {i}" for i in range(4)}
    assert not any("no unique property" in w for w in first.warnings)

    # a fresh pod: no sync state; the records are adopted by the key property, nothing is duplicated
    with SQLiteLedger(tmp_path / "fresh.sqlite") as fresh:
        renamed = _frame(5)
        renamed.loc[1, "name"] = "Company One, renamed"
        result = load_dataframe(renamed, COMPANIES, client=client, ledger=fresh, run=LoadRun(portal=PORTAL))
    assert (result.rows_adopted, result.rows_created, result.rows_failed) == (4, 1, 0)
    assert len(sandbox.objects("companies")) == 5
    names = {o["properties"]["warehouse_key"]: o["properties"]["name"] for o in sandbox.objects("companies")}
    assert names["co1"] == "Company One, renamed"


def test_an_existing_property_without_unique_values_is_refused(
    sandbox: SandboxHandle, client: HubSpotClient, sync: Sync
) -> None:
    answer = requests.post(
        f"{sandbox.base_url}/crm/properties/2026-03/companies",
        json={
            "name": "warehouse_key",
            "label": "Key",
            "type": "string",
            "fieldType": "text",
            "groupName": "companyinformation",
        },
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    )
    assert answer.status_code == 201
    with pytest.raises(KeyPropertyError, match="does not require unique values"):
        sync(_frame(2), COMPANIES)
    assert sandbox.objects("companies") == []


def test_a_token_without_the_schema_scope_is_told_what_to_create(
    sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    scopes = frozenset(
        {"crm.objects.companies.write", "crm.objects.companies.read", "crm.schemas.companies.read"}
    )
    handle = sandbox_factory(config=SandboxConfig(tokens=(TokenConfig("narrow", scopes),)))
    with (
        HubSpotClient(
            "narrow", base_url=handle.base_url, settings=ClientSettings(retry=FAST_RETRY)
        ) as client,
        SQLiteLedger(tmp_path / "s.sqlite") as ledger,
        pytest.raises(
            KeyPropertyError,
            match=r"create it in HubSpot .*'warehouse_key'.*crm\.schemas\.companies\.write",
        ),
    ):
        load_dataframe(_frame(2), COMPANIES, client=client, ledger=ledger, run=LoadRun(portal=PORTAL))
    assert handle.objects("companies") == []


def test_a_dry_run_only_says_it_would_create_it(
    sandbox: SandboxHandle, client: HubSpotClient, sync: Sync
) -> None:
    result = sync(_frame(2), COMPANIES, dry_run=True)
    assert any("a real run creates it" in w for w in result.warnings)
    assert _definition(client, "warehouse_key") is None
