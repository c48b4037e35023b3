"""Issue #7 acceptance through ``load_dataframe`` with a spec's ``preflight`` and the CLI's ``--dry-run``."""

from __future__ import annotations

import pandas as pd
import pytest

from hubspot_loader.core.model import CREATED, FAILED, PLANNED, SKIPPED
from hubspot_loader.core.preflight import PREFLIGHT, PreflightError
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, load_dataframe
from hubspot_loader.state.ledger import SQLiteLedger
from hubspot_loader_tests.preflight.conftest import Hub
from hubspot_loader_tests.preflight.test_acceptance import EXPECTED, GOOD, MAPPING, acceptance_frame

QUARANTINE = HubSpotLoadSpec(
    object_type="contacts", properties=MAPPING, key_column="id", preflight="quarantine"
)


def test_block_mode_reports_every_problem_and_sends_nothing(hub: Hub) -> None:
    with pytest.raises(PreflightError) as caught:
        load_dataframe(acceptance_frame(), QUARANTINE.replace(preflight="block"), client=hub.client)
    report = caught.value.report
    assert {(p.key, p.column, p.code) for p in report.problems} == EXPECTED
    unknown = next(b for b in report.blocking if b.column == "fristname")
    assert "firstname" in unknown.suggestions
    assert hub.writes() == 0


def test_quarantine_mode_creates_exactly_the_good_rows_in_source_order(hub: Hub) -> None:
    df = acceptance_frame().set_index(pd.Index(range(100, 108)))
    result = load_dataframe(df, QUARANTINE, client=hub.client)
    assert [r.position for r in result.rows] == list(range(8))
    assert [r.key for r in result.rows] == list(df["id"])
    assert {r.key for r in result.rows if r.status == CREATED} == set(GOOD)
    failed = {(r.key, r.error.property, r.error.code) for r in result.rows if r.error is not None}
    assert failed == EXPECTED
    assert {r.error.category for r in result.rows if r.error is not None} == {PREFLIGHT}
    assert hub.handle.counts()["contacts"] == 3
    assert hub.writes() == 1
    created = {o["properties"]["email"] for o in hub.handle.objects("contacts")}
    assert created == {"ann@example.com", "gus@example.com", "hal@example.com"}
    assert result.preflight is not None and result.preflight.rows_failed == 5


def test_dry_run_with_preflight_sends_nothing_and_previews_good_rows(hub: Hub) -> None:
    result = load_dataframe(
        acceptance_frame(), QUARANTINE, client=hub.client, run=LoadRun(preview_rows=2), dry_run=True
    )
    assert hub.writes() == 0
    assert [p["objectWriteTraceId"] for p in result.payload_preview] == ["good-1", "good-2"]
    assert [r.status for r in result.rows].count(PLANNED) == 3
    assert [r.status for r in result.rows].count(FAILED) == 5


def test_quarantined_row_created_earlier_stays_in_the_id_map(hub: Hub, tmp_path: object) -> None:
    ledger = SQLiteLedger(f"{tmp_path}/state.sqlite")
    frame = pd.DataFrame({"id": ["a", "b"], "email": ["a@example.com", "b@example.com"]})
    spec = HubSpotLoadSpec(object_type="contacts", key_column="id", preflight="quarantine")
    first = load_dataframe(frame, spec, client=hub.client, ledger=ledger)
    assert first.rows_created == 2
    # "b" changes to a value HubSpot would reject: it is held back, but it exists in HubSpot already.
    frame.loc[1, "email"] = "not-an-email"
    second = load_dataframe(frame, spec, client=hub.client, ledger=ledger)
    assert [r.status for r in second.rows] == [SKIPPED, SKIPPED]
    assert second.id_map == first.id_map
    ledger.close()
