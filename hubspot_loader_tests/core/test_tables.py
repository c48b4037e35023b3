from datetime import datetime, timezone

import pandas as pd

from hubspot_loader.core.model import (
    CREATED,
    FAILED,
    SKIPPED,
    BatchRecord,
    LoadResult,
    RowError,
    RowOutcome,
)
from hubspot_loader.core.tables import (
    BATCH_COLUMNS,
    BATCH_SUMMARY_COLUMNS,
    BATCH_TIME_COLUMNS,
    batch_summary_rows,
    batch_table_rows,
    batch_time_rows,
    failed_rows_table,
    outcomes_frame,
)

T0 = datetime(2026, 11, 28, 15, 16, 36, tzinfo=timezone.utc)


def result() -> LoadResult:
    bad = RowError("VALIDATION_ERROR", "Property values were not valid", "INVALID_EMAIL", "email", 207)
    return LoadResult(
        object_type="contacts",
        rows=[
            RowOutcome("k2", 2, FAILED, error=RowError("INVALID_VALUE", "column 'n': bad", property="n")),
            RowOutcome("k0", 0, CREATED, hubspot_id="101"),
            RowOutcome("k1", 1, FAILED, error=bad),
            RowOutcome("k3", 3, SKIPPED, hubspot_id="99"),
        ],
        batches=[
            BatchRecord(1, rows=1, error="timeout", requests=3, retries=2, duration_s=12.34567),
            BatchRecord(
                0,
                rows=2,
                http_status=207,
                requested_at=T0,
                started_at=T0,
                completed_at=T0,
                status="COMPLETE",
                created=1,
                failed=1,
                requests=2,
                splits=1,
                reconciled=1,
                duration_s=0.25,
                warnings=["resent without a unique property"],
            ),
        ],
    )


def test_batch_table_rows() -> None:
    rows = batch_table_rows(result())
    assert rows == [
        {
            "index": 0,
            "endpoint": "create",
            "rows": 2,
            "http_status": 207,
            "requested_at": "2026-11-28T15:16:36+00:00",
            "started_at": "2026-11-28T15:16:36+00:00",
            "completed_at": "2026-11-28T15:16:36+00:00",
            "status": "COMPLETE",
            "created": 1,
            "updated": 0,
            "failed": 1,
            "requests": 2,
            "retries": 0,
            "splits": 1,
            "reconciled": 1,
            "seconds": 0.25,
            "errors": None,
            "warnings": ["resent without a unique property"],
        },
        {
            "index": 1,
            "endpoint": "create",
            "rows": 1,
            "http_status": None,
            "requested_at": None,
            "started_at": None,
            "completed_at": None,
            "status": None,
            "created": 0,
            "updated": 0,
            "failed": 0,
            "requests": 3,
            "retries": 2,
            "splits": 0,
            "reconciled": 0,
            "seconds": 12.346,
            "errors": "timeout",
            "warnings": [],
        },
    ]
    assert all(tuple(row) == BATCH_COLUMNS for row in rows)


def test_batch_summary_and_time_rows_are_short_and_times_stay_datetimes() -> None:
    rows = batch_summary_rows(result())
    assert rows == [
        {"batch": 0, "rows": 2, "status": "COMPLETE", "created": 1, "failed": 1, "seconds": 0.25},
        {"batch": 1, "rows": 1, "status": None, "created": 0, "failed": 0, "seconds": 12.346},
    ]  # fmt: skip
    assert all(tuple(row) == BATCH_SUMMARY_COLUMNS for row in rows)
    assert set(BATCH_SUMMARY_COLUMNS) - {"batch"} < set(BATCH_COLUMNS)  # details keep every summary field
    times = batch_time_rows(result())
    assert times == [
        {"batch": 0, "started_at": T0, "completed_at": T0},
        {"batch": 1, "started_at": None, "completed_at": None},
    ]
    assert all(tuple(row) == BATCH_TIME_COLUMNS for row in times)


def test_failed_rows_table() -> None:
    frame = failed_rows_table(result())
    assert list(frame.columns) == [
        "key",
        "position",
        "category",
        "code",
        "property",
        "message",
        "http_status",
    ]
    assert frame["key"].tolist() == ["k1", "k2"]
    assert frame.iloc[0].tolist() == [
        "k1",
        1,
        "VALIDATION_ERROR",
        "INVALID_EMAIL",
        "email",
        "Property values were not valid",
        207,
    ]
    assert frame["http_status"].dtype == "Int64"
    assert frame["http_status"].isna().tolist() == [False, True]
    assert failed_rows_table(result(), limit=1)["key"].tolist() == ["k1"]


def test_failed_rows_table_empty_keeps_columns() -> None:
    frame = failed_rows_table(LoadResult(object_type="contacts"))
    assert len(frame) == 0
    assert list(frame.columns) == [
        "key",
        "position",
        "category",
        "code",
        "property",
        "message",
        "http_status",
    ]


def test_outcomes_frame_one_row_per_input_in_order() -> None:
    frame = outcomes_frame(result())
    assert frame["position"].tolist() == [0, 1, 2, 3]
    assert frame["status"].tolist() == ["created", "failed", "failed", "skipped"]
    assert frame["hubspot_id"].tolist() == ["101", None, None, "99"]
    assert frame["category"].tolist() == [None, "VALIDATION_ERROR", "INVALID_VALUE", None]
    assert isinstance(frame, pd.DataFrame)
