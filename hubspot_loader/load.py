"""Load a DataFrame into HubSpot without Dagster: validate, convert, send, account for every row.

:func:`load_dataframe` is the one place that strings the pure core (validation, conversion) and the HTTP
client together. The Dagster asset factory and the CLI both call it, so they behave the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pandas as pd

from hubspot_loader.associations import resolve_association
from hubspot_loader.formatting import format_series
from hubspot_loader.inputs import iter_prepared
from hubspot_loader.model import (
    FAILED,
    NOT_SENT,
    PLANNED,
    AssociationColumn,
    BatchOutcome,
    LoadResult,
    PreparedInput,
    ResolvedAssociation,
    RowError,
    RowOutcome,
)
from hubspot_loader.schemas import ValidationReport, validate_frame

if TYPE_CHECKING:
    import pandera.pandas as pa

    from hubspot_loader.client import HubSpotClient

PropertySpec = Sequence[str] | Mapping[str, str] | None
"""Which columns become HubSpot properties: a list of columns (same names), a column→property mapping,
or ``None`` for every column except the key and association columns."""

ProgressCallback = Callable[[BatchOutcome], None]


class DataValidationError(ValueError):
    """The frame failed its pandera schema; nothing was sent.

    ``report`` holds one entry per failing (row key, column, check); ``str(error)`` names them.
    """

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(report.message)
        self.report = report


class LoadAborted(RuntimeError):
    """The load stopped part-way (authentication, missing scope, daily rate limit ...).

    ``result`` accounts for every row: those answered before the stop keep their outcome; the rest are
    failed with category ``NOT_SENT``. The original error is the ``__cause__``.
    """

    def __init__(self, message: str, result: LoadResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class LoadPlan:
    """The settled configuration of one load (what :func:`load_dataframe` sends and how)."""

    object_type: str
    properties: Mapping[str, str]
    associations: Sequence[ResolvedAssociation]
    key_column: str | None


def property_mapping(
    df: pd.DataFrame,
    properties: PropertySpec,
    *,
    key_column: str | None,
    associations: Sequence[AssociationColumn] = (),
) -> dict[str, str]:
    """Settle which columns are sent as which HubSpot properties.

    Raises:
        KeyError: a named column is not in the frame (the message lists the frame's columns).

    """
    if properties is None:
        excluded = {key_column, *(a.column for a in associations)}
        mapping = {str(c): str(c) for c in df.columns if c not in excluded}
    elif isinstance(properties, Mapping):
        mapping = {str(c): str(p) for c, p in properties.items()}
    else:
        mapping = {str(c): str(c) for c in properties}
    missing = [c for c in mapping if c not in df.columns]
    if missing:
        raise KeyError(f"columns {missing} are not in the frame; it has {[str(c) for c in df.columns]}")
    return mapping


def resolve_associations(
    object_type: str,
    associations: Sequence[AssociationColumn],
    *,
    client: HubSpotClient | None,
    id_maps: Mapping[str, Mapping[str, str]] | None = None,
) -> list[ResolvedAssociation]:
    """Settle each association column's type id (looking labels up through ``client``) and id map."""
    resolved = []
    for column in associations:
        labels = None
        if column.label is not None and column.type_id is None:
            if client is None:
                raise ValueError(f"association column {column.column!r} uses a label; a client is needed")
            labels = client.association_labels(object_type, column.to_object_type)
        id_map = None
        if column.keys_from is not None:
            if id_maps is None or column.keys_from not in id_maps:
                raise ValueError(
                    f"association column {column.column!r} takes warehouse keys from {column.keys_from!r}, "
                    f"but no id map with that name was given (have: {sorted(id_maps or {})})"
                )
            id_map = id_maps[column.keys_from]
        resolved.append(resolve_association(object_type, column, labels, id_map))
    return resolved


def load_dataframe(
    df: pd.DataFrame,
    object_type: str,
    *,
    client: HubSpotClient | None,
    properties: PropertySpec = None,
    associations: Sequence[AssociationColumn] = (),
    key_column: str | None = None,
    schema: pa.DataFrameSchema | type[pa.DataFrameModel] | None = None,
    id_maps: Mapping[str, Mapping[str, str]] | None = None,
    unique_property: str | None = None,
    naive_timezone: str = "UTC",
    batch_size: int | None = None,
    dry_run: bool = False,
    preview_rows: int = 5,
    on_batch: ProgressCallback | None = None,
) -> LoadResult:
    """Validate ``df``, convert its rows and create them in HubSpot; return what happened to every row.

    Args:
        df: the rows to load, one HubSpot object per row.
        object_type: ``contacts``, ``companies``, ``0-3``, ``p_vendor`` ...
        client: the HTTP client (``None`` is allowed only for a dry run without label associations).
        properties: columns to send as properties (see :data:`PropertySpec`).
        associations: association columns (see :class:`~hubspot_loader.model.AssociationColumn`).
        key_column: the column holding each row's warehouse key (unique, non-null); it becomes the
            row's ``objectWriteTraceId`` and the key of the id map.
        schema: a pandera schema checked before anything is sent; the coerced frame is what is sent.
        id_maps: named warehouse-key → HubSpot-id maps for association columns with ``keys_from``.
        unique_property: a property with unique values (``email`` for contacts, or a custom external id)
            used to reconcile ambiguous failures without creating duplicates.
        naive_timezone: the zone naive datetimes are taken to be in.
        batch_size: inputs per request (≤ 100); the client's default when ``None``.
        dry_run: validate and convert, keep the first ``preview_rows`` payloads, send nothing.
        preview_rows: how many payloads a dry run keeps.
        on_batch: called after every finished batch (progress reporting).

    Raises:
        DataValidationError: the frame failed ``schema``; nothing was sent.
        LoadAborted: the load stopped part-way; ``.result`` accounts for every row.

    """
    result = LoadResult(object_type=object_type, started=_now(), dry_run=dry_run)
    if schema is not None:
        report = validate_frame(df, schema, key_column)
        if not report.ok:
            raise DataValidationError(report)
        df = report.frame
    plan = LoadPlan(
        object_type=object_type,
        properties=property_mapping(df, properties, key_column=key_column, associations=associations),
        associations=resolve_associations(object_type, associations, client=client, id_maps=id_maps),
        key_column=key_column,
    )
    if dry_run:
        _plan_only(df, plan, result, naive_timezone, preview_rows)
    else:
        if client is None:
            raise ValueError("a client is needed to send rows; pass dry_run=True to only validate")
        _send(df, plan, result, client, naive_timezone, unique_property, batch_size, on_batch)
    result.rows.sort(key=lambda r: r.position)
    result.batches.sort(key=lambda b: b.index)
    result.finished = _now()
    return result


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _plan_only(
    df: pd.DataFrame, plan: LoadPlan, result: LoadResult, naive_timezone: str, preview_rows: int
) -> None:
    for chunk in _chunks(df, plan, naive_timezone):
        result.rows.extend(chunk.rejected)
        for item in chunk.inputs:
            if len(result.payload_preview) < preview_rows:
                result.payload_preview.append(item.payload())
            result.rows.append(
                RowOutcome(key=item.key, position=item.position, status=PLANNED, trace_id=item.trace_id)
            )


def _chunks(df: pd.DataFrame, plan: LoadPlan, naive_timezone: str) -> Iterator[Any]:
    return iter_prepared(
        df,
        properties=plan.properties,
        associations=plan.associations,
        key_column=plan.key_column,
        naive_timezone=naive_timezone,
    )


def _send(
    df: pd.DataFrame,
    plan: LoadPlan,
    result: LoadResult,
    client: HubSpotClient,
    naive_timezone: str,
    unique_property: str | None,
    batch_size: int | None,
    on_batch: ProgressCallback | None,
) -> None:
    pending: dict[str, PreparedInput] = {}

    def inputs() -> Iterator[PreparedInput]:
        for chunk in _chunks(df, plan, naive_timezone):
            result.rows.extend(chunk.rejected)
            for item in chunk.inputs:
                pending[item.trace_id] = item
                yield item

    try:
        for outcome in client.batch_create(
            plan.object_type, inputs(), unique_property=unique_property, batch_size=batch_size
        ):
            result.batches.append(outcome.record)
            result.rows.extend(outcome.rows)
            for row in outcome.rows:
                if row.trace_id is not None:
                    pending.pop(row.trace_id, None)
            if on_batch is not None:
                on_batch(outcome)
    except Exception as exc:
        _account_for_unsent(df, plan.key_column, result, pending, exc)
        raise LoadAborted(f"load of {plan.object_type} stopped: {exc}", result) from exc


def _account_for_unsent(
    df: pd.DataFrame,
    key_column: str | None,
    result: LoadResult,
    pending: dict[str, PreparedInput],
    exc: Exception,
) -> None:
    """Give every row without an outcome a NOT_SENT failure, so no row goes unreported."""
    error = RowError(category=NOT_SENT, message=f"not sent: the load stopped ({type(exc).__name__}: {exc})")
    for item in pending.values():
        result.rows.append(
            RowOutcome(
                key=item.key, position=item.position, status=FAILED, error=error, trace_id=item.trace_id
            )
        )
    seen = {r.position for r in result.rows}
    keys = (
        format_series(df[key_column], column=key_column).values if key_column is not None else None
    )
    for position in range(len(df)):
        if position not in seen:
            key = (keys[position] if keys is not None else None) or str(position)
            result.rows.append(RowOutcome(key=key, position=position, status=FAILED, error=error))
