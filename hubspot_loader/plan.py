"""What one load sends and how: column names, properties, associations, the rows as inputs.

The frame's column names, the column → property mapping, the settled association columns, and the
conversion of the rows into batch-create inputs.

Column names are compared as text: a frame may have non-``str`` column labels (``0``, ``1.5``, a tuple
of a ``MultiIndex``); each is addressed by ``str(label)`` in ``properties``, ``key_column`` and
:class:`~hubspot_loader.model.AssociationColumn` (``properties={0: "s0"}`` and ``{"0": "s0"}`` are the
same), and two labels with the same text (``0`` and ``"0"``) are refused as duplicates.

Usage errors (:class:`~hubspot_loader.errors.LoadUsageError` and its subclasses) are raised here, before
anything is sent. Pure apart from the labels lookup :func:`resolve_associations` makes through the
client it is given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from hubspot_loader.associations import resolve_association
from hubspot_loader.errors import DuplicateColumnsError, InvalidKeysError, LoadUsageError, MissingColumnsError
from hubspot_loader.formatting import format_series
from hubspot_loader.inputs import PreparedChunk, iter_prepared
from hubspot_loader.model import (
    FAILED,
    INVALID_VALUE,
    AssociationColumn,
    ResolvedAssociation,
    RowError,
    RowOutcome,
)

if TYPE_CHECKING:
    from hubspot_loader.client import HubSpotClient

CHUNK_ROWS = 2_000
"""Rows converted at a time (see :func:`hubspot_loader.inputs.iter_prepared`)."""

_LISTED = 20
"""Names shown in one message before "and N more"."""

PropertySpec = Sequence[str] | Mapping[str, str] | None
"""Which columns become HubSpot properties: a list of columns (same names), a column→property mapping,
or ``None`` for every column except the key and association columns."""


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
    """Settle which columns are sent as which HubSpot properties (column names as text).

    Raises:
        MissingColumnsError: a named column is not in the frame (the message lists the frame's columns).
        LoadUsageError: two columns map to the same property.

    """
    if properties is None:
        excluded = {_text(key_column), *(_text(a.column) for a in associations)}
        mapping = {str(c): str(c) for c in df.columns if str(c) not in excluded}
    elif isinstance(properties, Mapping):
        mapping = {str(c): str(p) for c, p in properties.items()}
    elif isinstance(properties, str):  # one column, not its characters
        mapping = {properties: properties}
    else:
        mapping = {str(c): str(c) for c in properties}
    check_columns(df, mapping, key_column=key_column, associations=associations)
    seen: dict[str, str] = {}
    for column, prop in mapping.items():
        if prop in seen:
            raise LoadUsageError(
                f"columns {seen[prop]!r} and {column!r} both map to property {prop!r}; send one of them"
            )
        seen[prop] = column
    return mapping


def _text(label: object) -> str | None:
    return None if label is None else str(label)


def check_column_names(df: pd.DataFrame) -> None:
    """Refuse a frame in which two columns have the same name (as text).

    Raises:
        DuplicateColumnsError: naming each repeated name and the positions of its columns.
        LoadUsageError: a column label that cannot be turned into text.

    """
    names = []
    for position, label in enumerate(df.columns):
        try:
            names.append(str(label))
        except Exception as exc:  # a label object whose str() raises: it has no name to address it by
            raise LoadUsageError(
                f"the column label at position {position} has no text name ({type(exc).__name__}: {exc}); "
                "give every column a str name"
            ) from exc
    if len(set(names)) == len(names):
        return
    where: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        where.setdefault(name, []).append(i)
    repeated = {name: spots for name, spots in where.items() if len(spots) > 1}
    shown = "; ".join(
        f"{name!r} at column positions {spots}" for name, spots in list(repeated.items())[:_LISTED]
    )
    more = f" and {len(repeated) - _LISTED} more" if len(repeated) > _LISTED else ""
    raise DuplicateColumnsError(
        f"the frame has {len(repeated)} column name(s) more than once (names compared as text): "
        f"{shown}{more}; rename or drop the repeated columns so that every column name is unique",
        list(repeated),
    )


def with_text_names(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with every column label as ``str`` (a shallow copy when one is not: no data copied)."""
    if not isinstance(df.columns, pd.MultiIndex) and all(type(c) is str for c in df.columns):
        return df
    out = df.copy(deep=False)
    out.columns = pd.Index([str(c) for c in df.columns], dtype=object)
    return out


def text_associations(associations: Sequence[AssociationColumn]) -> list[AssociationColumn]:
    """Return the association columns with their column names as text."""
    return [
        a if type(a.column) is str else dataclasses.replace(a, column=str(a.column)) for a in associations
    ]


def check_columns(
    df: pd.DataFrame,
    mapping: Mapping[str, str],
    *,
    key_column: str | None,
    associations: Sequence[AssociationColumn] = (),
) -> None:
    """Check that every column the load names is in the frame.

    Raises:
        MissingColumnsError: one line naming the missing columns, their role and the frame's columns.

    """
    present = {str(c) for c in df.columns}
    roles = [
        ("key column", [str(key_column)] if key_column is not None else []),
        ("property column", list(mapping)),
        ("association column", [str(a.column) for a in associations]),
    ]
    problems = []
    missing: list[str] = []
    for role, names in roles:
        absent = [n for n in dict.fromkeys(names) if n not in present]
        if absent:
            missing.extend(absent)
            listed = ", ".join(repr(n) for n in absent)
            problems.append(f"{role}{'s' if len(absent) > 1 else ''} {listed}")
    if not problems:
        return
    columns = [str(c) for c in df.columns]
    shown = ", ".join(repr(c) for c in columns[:_LISTED]) + (
        f" and {len(columns) - _LISTED} more" if len(columns) > _LISTED else ""
    )
    verb = "is" if len(missing) == 1 else "are"
    raise MissingColumnsError(
        f"{'; '.join(problems)} {verb} not in the frame; its columns are: {shown or '(none)'}",
        missing,
        columns,
    )


def resolve_associations(
    object_type: str,
    associations: Sequence[AssociationColumn],
    *,
    client: HubSpotClient | None,
    id_maps: Mapping[str, Mapping[str, str]] | None = None,
) -> list[ResolvedAssociation]:
    """Settle each association column's type id (looking labels up through ``client``) and id map.

    Raises:
        LoadUsageError: a label without a client, an id map that was not given, a pair without a
            default type, a label HubSpot does not have.
        HubSpotError: the labels lookup failed (the caller stops the load).

    """
    resolved = []
    for column in associations:
        labels = None
        if column.label is not None and column.type_id is None:
            if client is None:
                raise LoadUsageError(
                    f"association column {column.column!r} uses a label; a client is needed to look it up"
                )
            labels = client.association_labels(object_type, column.to_object_type)
        id_map = None
        if column.keys_from is not None:
            if id_maps is None or column.keys_from not in id_maps:
                raise LoadUsageError(
                    f"association column {column.column!r} takes warehouse keys from {column.keys_from!r}, "
                    f"but no id map with that name was given (have: {sorted(id_maps or {})})"
                )
            id_map = id_maps[column.keys_from]
        try:
            resolved.append(resolve_association(object_type, column, labels, id_map))
        except ValueError as exc:  # no default type for the pair, an unknown label ...
            raise LoadUsageError(str(exc)) from exc
    return resolved


def prepared_chunks(df: pd.DataFrame, plan: LoadPlan, naive_timezone: str) -> Iterator[PreparedChunk]:
    """Convert ``df`` lazily into batch-create inputs, :data:`CHUNK_ROWS` rows at a time.

    The keys are checked when this is called, before any chunk is produced. A row the converter cannot
    handle (an exception where a rejection was expected) is rejected on its own, with the column and
    the error, instead of stopping the load; so is a row whose key is not valid Unicode text.

    Raises:
        InvalidKeysError: null, duplicate or unformattable keys (the message names their positions).

    """
    try:
        chunks = _convert(df, plan, naive_timezone, 0, len(df))
    except ValueError as exc:  # the columns were checked: this is about the keys, and names them
        raise InvalidKeysError(str(exc)) from exc
    except Exception as exc:  # a key cell the formatter cannot even read
        raise InvalidKeysError(
            f"key column {plan.key_column!r}: the keys cannot be read ({type(exc).__name__}: {exc}); "
            "give it text or integer keys"
        ) from exc
    return _guarded(df, plan, naive_timezone, chunks)


def _convert(
    df: pd.DataFrame, plan: LoadPlan, naive_timezone: str, start: int, stop: int
) -> Iterator[PreparedChunk]:
    part = df if (start, stop) == (0, len(df)) else df.iloc[start:stop]
    return iter_prepared(
        part,
        properties=plan.properties,
        associations=plan.associations,
        key_column=plan.key_column,
        naive_timezone=naive_timezone,
        chunk_rows=CHUNK_ROWS,
        start_position=start,
    )


def _guarded(
    df: pd.DataFrame, plan: LoadPlan, naive_timezone: str, chunks: Iterator[PreparedChunk]
) -> Iterator[PreparedChunk]:
    """Yield the chunks of ``chunks``; convert a chunk that raises row by row, and go on chunk by chunk."""
    for offset in range(0, len(df), CHUNK_ROWS):
        stop = min(offset + CHUNK_ROWS, len(df))
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except Exception:  # a cell the converter did not expect: find its row, reject only that row
            chunk = _row_by_row(df, plan, naive_timezone, offset, stop)
            chunks = _one_by_one(df, plan, naive_timezone, stop)  # the old generator is finished
        yield _checked_keys(chunk, plan)


def _one_by_one(df: pd.DataFrame, plan: LoadPlan, naive_timezone: str, start: int) -> Iterator[PreparedChunk]:
    """Convert each chunk from ``start`` on by itself (the keys were checked for the whole frame)."""
    for offset in range(start, len(df), CHUNK_ROWS):
        yield from _convert(df, plan, naive_timezone, offset, min(offset + CHUNK_ROWS, len(df)))


def _row_by_row(
    df: pd.DataFrame, plan: LoadPlan, naive_timezone: str, start: int, stop: int
) -> PreparedChunk:
    out = PreparedChunk()
    for position in range(start, stop):
        try:
            [chunk] = list(_convert(df, plan, naive_timezone, position, position + 1))
        except Exception as exc:  # this row's own problem: reported for it, with its column
            out.rejected.append(_crashed(df, plan, naive_timezone, position, exc))
            continue
        out.inputs.extend(chunk.inputs)
        out.rejected.extend(chunk.rejected)
    return out


def _crashed(
    df: pd.DataFrame, plan: LoadPlan, naive_timezone: str, position: int, exc: Exception
) -> RowOutcome:
    """Return the rejection of the row at ``position``, naming the first column that fails to convert."""
    row = df.iloc[position : position + 1]
    column = None
    for name, prop in plan.properties.items():
        if _raises(row, {name: prop}, (), naive_timezone):
            column = name
            break
    else:
        column = next((a.column for a in plan.associations if _raises(row, {}, (a,), naive_timezone)), None)
    key = _row_key(row, plan.key_column, naive_timezone) or str(position)
    reason = f"{type(exc).__name__}: {exc}"
    if len(reason) > 500:
        reason = reason[:500] + " ..."
    where = f"column {column!r}: " if column is not None else ""
    return RowOutcome(
        key=key,
        position=position,
        status=FAILED,
        error=RowError(INVALID_VALUE, f"{where}cannot be converted ({reason})", property=column),
        trace_id=key if plan.key_column is not None else f"row-{position}",
    )


def _raises(
    row: pd.DataFrame, properties: Mapping[str, str], associations: Sequence[ResolvedAssociation], tz: str
) -> bool:
    try:
        list(iter_prepared(row, properties=properties, associations=associations, naive_timezone=tz))
    except Exception:  # only whether this column's conversion raises matters here
        return True
    return False


def _row_key(row: pd.DataFrame, key_column: str | None, naive_timezone: str) -> str | None:
    if key_column is None:
        return None
    return format_series(row[key_column], column=key_column, naive_timezone=naive_timezone).values[0]


def _checked_keys(chunk: PreparedChunk, plan: LoadPlan) -> PreparedChunk:
    """Reject the rows whose key is not encodable as UTF-8 (a lone surrogate): no JSON can carry it."""
    if plan.key_column is None or encodable("".join(item.key for item in chunk.inputs)):
        return chunk
    kept = []
    for item in chunk.inputs:
        if encodable(item.key):
            kept.append(item)
            continue
        message = (
            f"column {plan.key_column!r}: the key {item.key!r} is not valid Unicode text (a lone surrogate); "
            "HubSpot's JSON cannot carry it"
        )
        chunk.rejected.append(
            RowOutcome(
                key=item.key,
                position=item.position,
                status=FAILED,
                error=RowError(INVALID_VALUE, message, property=plan.key_column),
                trace_id=item.trace_id,
            )
        )
    chunk.inputs = kept
    return chunk


def encodable(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (no lone surrogate), as JSON, HubSpot and the ledger need."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
