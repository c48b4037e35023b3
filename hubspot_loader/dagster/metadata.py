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
``hubspot/rows_skipped``        rows already loaded by an earlier run (incremental mode)
``hubspot/batches``             batch-create batches sent
``hubspot/requests``            HTTP write requests, including retries and split resends
``hubspot/retries``             requests that were retries
``hubspot/duration_s``          wall-clock seconds of the load
``hubspot/rows_per_second``     rows created per second
``hubspot/batches_table``       one row per batch: HTTP status and HubSpot's timestamps
``hubspot/failed_rows``         the first failed rows: key, category, code, property, message
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

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import dagster as dg
import pandas as pd

from hubspot_loader.core.model import LoadResult
from hubspot_loader.core.tables import batch_table_rows, failed_rows_table

DEFAULT_TABLE_ROWS = 50

_BATCH_COLUMNS = [
    ("index", "int"),
    ("rows", "int"),
    ("http_status", "int"),
    ("requested_at", "string"),
    ("started_at", "string"),
    ("completed_at", "string"),
    ("status", "string"),
    ("created", "int"),
    ("failed", "int"),
    ("requests", "int"),
    ("errors", "string"),
]


def _timestamp(value: datetime | None) -> dg.MetadataValue | None:
    return dg.MetadataValue.timestamp(value) if value is not None else None


def _table(frame: pd.DataFrame, types: Mapping[str, str] | None = None) -> dg.MetadataValue:
    types = types or {}
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name=str(c), type=types.get(str(c), "string")) for c in frame.columns]
    )
    records = [
        dg.TableRecord({str(k): _cell(v) for k, v in row.items()}) for row in frame.to_dict(orient="records")
    ]
    return dg.MetadataValue.table(records=records, schema=schema)


def _cell(value: Any) -> str | int | float | bool | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if value is pd.NA:
        return None
    return str(value)


def load_metadata(result: LoadResult, *, table_rows: int = DEFAULT_TABLE_ROWS) -> dict[str, Any]:
    """Asset metadata for one load (see the module docstring for the keys)."""
    batches = pd.DataFrame(batch_table_rows(result), columns=[name for name, _ in _BATCH_COLUMNS])
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
        "hubspot/batches_table": _table(batches.head(table_rows), dict(_BATCH_COLUMNS)),
        "hubspot/failed_rows": _table(failed_rows_table(result, limit=table_rows)),
        "hubspot/dry_run": dg.MetadataValue.bool(result.dry_run),
    }
    if result.stopped is not None:
        metadata["hubspot/stopped"] = dg.MetadataValue.text(result.stopped)
    if result.warnings:
        metadata["hubspot/warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in result.warnings))
    if result.dry_run:
        metadata["hubspot/payload_preview"] = dg.MetadataValue.json(result.payload_preview)
    return {k: v for k, v in metadata.items() if v is not None}
