"""Turn a :class:`~hubspot_loader.core.model.LoadResult` into Dagster asset metadata.

Keys (all per run):

==============================  ==========================================================================
``hubspot/object_type``         the object type loaded
``hubspot/requested_at``        HubSpot's earliest ``requestedAt`` over the batches (timestamp)
``hubspot/started_at``          HubSpot's earliest ``startedAt`` over the batches (timestamp)
``hubspot/completed_at``        HubSpot's latest ``completedAt`` over the batches (timestamp)
``hubspot/status``              one word for the load (values below)
``hubspot/stopped``             why the load stopped part-way and what to do (only when it stopped)
``dagster/row_count``           rows given to the load
``hubspot/rows_created``        rows created in this run (including ones found after a lost answer)
``hubspot/rows_failed``         rows not created, each with a reason in ``hubspot/failed_rows``
``hubspot/rows_skipped``        rows already loaded by an earlier run (create mode), matched to no record
                                (update mode), or being sent by a concurrent load
``hubspot/rows_in_flight``      of those, rows a concurrent load held (leased) and was sending (only when
                                there were some)
``hubspot/write_mode``          ``create``, ``upsert``, ``update`` or ``mirror`` (the spec's); the sync
                                modes add the four keys below
``hubspot/rows_updated``        rows whose record got their changed properties (adopted ones included)
``hubspot/rows_unchanged``      rows that sent nothing: nothing changed since the last sync
``hubspot/rows_adopted``        rows matched to a record HubSpot already had (by the unique property)
``hubspot/rows_archived``       mirror: records archived because their keys left the source
``hubspot/batches``             batch-create batches sent
``hubspot/requests``            HTTP write requests, including retries and split resends
``hubspot/retries``             requests that were retries
``hubspot/duration_s``          wall-clock seconds of the load
``hubspot/rows_per_second``     rows created per second
``hubspot/batches_table``       one short row per batch, readable at 1600 px: batch, rows, status, created,
                                failed, seconds (local wall time, retries included); in a sync mode batch,
                                endpoint, rows, status, written, failed, seconds
``hubspot/batch_times``         per batch: HubSpot's ``startedAt`` and ``completedAt``, in ``timestamp``
                                columns (ISO 8601 UTC to the millisecond, HubSpot's own form)
``hubspot/batch_details``       JSON: every detail of those batches (HTTP status, all three HubSpot
                                times, retries, splits, reconciled rows, errors, warnings)
``hubspot/failed_rows``         the first failed rows: key, position, category, code, property, message,
                                http_status
``hubspot/failed_rows_file``    path of the CSV with **every** failed row (same columns), when rows
                                failed and outcome files are on (:mod:`hubspot_loader.dagster.run_files`)
``hubspot/portal_url``          link to the object type's list in the HubSpot portal (when the portal's
                                account info could be read; :mod:`hubspot_loader.dagster.portal_link`)
``hubspot/warnings``            anything the run should know (e.g. no unique property to reconcile by)
``hubspot/dry_run``             true when nothing was sent
``hubspot/sync_mode``           ``incremental`` / ``full_refresh`` with a ledger, ``stateless`` without
                                (added by the asset factory)
``hubspot/payload_preview``     a dry run's first payloads
==============================  ==========================================================================

``hubspot/status`` (:attr:`~hubspot_loader.core.model.LoadResult.hubspot_status`) is one of:

===================  =====================================================================================
``COMPLETE``         every batch sent was answered ``COMPLETE`` by HubSpot (single rows may still have
                     failed: see ``hubspot/rows_failed``)
``PENDING`` ...      HubSpot's own status of the first batch that was not ``COMPLETE`` (``PENDING``,
                     ``PROCESSING``, ``CANCELED``)
``ERROR``            a batch was answered with an error and no batch status (401, 403, 429, 5xx ...)
``NO_ANSWER``        a batch was sent and got no HTTP answer (timeout, dropped connection)
``UNKNOWN``          a batch was answered 2xx without HubSpot's ``status`` field
``NOTHING_TO_SEND``  no batch was needed: every row was skipped (already loaded) or held back
                     (preflight, conversion), or the frame was empty
``NOT_SENT``         the load stopped before its first batch (e.g. the token was refused while reading
                     the property definitions); see ``hubspot/stopped``
``DRY_RUN``          a dry run: nothing was sent
===================  =====================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from hubspot_loader.core.model import LoadResult
from hubspot_loader.core.tables import (
    BATCH_SUMMARY_COLUMNS,
    BATCH_TIME_COLUMNS,
    SYNC_BATCH_SUMMARY_COLUMNS,
    batch_summary_columns,
    batch_summary_rows,
    batch_table_rows,
    batch_time_rows,
    failed_rows_table,
)
from hubspot_loader.dagster.portal_link import portal_account, portal_link
from hubspot_loader.dagster.resource import HubSpotResource
from hubspot_loader.dagster.run_files import asset_directory, run_directory, write_failed_rows
from hubspot_loader.errors import HubSpotLoaderError

DEFAULT_TABLE_ROWS = 50

TIMESTAMP = "timestamp"
"""The ``TableColumn`` type of time columns; their cells are ISO 8601 UTC text (``…T15:16:36.123Z``)."""

_BATCH_TYPES = {
    "batch": "int",
    "endpoint": "string",
    "rows": "int",
    "status": "string",
    "created": "int",
    "written": "int",
    "failed": "int",
    "seconds": "float",
}
assert set(BATCH_SUMMARY_COLUMNS) | set(SYNC_BATCH_SUMMARY_COLUMNS) == set(_BATCH_TYPES)
_TIME_TYPES = {"batch": "int", "started_at": TIMESTAMP, "completed_at": TIMESTAMP}
assert tuple(_TIME_TYPES) == BATCH_TIME_COLUMNS


def _timestamp(value: datetime | None) -> dg.MetadataValue | None:
    return dg.MetadataValue.timestamp(value) if value is not None else None


def hubspot_time(value: datetime) -> str:
    """Return ``value`` as HubSpot writes times: ISO 8601 in UTC to the millisecond (``…:36.123Z``)."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _table(
    records: Sequence[Mapping[str, Any]], columns: Sequence[str], types: Mapping[str, str] | None = None
) -> dg.MetadataValue:
    types = types or {}
    schema = dg.TableSchema(columns=[dg.TableColumn(name=c, type=types.get(c, "string")) for c in columns])
    rows = [dg.TableRecord({c: _cell(record.get(c)) for c in columns}) for record in records]
    return dg.MetadataValue.table(records=rows, schema=schema)


