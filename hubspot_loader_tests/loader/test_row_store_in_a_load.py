"""The row outcome store through real loads: ``load_dataframe`` over HTTP into the sandbox.

Rows reach the store out of input order (a row rejected in conversion is recorded when its chunk is
prepared, before the batches of that chunk are answered; a row the ledger skips before the rows sent
with it; batches finish in any order), so these loads exercise the final sort by position as well as
the counts, filters, key-id pairs and the frame the store gives back, checked against the sandbox.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from hubspot_loader.core.model import CREATED, FAILED, INVALID_VALUE, SKIPPED, RowOutcomes
from hubspot_loader.core.preflight import PREFLIGHT
from hubspot_loader.core.row_store import FRAME_COLUMNS
from hubspot_loader.core.tables import OUTCOME_COLUMNS, outcomes_frame
from hubspot_loader.http.client import HubSpotClient
from hubspot_loader.load import HubSpotLoadSpec, LoadRun, PreflightMode, load_dataframe
from hubspot_loader.sandbox import SandboxHandle
from hubspot_loader.state.ledger import SQLiteLedger

ROWS = 60
BAD_VALUE = (7, 23, 41)  # ``inf`` in a number column: rejected in conversion, never sent
BAD_EMAIL = (12, 55)  # sent; HubSpot (the sandbox) rejects the row


def _frame(keys: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": keys,
            "email": [
                "not-an-email" if i in BAD_EMAIL else f"store{i}@example.com" for i in range(len(keys))
            ],
            "score": [math.inf if i in BAD_VALUE else float(i) for i in range(len(keys))],
        }
    )


def _email_ids(hub: SandboxHandle) -> dict[str, str]:
    return {str(o["properties"]["email"]): str(o["id"]) for o in hub.objects("contacts")}


@pytest.mark.parametrize("preflight", ["off", "quarantine"])
@pytest.mark.parametrize("key_kind", ["text", "integer"])
def test_a_load_reports_every_row_in_position_order_with_counts_filters_and_a_frame(
    hub: SandboxHandle, client_for: Callable[..., HubSpotClient], key_kind: str, preflight: PreflightMode
) -> None:
    """``off``: conversion and HubSpot reject the bad rows; ``quarantine``: preflight holds them back and
    they are added to a new store after the loaded rows (``restore_positions``)."""
    keys: list[object] = [f"cust-{i:03d}" for i in range(ROWS)] if key_kind == "text" else list(range(ROWS))
    spec = HubSpotLoadSpec(object_type="contacts", key_column="key", batch_size=10, preflight=preflight)
    result = load_dataframe(_frame(keys), spec, client=client_for(hub, max_in_flight=4))
    rows = result.rows
    text_keys = [str(k) for k in keys]

    assert isinstance(rows, RowOutcomes) and len(rows) == ROWS
    assert [r.position for r in rows] == list(range(ROWS)) == list(rows.positions())
    assert [r.key for r in rows] == text_keys
    assert rows[0].key == text_keys[0] and rows[-1].key == text_keys[-1] and rows[30] == list(rows)[30]

    failed = set(BAD_VALUE) | set(BAD_EMAIL)
    assert rows.status_counts() == {CREATED: ROWS - len(failed), FAILED: len(failed)}
    assert rows.status_count(CREATED) == result.rows_created == hub.counts()["contacts"]
    assert [r.position for r in rows.with_status(FAILED)] == sorted(failed)
    never_sent = set(BAD_VALUE) if preflight == "off" else failed
    for row in rows.with_status(FAILED):
        assert row.error is not None
        assert row.error.property == ("score" if row.position in BAD_VALUE else "email")
        if preflight == "quarantine":
            assert row.error.category == PREFLIGHT
        elif row.position in BAD_VALUE:
            assert row.error.category == INVALID_VALUE
        else:
            assert row.error.code == "INVALID_EMAIL"
        assert (row.batch_index is None) == (row.position in never_sent)

    stored = _email_ids(hub)
    expected_ids = {text_keys[i]: stored[f"store{i}@example.com"] for i in range(ROWS) if i not in failed}
    assert dict(rows.key_ids()) == result.id_map == expected_ids

    frame = rows.to_frame()
    assert tuple(frame.columns) == FRAME_COLUMNS
    assert frame["key"].tolist() == text_keys and frame["position"].tolist() == list(range(ROWS))
    assert frame["status"].tolist() == [r.status for r in rows]
    assert frame["hubspot_id"].tolist() == [r.hubspot_id for r in rows]
    assert frame["trace_id"].tolist() == [r.trace_id for r in rows]
    assert frame["category"].tolist() == [r.error.category if r.error else None for r in rows]
    assert frame["batch_index"].isna().tolist() == [i in never_sent for i in range(ROWS)]
    assert frame["batch_index"].dropna().astype(int).tolist() == [
        r.batch_index for r in rows if r.batch_index is not None
    ]
    pd.testing.assert_frame_equal(outcomes_frame(result), frame.loc[:, list(OUTCOME_COLUMNS)])


def test_a_second_run_with_a_ledger_orders_skipped_and_created_rows_by_position(
    hub: SandboxHandle, client_for: Callable[..., HubSpotClient], tmp_path: Path
) -> None:
    ledger = SQLiteLedger(tmp_path / "ledger.sqlite")
    keys = [f"cust-{i:03d}" for i in range(ROWS)]
    clean = _frame(keys).assign(email=[f"store{i}@example.com" for i in range(ROWS)], score=1.0)
    spec = HubSpotLoadSpec(object_type="contacts", key_column="key", batch_size=10)
    run = LoadRun(portal="store-portal")
    try:
        every_other = clean.iloc[::2].reset_index(drop=True)
        client = client_for(hub, max_in_flight=4)
        first = load_dataframe(every_other, spec, client=client, ledger=ledger, run=run)
        assert first.rows.status_counts() == {CREATED: ROWS // 2}

        second = load_dataframe(clean, spec, client=client, ledger=ledger, run=run)
    finally:
        ledger.close()
    rows = second.rows
    assert [r.position for r in rows] == list(range(ROWS)) and [r.key for r in rows] == keys
    assert [r.status for r in rows] == [SKIPPED if i % 2 == 0 else CREATED for i in range(ROWS)]
    assert rows.status_counts() == {SKIPPED: ROWS // 2, CREATED: ROWS // 2}
    assert rows.with_status(FAILED) == [] and second.rows_skipped == rows.status_count(SKIPPED)
    stored = _email_ids(hub)
    expected_ids = {keys[i]: stored[f"store{i}@example.com"] for i in range(ROWS)}
    assert second.id_map == dict(rows.key_ids()) == expected_ids
    assert rows.to_frame()["status"].tolist() == [r.status for r in rows]
