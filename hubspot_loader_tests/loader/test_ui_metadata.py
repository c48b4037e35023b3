"""Metadata a person can read in the UI (issue #12), through real ``materialize()`` runs against the sandbox.

The narrow batches table with a timestamp column and its details as JSON, every failed row in a CSV in the
run directory, the link to the object list in the HubSpot portal (one account-info read per run), and the
id map from the ledger for downstream assets that get nothing from the IO manager.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from hubspot_loader import HubSpotLoadSpec, HubSpotResource, build_hubspot_load_asset
from hubspot_loader.core.tables import BATCH_SUMMARY_COLUMNS, FAILED_ROWS_COLUMNS
from hubspot_loader.dagster import DagsterHubSpotTranslator, HubSpotLoad
from hubspot_loader.dagster.sandbox_resource import SandboxHubSpotResource
from hubspot_loader.sandbox import CustomObjectConfig, PropertyConfig, SandboxHandle
from hubspot_loader.sandbox.config import FaultConfig

ACCOUNT_ROUTE = "GET account-info/details"
GOOD, BAD = 30, 60  # more bad rows than the 50 the failed-rows table keeps


def _contacts(good: int = GOOD, bad: int = BAD) -> pd.DataFrame:
    emails = [f"ok{i}@example.com" for i in range(good)] + [f"not-an-email-{i}" for i in range(bad)]
    return pd.DataFrame({"contact_key": [f"c{i}" for i in range(good + bad)], "email": emails})


@dg.asset
def company_rows() -> pd.DataFrame:
    return pd.DataFrame({"company_key": [f"co{i}" for i in range(5)], "name": [f"Co {i}" for i in range(5)]})


@dg.asset
def contact_rows() -> pd.DataFrame:
    return _contacts()


def _load(name: str, object_type: str, source: str, key: str) -> dg.AssetsDefinition:
    return build_hubspot_load_asset(
        HubSpotLoad(name=name, source=source, spec=HubSpotLoadSpec(object_type=object_type, key_column=key)),
        translator=DagsterHubSpotTranslator(key_prefix="hubspot"),
    )


COMPANIES = _load("companies", "companies", "company_rows", "company_key")
CONTACTS = _load("contacts", "contacts", "contact_rows", "contact_key")


def _resource(hub: SandboxHandle, **kwargs: Any) -> HubSpotResource:
    kwargs.setdefault("state_path", "")
    return HubSpotResource(access_token=hub.token, base_url=hub.base_url, **kwargs)


def _materialization(result: dg.ExecuteInProcessResult, name: str) -> dict[str, Any]:
    [event] = [
        e.step_materialization_data.materialization
        for e in result.get_asset_materialization_events()
        if e.step_materialization_data.materialization.asset_key == dg.AssetKey(["hubspot", name])
    ]
    return dict(event.metadata)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))  # Python 3.10 reads no "Z"


def _debug_lines(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [e.user_message for e in instance.all_logs(run_id) if e.level == 10]  # logging.DEBUG


def test_batches_table_is_narrow_times_are_timestamp_columns_and_the_details_are_json(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    result = dg.materialize(
        [company_rows, COMPANIES],
        resources={"hubspot": _resource(sandbox, batch_size=2, outcomes_dir=str(tmp_path))},
    )
    assert result.success
    md = _materialization(result, "companies")
    table = md["hubspot/batches_table"].value
    assert [c.name for c in table.schema.columns] == list(BATCH_SUMMARY_COLUMNS)
    assert {c.name: c.type for c in table.schema.columns} == {
        "batch": "int", "rows": "int", "status": "string", "created": "int", "failed": "int",
        "seconds": "float",
    }  # fmt: skip
    times = md["hubspot/batch_times"].value
    assert [(c.name, c.type) for c in times.schema.columns] == [
        ("batch", "int"), ("started_at", "timestamp"), ("completed_at", "timestamp")
    ]  # fmt: skip
    details = md["hubspot/batch_details"].value
    batches = [r.data["batch"] for r in table.records]
    assert batches == [r.data["batch"] for r in times.records] == [d["index"] for d in details] == [0, 1, 2]
    for row, timed, detail in zip(table.records, times.records, details, strict=True):
        for column in ("started_at", "completed_at"):
            cell = timed.data[column]
            assert cell.endswith("Z") and len(cell) == len("2026-11-29T03:33:07.123Z"), cell  # HubSpot's form
            assert _parse(cell) == _parse(detail[column])  # the same instant as the details say
        assert _parse(detail["requested_at"]) <= _parse(timed.data["started_at"])
        assert _parse(timed.data["started_at"]) <= _parse(timed.data["completed_at"])
        assert detail["http_status"] == 201 and detail["status"] == row.data["status"] == "COMPLETE"
        assert row.data["created"] == detail["created"] and row.data["seconds"] == detail["seconds"] >= 0
    assert sum(r.data["rows"] for r in table.records) == 5
    # The run's aggregate times stay Dagster timestamps.
    assert isinstance(md["hubspot/started_at"], dg.TimestampMetadataValue)
    assert md["hubspot/started_at"].value == pytest.approx(
        min(_parse(d["started_at"]).timestamp() for d in details), abs=1e-3
    )


def test_every_failed_row_is_in_a_csv_in_the_run_directory(sandbox: SandboxHandle, tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "home"))
    result = dg.materialize(
        [contact_rows, CONTACTS], resources={"hubspot": _resource(sandbox)}, instance=instance
    )
    assert result.success
    md = _materialization(result, "contacts")
    assert md["hubspot/rows_failed"].value == BAD and len(md["hubspot/failed_rows"].value.records) == 50

    path = Path(md["hubspot/failed_rows_file"].value)
    storage = Path(instance.storage_directory()).resolve()
    assert path == storage / "hubspot_loader" / result.run_id / "hubspot" / "contacts" / "failed_rows.csv"
    saved = pd.read_csv(path, dtype={"key": str})
    assert list(saved.columns) == list(FAILED_ROWS_COLUMNS)
    assert saved["key"].tolist() == [f"c{i}" for i in range(GOOD, GOOD + BAD)]  # all of them, in order
    assert set(saved["code"]) == {"INVALID_EMAIL"} and saved["message"].notna().all()
    assert sandbox.token not in path.read_text(encoding="utf-8")
    assert [p.name for p in path.parent.iterdir()] == ["failed_rows.csv"]  # no temporary file left


def test_outcomes_dir_moves_the_files_and_an_empty_one_turns_them_off(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    moved = dg.materialize(
        [contact_rows, CONTACTS], resources={"hubspot": _resource(sandbox, outcomes_dir="outcomes")}
    )
    path = Path(_materialization(moved, "contacts")["hubspot/failed_rows_file"].value)
    assert path == tmp_path / "outcomes" / moved.run_id / "hubspot" / "contacts" / "failed_rows.csv"
    assert len(pd.read_csv(path)) == BAD

    off = dg.materialize([contact_rows, CONTACTS], resources={"hubspot": _resource(sandbox, outcomes_dir="")})
    md = _materialization(off, "contacts")
    assert md["hubspot/rows_failed"].value > 0 and "hubspot/failed_rows_file" not in md
    assert sorted(p.name for p in (tmp_path / "outcomes").iterdir()) == [moved.run_id]


def test_portal_link_from_one_account_info_read_per_run(
    sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    hub = sandbox_factory(portal_id=424242, ui_domain="app-eu1.hubspot.com")
    resource = _resource(hub, outcomes_dir=str(tmp_path))
    result = dg.materialize(
        [company_rows, contact_rows, COMPANIES, CONTACTS], resources={"hubspot": resource}
    )
    assert result.success
    assert _materialization(result, "companies")["hubspot/portal_url"] == dg.MetadataValue.url(
        "https://app-eu1.hubspot.com/contacts/424242/objects/0-2"
    )
    assert _materialization(result, "contacts")["hubspot/portal_url"] == dg.MetadataValue.url(
        "https://app-eu1.hubspot.com/contacts/424242/objects/0-1"
    )
    assert hub.counters()["by_route"][ACCOUNT_ROUTE] == 1  # two loads, one read
    [cached] = (tmp_path / result.run_id).glob("account_info.*.json")
    assert hub.token not in cached.read_text(encoding="utf-8")

    again = dg.materialize([company_rows, COMPANIES], resources={"hubspot": resource})
    assert "hubspot/portal_url" in _materialization(again, "companies")
    assert hub.counters()["by_route"][ACCOUNT_ROUTE] == 2  # a new run reads once more


def test_a_custom_object_links_by_its_type_id_and_by_name_says_why_not(
    sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path
) -> None:
    vendor = CustomObjectConfig("vendor", "2-5001", properties=(PropertyConfig("vendor_code", "string"),))
    hub = sandbox_factory(custom_objects=(vendor,))

    @dg.asset
    def vendor_rows() -> pd.DataFrame:
        return pd.DataFrame({"vendor_key": ["v1"], "vendor_code": ["V-1"]})

    by_id, by_name = (
        _load("by_id", "2-5001", "vendor_rows", "vendor_key"),
        _load("by_name", "p_vendor", "vendor_rows", "vendor_key"),
    )
    instance = dg.DagsterInstance.ephemeral()
    resource = _resource(hub, outcomes_dir=str(tmp_path))
    result = dg.materialize([vendor_rows, by_id, by_name], resources={"hubspot": resource}, instance=instance)
    linked, unlinked = _materialization(result, "by_id"), _materialization(result, "by_name")
    assert linked["hubspot/portal_url"].value == "https://app.hubspot.com/contacts/12345678/objects/2-5001"
    assert unlinked["hubspot/rows_created"].value + unlinked["hubspot/rows_failed"].value == 1
    assert "hubspot/portal_url" not in unlinked
    assert any("objectTypeId is per portal" in line for line in _debug_lines(instance, result.run_id))
    assert hub.counters()["by_route"][ACCOUNT_ROUTE] == 1


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"ui_domain": "https://app.hubspot.com/evil"}, "uiDomain must be a host name"),
        (
            {"faults": FaultConfig(error_rate=1.0, error_statuses=(503,), writes_only=False)},
            "HubSpotServerError",
        ),
    ],
    ids=["bad-ui-domain", "503"],
)
def test_a_failed_account_read_gives_no_link_and_a_debug_line_never_a_failed_load(
    sandbox_factory: Callable[..., SandboxHandle], tmp_path: Path, overrides: dict[str, Any], reason: str
) -> None:
    hub = sandbox_factory(**overrides)
    # A dry run without preflight sends no other request, so the failing sandbox cannot fail the load.
    resource = _resource(hub, dry_run=True, max_attempts=1, outcomes_dir=str(tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    load = build_hubspot_load_asset(
        HubSpotLoad(
            name="companies",
            source="company_rows",
            spec=HubSpotLoadSpec(object_type="companies", key_column="company_key", preflight="off"),
        ),
        translator=DagsterHubSpotTranslator(key_prefix="hubspot"),
    )
    result = dg.materialize([company_rows, load], resources={"hubspot": resource}, instance=instance)
    assert result.success
    md = _materialization(result, "companies")
    assert md["hubspot/dry_run"].value is True and "hubspot/portal_url" not in md
    assert hub.counters()["by_route"][ACCOUNT_ROUTE] == 1
    lines = [line for line in _debug_lines(instance, result.run_id) if "no HubSpot portal link" in line]
    assert len(lines) == 1 and reason in lines[0], lines
    assert hub.token not in lines[0]


def test_downstream_assets_get_the_id_map_from_the_ledger_without_the_io_manager(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    resource = _resource(sandbox, state_path=str(tmp_path / "state.sqlite"))
    loaded = dg.materialize([contact_rows, CONTACTS], resources={"hubspot": resource})
    created = loaded.output_for_node("hubspot__contacts")
    assert len(created) == GOOD

    seen: dict[str, dict[str, str]] = {}

    @dg.asset(deps=[CONTACTS.key])  # a dependency only: nothing comes through an IO manager
    def contact_ids(hubspot: HubSpotResource) -> dg.MaterializeResult:
        seen["ids"] = hubspot.ledger_id_map("contacts")
        return dg.MaterializeResult(metadata={"ids": len(seen["ids"])})

    # A later run of the downstream asset alone, on a fresh instance: no stored output of the load exists.
    later = dg.materialize(
        [contact_ids], resources={"hubspot": resource}, instance=dg.DagsterInstance.ephemeral()
    )
    assert later.success and seen["ids"] == created
    assert sorted(seen["ids"].values()) == sorted(str(o["id"]) for o in sandbox.objects("contacts"))


def test_the_demo_sandbox_resource_gives_the_ledger_id_map_outside_a_run(tmp_path: Path) -> None:
    resource = SandboxHubSpotResource(db_path=str(tmp_path / "sandbox.sqlite"))
    loaded = dg.materialize([company_rows, COMPANIES], resources={"hubspot": resource})
    created = loaded.output_for_node("hubspot__companies")
    assert len(created) == 5
    assert resource.ledger_id_map("companies") == created  # no sandbox running now, no request needed
    assert resource.ledger_id_map("contacts") == {}
