"""What a load asset does in its step: a :func:`~hubspot_loader.load.load_dataframe` call, in Dagster terms.

:func:`run_load_step` validates with pandera, converts, loads through
:class:`~hubspot_loader.dagster.resource.HubSpotResource`, and returns a ``MaterializeResult`` whose metadata
is described in :mod:`hubspot_loader.dagster.metadata` and whose value is the load's *id map* (warehouse
key → HubSpot id), so later loads can associate by warehouse key.

Failure model:

- the frame fails its schema → the step fails with ``Failure(allow_retries=False)`` naming each row key,
  column and check; nothing is sent;
- HubSpot rejects some rows → the materialization succeeds and the ``hubspot_rows_accepted`` check fails
  with the count and the failed-rows table; above ``failure_threshold`` the step fails instead;
- the load stops part-way (token refused, missing scope, daily limit, no answer) → the step fails with
  the one-line reason and what to do (no retries for a refused token or scope); rows already created are
  reported in the metadata, the rest as ``NOT_SENT``;
- the options do not fit the frame (duplicate or missing columns, null or duplicate keys ...) → the step
  fails with the one-line reason (:class:`~hubspot_loader.errors.LoadUsageError`), no retries; nothing is
  sent.

Sync state: with the resource's ledger (``HubSpotResource.state_path``, on by default) the asset loads
incrementally: rows created by earlier runs are skipped (``hubspot/rows_skipped``) but stay in the returned
id map, so downstream loads that associate by warehouse key keep working. A load whose association column
has ``keys_from`` takes the target ids from the ledger first (:func:`with_ledger_ids`: every partition's,
every run's, whichever pod ran them) and from the parent asset's value only for keys the ledger does not
know. The run id and, for
partitioned assets, the partition key are recorded with every row sent (``docs/ledger.md``).
"""

# No ``from __future__ import annotations`` here: Dagster checks the ``context`` annotation's type object.

from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd

from hubspot_loader.core.model import PLANNED, BatchOutcome, LoadResult
from hubspot_loader.core.preflight import PreflightError
from hubspot_loader.core.spec import HubSpotLoadSpec
from hubspot_loader.core.tables import failed_rows_table, outcome_line
from hubspot_loader.dagster.metadata import load_metadata, run_metadata
from hubspot_loader.dagster.resource import HubSpotResource
from hubspot_loader.dagster.translator import HubSpotLoad
from hubspot_loader.errors import HubSpotAuthenticationError, HubSpotScopeError, LoadUsageError
from hubspot_loader.load import DataValidationError, LoadAborted, LoadRun, load_dataframe
from hubspot_loader.preflight_step import PREFLIGHT_FAILED
from hubspot_loader.state.ledger import SyncLedger

ROWS_ACCEPTED_CHECK = "hubspot_rows_accepted"
"""The name of each load asset's check: passes when HubSpot accepted every row."""

PLANNED_ID_PREFIX = "planned:"
"""Prefix of the placeholder ids a dry run hands downstream for rows it would create."""


def run_load_step(
    context: dg.AssetExecutionContext,
    hubspot: HubSpotResource,
    load: HubSpotLoad,
    frame: pd.DataFrame,
    id_maps: Mapping[str, Mapping[str, str]],
) -> dg.MaterializeResult:
    """Load ``frame`` as ``load`` says through ``hubspot``; return the materialization (value: the id map).

    Raises:
        dagster.Failure: the load could not run or stopped, or more rows failed than the threshold allows.

    """
    spec, table_rows = load.spec, load.table_rows

    def progress(outcome: BatchOutcome) -> None:
        record = outcome.record
        context.log.debug(
            f"batch {record.index}: HTTP {record.http_status}, {record.created} created, "
            f"{record.failed} failed, {record.requests} request(s)"
        )

    client = hubspot.get_client()
    ledger = hubspot.get_ledger()  # read-only in a dry run: rows already loaded show as skipped
    partition = context.partition_key if context.has_partition_key else None
    try:
        if ledger is not None:
            id_maps = with_ledger_ids(spec, id_maps, ledger, hubspot.portal_for(client))
        result = load_dataframe(
            frame,
            spec,
            client=client,
            ledger=ledger,
            id_maps=id_maps,
            run=LoadRun(
                run_id=context.run.run_id,
                partition=partition,
                portal=hubspot.portal_for(client) if ledger is not None else None,
                sync_mode=hubspot.sync_mode,
                on_batch=progress,
                share_rate_budget=hubspot.share_rate_budget,
            ),
            dry_run=hubspot.dry_run,
        )
    except (PreflightError, DataValidationError, LoadAborted, LoadUsageError) as exc:
        failure, cause = step_failure(exc, len(frame), table_rows)
        raise failure from cause
    finally:
        client.close()
        if ledger is not None:
            ledger.close()

    for warning in result.warnings:
        context.log.warning(warning)
    context.log.info(f"{spec.object_type}: {outcome_line(result)} in {len(result.batches)} batches")
    metadata = run_metadata(context, hubspot, result, table_rows=table_rows)
    metadata["hubspot/sync_mode"] = dg.MetadataValue.text(hubspot.sync_mode if ledger else "stateless")
    if spec.threshold_exceeded(result.rows_failed, result.rows_total):
        raise dg.Failure(
            description=(
                f"{result.rows_failed} of {result.rows_total} {spec.object_type} rows failed, over the "
                f"threshold {spec.failure_threshold}"
            ),
            metadata=metadata,
            allow_retries=False,
        )
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[rows_accepted_check(result, table_rows)],
        value=id_map_value(result),
    )


