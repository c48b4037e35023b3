"""What one load sends and how: column names, properties, associations, the rows as inputs.

The frame's column names, the column → property mapping, the settled association columns, and the
conversion of the rows into batch-create inputs.

Column names are compared as text: a frame may have non-``str`` column labels (``0``, ``1.5``, a tuple
of a ``MultiIndex``); each is addressed by ``str(label)`` in ``properties``, ``key_column`` and
:class:`~hubspot_loader.core.model.AssociationColumn` (``properties={0: "s0"}`` and ``{"0": "s0"}`` are the
same), and two labels with the same text (``0`` and ``"0"``) are refused as duplicates.

Usage errors (:class:`~hubspot_loader.errors.LoadUsageError` and its subclasses) are raised here, before
anything is sent. Pure: the association labels are read by the caller (:func:`labels_to_read` says
which) and handed to :func:`resolve_associations`.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from hubspot_loader.core.associations import resolve_association
from hubspot_loader.core.formatting import encodable
from hubspot_loader.core.inputs import (
    PreparedChunk,
    RowKeys,
    check_unique_properties,
    iter_prepared,
    row_keys,
)
from hubspot_loader.core.model import AssociationColumn, ResolvedAssociation
from hubspot_loader.errors import DuplicateColumnsError, InvalidKeysError, LoadUsageError, MissingColumnsError

CHUNK_ROWS = 2_000
"""Rows converted at a time (see :func:`hubspot_loader.core.inputs.iter_prepared`)."""

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
        LoadUsageError: two columns map to the same property; a property name that is not valid Unicode
            text (a lone surrogate: no JSON can carry it).

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
    check_unique_properties(mapping)
    if not encodable("".join(mapping.values())):
        column, prop = next((c, p) for c, p in mapping.items() if not encodable(p))
        raise LoadUsageError(
            f"column {column!r} maps to property {prop!r}, whose name is not valid Unicode text (a lone "
            "surrogate); no request can carry it: fix the property name"
        )
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
        f"{'; '.join(problems)} {verb} not in the frame; its columns are: {shown or '(none)'}"
        + _suggestions(missing, columns),
        missing,
        columns,
    )


def closest_column(name: str, columns: Sequence[str]) -> str | None:
    """Return the column whose name is closest to ``name`` (a likely typo), if one is close enough."""
    close = difflib.get_close_matches(name, list(columns), n=1, cutoff=0.6)
    return close[0] if close else None


def _suggestions(missing: Sequence[str], columns: Sequence[str]) -> str:
    """`` (did you mean 'mail'?)`` for the missing names that have a close column; ``""`` when none has."""
    close = {name: closest_column(name, columns) for name in missing}
    found = {name: column for name, column in close.items() if column is not None}
    if not found:
        return ""
    if len(missing) == 1:
        return f" (did you mean {next(iter(found.values()))!r}?)"
    listed = ", ".join(f"{column!r} for {name!r}" for name, column in list(found.items())[:_LISTED])
    return f" (did you mean {listed}?)"


def labels_to_read(associations: Sequence[AssociationColumn]) -> list[str]:
    """Return the target object types whose association labels :func:`resolve_associations` needs.

    Those of the columns that name a ``label`` and no ``type_id``, each once.
    """
    return list(
        dict.fromkeys(a.to_object_type for a in associations if a.label is not None and a.type_id is None)
    )


def resolve_associations(
    object_type: str,
    associations: Sequence[AssociationColumn],
    *,
    labels: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    id_maps: Mapping[str, Mapping[str, str]] | None = None,
) -> list[ResolvedAssociation]:
    """Settle each association column's type id and id map.

    Args:
        object_type: the object type the rows are created as.
        associations: the association columns.
        labels: target object type → HubSpot's labels from ``object_type`` to it (the ``results`` of
            :meth:`~hubspot_loader.http.client.HubSpotClient.association_labels`), for every type
            :func:`labels_to_read` names.
        id_maps: named warehouse-key → HubSpot-id maps, for columns with ``keys_from``.

    Raises:
        LoadUsageError: a label whose labels were not given (no client to read them), an id map that was
            not given or holds an id that is not valid Unicode text, a pair without a default type, a
            label HubSpot does not have.

    """
    resolved = []
    checked: set[str] = set()
    for column in associations:
        column_labels = None
        if column.label is not None and column.type_id is None:
            if labels is None or column.to_object_type not in labels:
                raise LoadUsageError(
                    f"association column {column.column!r} uses a label; a client is needed to look it up"
                )
            column_labels = labels[column.to_object_type]
        id_map = None
        if column.keys_from is not None:
            if id_maps is None or column.keys_from not in id_maps:
                raise LoadUsageError(
                    f"association column {column.column!r} takes warehouse keys from {column.keys_from!r}, "
                    f"but no id map with that name was given (have: {sorted(id_maps or {})})"
                )
            id_map = id_maps[column.keys_from]
            if column.keys_from not in checked:
                _check_ids(column.keys_from, id_map)
                checked.add(column.keys_from)
        try:
            resolved.append(resolve_association(object_type, column, column_labels, id_map))
        except ValueError as exc:  # no default type for the pair, an unknown label ...
            raise LoadUsageError(str(exc)) from exc
    return resolved


def _check_ids(name: str, id_map: Mapping[str, str]) -> None:
    """Refuse an id map holding an id that cannot be sent as a target id (not text, or a lone surrogate)."""
    values = list(id_map.values())
    if set(map(type, values)) <= {str} and encodable("".join(values)):  # the usual case: C-level passes
        return
    bad = [key for key, value in id_map.items() if not _sendable_id(value)]
    if not bad:
        return
    shown = ", ".join(repr(k) for k in bad[:_LISTED]) + (
        f" and {len(bad) - _LISTED} more" if len(bad) > _LISTED else ""
    )
    raise LoadUsageError(
        f"id map {name!r}: the HubSpot id of key(s) {shown} is not valid text (a str or int, without lone "
        "surrogates); no request can carry it: fix the id map"
    )


def _sendable_id(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    return encodable(str(value))


def checked_keys(df: pd.DataFrame, key_column: str | None, naive_timezone: str) -> RowKeys | None:
    """Format and check the key column once; hand the result to :func:`prepared_chunks` (``None``: no key).

    Raises:
        InvalidKeysError: null, duplicate or unformattable keys (the message names their positions).

    """
    if key_column is None:
        return None
    try:
        return row_keys(df, key_column, naive_timezone)
    except ValueError as exc:  # the columns were checked: this is about the keys, and names them
        raise InvalidKeysError(str(exc)) from exc


def prepared_chunks(
    df: pd.DataFrame, plan: LoadPlan, naive_timezone: str, keys: RowKeys | None = None
) -> Iterator[PreparedChunk]:
    """Convert ``df`` lazily into batch-create inputs, :data:`CHUNK_ROWS` rows at a time.

    ``keys`` are the rows' keys as :func:`checked_keys` returned them; when ``None`` they are checked
    here, when this is called, before any chunk is produced. A cell that cannot be sent (whatever it
    holds) rejects its row with the column and the reason (:mod:`hubspot_loader.core.inputs`).

    Raises:
        InvalidKeysError: null, duplicate or unformattable keys (the message names their positions).

    """
    if keys is None:
        keys = checked_keys(df, plan.key_column, naive_timezone)
    return iter_prepared(
        df,
        properties=plan.properties,
        associations=plan.associations,
        key_column=plan.key_column,
        naive_timezone=naive_timezone,
        chunk_rows=CHUNK_ROWS,
        keys=keys,
    )
