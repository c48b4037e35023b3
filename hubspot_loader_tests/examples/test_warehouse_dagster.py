"""The example's dbt project through dagster-dbt's ``DbtProjectComponent``: a real ``dbt build``."""

from pathlib import Path
from types import ModuleType

import dagster as dg
import pytest

from .conftest import EXAMPLE_PACKAGE
from .test_warehouse_dbt import INVALID_EMAIL_KEYS

MARTS = ("hubspot_companies", "hubspot_contacts", "hubspot_deals")


def _dbt_assets(defs: dg.Definitions) -> dg.AssetsDefinition:
    [dbt] = [a for a in defs.resolve_asset_graph().assets_defs if a.op.name == "hubspot_warehouse_dbt_assets"]
    return dbt


def test_the_project_defs_hold_the_dbt_models_and_the_loads(warehouse: ModuleType) -> None:
    defs = dg.load_from_defs_folder(path_within_project=EXAMPLE_PACKAGE)
    keys = set(_dbt_assets(defs).keys)
    for name in MARTS:
        assert dg.AssetKey([name]) in keys
    assert dg.AssetKey(["raw_contacts"]) in keys
    assert Path(warehouse.dbt_project.manifest_path).exists()
    for name, model in [
        ("companies", "hubspot_companies"),
        ("contacts", "hubspot_contacts"),
        ("deals", "hubspot_deals"),
    ]:
        load = defs.resolve_assets_def(dg.AssetKey(["hubspot", name]))
        assert dg.AssetKey([model]) in {d.asset_key for d in load.specs_by_key[load.key].deps}
    deals = defs.resolve_assets_def(dg.AssetKey(["hubspot", "deals"]))
    id_maps = {key for name, key in deals.keys_by_input_name.items() if name.startswith("id_map_")}
    assert id_maps == {dg.AssetKey(["hubspot", "companies"]), dg.AssetKey(["hubspot", "contacts"])}
    assert defs.resolve_job_def("warehouse_to_hubspot").name == "warehouse_to_hubspot"
    [schedule] = defs.schedules or []
    assert schedule.cron_schedule == "0 6 * * *"


def test_materialize_builds_the_warehouse(
    warehouse: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A relative path, from a working directory that is not the dbt project: dbt runs in the project
    # directory, so the definitions hand it an absolute path.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUBSPOT_LOADER_DUCKDB", "warehouse.duckdb")
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))  # dagster-dbt's per-run target dirs
    warehouse.prepare_warehouse()  # what definitions.py does before loading the defs
    defs = dg.load_from_defs_folder(path_within_project=EXAMPLE_PACKAGE)

    result = dg.materialize([_dbt_assets(defs)], instance=dg.DagsterInstance.ephemeral())

    assert result.success
    keys = {event.asset_key for event in result.get_asset_materialization_events()}
    for name in MARTS:
        assert dg.AssetKey([name]) in keys
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
    assert failed[0].asset_key == dg.AssetKey(["hubspot_contacts"])
    assert failed[0].metadata["dagster_dbt/failed_row_count"].value == len(INVALID_EMAIL_KEYS)
