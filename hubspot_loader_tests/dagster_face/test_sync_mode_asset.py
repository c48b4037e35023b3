"""A Dagster asset in upsert mode with ``materialize()``: the sync counts and endpoints in its metadata."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from hubspot_loader import HubSpotLoadSpec, HubSpotResource
from hubspot_loader.dagster import HubSpotLoad, build_hubspot_load_assets
from hubspot_loader.sandbox import SandboxHandle

ROWS = {"frame": pd.DataFrame({"account_id": ["A-1", "A-2", "A-3"], "name": ["Acme", "Globex", "Initech"]})}


@dg.asset
def account_rows() -> pd.DataFrame:
    return ROWS["frame"]


LOAD = HubSpotLoad(
    name="companies",
    source="account_rows",
    spec=HubSpotLoadSpec(object_type="companies", key_column="account_id", write_mode="upsert"),
)


def _metadata(result: dg.ExecuteInJobResult) -> dict[str, object]:
    [materialization] = [
        m for m in result.asset_materializations_for_node("companies") if m.asset_key.path[-1] == "companies"
    ]
    return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}


def test_a_second_materialization_reports_updated_and_unchanged_rows(hubspot_env: SandboxHandle) -> None:
    assets = build_hubspot_load_assets([LOAD])
    resources = {"hubspot": HubSpotResource()}
    first = dg.materialize([account_rows, *assets], resources=resources)
    assert first.success
    assert _metadata(first)["hubspot/rows_created"] == 3

    ROWS["frame"] = ROWS["frame"].assign(name=["Acme", "Globex Corp", "Initech"])
    try:
        second = dg.materialize([account_rows, *assets], resources=resources)
    finally:
        ROWS["frame"] = ROWS["frame"].assign(name=["Acme", "Globex", "Initech"])
    assert second.success
    meta = _metadata(second)
    assert meta["hubspot/write_mode"] == "upsert"
    assert (meta["hubspot/rows_created"], meta["hubspot/rows_updated"], meta["hubspot/rows_unchanged"]) == (
        0,
        1,
        2,
    )
    assert meta["hubspot/rows_adopted"] == 0 and meta["hubspot/rows_archived"] == 0
    table = meta["hubspot/batches_table"]
    assert [(r.data["endpoint"], r.data["written"]) for r in table.records] == [("update", 1)]
    names = sorted(o["properties"]["name"] for o in hubspot_env.objects("companies"))
    assert names == ["Acme", "Globex Corp", "Initech"]
