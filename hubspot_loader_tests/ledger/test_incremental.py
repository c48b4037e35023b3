"""load_dataframe with a ledger over real HTTP: incremental skips, retries, full refresh, reconciliation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from hubspot_loader.core.model import SKIPPED
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import IN_DOUBT, HubSpotLoadSpec, LoadAborted, LoadRun, load_dataframe
from hubspot_loader.sandbox import FaultConfig, SandboxHandle
from hubspot_loader.state.ledger import CREATED, FAILED, PendingRow, SQLiteLedger, content_hash
from hubspot_loader.state.sync import SyncMode

from .conftest import PORTAL, contacts_frame, creates, sandbox_id_map

CONTACTS = HubSpotLoadSpec(object_type="contacts", key_column="contact_key", preflight="off")
COMPANIES = HubSpotLoadSpec(object_type="companies", key_column="company_key", preflight="off")


def load(
    frame: pd.DataFrame,
    client: HubSpotClient,
    ledger: SQLiteLedger,
    *,
    key_column: str | None = "contact_key",
    portal: str = PORTAL,
    run_id: str | None = None,
    sync_mode: SyncMode = "incremental",
    dry_run: bool = False,
) -> Any:
    spec = CONTACTS.replace(key_column=key_column)
    run = LoadRun(run_id=run_id, portal=portal, sync_mode=sync_mode)
    return load_dataframe(frame, spec, client=client, ledger=ledger, run=run, dry_run=dry_run)


def test_second_run_sends_nothing_and_keeps_the_id_map(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient], open_ledger: Callable[[], SQLiteLedger]
) -> None:
    ledger = open_ledger()
    frame = contacts_frame(250)
    first = load(frame, client_for(sandbox), ledger, run_id="run-1")
    assert first.rows_created == 250 and creates(sandbox) == 3
    assert ledger.id_map(PORTAL, "contacts") == first.id_map == sandbox_id_map(sandbox)

    second = load(frame, client_for(sandbox), ledger, run_id="run-2")
    assert creates(sandbox) == 3  # nothing sent
    assert second.rows_skipped == 250 and second.rows_created == 0 and second.batches == []
    assert second.id_map == first.id_map
    assert {r.status for r in second.rows} == {SKIPPED}
    assert {e.last_run_id for e in ledger.entries(PORTAL, "contacts")} == {"run-1"}

    grown = pd.concat([frame, contacts_frame(10, start=250)], ignore_index=True)
    third = load(grown, client_for(sandbox), ledger, run_id="run-3")
    assert creates(sandbox) == 4  # exactly one more request ...
    assert [b.rows for b in third.batches] == [10]  # ... carrying the 10 new rows
    assert third.rows_created == 10 and third.rows_skipped == 250
    assert ledger.id_map(PORTAL, "contacts") == third.id_map == sandbox_id_map(sandbox)
    assert len(third.id_map) == 260


def test_failed_rows_are_retried_and_changed_skipped_rows_are_reported(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient], open_ledger: Callable[[], SQLiteLedger]
) -> None:
    ledger = open_ledger()
    frame = contacts_frame(20)
    frame.loc[3, "email"] = "not-an-email"
    first = load(frame, client_for(sandbox), ledger)
    assert first.rows_created == 19 and first.rows_failed == 1
    failed = ledger.lookup(PORTAL, "contacts", ["c3"])["c3"]
    assert failed.status == FAILED and failed.hubspot_id is None and "email" in (failed.error or "").lower()

    fixed = contacts_frame(20)
    fixed.loc[5, "firstname"] = "Renamed"
    second = load(fixed, client_for(sandbox), ledger)
    assert second.rows_created == 1 and second.rows_skipped == 19
    assert [b.rows for b in second.batches] == [1]
    assert ledger.lookup(PORTAL, "contacts", ["c3"])["c3"].status == CREATED
    assert any("1 skipped row(s) changed" in w for w in second.warnings)
    assert ledger.id_map(PORTAL, "contacts") == sandbox_id_map(sandbox)


def test_portals_and_object_types_are_tracked_apart(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient], open_ledger: Callable[[], SQLiteLedger]
) -> None:
    ledger = open_ledger()
    frame = contacts_frame(5)
    load(frame, client_for(sandbox), ledger, portal="portal-a")
    result = load(frame, client_for(sandbox), ledger, portal="portal-b")
    # portal-b has no state, so the rows are sent and HubSpot rejects the existing emails
    assert result.rows_skipped == 0 and result.rows_failed == 5
    assert {r.error.category for r in result.rows if r.error} == {"CONFLICT"}
    assert len(ledger.id_map("portal-a", "contacts")) == 5 and ledger.id_map("portal-b", "contacts") == {}


@pytest.mark.parametrize("conflicts_as_207", [True, False], ids=["207", "whole-batch-409"])
def test_full_refresh_resolves_conflicts_with_its_own_ids(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
    conflicts_as_207: bool,
) -> None:
    sandbox = sandbox_factory(conflicts_as_207=conflicts_as_207)
    ledger = open_ledger()
    frame = contacts_frame(30)
    first = load(frame, client_for(sandbox), ledger)
    grown = pd.concat([frame, contacts_frame(5, start=30)], ignore_index=True)
    refresh = load(grown, client_for(sandbox), ledger, sync_mode="full_refresh")
    if conflicts_as_207:
        assert creates(sandbox) == 2  # every row was sent again, in one request
    else:
        assert creates(sandbox) > 2  # HubSpot names one conflict per 409: the client isolates them
    assert refresh.rows_skipped == 30 and refresh.rows_created == 5 and refresh.rows_failed == 0
    assert {k: v for k, v in refresh.id_map.items() if k in first.id_map} == first.id_map
    assert ledger.id_map(PORTAL, "contacts") == refresh.id_map == sandbox_id_map(sandbox)


def test_dry_run_with_a_ledger_plans_only_new_rows(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient], open_ledger: Callable[[], SQLiteLedger]
) -> None:
    ledger = open_ledger()
    load(contacts_frame(10), client_for(sandbox), ledger)
    before = ledger.entries()
    plan = load(contacts_frame(12), None, ledger, dry_run=True)  # type: ignore[arg-type]
    assert plan.rows_skipped == 10 and plan.count("planned") == 2
    assert ledger.entries() == before and creates(sandbox) == 1


def test_a_ledger_needs_a_key_column(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient], open_ledger: Callable[[], SQLiteLedger]
) -> None:
    with pytest.raises(ValueError, match="key_column"):
        load(contacts_frame(2), client_for(sandbox), open_ledger(), key_column=None)


def _crashed_run(ledger: SQLiteLedger, frame: pd.DataFrame, *, unique: bool) -> None:
    """Record ``frame`` as written ahead by a run that never settled it (what SIGKILL leaves behind)."""
    rows = [
        PendingRow(
            key,
            content_hash({"email": email}),
            "email" if unique else None,
            email if unique else None,
        )
        for key, email in zip(frame["contact_key"], frame["email"], strict=True)
    ]
    ledger.mark_pending(PORTAL, "contacts", rows, run_id="crashed")


def test_rows_in_doubt_are_looked_up_before_anything_is_resent(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient], open_ledger: Callable[[], SQLiteLedger]
) -> None:
    frame = contacts_frame(40)
    # the crashed run's first 25 rows reached HubSpot (created without the ledger hearing about it)
    committed = load_dataframe(frame.head(25), CONTACTS, client=client_for(sandbox))
    ledger = open_ledger()
    _crashed_run(ledger, frame, unique=True)
    assert len(ledger.in_doubt(PORTAL, "contacts")) == 40

    result = load(frame, client_for(sandbox), ledger)
    assert creates(sandbox) == 2  # the earlier 25-row request and one batch of the 15 never created
    assert result.rows_skipped == 25 and result.rows_created == 15
    assert {k: result.id_map[k] for k in committed.id_map} == committed.id_map
    assert ledger.in_doubt(PORTAL, "contacts") == []
    assert ledger.id_map(PORTAL, "contacts") == result.id_map == sandbox_id_map(sandbox)
    assert any("reconciled 40 row(s)" in w and "25 found" in w for w in result.warnings)


def test_rows_in_doubt_without_a_unique_value_follow_resend_ambiguous(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient], open_ledger: Callable[[], SQLiteLedger]
) -> None:
    frame = contacts_frame(6)
    ledger = open_ledger()
    _crashed_run(ledger, frame, unique=False)

    strict = load(frame, client_for(sandbox, resend_ambiguous=False), ledger)
    assert creates(sandbox) == 0
    assert {r.error.category for r in strict.rows if r.error} == {IN_DOUBT} and strict.rows_failed == 6
    assert len(ledger.in_doubt(PORTAL, "contacts")) == 6
    assert any("stay pending" in w for w in strict.warnings)

    lenient = load(frame, client_for(sandbox), ledger)
    assert lenient.rows_created == 6 and creates(sandbox) == 1
    assert any("may be duplicated" in w for w in lenient.warnings)
    assert {e.status for e in ledger.entries()} == {CREATED}


def test_missing_unique_property_is_warned_about_up_front(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient], open_ledger: Callable[[], SQLiteLedger]
) -> None:
    companies = pd.DataFrame({"company_key": ["a", "b"], "name": ["A", "B"], "domain": ["a.io", "b.io"]})
    result = load_dataframe(
        companies, COMPANIES, client=client_for(sandbox), ledger=open_ledger(), run=LoadRun(portal=PORTAL)
    )
    assert result.rows_created == 2
    assert any("no unique property for companies" in w for w in result.warnings)
    contacts = load(contacts_frame(2), client_for(sandbox), open_ledger())
    assert not any("unique property" in w for w in contacts.warnings)  # email is the default for contacts


def test_rows_in_doubt_whose_lookup_fails_are_not_resent(
    sandbox: SandboxHandle, client_for: Callable[..., HubSpotClient], open_ledger: Callable[[], SQLiteLedger]
) -> None:
    frame = contacts_frame(4)
    ledger = open_ledger()
    rows = [PendingRow(k, "h", "firstname", f"First{i}") for i, k in enumerate(frame["contact_key"])]
    ledger.mark_pending(PORTAL, "contacts", rows, run_id="crashed")  # firstname is not a unique property
    result = load(frame, client_for(sandbox), ledger)
    assert creates(sandbox) == 0 and result.rows_failed == 4
    assert {r.error.category for r in result.rows if r.error} == {IN_DOUBT}
    assert any("could not be looked up by firstname" in w for w in result.warnings)
    assert len(ledger.in_doubt(PORTAL, "contacts")) == 4


def test_an_answer_lost_in_this_run_leaves_the_rows_pending_for_the_next(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    sandbox = sandbox_factory(faults=FaultConfig(drop_after_commit_rate=1.0))
    companies = pd.DataFrame(
        {"company_key": [f"co{i}" for i in range(5)], "name": [f"Co {i}" for i in range(5)]}
    )
    ledger = open_ledger()
    strict = client_for(sandbox, resend_ambiguous=False)
    with pytest.raises(LoadAborted) as caught:  # no batch got any HTTP answer: the load fails loudly
        load_dataframe(companies, COMPANIES, client=strict, ledger=ledger, run=LoadRun(portal=PORTAL))
    first = caught.value.result
    assert first.rows_failed == 5 and sandbox.counts()["companies"] == 5  # committed, answer lost
    assert len(ledger.in_doubt(PORTAL, "companies")) == 5

    sandbox.set_faults(FaultConfig())
    second = load_dataframe(companies, COMPANIES, client=strict, ledger=ledger, run=LoadRun(portal=PORTAL))
    assert {r.error.category for r in second.rows if r.error} == {IN_DOUBT}
    assert sandbox.counts()["companies"] == 5  # nothing resent blindly
