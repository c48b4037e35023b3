"""Asset factory: a Dagster asset that loads an upstream DataFrame into HubSpot.

The asset validates with pandera, converts, loads through
:class:`~hubspot_loader.dagster.resource.HubSpotResource`,
and returns a ``MaterializeResult`` whose metadata is described in :mod:`hubspot_loader.dagster.metadata` and
whose value is the load's *id map* (warehouse key → HubSpot id), so later loads can associate by
warehouse key.

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
id map, so downstream loads that associate by warehouse key keep working. The run id and, for
partitioned assets, the partition key are recorded with every row sent (``docs/ledger.md``).
"""

# No ``from __future__ import annotations`` here: Dagster checks the ``context`` annotation's type object.

from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from hubspot_loader.core.model import PLANNED, AssociationColumn, BatchOutcome, LoadResult
from hubspot_loader.core.preflight import PreflightError
from hubspot_loader.core.tables import failed_rows_table
from hubspot_loader.dagster.metadata import load_metadata
from hubspot_loader.dagster.resource import HubSpotResource
from hubspot_loader.errors import HubSpotAuthenticationError, HubSpotScopeError, LoadUsageError
from hubspot_loader.load import (
    DataValidationError,
    HubSpotLoadSpec,
    LoadAborted,
    LoadRun,
    PreflightMode,
    PropertySpec,
    load_dataframe,
)
from hubspot_loader.preflight_step import PREFLIGHT_FAILED

ROWS_ACCEPTED_CHECK = "hubspot_rows_accepted"

PLANNED_ID_PREFIX = "planned:"
"""Prefix of the placeholder ids a dry run hands downstream for rows it would create."""

SourceReader = Callable[[dg.AssetExecutionContext], pd.DataFrame]
"""Reads the rows to load when the upstream asset's value is not passed through an IO manager
(e.g. a dbt model read from DuckDB)."""


def _key(value: str | Sequence[str] | dg.AssetKey) -> dg.AssetKey:
    if isinstance(value, dg.AssetKey):
        return value
    if isinstance(value, str):
        return dg.AssetKey.from_user_string(value)
    return dg.AssetKey(list(value))


def _check_result(result: LoadResult, table_rows: int) -> dg.AssetCheckResult:
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


