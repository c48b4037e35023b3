"""Issue #11: what a load says about itself: ``hubspot/status`` and the schema failure count.

Through real ``materialize()`` runs and ``load_dataframe`` against sandboxes over HTTP; the batch
statuses other than ``COMPLETE`` come from the sandbox's documented status option (``status_sequence``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa
import pytest

from hubspot_loader import HubSpotResource, build_hubspot_load_asset
from hubspot_loader.core.model import (
    COMPLETE,
    DRY_RUN,
    ERROR,
    NO_ANSWER,
    NOT_SENT,
    NOTHING_TO_SEND,
    BatchRecord,
    LoadResult,
)
from hubspot_loader.dagster import HubSpotLoad
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.http.settings import ClientSettings
from hubspot_loader.load import HubSpotLoadSpec, LoadAborted, load_dataframe
from hubspot_loader.sandbox import FaultConfig, SandboxHandle

ROWS = pd.DataFrame({"key": ["K1", "K2", "K3"], "email": ["a@example.com", "b@example.com", "c@example.com"]})
ROWS_SPEC = HubSpotLoadSpec(object_type="contacts", key_column="key", preflight="off")


@dg.asset
def contact_rows() -> pd.DataFrame:
    return ROWS


def _materialize(hub: SandboxHandle, **kwargs: Any) -> dg.ExecuteInProcessResult:
    state_path = kwargs.pop("state_path", "")
    load = build_hubspot_load_asset(
        HubSpotLoad(
            name="contacts",
            source="contact_rows",
            spec=HubSpotLoadSpec(object_type="contacts", key_column="key", **kwargs),
        )
    )
    resource = HubSpotResource(access_token=hub.token, base_url=hub.base_url, state_path=state_path)
    return dg.materialize([contact_rows, load], resources={"hubspot": resource}, raise_on_error=False)


def _status(result: dg.ExecuteInProcessResult) -> str:
    [event] = [
        e
        for e in result.get_asset_materialization_events()
        if e.step_materialization_data.materialization.asset_key == dg.AssetKey("contacts")
    ]
    value = event.step_materialization_data.materialization.metadata["hubspot/status"]
    return str(value.value)  # type: ignore[attr-defined]


def test_schema_failure_counts_the_failing_rows_not_the_frame(sandbox: SandboxHandle) -> None:
    schema = pa.DataFrameSchema({"email": pa.Column(str, pa.Check.str_matches(r"^[ab]@"))})
    result = _materialize(sandbox, schema=schema)
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message  # type: ignore[union-attr]
    assert "1 of 3 row(s) failed schema validation; nothing was sent" in message
    assert "1 failure(s) in 1 row(s)" in message and "3 rows failed" not in message


def test_an_all_skipped_incremental_run_says_nothing_was_to_send(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    state = str(tmp_path / "state.sqlite")
    first = _materialize(sandbox, state_path=state)
    assert first.success and _status(first) == COMPLETE
    writes = sandbox.counters()["write_requests"]
    second = _materialize(sandbox, state_path=state)
    assert second.success and _status(second) == NOTHING_TO_SEND
    assert sandbox.counters()["write_requests"] == writes


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        (("COMPLETE", "COMPLETE", "COMPLETE"), "COMPLETE"),
        (("COMPLETE", "PROCESSING", "COMPLETE"), "PROCESSING"),
        (("PENDING", "CANCELED", "COMPLETE"), "PENDING"),
    ],
)
def test_status_is_complete_only_when_every_batch_said_so(
    sandbox_factory: Callable[..., SandboxHandle], sequence: tuple[str, ...], expected: str
) -> None:
    hub = sandbox_factory(faults=FaultConfig(status_sequence=sequence))
    with HubSpotClient(hub.token, base_url=hub.base_url, settings=ClientSettings(max_in_flight=1)) as client:
        result = load_dataframe(ROWS, ROWS_SPEC.replace(batch_size=1), client=client)
    assert [b.status for b in result.batches] == list(sequence)
    assert result.hubspot_status == expected


def test_status_of_loads_that_sent_nothing(sandbox_factory: Callable[..., SandboxHandle]) -> None:
    hub = sandbox_factory()
    with HubSpotClient(hub.token, base_url=hub.base_url) as client:
        assert load_dataframe(ROWS, ROWS_SPEC, client=client, dry_run=True).hubspot_status == DRY_RUN
        assert load_dataframe(ROWS.iloc[:0], ROWS_SPEC, client=client).hubspot_status == NOTHING_TO_SEND
        held_back = ROWS.assign(email=["not-an-email"] * 3)  # preflight holds every row back
        quarantined = load_dataframe(held_back, ROWS_SPEC.replace(preflight="quarantine"), client=client)
        assert quarantined.rows_failed == 3 and quarantined.hubspot_status == NOTHING_TO_SEND
    with HubSpotClient("wrong-token", base_url=hub.base_url) as client, pytest.raises(LoadAborted) as caught:
        load_dataframe(ROWS, ROWS_SPEC.replace(preflight="quarantine"), client=client)
    assert caught.value.result.hubspot_status == NOT_SENT


def test_status_aggregation_over_sent_batches() -> None:
    def status(*batches: BatchRecord) -> str:
        return LoadResult(object_type="contacts", batches=list(batches)).hubspot_status

    sent = {"requests": 1, "http_status": 201}
    assert (
        status(BatchRecord(1, 1, status="COMPLETE", **sent), BatchRecord(0, 1, status="PENDING", **sent))
        == "PENDING"
    )
    assert status(BatchRecord(0, 1, status="COMPLETE", **sent), BatchRecord(1, 1, requests=1)) == NO_ANSWER
    assert (
        status(BatchRecord(0, 1, status="COMPLETE", **sent), BatchRecord(1, 1, requests=1, http_status=409))
        == ERROR
    )
    # a batch never sent (the load stopped before its first request) does not count
    assert status(BatchRecord(0, 1, status="COMPLETE", **sent), BatchRecord(1, 1)) == COMPLETE
    assert status() == NOTHING_TO_SEND
