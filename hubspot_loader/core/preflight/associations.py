"""Association preflight: known target types, type ids and labels, and resolvable warehouse keys."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hubspot_loader.core.associations import (
    DEFAULT_ASSOCIATION_TYPES,
    UnknownAssociationError,
    default_association_type,
)
from hubspot_loader.core.formatting import format_series
from hubspot_loader.core.model import AssociationColumn
from hubspot_loader.core.preflight.cells import ColumnData, positional
from hubspot_loader.core.preflight.codes import (
    COLUMN_NOT_IN_FRAME,
    MISSING_ID_MAP,
    UNKNOWN_ASSOCIATION_LABEL,
    UNKNOWN_ASSOCIATION_TYPE,
    UNKNOWN_OBJECT_TYPE,
    UNRESOLVED_ASSOCIATION,
)
from hubspot_loader.core.preflight.report import BlockingProblem
from hubspot_loader.core.preflight.rules import ColumnRule


def association_preflight(
    object_type: str,
    association: AssociationColumn,
    labels: Mapping[str, Sequence[Mapping[str, Any]] | None] | None,
    id_maps: Mapping[str, Mapping[str, str]] | None,
    label: str | None,
) -> tuple[list[BlockingProblem], ColumnRule | None]:
    """Check one association column's configuration; return its problems and its per-row key rule.

    ``label`` is the association column's name in the frame, as text (``None``: the frame has no such
    column).
    """
    column, target = association.column, association.to_object_type
    where = f"association column {column!r} ({object_type} → {target})"
    if label is None:
        return [BlockingProblem(COLUMN_NOT_IN_FRAME, f"{where}: column is not in the frame", column)], None
    problems = []
    known = labels.get(target, ()) if labels is not None and target in labels else ()
    if labels is not None and target in labels and labels[target] is None:
        names = sorted(
            {name for pair in DEFAULT_ASSOCIATION_TYPES for name in pair} | (set(labels) - {target})
        )
        close = difflib.get_close_matches(target.lower(), names, n=3, cutoff=0.6)
        hint = f"; closest known types: {', '.join(repr(c) for c in close)}" if close else ""
        message = f"{where}: HubSpot does not know the object type {target!r}{hint}"
        problems.append(BlockingProblem(UNKNOWN_OBJECT_TYPE, message, column, suggestions=tuple(close)))
    elif labels is not None and target in labels:
        problems.extend(_type_problems(object_type, association, list(known or ()), where))
    elif association.type_id is None and association.label is None:
        try:
            default_association_type(object_type, target)
        except UnknownAssociationError as exc:
            problems.append(BlockingProblem(UNKNOWN_ASSOCIATION_TYPE, f"{where}: {exc}", column))
    rule = None
    if association.keys_from is not None:
        id_map = (id_maps or {}).get(association.keys_from)
        if id_map is None:
            message = (
                f"{where}: takes warehouse keys from {association.keys_from!r}, but no id map with that "
                f"name was given (have: {sorted(id_maps or {})})"
            )
            problems.append(BlockingProblem(MISSING_ID_MAP, message, column))
        else:
            rule = _unresolved_rule(label, target, id_map)
    return problems, rule


def _type_problems(
    object_type: str, association: AssociationColumn, known: list[Mapping[str, Any]], where: str
) -> list[BlockingProblem]:
    column = association.column
    available = ", ".join(
        f"{e.get('typeId')} ({e.get('label') or 'unlabeled'}, {e.get('category')})" for e in known
    )
    available = available or "none"
    type_ids = {int(e["typeId"]) for e in known if e.get("typeId") is not None}
    if association.type_id is not None:
        if int(association.type_id) not in type_ids:
            message = (
                f"{where}: association type id {association.type_id} is not defined; available: {available}"
            )
            return [BlockingProblem(UNKNOWN_ASSOCIATION_TYPE, message, column)]
        return []
    if association.label is not None:
        wanted = association.label.strip().casefold()
        names = [str(e["label"]) for e in known if e.get("label")]
        if any(n.strip().casefold() == wanted for n in names):
            return []
        close = difflib.get_close_matches(association.label, names, n=3, cutoff=0.5)
        hint = f"closest labels: {', '.join(repr(c) for c in close)}; " if close else ""
        message = f"{where}: label {association.label!r} is not defined; {hint}available: {available}"
        return [BlockingProblem(UNKNOWN_ASSOCIATION_LABEL, message, column, suggestions=tuple(close))]
    try:
        default = default_association_type(object_type, association.to_object_type)
    except UnknownAssociationError:
        message = f"{where}: no default association type; give a type_id or a label (available: {available})"
        return [BlockingProblem(UNKNOWN_ASSOCIATION_TYPE, message, column)]
    if default not in type_ids:
        message = f"{where}: the default type id {default} is not defined here; available: {available}"
        return [BlockingProblem(UNKNOWN_ASSOCIATION_TYPE, message, column)]
    return []


def association_targets(data: ColumnData) -> pd.Series:
    """Each row's association targets as wire strings, one per line (index = row position)."""
    exploded = positional(data.series).explode()
    formatted = format_series(
        exploded.reset_index(drop=True), column=data.column, naive_timezone=data.naive_timezone
    )
    texts = pd.Series(formatted.values, index=exploded.index, dtype=object)
    for error in formatted.errors:
        texts.iloc[error.position] = f"<{error.reason}>"
    return texts[texts.notna() & (texts != "")]


def _unresolved_rule(column: str, target: str, id_map: Mapping[str, str]) -> ColumnRule:
    known = pd.Index(list(id_map), dtype=object)

    def unresolved(data: ColumnData) -> np.ndarray:
        targets = association_targets(data)
        missing = targets[~targets.isin(known)]
        bad = np.zeros(len(data), dtype=bool)
        bad[np.unique(missing.index.to_numpy(dtype=np.int64))] = True
        return bad

    description = f"column {column!r}: every warehouse key of a {target} is loaded"
    return ColumnRule(column, UNRESOLVED_ASSOCIATION, description, unresolved)