def build_hubspot_load_asset(
    *,
    name: str,
    source: str | Sequence[str] | dg.AssetKey,
    object_type: str,
    key_column: str,
    schema: pa.DataFrameSchema | type[pa.DataFrameModel] | None = None,
    properties: PropertySpec = None,
    associations: Sequence[AssociationColumn] = (),
    read_source: SourceReader | None = None,
    unique_property: str | None = None,
    failure_threshold: float | None = None,
    key_prefix: str | Sequence[str] | None = None,
    group_name: str | None = None,
    pool: str | None = "hubspot",
    resource_key: str = "hubspot",
    naive_timezone: str = "UTC",
    table_rows: int = 50,
    description: str | None = None,
    partitions_def: dg.PartitionsDefinition | None = None,
    preflight: PreflightMode = "quarantine",
) -> dg.AssetsDefinition:
    """Build an asset that loads the upstream frame ``source`` into HubSpot ``object_type``.

    Args:
        name: the asset's name.
        source: the upstream asset whose value is the DataFrame (or, with ``read_source``, the asset it
            depends on).
        object_type: the HubSpot object type (``contacts``, ``companies``, ``0-3``, ``p_vendor`` ...).
        key_column: the column with each row's warehouse key (unique, non-null).
        schema: a pandera schema the frame must pass before anything is sent.
        properties: columns to send (list, or column→property mapping); default: all but key and
            association columns.
        associations: association columns; one with ``keys_from="<load asset key>"`` adds that load
            asset as an input and translates warehouse keys through its id map.
        read_source: reads the frame instead of taking the upstream value from an IO manager.
        unique_property: a unique property (``email``, or an external-id property) used to reconcile
            lost answers without duplicates.
        failure_threshold: fail the step when more rows than this fail (a count, or a fraction < 1);
            below it, failed rows only fail the ``hubspot_rows_accepted`` check.
        key_prefix: prefix for the asset key.
        group_name: asset group.
        pool: Dagster concurrency pool (default ``hubspot``), so runs don't share one portal's budget.
        resource_key: the resource key of the :class:`HubSpotResource`.
        naive_timezone: the zone naive datetimes are taken to be in.
        table_rows: rows kept in the metadata tables.
        description: the asset's description.
        preflight: check the rows against HubSpot's property definitions before sending:
            ``quarantine`` (default: rows HubSpot would reject are reported as failed and not sent, the
            rest load), ``block`` (any predicted failure fails the step, nothing is sent) or ``off``.
        partitions_def: partitions of the asset (e.g. daily); each partition's rows are recorded in the
            ledger with their partition key.

    """
    spec = HubSpotLoadSpec(
        object_type=object_type,
        key_column=key_column,
        properties=properties,
        associations=associations,
        schema=schema,
        unique_property=unique_property,
        preflight=preflight,
        failure_threshold=failure_threshold,
        naive_timezone=naive_timezone,
    )
    source_key = _key(source)
    # One input per parent load whose id map the association columns read (several columns may share one).
    parents = dict.fromkeys(a.keys_from for a in associations if a.keys_from is not None)
    id_map_args = {name: f"id_map_{i}" for i, name in enumerate(parents)}
    ins: dict[str, dg.AssetIn] = {arg: dg.AssetIn(key=_key(name)) for name, arg in id_map_args.items()}
    deps: list[dg.AssetKey] = []
    if read_source is None:
        ins["frame"] = dg.AssetIn(key=source_key)
    else:
        deps.append(source_key)
    asset_key = dg.AssetKey([*_prefix(key_prefix), name])

    @dg.asset(
        key=asset_key,
        ins=ins,
        deps=deps,
        pool=pool,
        dagster_type=dg.Any,
        group_name=group_name,
        kinds={"hubspot", "python"},
        partitions_def=partitions_def,
        required_resource_keys={resource_key},
        check_specs=[dg.AssetCheckSpec(ROWS_ACCEPTED_CHECK, asset=asset_key)],
        description=description or f"Creates the upstream rows as HubSpot {object_type}.",
        metadata={"hubspot/object_type": object_type, "hubspot/key_column": key_column},
    )
    def _load(context: dg.AssetExecutionContext, **inputs: Any) -> dg.MaterializeResult:
        hubspot: HubSpotResource = getattr(context.resources, resource_key)
        frame = read_source(context) if read_source is not None else inputs["frame"]
        id_maps = {name: inputs[arg] for name, arg in id_map_args.items()}

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
                ),
                dry_run=hubspot.dry_run,
            )
        except (PreflightError, DataValidationError, LoadAborted, LoadUsageError) as exc:
            failure, cause = _step_failure(exc, len(frame), table_rows)
            raise failure from cause
        finally:
            client.close()
            if ledger is not None:
                ledger.close()

        for warning in result.warnings:
            context.log.warning(warning)
        context.log.info(
            f"{object_type}: {result.rows_created} created, {result.rows_failed} failed, "
            f"{result.rows_skipped} skipped of {result.rows_total} rows in {len(result.batches)} batches"
        )
        metadata = load_metadata(result, table_rows=table_rows)
        metadata["hubspot/sync_mode"] = dg.MetadataValue.text(hubspot.sync_mode if ledger else "stateless")
        if spec.threshold_exceeded(result.rows_failed, result.rows_total):
            raise dg.Failure(
                description=(
                    f"{result.rows_failed} of {result.rows_total} {object_type} rows failed, over the "
                    f"threshold {failure_threshold}"
                ),
                metadata=metadata,
                allow_retries=False,
            )
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[_check_result(result, table_rows)],
            value=_id_map_value(result),
        )

    return _load


def _step_failure(exc: Exception, rows: int, table_rows: int) -> tuple[dg.Failure, BaseException | None]:
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


def _id_map_value(result: LoadResult) -> dict[str, str]:
    """Return the id map handed downstream.

    In a dry run, rows that would be created get the placeholder id ``planned:<key>``, so a dependent
    dry run resolves their keys (and previews associations pointing at the placeholder) instead of
    reporting them unresolved.
    """
    if not result.dry_run:
        return result.id_map
    planned = {r.key: f"{PLANNED_ID_PREFIX}{r.key}" for r in result.rows if r.status == PLANNED}
    return {**planned, **result.id_map}


def _prefix(key_prefix: str | Sequence[str] | None) -> list[str]:
    if key_prefix is None:
        return []
    if isinstance(key_prefix, str):
        return [key_prefix]
    return list(key_prefix)
