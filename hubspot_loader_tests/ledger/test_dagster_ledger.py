"""The ledger through real ``dagster.materialize()`` runs: incremental re-runs, partitions, defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from hubspot_loader import HubSpotLoadSpec, HubSpotResource, build_hubspot_load_asset
from hubspot_loader.dagster import HubSpotLoad
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.ledger import SQLiteLedger, default_portal, token_fingerprint
from hubspot_loader_tests.conftest import STATE_HOME

from .conftest import contacts_frame, creates, sandbox_id_map

DAILY = dg.DailyPartitionsDefinition(start_date="2026-01-01")


def _assets(rows: dict[str, pd.DataFrame], *, partitioned: bool = False) -> list[Any]:
    @dg.asset(partitions_def=DAILY if partitioned else None)
    def warehouse_contacts(context) -> pd.DataFrame:  # type: ignore[no-untyped-def]
        return rows[context.partition_key if partitioned else "all"]

    load = build_hubspot_load_asset(
        HubSpotLoad(
            name="hubspot_contacts",
            source="warehouse_contacts",
            spec=HubSpotLoadSpec(object_type="contacts", key_column="contact_key"),
        ),
        partitions_def=DAILY if partitioned else None,
    )
    return [warehouse_contacts, load]


def _run(
    assets: list[Any], resource: HubSpotResource, **kwargs: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    result = dg.materialize(assets, resources={"hubspot": resource}, **kwargs)
    assert result.success
    metadata = result.asset_materializations_for_node("hubspot_contacts")[0].metadata
    values = {k: getattr(v, "value", v) for k, v in metadata.items()}
    values["run_id"] = result.run_id
    return values, result.output_for_node("hubspot_contacts")


def test_rematerializing_unchanged_data_sends_nothing_and_ten_new_rows_one_batch(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    rows = {"all": contacts_frame(120)}
    assets = _assets(rows)
    state = tmp_path / "state.sqlite"
    resource = HubSpotResource(access_token=sandbox.token, base_url=sandbox.base_url, state_path=str(state))

    first, first_map = _run(assets, resource)
    assert first["hubspot/rows_created"] == 120 and creates(sandbox) == 2
    assert first["hubspot/sync_mode"] == "incremental"

    again, again_map = _run(assets, resource)
    assert creates(sandbox) == 2  # zero create requests
    assert again["hubspot/rows_skipped"] == 120 and again["hubspot/rows_created"] == 0
    assert again_map == first_map and len(first_map) == 120  # the id map still holds skipped rows

    created_before = sandbox.counters()["created"]["contacts"]
    rows["all"] = pd.concat([rows["all"], contacts_frame(10, start=120)], ignore_index=True)
    grown, grown_map = _run(assets, resource)
    assert creates(sandbox) == 3  # one request ...
    assert sandbox.counters()["created"]["contacts"] - created_before == 10  # ... creating the 10 new rows
    assert grown["hubspot/batches"] == 1 and grown["hubspot/rows_created"] == 10
    assert grown["hubspot/rows_skipped"] == 120
    assert grown_map == sandbox_id_map(sandbox)

    with SQLiteLedger(state) as ledger:
        portal = default_portal(sandbox.base_url, token_fingerprint(sandbox.token))
        assert ledger.id_map(portal, "contacts") == grown_map
        first_runs = {e.row_key: e.first_run_id for e in ledger.entries(portal, "contacts")}
    assert first_runs["c0"] == first["run_id"] and first_runs["c125"] == grown["run_id"]
    assert resource.ledger_id_map("contacts") == grown_map and resource.ledger_id_map("companies") == {}


def test_default_state_file_does_not_depend_on_the_working_directory_and_empty_path_disables_it(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assets = _assets({"all": contacts_frame(5)})
    resource = HubSpotResource(access_token=sandbox.token, base_url=sandbox.base_url, portal="acct-1")
    home = tmp_path / "dagster-home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for step_dir in ("step-1", "step-2"):  # two steps started in two directories share the state
        (tmp_path / step_dir).mkdir()
        monkeypatch.chdir(tmp_path / step_dir)
        _run(assets, resource)
    state = home / "hubspot_loader" / "state.sqlite"
    with SQLiteLedger(state) as ledger:
        assert len(ledger.id_map("acct-1", "contacts")) == 5
    assert creates(sandbox) == 1  # the second step skipped all five
    assert not list(tmp_path.glob("step-*/.hubspot_loader"))
    # without DAGSTER_HOME: the per-user XDG state file (the test's own, see conftest.own_state_home)
    monkeypatch.delenv("DAGSTER_HOME")
    _run(_assets({"all": contacts_frame(5, tag="x")}), resource)
    with SQLiteLedger(own_state_home_file(tmp_path)) as ledger:
        assert len(ledger.id_map("acct-1", "contacts")) == 5

    stateless = HubSpotResource(access_token=sandbox.token, base_url=sandbox.base_url, state_path="")
    creates_before = creates(sandbox)
    metadata, id_map = _run(assets, stateless, raise_on_error=True)
    # Nothing remembered: every row is tried again, and online preflight finds each email already held by
    # a record (HubSpot would answer 409), so all 5 fail as conflicts without a create request.
    assert creates(sandbox) == creates_before
    assert metadata["hubspot/sync_mode"] == "stateless" and metadata["hubspot/rows_failed"] == 5
    assert {r.data["code"] for r in metadata["hubspot/failed_rows"].records} == {"CONFLICT"}
    assert id_map == {}


def own_state_home_file(tmp_path: Path) -> Path:
    """The default SQLite file of a test without DAGSTER_HOME (``$XDG_STATE_HOME`` is under tmp_path)."""
    return tmp_path / STATE_HOME / "hubspot_loader" / "state.sqlite"


def test_a_ledger_at_the_old_default_path_is_used_until_moved(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrading never starts from an empty ledger: the old relative default is used, with a warning."""
    monkeypatch.chdir(tmp_path)
    legacy = tmp_path / ".hubspot_loader" / "state.sqlite"
    old = HubSpotResource(
        access_token=sandbox.token, base_url=sandbox.base_url, portal="acct-1", state_path=str(legacy)
    )
    assets = _assets({"all": contacts_frame(5)})
    _run(assets, old)
    upgraded = HubSpotResource(access_token=sandbox.token, base_url=sandbox.base_url, portal="acct-1")
    metadata, _ = _run(assets, upgraded)
    assert metadata["hubspot/rows_skipped"] == 5 and creates(sandbox) == 1
    assert not own_state_home_file(tmp_path).exists()
    own_state_home_file(tmp_path).parent.mkdir(parents=True)
    legacy.rename(own_state_home_file(tmp_path))  # moved as the warning says: the same state
    metadata, _ = _run(assets, upgraded)
    assert metadata["hubspot/rows_skipped"] == 5 and creates(sandbox) == 1


