"""``warehouse_dbt_assets`` materialized with Dagster: a real ``dbt build`` through dagster-dbt."""

from pathlib import Path
from types import ModuleType

import dagster as dg
import pytest

from .test_warehouse_dbt import INVALID_EMAIL_KEYS


def test_model_asset_keys(warehouse: ModuleType) -> None:
    keys = set(warehouse.warehouse_dbt_assets.keys)
    for name in ("hubspot_companies", "hubspot_contacts", "hubspot_deals"):
        assert warehouse.model_asset_key(name) == dg.AssetKey([name])
        assert dg.AssetKey([name]) in keys
    assert dg.AssetKey(["raw_contacts"]) in keys
    with pytest.raises(KeyError):
        warehouse.model_asset_key("no_such_model")
    assert Path(warehouse.dbt_project.manifest_path).exists()


def test_materialize_builds_the_warehouse(
    warehouse: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative path, from a working directory that is not the dbt project: dbt runs in the project
    # directory, so the assets must hand it an absolute path.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUBSPOT_LOADER_DUCKDB", "warehouse.duckdb")
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))  # dagster-dbt's per-run target dirs

    result = dg.materialize([warehouse.warehouse_dbt_assets], resources={"dbt": warehouse.dbt_resource()})

    assert result.success
    keys = {event.asset_key for event in result.get_asset_materialization_events()}
    for name in ("hubspot_companies", "hubspot_contacts", "hubspot_deals"):
        assert warehouse.model_asset_key(name) in keys
    database = tmp_path / "warehouse.duckdb"
    assert database.exists()
    assert len(warehouse.read_model("hubspot_contacts")) == 3000  # default path: the env var, from cwd
    assert len(warehouse.read_model("hubspot_deals", database)) == 400

    # dbt tests are asset checks: all pass but the email format check, which only warns.
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) >= 30
    failed = [e for e in evaluations if not e.passed]
    assert [e.check_name for e in failed] == ["email_format"]
    assert failed[0].severity == dg.AssetCheckSeverity.WARN
    assert failed[0].asset_key == warehouse.model_asset_key("hubspot_contacts")
    assert failed[0].metadata["dagster_dbt/failed_row_count"].value == len(INVALID_EMAIL_KEYS)