def with_ledger_ids(
    spec: HubSpotLoadSpec, id_maps: Mapping[str, Mapping[str, str]], ledger: SyncLedger, portal: str
) -> dict[str, Mapping[str, str]]:
    """Return the parents' id maps completed from the ledger: every id any run of any partition created.

    For each association column with ``keys_from``, the ledger's ids of its target object type take
    precedence over the parent asset's value from the IO manager (which holds the ids of that run's, or that
    partition's, frame only): a pod that runs the step reads the ids from the state every pod shares. Keys
    the ledger does not know keep the IO manager's ids (a dry run's planned ids among them).
    """
    merged: dict[str, Mapping[str, str]] = dict(id_maps)
    for column in spec.associations:
        parent = column.keys_from
        if parent is None:
            continue
        known = ledger.id_map(portal, column.to_object_type)
        if known:
            merged[parent] = {**merged.get(parent, {}), **known}
    return merged


def rows_accepted_check(result: LoadResult, table_rows: int) -> dg.AssetCheckResult:
    """Return the ``hubspot_rows_accepted`` check's result: failed when a row was not created or skipped."""
    failed = result.rows_failed
    metadata: dict[str, Any] = {
        "rows_failed": dg.MetadataValue.int(failed),
        "rows_total": dg.MetadataValue.int(result.rows_total),
    }
    if failed:
        frame = failed_rows_table(result, limit=table_rows)
        metadata["failed_rows"] = dg.MetadataValue.md(frame.to_markdown(index=False))
    return dg.AssetCheckResult(
        check_name=ROWS_ACCEPTED_CHECK,
        passed=failed == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{failed} of {result.rows_total} rows were rejected" if failed else "every row was accepted"
        ),
        metadata=metadata,
    )


def step_failure(exc: Exception, rows: int, table_rows: int) -> tuple[dg.Failure, BaseException | None]:
    """Turn a documented error of ``load_dataframe`` into the step's ``Failure`` and its shown cause."""
    if isinstance(exc, PreflightError):
        table = exc.report.to_frame().head(table_rows).to_markdown(index=False)
        could_not_run = any(b.code == PREFLIGHT_FAILED for b in exc.report.blocking)
        summary = (
            "preflight could not check this frame (preflight=block); nothing was sent"
            if could_not_run
            else "preflight predicts HubSpot would reject this load; nothing was sent"
        )
        failure = dg.Failure(
            description=f"{summary}.\n{exc}",
            metadata={"preflight": dg.MetadataValue.md(table)},
            allow_retries=False,
        )
        return failure, exc
    if isinstance(exc, DataValidationError):
        failure = dg.Failure(
            description=f"{_schema_failure_summary(exc, rows)}; nothing was sent.\n{exc}",
            metadata={"failure_cases": dg.MetadataValue.md(exc.report.table_markdown())},
            allow_retries=False,
        )
        return failure, exc
    if isinstance(exc, LoadAborted):
        # A refused token or scope fails the same way until someone fixes it: no retries, and the one
        # line says what to do (HubSpot's traceback under it would add nothing).
        refused = isinstance(exc.__cause__, HubSpotAuthenticationError | HubSpotScopeError)
        failure = dg.Failure(
            description=str(exc),
            metadata=load_metadata(exc.result, table_rows=table_rows),
            allow_retries=not refused,
        )
        return failure, None if refused else exc
    return dg.Failure(description=f"{exc}; nothing was sent", allow_retries=False), exc


def _schema_failure_summary(exc: DataValidationError, rows: int) -> str:
    """Say how many of the frame's rows failed, counting each failing row once."""
    failed = exc.rows_failed
    if failed:
        return f"{failed} of {rows} row(s) failed schema validation"
    return "the frame failed schema validation (checks on the whole frame, no row named)"


def id_map_value(result: LoadResult) -> dict[str, str]:
    """Return the id map handed downstream.

    In a dry run, rows that would be created get the placeholder id ``planned:<key>``, so a dependent
    dry run resolves their keys (and previews associations pointing at the placeholder) instead of
    reporting them unresolved.
    """
    if not result.dry_run:
        return result.id_map
    planned = {r.key: f"{PLANNED_ID_PREFIX}{r.key}" for r in result.rows if r.status == PLANNED}
    return {**planned, **result.id_map}
