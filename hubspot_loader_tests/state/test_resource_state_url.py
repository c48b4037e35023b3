"""``HubSpotResource(state_url=...)``: a Dagster load keeps its sync state in the database the URL names.

Two materializations of the same frame against the sandbox on 127.0.0.1, with the ledger in a real
PostgreSQL schema (and in SQLite): the second run creates nothing and reports every row skipped, with the
same id map (issue #14).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from hubspot_loader import HubSpotLoadSpec, HubSpotResource
from hubspot_loader.dagster import HubSpotLoad, build_hubspot_load_asset
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.ledger import open_ledger
from hubspot_loader.state.rate_budget import budget_key


@dg.asset
def people() -> pd.DataFrame:
    """Five contacts."""
    return pd.DataFrame(
        {"person_key": [f"P-{i}" for i in range(5)], "email": [f"p{i}@example.com" for i in range(5)]}
    )


LOAD = build_hubspot_load_asset(
    HubSpotLoad(
        name="people_contacts",
        source="people",
        spec=HubSpotLoadSpec(object_type="contacts", key_column="person_key", unique_property="email"),
    )
)


def _created(result: dg.ExecuteInMemoryResult) -> tuple[int, int]:
    metadata = result.asset_materializations_for_node("people_contacts")[0].metadata
    return metadata["hubspot/rows_created"].value, metadata["hubspot/rows_skipped"].value  # type: ignore[return-value]


def test_the_resource_keeps_state_in_the_database_of_its_state_url(
    sandbox: SandboxHandle, state_url: str
) -> None:
    resource = HubSpotResource(
        access_token=sandbox.token, base_url=sandbox.base_url, state_url=state_url, portal="acct-9"
    )
    first = dg.materialize([people, LOAD], resources={"hubspot": resource})
    second = dg.materialize([people, LOAD], resources={"hubspot": resource})
    assert first.success and second.success
    assert _created(first) == (5, 0) and _created(second) == (0, 5)
    assert sandbox.counters()["created"]["contacts"] == 5
    ledger = open_ledger(state_url)
    try:
        assert len(ledger.id_map("acct-9", "contacts")) == 5
    finally:
        ledger.close()
    by_email = {o["properties"]["email"]: o["id"] for o in sandbox.objects("contacts")}
    assert resource.ledger_id_map("contacts") == {f"P-{i}": by_email[f"p{i}@example.com"] for i in range(5)}


def _budget_keys(state_url: str) -> list[str]:
    engine = sa.create_engine(state_url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("rate_budgets"):
                return []
            keys = conn.execute(sa.text("SELECT budget_key FROM rate_budgets")).scalars()
            return [str(key) for key in keys]
    finally:
        engine.dispose()


def test_the_resource_shares_the_rate_budget_through_its_state_unless_told_not_to(
    sandbox: SandboxHandle, state_url: str, tmp_path: Path
) -> None:
    resource = HubSpotResource(access_token=sandbox.token, base_url=sandbox.base_url, state_url=state_url)
    assert dg.materialize([people, LOAD], resources={"hubspot": resource}).success
    assert _budget_keys(state_url) == [budget_key(sandbox.token)]

    alone = f"sqlite:///{tmp_path / 'alone.sqlite'}"
    resource = HubSpotResource(
        access_token=sandbox.token, base_url=sandbox.base_url, state_url=alone, share_rate_budget=False
    )
    assert dg.materialize([people, LOAD], resources={"hubspot": resource}).success
    assert _budget_keys(alone) == []