def _frame_table(frame: pd.DataFrame) -> dg.MetadataValue:
    records = [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]
    return _table(records, [str(c) for c in frame.columns])


def _cell(value: Any) -> str | int | float | bool | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return hubspot_time(value)
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def load_metadata(
    result: LoadResult,
    *,
    table_rows: int = DEFAULT_TABLE_ROWS,
    portal_url: str | None = None,
    failed_rows_file: Path | None = None,
) -> dict[str, Any]:
    """Asset metadata for one load (see the module docstring for the keys); no I/O.

    ``portal_url`` (:func:`~hubspot_loader.core.portal.object_list_url`) and ``failed_rows_file``
    (:func:`~hubspot_loader.dagster.run_files.write_failed_rows`) add ``hubspot/portal_url`` and
    ``hubspot/failed_rows_file``; :func:`run_metadata` finds both for a run.
    """
    shown = max(table_rows, 0)
    metadata: dict[str, Any] = {
        "hubspot/object_type": dg.MetadataValue.text(result.object_type),
        "hubspot/requested_at": _timestamp(result.hubspot_requested_at),
        "hubspot/started_at": _timestamp(result.hubspot_started_at),
        "hubspot/completed_at": _timestamp(result.hubspot_completed_at),
        "hubspot/status": dg.MetadataValue.text(result.hubspot_status),
        "dagster/row_count": dg.MetadataValue.int(result.rows_total),
        "hubspot/rows_created": dg.MetadataValue.int(result.rows_created),
        "hubspot/rows_failed": dg.MetadataValue.int(result.rows_failed),
        "hubspot/rows_skipped": dg.MetadataValue.int(result.rows_skipped),
        "hubspot/batches": dg.MetadataValue.int(len(result.batches)),
        "hubspot/requests": dg.MetadataValue.int(result.requests),
        "hubspot/retries": dg.MetadataValue.int(result.retries),
        "hubspot/duration_s": dg.MetadataValue.float(round(result.duration_s, 3)),
        "hubspot/rows_per_second": dg.MetadataValue.float(round(result.rows_per_second, 1)),
        "hubspot/batches_table": _table(
            batch_summary_rows(result)[:shown], list(batch_summary_columns(result)), _BATCH_TYPES
        ),
        "hubspot/batch_times": _table(batch_time_rows(result)[:shown], BATCH_TIME_COLUMNS, _TIME_TYPES),
        "hubspot/batch_details": dg.MetadataValue.json(batch_table_rows(result)[:shown]),
        "hubspot/failed_rows": _frame_table(failed_rows_table(result, limit=shown)),
        "hubspot/dry_run": dg.MetadataValue.bool(result.dry_run),
    }
    if result.write_mode != "create":
        metadata["hubspot/write_mode"] = dg.MetadataValue.text(result.write_mode)
        metadata["hubspot/rows_updated"] = dg.MetadataValue.int(result.rows_updated)
        metadata["hubspot/rows_unchanged"] = dg.MetadataValue.int(result.rows_unchanged)
        metadata["hubspot/rows_adopted"] = dg.MetadataValue.int(result.rows_adopted)
        metadata["hubspot/rows_archived"] = dg.MetadataValue.int(result.rows_archived)
    if result.rows_in_flight:
        metadata["hubspot/rows_in_flight"] = dg.MetadataValue.int(result.rows_in_flight)
    if failed_rows_file is not None:
        metadata["hubspot/failed_rows_file"] = dg.MetadataValue.path(str(failed_rows_file))
    if portal_url is not None:
        metadata["hubspot/portal_url"] = dg.MetadataValue.url(portal_url)
    if result.stopped is not None:
        metadata["hubspot/stopped"] = dg.MetadataValue.text(result.stopped)
    if result.preflight is not None:
        cost = result.preflight.cost  # one short key: a long one would narrow the UI's value column
        spent = {"requests": cost.requests, "seconds": round(cost.seconds, 3)}
        spent["unchecked_rows"] = cost.unchecked_rows
        metadata["hubspot/preflight"] = dg.MetadataValue.json(spent)
    if result.warnings:
        metadata["hubspot/warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in result.warnings))
    if result.dry_run:
        metadata["hubspot/payload_preview"] = dg.MetadataValue.json(result.payload_preview)
    return {k: v for k, v in metadata.items() if v is not None}


def run_metadata(
    context: dg.AssetExecutionContext,
    hubspot: HubSpotResource,
    result: LoadResult,
    *,
    table_rows: int = DEFAULT_TABLE_ROWS,
) -> dict[str, Any]:
    """:func:`load_metadata` plus what a run adds: the failed-rows CSV and the portal link.

    Writes every failed row to the run directory (:mod:`hubspot_loader.dagster.run_files`) and reads
    the portal's account info at most once per run (:mod:`hubspot_loader.dagster.portal_link`).
    Neither can fail the load: a file that cannot be written is a warning in the run log, a portal
    that cannot be read a debug line, and the key is left out.
    """
    run_dir = run_directory(context, hubspot)
    failed_file = None
    if run_dir is not None:
        try:
            failed_file = write_failed_rows(result, asset_directory(run_dir, context.asset_key))
        except OSError as exc:
            context.log.warning(f"could not write the failed rows to {run_dir}: {exc}")
    url = None
    try:
        url = portal_link(context, portal_account(context, hubspot, run_dir), result.object_type)
    except (HubSpotLoaderError, OSError) as exc:
        context.log.debug(f"no HubSpot portal link: {type(exc).__name__}: {exc}")
    return load_metadata(result, table_rows=table_rows, portal_url=url, failed_rows_file=failed_file)
