"""Loads (load_dataframe with a ledger, and materialize) under CANCELED/PENDING/PROCESSING answers (#17).

Every row ends with one outcome and one object, the per-batch records and the metadata show HubSpot's
real status per batch, and an incremental rerun through the ledger resends nothing HubSpot created.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from hubspot_loader import HubSpotResource, build_hubspot_load_asset
from hubspot_loader.core.model import FAILED, HUBSPOT_PENDING, RECONCILED, SKIPPED
from hubspot_loader.core.tables import batch_table_rows
from hubspot_loader.dagster import HubSpotLoad
from hubspot_loader.dagster.metadata import load_metadata
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.retry import RetryPolicy
from hubspot_loader.load import IN_DOUBT, HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.sandbox import FaultConfig, PropertyConfig, SandboxHandle
from hubspot_loader.state.ledger import CREATED, PENDING, SQLiteLedger
from hubspot_loader.state.sync import HELD_NOTE

from .conftest import PORTAL, contacts_frame, creates, sandbox_id_map

RETRY = RetryPolicy(
    max_attempts=6, backoff_base_s=0.01, backoff_max_s=0.05, pending_polls=3, pending_poll_interval_s=0.01
)


def test_each_status_once_then_an_incremental_rerun_sends_nothing(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    # batch 0 PENDING, batch 1 CANCELED (its resend COMPLETE), batch 2 PROCESSING, batch 3 COMPLETE
    faults = FaultConfig(
        status_sequence=("PENDING", "CANCELED", "COMPLETE", "PROCESSING"),
        incomplete_listed_share=0.5,
        pending_reveal_after_requests=2,
    )
    sandbox = sandbox_factory(faults=faults)
    client = client_for(sandbox, max_in_flight=1, retry=RETRY)
    ledger = open_ledger()
    frame = contacts_frame(40, tag="st")
    spec = HubSpotLoadSpec(object_type="contacts", key_column="contact_key", batch_size=10, preflight="off")

    result = load_dataframe(frame, spec, client=client, ledger=ledger, run=LoadRun(portal=PORTAL))

    assert result.rows_failed == 0 and result.rows_created == 40
    assert result.count(RECONCILED) == 10  # the unlisted halves of the PENDING and PROCESSING batches
    table = batch_table_rows(result)
    assert [(b["index"], b["status"], b["requests"]) for b in table] == [
        (0, "PENDING", 1),
        (1, "CANCELED", 2),
        (2, "PROCESSING", 1),
        (3, "COMPLETE", 1),
    ]
    assert creates(sandbox) == 5
    assert result.hubspot_status == "PENDING"  # not COMPLETE: not every batch was
    metadata = load_metadata(result)
    assert metadata["hubspot/status"].value == "PENDING"
    records = metadata["hubspot/batches_table"].value.records
    assert [r.data["status"] for r in records] == ["PENDING", "CANCELED", "PROCESSING", "COMPLETE"]

    stored = sandbox_id_map(sandbox, "contacts")  # asserts no duplicated email
    assert len(stored) == 40 and result.id_map == stored
    assert ledger.id_map(PORTAL, "contacts") == stored
    assert ledger.counts(PORTAL, "contacts") == {CREATED: 40}

    again = load_dataframe(frame, spec, client=client, ledger=ledger, run=LoadRun(portal=PORTAL))
    assert creates(sandbox) == 5  # nothing resent
    assert again.rows_skipped == 40 and {r.status for r in again.rows} == {SKIPPED}
    assert again.id_map == stored


@pytest.mark.parametrize("resend_ambiguous", [True, False])
def test_pending_rows_without_a_unique_value_stay_pending_and_no_run_resends_them(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
    resend_ambiguous: bool,
) -> None:
    # companies have no unique property: the rows a PENDING answer did not list cannot be looked up.
    # HubSpot is still creating them, so neither this run nor the next resends them (whatever
    # resend_ambiguous says): each row ends as exactly one object
    faults = FaultConfig(status_sequence=("PENDING", "PENDING"), incomplete_listed_share=0.5)
    sandbox = sandbox_factory(faults=faults)
    client = client_for(sandbox, max_in_flight=1, retry=RETRY, resend_ambiguous=resend_ambiguous)
    ledger = open_ledger()
    frame = pd.DataFrame({"key": [f"co{i}" for i in range(6)], "name": [f"Co {i}" for i in range(6)]})

    spec = HubSpotLoadSpec(object_type="companies", key_column="key", preflight="off")

    def run() -> Any:
        return load_dataframe(frame, spec, client=client, ledger=ledger, run=LoadRun(portal=PORTAL))

    first = run()
    assert first.rows_created == 3 and first.rows_failed == 3
    assert {r.error.category for r in first.failed_rows if r.error} == {HUBSPOT_PENDING}
    assert creates(sandbox) == 1
    assert len(sandbox.objects("companies")) == 6  # HubSpot did create them all, each once
    assert ledger.counts(PORTAL, "companies") == {CREATED: 3, PENDING: 3}
    held = [e for e in ledger.entries(PORTAL, "companies") if e.status == PENDING]
    assert all(e.error and e.error.startswith(HELD_NOTE) for e in held)

    for _ in range(2):  # an incremental rerun, and another: the held rows are never sent blindly
        again = run()
        assert creates(sandbox) == 1  # the reruns sent nothing
        assert again.rows_skipped == 3
        assert [r.error.category for r in again.failed_rows if r.error] == [IN_DOUBT] * 3
        assert any("PENDING/PROCESSING" in w and "not sent" in w for w in again.warnings)
        assert not any("may be duplicated" in w for w in again.warnings)
        assert ledger.counts(PORTAL, "companies") == {CREATED: 3, PENDING: 3}
    assert len(sandbox.objects("companies")) == 6


def test_a_unique_external_id_reconciles_pending_companies_across_runs(
    sandbox_factory: Callable[..., SandboxHandle],
    client_for: Callable[..., HubSpotClient],
    open_ledger: Callable[[], SQLiteLedger],
) -> None:
    # unlisted companies stay invisible longer than the poll: the one resend is answered 409 with the
    # existing id, which settles them; the rerun sends nothing
    faults = FaultConfig(
        status_sequence=("PROCESSING",), incomplete_listed_share=0.0, pending_reveal_after_requests=100
    )
    external_id = PropertyConfig(name="ext_id", unique=True)
    sandbox = sandbox_factory(faults=faults, extra_properties=(("companies", (external_id,)),))
    client = client_for(sandbox, max_in_flight=1, retry=RETRY)
    ledger = open_ledger()
    frame = pd.DataFrame({"key": [f"x{i}" for i in range(4)], "ext_id": [f"E-{i}" for i in range(4)]})

    spec = HubSpotLoadSpec(
        object_type="companies", key_column="key", unique_property="ext_id", preflight="off"
    )

    def run() -> Any:
        return load_dataframe(frame, spec, client=client, ledger=ledger, run=LoadRun(portal=PORTAL))

    first = run()
    assert first.rows_failed == 0 and first.count(RECONCILED) == 4
    objects = sandbox.objects("companies")
    assert len(objects) == 4 and sorted(o["properties"]["ext_id"] for o in objects) == [
        f"E-{i}" for i in range(4)
    ]
    assert first.id_map == {f"x{o['properties']['ext_id'][2:]}": o["id"] for o in objects}
    sent = creates(sandbox)
    second = run()
    assert creates(sandbox) == sent and second.rows_skipped == 4
    assert FAILED not in {r.status for r in second.rows}


def test_materialize_shows_the_real_status_per_batch(sandbox_factory: Callable[..., SandboxHandle]) -> None:
    faults = FaultConfig(status_sequence=("COMPLETE", "CANCELED"), incomplete_listed_share=0.5)
    sandbox = sandbox_factory(faults=faults)
    frame = contacts_frame(8, tag="dg")

    @dg.asset
    def warehouse_contacts() -> pd.DataFrame:
        return frame

    load = build_hubspot_load_asset(
        HubSpotLoad(
            name="hubspot_contacts",
            source="warehouse_contacts",
            spec=HubSpotLoadSpec(object_type="contacts", key_column="contact_key"),
        )
    )
    resource = HubSpotResource(
        access_token=sandbox.token, base_url=sandbox.base_url, batch_size=4, max_in_flight=1, state_path=""
    )
    run = dg.materialize([warehouse_contacts, load], resources={"hubspot": resource})
    assert run.success
    metadata = run.asset_materializations_for_node("hubspot_contacts")[0].metadata
    assert metadata["hubspot/status"].value == "CANCELED"
    assert metadata["hubspot/rows_created"].value == 8 and metadata["hubspot/rows_failed"].value == 0
    statuses = [r.data["status"] for r in metadata["hubspot/batches_table"].value.records]
    assert statuses == ["COMPLETE", "CANCELED"]
    assert len(sandbox_id_map(sandbox)) == 8
