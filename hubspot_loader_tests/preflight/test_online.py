"""Online preflight: its reads, their cost and bound, the offline mode, and rows the ledger knows."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
import requests

from hubspot_loader.core.model import CREATED, FAILED, SKIPPED, AssociationColumn
from hubspot_loader.core.preflight import PREFLIGHT, PreflightChecks, PreflightRequest
from hubspot_loader.core.preflight.existing import unique_key
from hubspot_loader.core.preflight.properties import parse_definitions
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.reads import RecordReader
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.preflight_step import LOOKUP_SHARE, MIN_LOOKUP_REQUESTS, lookup_budget
from hubspot_loader.sandbox import SandboxHandle, TokenConfig
from hubspot_loader.state.entries import PendingRow
from hubspot_loader.state.ledger import SQLiteLedger, default_portal
from hubspot_loader_tests.preflight.conftest import Hub, preflight_config

LOOKUP_ROUTES = ("POST batch/read", "POST search", "GET object/list")
SPEC = HubSpotLoadSpec(
    object_type="contacts",
    key_column="id",
    properties={"email": "email"},
    associations=[AssociationColumn("company_id", "companies")],
)


def lookups(hub: Hub) -> int:
    routes = hub.handle.counters()["by_route"]
    return sum(int(routes.get(route, 0)) for route in LOOKUP_ROUTES)


def frame(company: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["taken", "missing", "fine"],
            "email": ["Taken@Example.com", "m@example.com", "f@example.com"],
            "company_id": [None, "999999999", company],
        }
    )


def test_offline_mode_reads_no_record_and_leaves_those_rows_to_hubspot(hub: Hub) -> None:
    hub.create("contacts", {"email": "taken@example.com"})
    company = hub.create("companies", {"name": "Acme"})
    offline = SPEC.replace(preflight="offline")
    planned = load_dataframe(frame(company), offline, client=hub.client, dry_run=True)
    assert lookups(hub) == 0
    assert planned.preflight is not None and not planned.preflight.online and planned.preflight.ok
    assert planned.preflight.cost.lookup_requests == 0 and planned.preflight.cost.requests == 2
    result = load_dataframe(frame(company), offline, client=hub.client)
    # HubSpot judges the two rows: 409 and 400, as whole-batch failures the loader splits to isolate.
    outcomes = {r.key: (r.status, r.error.category if r.error else None) for r in result.rows}
    assert outcomes == {
        "taken": (FAILED, "CONFLICT"), "missing": (FAILED, "VALIDATION_ERROR"), "fine": (CREATED, None)
    }  # fmt: skip


def test_online_mode_holds_the_same_rows_back_and_sends_one_request(hub: Hub) -> None:
    hub.create("contacts", {"email": "taken@example.com"})
    company = hub.create("companies", {"name": "Acme"})
    writes = hub.writes()
    result = load_dataframe(frame(company), SPEC, client=hub.client)
    outcomes = {r.key: (r.status, r.error.code if r.error else None) for r in result.rows}
    assert outcomes == {
        "taken": (FAILED, "CONFLICT"), "missing": (FAILED, "INVALID_OBJECT_IDS"), "fine": (CREATED, None)
    }  # fmt: skip
    assert {r.error.category for r in result.rows if r.error} == {PREFLIGHT}
    assert hub.writes() - writes == 1  # no 409/400 batch to split
    assert result.preflight is not None and result.preflight.online


def test_the_cost_is_every_request_preflight_sent(hub: Hub) -> None:
    for i in range(3):
        hub.create("contacts", {"email": f"old-{i}@example.com"})
    before = int(hub.handle.counters()["requests"])
    keys = [f"k{i}" for i in range(350)]
    df = pd.DataFrame({"id": keys, "email": [f"u{k}@example.com" for k in keys]})
    df.loc[7, "email"] = "OLD-1@example.com"
    result = load_dataframe(df, SPEC.replace(associations=()), client=hub.client, dry_run=True)
    report = result.preflight
    assert report is not None and [p.key for p in report.problems] == ["k7"]
    # A dry run sends nothing else: every request the sandbox counted is preflight's.
    assert report.cost.requests == int(hub.handle.counters()["requests"]) - before
    # 350 emails would take 4 batch reads; 3 contacts exist, so one search and one page are cheaper.
    assert report.cost.lookup_requests == 2 == lookups(hub)
    assert report.cost.seconds >= report.cost.lookup_seconds > 0
    assert report.cost.lookup_budget == MIN_LOOKUP_REQUESTS


def test_the_budget_is_a_share_of_the_write_requests() -> None:
    assert lookup_budget(100_000, 100) == int(LOOKUP_SHARE * 1000) == 50
    assert lookup_budget(20, 100) == MIN_LOOKUP_REQUESTS


def test_a_reader_stops_at_its_budget_and_keeps_what_it_read(hub: Hub) -> None:
    for i in (5, 120):
        hub.create("contacts", {"email": f"e{i}@example.com"})
    emails = [f"e{i}@example.com" for i in range(150)]
    props = parse_definitions(hub.definitions("contacts"))
    reader = RecordReader(hub.client, budget=1)
    read = reader.read(
        "contacts", values={"email": emails}, ids=[], normalise=lambda p, t: unique_key(props[p], t)
    )
    assert not read.complete and read.way == "batch read"
    assert set(read.values["email"]) == {"e5@example.com"}  # the first 100 were read, e120 was not
    assert read.values_checked["email"] == set(emails[:100])
    assert reader.requests == reader.taken == 1


def test_rows_this_sync_created_are_neither_read_nor_flagged(hub: Hub, tmp_path: object) -> None:
    ledger = SQLiteLedger(f"{tmp_path}/state.sqlite")
    company = hub.create("companies", {"name": "Acme"})
    df = pd.DataFrame({"id": ["a", "b"], "email": ["a@example.com", "b@example.com"], "company_id": company})
    first = load_dataframe(df, SPEC, client=hub.client, ledger=ledger)
    assert first.rows_created == 2
    reads = lookups(hub)
    again = load_dataframe(df, SPEC.replace(preflight="block"), client=hub.client, ledger=ledger)
    assert [r.status for r in again.rows] == [SKIPPED, SKIPPED]
    assert lookups(hub) == reads  # nothing to read: the ledger skips both rows
    # A full refresh sends them again: their emails are their own records', not conflicts.
    refresh = LoadRun(sync_mode="full_refresh")
    df.loc[2] = ["c", "A@example.com", company]  # another row with a's email is a conflict
    again = load_dataframe(df, SPEC, client=hub.client, ledger=ledger, run=refresh)
    outcomes = [(r.key, r.status, r.error.code if r.error else None) for r in again.rows]
    assert outcomes == [("a", SKIPPED, None), ("b", SKIPPED, None), ("c", FAILED, "CONFLICT")]
    assert again.id_map == {"a": first.id_map["a"], "b": first.id_map["b"]}
    ledger.close()


def test_a_row_left_in_doubt_is_not_flagged_against_the_record_it_created(hub: Hub, tmp_path: object) -> None:
    ledger = SQLiteLedger(f"{tmp_path}/state.sqlite")
    portal = default_portal(hub.client.base_url, hub.client.token_fingerprint)
    # An earlier run sent row "a" and crashed before the answer; HubSpot had created it.
    created = hub.create("contacts", {"email": "a@example.com"})
    pending = PendingRow("a", "hash", unique_property="email", unique_value="A@example.com")
    ledger.mark_pending(portal, "contacts", [pending], run_id="crashed")
    df = pd.DataFrame({"id": ["a"], "email": ["A@example.com"]})
    spec = SPEC.replace(associations=(), preflight="block")
    result = load_dataframe(df, spec, client=hub.client, ledger=ledger)
    assert [(r.status, r.hubspot_id) for r in result.rows] == [(SKIPPED, created)]
    assert hub.handle.counts()["contacts"] == 1
    ledger.close()


def test_ids_of_this_runs_id_maps_need_no_read(hub: Hub) -> None:
    df = pd.DataFrame(
        {"id": ["a", "b"], "firstname": "Ann", "company_key": ["acme", "acme"], "company_id": ["11", "12"]}
    )
    request = PreflightRequest(
        df,
        "contacts",
        hub.definitions("contacts"),
        {"firstname": "firstname"},
        key_column="id",
        associations=[
            AssociationColumn("company_key", "companies", keys_from="hubspot/companies"),
            AssociationColumn("company_id", "0-2"),
        ],
        id_maps={"hubspot/companies": {"acme": "11"}},
    )
    plan = PreflightChecks(request).lookups()
    assert plan.targets == {"companies": ["12"]} and plan.values == {}


def test_a_refused_lookup_leaves_the_rows_to_hubspot_with_a_warning(
    sandbox_factory: Callable[..., SandboxHandle],
) -> None:
    # contacts only: the companies the rows point at cannot be read
    scopes = frozenset(
        {"crm.objects.contacts.write", "crm.objects.contacts.read", "crm.schemas.contacts.read"}
    )
    handle = sandbox_factory(config=preflight_config(tokens=(TokenConfig("narrow", scopes),)))
    with HubSpotClient("narrow", base_url=handle.base_url) as client:
        df = pd.DataFrame({"id": ["a"], "email": ["a@example.com"], "company_id": ["999999999"]})
        result = load_dataframe(df, SPEC, client=client)
    assert result.preflight is not None and result.preflight.cost.unchecked_rows == 1
    warning = next(w for w in result.warnings if "could not read existing companies" in w)
    assert "crm.objects.companies.read" in warning
    assert result.rows[0].error is not None and result.rows[0].error.category == "VALIDATION_ERROR"


@pytest.mark.parametrize("mode", ["quarantine", "block", "offline", "offline_block", "off"])
def test_every_preflight_mode_is_a_spec_value(mode: str) -> None:
    assert HubSpotLoadSpec(object_type="contacts", preflight=mode).preflight == mode  # type: ignore[arg-type]


def create_many(hub: Hub, object_type: str, count: int) -> list[str]:
    """Create ``count`` records directly, 100 a request; return their ids in order."""
    ids: list[str] = []
    for start in range(0, count, 100):
        inputs = [{"properties": {"name": f"Co {i}"}, "objectWriteTraceId": str(i)}
                  for i in range(start, min(start + 100, count))]  # fmt: skip
        answer = requests.post(
            f"{hub.handle.base_url}/crm/v3/objects/{object_type}/batch/create",
            json={"inputs": inputs},
            headers={"Authorization": f"Bearer {hub.handle.token}"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        by_trace = {r["objectWriteTraceId"]: r["id"] for r in answer.json()["results"]}
        ids.extend(by_trace[i["objectWriteTraceId"]] for i in inputs)
    return ids


def test_a_load_whose_reads_outgrow_the_budget_is_checked_in_part_and_says_so(hub: Hub) -> None:
    companies = create_many(hub, "companies", 2_600)
    df = pd.DataFrame({"id": [f"k{i}" for i in range(2_600)], "firstname": "Ann", "company_id": companies})
    spec = SPEC.replace(properties={"firstname": "firstname"})
    result = load_dataframe(df, spec, client=hub.client, dry_run=True)
    cost = result.preflight.cost if result.preflight is not None else None
    # 2,600 ids take 26 batch reads (listing 2,600 companies as many): the budget is 25, one went to a count.
    assert cost is not None and cost.lookup_budget == MIN_LOOKUP_REQUESTS == cost.lookup_requests
    assert cost.unchecked_rows == 200
    assert any("budget of 25 read requests" in w and "200 row(s)" in w for w in result.warnings)
    assert result.preflight is not None and result.preflight.ok  # what was checked exists: no false alarm