def test_daily_partitions_are_tracked_per_partition_key(sandbox: SandboxHandle, tmp_path: Path) -> None:
    rows = {
        "2026-01-01": contacts_frame(30, tag="jan1-"),
        "2026-01-02": contacts_frame(20, tag="jan2-"),
    }
    assets = _assets(rows, partitioned=True)
    resource = HubSpotResource(
        access_token=sandbox.token,
        base_url=sandbox.base_url,
        state_path=str(tmp_path / "s.sqlite"),
        portal="p",
    )
    day1, map1 = _run(assets, resource, partition_key="2026-01-01")
    day2, map2 = _run(assets, resource, partition_key="2026-01-02")
    assert day1["hubspot/rows_created"] == 30 and day2["hubspot/rows_created"] == 20
    assert set(map1) == set(rows["2026-01-01"]["contact_key"]) and set(map2) == set(
        rows["2026-01-02"]["contact_key"]
    )

    again, again_map = _run(assets, resource, partition_key="2026-01-01")
    assert creates(sandbox) == 2 and again["hubspot/rows_skipped"] == 30 and again_map == map1
    with SQLiteLedger(tmp_path / "s.sqlite") as ledger:
        assert ledger.id_map("p", "contacts", partition="2026-01-01") == map1
        assert ledger.id_map("p", "contacts", partition="2026-01-02") == map2
        assert {e.partition for e in ledger.entries("p", "contacts")} == {"2026-01-01", "2026-01-02"}
    assert {**map1, **map2} == sandbox_id_map(sandbox)


def test_resource_settings_reach_the_client_and_the_ledger(tmp_path: Path) -> None:
    resource = HubSpotResource(
        access_token="pat-na1-resource-test",
        max_attempts=3,
        max_retry_seconds=12,
        resend_ambiguous=False,
        state_path=str(tmp_path / "deep" / "state.sqlite"),
    )
    client = resource.get_client()
    assert (client.retry.max_attempts, client.retry.max_elapsed_s, client.resend_ambiguous) == (3, 12, False)
    assert resource.portal_for(client) == default_portal("https://api.hubapi.com", client.token_fingerprint)
    assert HubSpotResource(access_token="t", portal="acct-9").portal_for(client) == "acct-9"
    ledger = resource.get_ledger()
    assert ledger is not None and (tmp_path / "deep" / "state.sqlite").exists()
    ledger.close()
    client.close()
    assert HubSpotResource(access_token="t", state_path=None).get_ledger() is None
    assert HubSpotResource(access_token="t", state_path="").get_ledger() is None
