"""Upsert over real HTTP: changed rows updated (only what changed), the rest unchanged, records adopted."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from hubspot_loader.core.model import (
    ADOPTED,
    ADOPTED_UPDATED,
    CREATED,
    UNCHANGED,
    UPDATED,
    LoadResult,
    PreparedInput,
)
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.ledger import SQLiteLedger

from .conftest import PORTAL, by_email, contacts_frame, create_unique_property, patch, writes_since

Sync = Callable[..., LoadResult]


def test_a_changed_row_sends_only_its_changed_properties_and_edits_in_hubspot_survive(
    sandbox: SandboxHandle, sync: Sync
) -> None:
    frame = contacts_frame(250)
    first = sync(frame)
    assert first.rows_created == 250 and first.write_mode == "upsert"
    stored = by_email(sandbox)
    # a salesperson edits the last name of c7 in HubSpot; the warehouse renames c7's first name
    patch(sandbox, "contacts", stored["c7@example.com"]["id"], {"lastname": "Edited-in-HubSpot"})
    changed = frame.copy()
    changed.loc[changed.index % 20 == 7, "firstname"] = "Renamed"  # 5 % of the rows: c7, c27, ...
    before = sandbox.counters()["by_route"].copy()

    second = sync(changed)

    renamed = int((changed.index % 20 == 7).sum())
    assert (second.rows_updated, second.rows_unchanged, second.rows_created) == (renamed, 250 - renamed, 0)
    assert second.rows_failed == 0 and second.rows_adopted == 0
    writes = {k: v for k, v in writes_since(before, sandbox).items() if k.startswith("POST")}
    assert writes == {"POST batch/update": math.ceil(renamed / 100)}  # nothing else: no reads, no creates
    after = by_email(sandbox)
    assert after["c7@example.com"]["properties"]["firstname"] == "Renamed"
    assert after["c7@example.com"]["properties"]["lastname"] == "Edited-in-HubSpot"  # not ours to overwrite
    assert after["c8@example.com"]["properties"]["firstname"] == "First8"
    assert second.id_map == first.id_map
    assert {r.status for r in second.rows} == {UPDATED, UNCHANGED}

    third = sync(changed)
    assert third.rows_unchanged == 250 and third.batches == []


def test_a_value_that_became_null_is_cleared_unless_nulls_are_ignored(
    sandbox: SandboxHandle, sync: Sync
) -> None:
    frame = contacts_frame(4)
    sync(frame)
    blanked = frame.astype(object)
    blanked.loc[1, "lastname"] = None
    result = sync(blanked)
    assert result.rows_updated == 1
    assert by_email(sandbox)["c1@example.com"]["properties"]["lastname"] in ("", None)

    blanked.loc[2, "lastname"] = None
    ignored = sync(blanked, null_values="ignore")
    assert ignored.rows_updated == 0 and ignored.rows_unchanged == 4
    assert by_email(sandbox)["c2@example.com"]["properties"]["lastname"] == "Last2"


def test_records_that_already_exist_are_adopted_by_email_and_updated_where_they_differ(
    sandbox: SandboxHandle, client: HubSpotClient, ledger: SQLiteLedger, sync: Sync
) -> None:
    # 30 contacts exist already (a form, an earlier tool): 10 with other first names
    existing = [
        PreparedInput(
            i,
            f"x{i}",
            f"x{i}",
            {"email": f"c{i}@example.com", "firstname": f"First{i}" if i >= 10 else "Old"},
        )
        for i in range(30)
    ]
    assert sum(o.record.created for o in client.batch_create("contacts", existing)) == 30
    frame = contacts_frame(40)  # 30 of them exist, 10 are new

    result = sync(frame)

    statuses = pd.Series([r.status for r in result.rows]).value_counts().to_dict()
    # every existing record differs at least by its last name, which it did not have
    assert statuses == {ADOPTED_UPDATED: 30, CREATED: 10}
    assert result.rows_adopted == 30 and result.rows_failed == 0
    stored = by_email(sandbox)  # asserts no email twice
    assert len(stored) == 40
    assert stored["c3@example.com"]["properties"]["firstname"] == "First3"
    assert stored["c3@example.com"]["properties"]["lastname"] == "Last3"
    assert ledger.id_map(PORTAL, "contacts") == {
        f"c{i}": stored[f"c{i}@example.com"]["id"] for i in range(40)
    }

    again = sync(frame)
    assert again.rows_unchanged == 40 and again.batches == []


def test_an_adopted_record_equal_to_its_row_is_not_written(
    sandbox: SandboxHandle, client: HubSpotClient, sync: Sync
) -> None:
    frame = contacts_frame(3)
    existing = [
        PreparedInput(
            i, f"x{i}", f"x{i}", {k: str(frame.loc[i, k]) for k in ("email", "firstname", "lastname")}
        )
        for i in range(3)
    ]
    list(client.batch_create("contacts", existing))
    before = sandbox.counters()["by_route"].copy()
    result = sync(frame)
    assert {r.status for r in result.rows} == {ADOPTED}
    assert result.rows_unchanged == 3 and result.rows_updated == 0
    assert "POST batch/update" not in writes_since(before, sandbox)


def test_companies_are_adopted_by_a_custom_unique_property(
    sandbox: SandboxHandle, client: HubSpotClient, sync: Sync
) -> None:
    create_unique_property(sandbox, "companies", "warehouse_key", "companyinformation")
    existing = [
        PreparedInput(i, f"k{i}", f"t{i}", {"warehouse_key": f"co{i}", "name": f"Old {i}"}) for i in range(5)
    ]
    list(client.batch_create("companies", existing))
    frame = pd.DataFrame(
        {"company_key": [f"co{i}" for i in range(8)], "name": [f"Company {i}" for i in range(8)]}
    )
    frame["warehouse_key"] = frame["company_key"]
    spec = HubSpotLoadSpec(
        object_type="companies",
        key_column="company_key",
        unique_property="warehouse_key",
        write_mode="upsert",
    )

    result = sync(frame, spec)

    assert (result.rows_adopted, result.rows_created, result.rows_failed) == (5, 3, 0)
    companies = sandbox.objects("companies")
    assert len(companies) == 8
    names = {c["properties"]["warehouse_key"]: c["properties"]["name"] for c in companies}
    assert names == {f"co{i}": f"Company {i}" for i in range(8)}


def test_full_refresh_in_upsert_writes_every_row_in_full_by_its_known_id(
    sandbox: SandboxHandle, sync: Sync
) -> None:
    frame = contacts_frame(5)
    first = sync(frame)
    patch(sandbox, "contacts", first.id_map["c2"], {"firstname": "Edited-in-HubSpot"})
    before = sandbox.counters()["by_route"].copy()
    refreshed = sync(frame, sync_mode="full_refresh")
    assert refreshed.rows_updated == 5 and refreshed.rows_created == 0
    writes = {k: v for k, v in writes_since(before, sandbox).items() if k.startswith("POST")}
    assert writes == {"POST batch/update": 1}  # by the ledger's ids: nothing looked up, nothing created
    assert by_email(sandbox)["c2@example.com"]["properties"]["firstname"] == "First2"
    assert refreshed.id_map == first.id_map


def test_a_create_answered_409_existing_id_is_adopted_by_that_id(
    sandbox: SandboxHandle, client: HubSpotClient, sync: Sync
) -> None:
    # the record holds another unique property's value: the lookup by email misses it, the create conflicts
    create_unique_property(sandbox, "contacts", "external_id", "contactinformation")
    [made] = list(
        client.batch_create(
            "contacts", [PreparedInput(0, "x", "x", {"email": "old@example.com", "external_id": "E-1"})]
        )
    )
    existing_id = made.rows[0].hubspot_id
    frame = contacts_frame(3)
    frame["external_id"] = ["E-0", "E-1", "E-2"]

    result = sync(frame)

    assert [r.status for r in result.rows] == [CREATED, ADOPTED_UPDATED, CREATED]
    assert result.rows[1].hubspot_id == existing_id and result.rows_failed == 0
    stored = sandbox.get_object("contacts", str(existing_id))
    assert stored is not None and stored["properties"]["email"] == "c1@example.com"
    assert len(sandbox.objects("contacts")) == 3
    assert sync(frame).rows_unchanged == 3
