"""Turn a :class:`~hubspot_loader.core.model.LoadResult` into tables for Dagster metadata and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from hubspot_loader.core.model import BatchRecord, LoadResult, RowOutcome

BATCH_COLUMNS = (
    "index",
    "endpoint",
    "rows",
    "http_status",
    "requested_at",
    "started_at",
    "completed_at",
    "status",
    "created",
    "updated",
    "failed",
    "requests",
    "retries",
    "splits",
    "reconciled",
    "seconds",
    "errors",
    "warnings",
)
"""Keys of each :func:`batch_table_rows` entry (every detail of a batch), in order."""

BATCH_SUMMARY_COLUMNS = ("batch", "rows", "status", "created", "failed", "seconds")
"""The narrow batches table (readable at 1600 px beside the UI's panels); requests, retries and the rest
are in :func:`batch_table_rows`."""
"""Keys of each :func:`batch_summary_rows` entry: few and short, so the table reads at 1600 px."""

SYNC_BATCH_SUMMARY_COLUMNS = ("batch", "endpoint", "rows", "status", "written", "failed", "seconds")
"""The narrow batches table of a sync mode (``upsert``, ``update``, ``mirror``): each batch names its endpoint
(``create``, ``update``, ``archive``) and ``written`` counts the rows it created, updated or archived."""

BATCH_TIME_COLUMNS = ("batch", "started_at", "completed_at")
"""Keys of each :func:`batch_time_rows` entry: HubSpot's processing times of each batch."""

FAILED_ROWS_COLUMNS = ("key", "position", "category", "code", "property", "message", "http_status")
"""Columns of :func:`failed_rows_table`."""

OUTCOME_COLUMNS = ("key", "position", "status", "hubspot_id", "category", "code", "property", "message")
"""Columns of :func:`outcomes_frame`."""


def outcome_counts(result: LoadResult) -> list[tuple[str, int]]:
    """Return what became of the rows as (word, count) pairs: create mode's three, or a sync mode's seven."""
    counts = [("created", result.rows_created)]
    if result.write_mode != "create":
        counts += [
            ("updated", result.rows_updated),
            ("unchanged", result.rows_unchanged),
            ("adopted", result.rows_adopted),
            ("archived", result.rows_archived),
        ]
    counts += [("failed", result.rows_failed), ("skipped", result.rows_skipped)]
    if result.rows_in_flight:  # among the skipped: a concurrent load was sending them
        counts.append(("of them in flight", result.rows_in_flight))
    return counts


def outcome_line(result: LoadResult) -> str:
    """One line of :func:`outcome_counts`, e.g. ``"3 created, 40 updated, 957 unchanged, ... of 1000 rows"``.

    ``adopted`` rows are also counted as updated or unchanged, and archived records are not rows of the frame.
    """
    words = ", ".join(f"{count} {word}" for word, count in outcome_counts(result))
    return f"{words} of {result.rows_total} rows"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _batch_row(batch: BatchRecord) -> dict[str, Any]:
    return {
        "index": batch.index,
        "endpoint": batch.endpoint,
        "rows": batch.rows,
        "http_status": batch.http_status,
        "requested_at": _iso(batch.requested_at),
        "started_at": _iso(batch.started_at),
        "completed_at": _iso(batch.completed_at),
        "status": batch.status,
        "created": batch.created,
        "updated": batch.updated,
        "failed": batch.failed,
        "requests": batch.requests,
        "retries": batch.retries,
        "splits": batch.splits,
        "reconciled": batch.reconciled,
        "seconds": round(batch.duration_s, 3),
        "errors": batch.error,
        "warnings": list(batch.warnings),
    }


def _in_order(result: LoadResult) -> list[BatchRecord]:
    return sorted(result.batches, key=lambda b: b.index)


def batch_table_rows(result: LoadResult) -> list[dict[str, Any]]:
    """One dict per batch, in batch order, with every detail (the keys of :data:`BATCH_COLUMNS`).

    Times are ISO 8601 strings (``None`` when HubSpot did not report them); ``seconds`` is the local
    wall time from the batch's first request to its last answer; ``errors`` is the batch-level error
    summary, ``None`` when the batch as a whole did not fail; ``warnings`` a list of strings.
    """
    return [_batch_row(b) for b in _in_order(result)]


def batch_summary_columns(result: LoadResult) -> tuple[str, ...]:
    """Return the keys :func:`batch_summary_rows` gives for ``result`` (create mode or a sync mode)."""
    return BATCH_SUMMARY_COLUMNS if result.write_mode == "create" else SYNC_BATCH_SUMMARY_COLUMNS


def batch_summary_rows(result: LoadResult) -> list[dict[str, Any]]:
    """One short dict per batch, in batch order, with the keys of :func:`batch_summary_columns`.

    ``seconds`` as in :func:`batch_table_rows`; ``status`` is HubSpot's (``None`` without an answer).
    """
    if result.write_mode != "create":
        return [
            {
                "batch": b.index,
                "endpoint": b.endpoint,
                "rows": b.rows,
                "status": b.status,
                "written": b.created + b.updated,
                "failed": b.failed,
                "seconds": round(b.duration_s, 3),
            }
            for b in _in_order(result)
        ]
    return [
        {
            "batch": b.index,
            "rows": b.rows,
            "status": b.status,
            "created": b.created,
            "failed": b.failed,
            "seconds": round(b.duration_s, 3),
        }
        for b in _in_order(result)
    ]


def batch_time_rows(result: LoadResult) -> list[dict[str, Any]]:
    """One dict per batch, in batch order, with the keys of :data:`BATCH_TIME_COLUMNS`.

    The times are HubSpot's ``startedAt``/``completedAt`` as timezone-aware ``datetime`` values (``None``
    when the batch got no such answer).
    """
    return [
        {"batch": b.index, "started_at": b.started_at, "completed_at": b.completed_at}
        for b in _in_order(result)
    ]


def _error_fields(row: RowOutcome) -> dict[str, Any]:
    error = row.error
    return {
        "category": error.category if error else None,
        "code": error.code if error else None,
        "property": error.property if error else None,
        "message": error.message if error else None,
    }


def failed_rows_table(result: LoadResult, limit: int | None = None) -> pd.DataFrame:
    """Tabulate the failed rows in input order (the first ``limit``), one line each, with the reason.

    Columns: :data:`FAILED_ROWS_COLUMNS`. ``position`` is an ``int64`` column and ``http_status`` a
    nullable ``Int64`` one; the rest are strings or ``None``.
    """
    rows = result.failed_rows if limit is None else result.failed_rows[: max(limit, 0)]
    records = [
        {
            "key": r.key,
            "position": r.position,
            **_error_fields(r),
            "http_status": r.error.http_status if r.error else None,
        }
        for r in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=list(FAILED_ROWS_COLUMNS))
    return frame.astype({"position": "int64", "http_status": "Int64"})


def outcomes_frame(result: LoadResult) -> pd.DataFrame:
    """One line per input row, in input order: what happened to it (columns :data:`OUTCOME_COLUMNS`)."""
    frame = result.rows.to_frame().sort_values("position", kind="stable", ignore_index=True)
    return frame.loc[:, list(OUTCOME_COLUMNS)]
