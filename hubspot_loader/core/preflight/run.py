"""Running preflight over a frame: configuration checks, the generated rules, and the row problems."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from hubspot_loader.core.model import AssociationColumn
from hubspot_loader.core.plan import check_column_names
from hubspot_loader.core.preflight.associations import association_preflight
from hubspot_loader.core.preflight.cells import FrameData
from hubspot_loader.core.preflight.codes import (
    COLUMN_NOT_IN_FRAME,
    DUPLICATE_MAPPING,
    DUPLICATE_UNIQUE_VALUE,
    PROPERTY_DOESNT_EXIST,
    READ_ONLY_VALUE,
    REQUIRED_PROPERTY,
    SCHEMA_ERROR,
)
from hubspot_loader.core.preflight.explain import Explainer, row_keys
from hubspot_loader.core.preflight.properties import PropertyDefinition, closest_properties, parse_definitions
from hubspot_loader.core.preflight.report import (
    BlockingProblem,
    PreflightReport,
    RowProblem,
    row_outcomes,
)
from hubspot_loader.core.preflight.rules import GeneratedRules, generated_rules
from hubspot_loader.core.preflight.unique import unique_conflicts
from hubspot_loader.core.preflight.user_schema import user_schema_problems

_LISTED_COLUMNS = 30
"""How many of the frame's columns a "not in the frame" message lists."""


def run_preflight(
    df: pd.DataFrame,
    *,
    object_type: str,
    definitions: Sequence[Mapping[str, Any]],
    mapping: Mapping[Any, str],
    key_column: Hashable | None = None,
    associations: Sequence[AssociationColumn] = (),
    labels: Mapping[str, Sequence[Mapping[str, Any]] | None] | None = None,
    id_maps: Mapping[str, Mapping[str, str]] | None = None,
    schema: pa.DataFrameSchema | type[pa.DataFrameModel] | None = None,
    naive_timezone: str = "UTC",
) -> PreflightReport:
    """Predict which rows of ``df`` HubSpot would reject, and what blocks the load as configured.

    Args:
        df: the rows to load. Its column names must be unique; they need not be strings.
        object_type: the object type (``contacts``, ``2-123``, ``p_vendor`` ...), used in messages and
            for the contact identity rule.
        definitions: the properties API ``results`` for ``object_type``.
        mapping: column → property for the columns the load sends (as settled by
            :func:`hubspot_loader.load.property_mapping`). A column is the frame's label (``0``) or its
            ``str`` (``"0"``); problems name it by its ``str``.
        key_column: the warehouse-key column (non-null, unique); without one a row's key is its position.
        associations: the load's association columns.
        labels: ``to_object_type`` (as written in the association column) → the labels API ``results``
            for ``object_type`` → that type, or ``None`` when the labels API did not know the type.
            Targets not in the mapping (or ``labels=None``) are checked only against HubSpot's default
            type ids.
        id_maps: named warehouse-key → HubSpot-id maps, for association columns with ``keys_from``.
        schema: the user's own schema, merged with the generated one (:func:`merge_schemas`); its
            failures are reported per row too, with the check's name as the code.
        naive_timezone: the zone naive datetimes are taken to be in (as for the load).

    Returns:
        the report; nothing is raised for predicted failures, whatever the cells hold.

    Raises:
        hubspot_loader.errors.DuplicateColumnsError: two columns of ``df`` have the same name (as text,
            as for :func:`~hubspot_loader.load.load_dataframe`); nothing was checked.

    """
    check_column_names(df)
    props = parse_definitions(definitions)
    frame = FrameData(df, naive_timezone)
    blocking, mapped = _mapping_problems(mapping, frame, props, object_type)
    key_label = frame.resolve(key_column) if key_column is not None else None
    if key_column is not None and key_label is None:
        message = f"key column {key_column!r} is not in the frame; it has {_names(df)}"
        blocking.append(BlockingProblem(COLUMN_NOT_IN_FRAME, message))

    rules = generated_rules(props, mapped, key_column=key_label, object_type=object_type)
    associated = _association_rules(object_type, associations, labels, id_maps, frame, rules, blocking)

    keys = row_keys(frame, key_label)
    explain = Explainer(frame, props, mapped, keys, associated, id_maps)
    checked = df
    problems: list[RowProblem] = []
    if schema is not None:
        user = schema.to_schema() if isinstance(schema, type) else schema
        names = [*mapped, *([key_label] if key_label is not None else []), *associated]
        generated = list(dict.fromkeys(frame.label(name) for name in names))
        rules = _without_user_columns(rules, user)
        checked, entries, failures = user_schema_problems(df, user, generated, key_label)
        blocking.extend(failures)
        for position, column, check, case in entries:
            name = frame.resolve(column) if column is not None else None
            problems.extend(explain.entry(position, name, check, case))
    problems.extend(_rule_problems(rules, frame, explain, blocking))
    problems.extend(_unique_problems(rules, frame, explain, problems))
    problems.sort(key=lambda p: (p.position, p.column is None, p.column or "", p.code))
    return PreflightReport(
        object_type=object_type,
        rows_total=len(df),
        blocking=blocking,
        problems=problems,
        rows=row_outcomes(problems, key_label),
        frame=checked if not problems and not blocking else df,
    )


def _association_rules(
    object_type: str,
    associations: Sequence[AssociationColumn],
    labels: Mapping[str, Sequence[Mapping[str, Any]] | None] | None,
    id_maps: Mapping[str, Mapping[str, str]] | None,
    frame: FrameData,
    rules: GeneratedRules,
    blocking: list[BlockingProblem],
) -> dict[str, AssociationColumn]:
    """Check the association columns; add their problems and rules; return the checked columns."""
    associated: dict[str, AssociationColumn] = {}
    for association in associations:
        column = frame.resolve(association.column)
        found, rule = association_preflight(object_type, association, labels, id_maps, column)
        blocking.extend(found)
        if rule is not None:
            rules.columns.append(rule)
            associated[rule.column] = association
    return associated


def _names(df: pd.DataFrame) -> str:
    """Return the frame's column names for a message (the first 30)."""
    names = ", ".join(repr(c) for c in df.columns[:_LISTED_COLUMNS])
    more = len(df.columns) - _LISTED_COLUMNS
    return names + (f" and {more} more" if more > 0 else "")


def _mapping_problems(
    mapping: Mapping[Any, str], frame: FrameData, props: Mapping[str, PropertyDefinition], object_type: str
) -> tuple[list[BlockingProblem], dict[str, str]]:
    """Check the column → property mapping; return its blocking problems and the usable mapping.

    The usable mapping names the columns as text (``0`` → ``"0"``).
    """
    blocking: list[BlockingProblem] = []
    mapped: dict[str, str] = {}
    seen: dict[str, str] = {}
    for column, prop_name in mapping.items():
        label = frame.resolve(column)
        name = str(column)
        if label is None:
            message = f"column {column!r} is not in the frame; it has {_names(frame.df)}"
            blocking.append(BlockingProblem(COLUMN_NOT_IN_FRAME, message, name, prop_name))
            continue
        if prop_name in seen:
            message = f"columns {seen[prop_name]!r} and {name!r} both map to property {prop_name!r}"
            blocking.append(BlockingProblem(DUPLICATE_MAPPING, message, name, prop_name))
            continue
        seen[prop_name] = name
        mapped[label] = prop_name
        blocking.extend(_property_problem(name, prop_name, props, object_type))
    return blocking, mapped


def _property_problem(
    column: str, prop_name: str, props: Mapping[str, PropertyDefinition], object_type: str
) -> list[BlockingProblem]:
    prop = props.get(prop_name)
    if prop is None:
        close = closest_properties(prop_name, props)
        hint = (
            f"closest existing properties: {', '.join(repr(c) for c in close)}"
            if close
            else "no existing property has a similar name"
        )
        message = (
            f"column {column!r} is mapped to property {prop_name!r}, which does not exist on "
            f"{object_type}; {hint}"
        )
        return [
            BlockingProblem(PROPERTY_DOESNT_EXIST, message, column, prop_name, tuple(close), per_row=True)
        ]
    if prop.read_only:
        message = (
            f"column {column!r} is mapped to property {prop_name!r}, which is read-only on {object_type} "
            "(calculated or set by HubSpot); its values cannot be set"
        )
        return [BlockingProblem(READ_ONLY_VALUE, message, column, prop_name, per_row=True)]
    return []


def _without_user_columns(rules: GeneratedRules, user: pa.DataFrameSchema) -> GeneratedRules:
    """Drop the generated rules the user's schema replaces (:func:`merge_schemas`: the user's column wins)."""
    mine = {str(name) for name in user.columns}
    taken = {check.name for check in user.checks}
    return GeneratedRules(
        columns=[rule for rule in rules.columns if rule.column not in mine],
        unique=[rule for rule in rules.unique if rule.column not in mine],
        identity=rules.identity if REQUIRED_PROPERTY not in taken else None,
    )


def _rule_problems(
    rules: GeneratedRules, frame: FrameData, explain: Explainer, blocking: list[BlockingProblem]
) -> list[RowProblem]:
    """Evaluate the generated rules over the frame; one problem per failing (row, rule)."""
    problems: list[RowProblem] = []
    for rule in rules.columns:
        try:
            bad = rule.bad(frame.column(rule.column))
        except Exception as exc:  # a rule that cannot run is reported, never raised
            message = f"column {rule.column!r}: check {rule.code} failed ({exc!r})"
            blocking.append(BlockingProblem(SCHEMA_ERROR, message, rule.column))
            continue
        for position in np.flatnonzero(bad).tolist():
            problems.extend(explain.entry(position, rule.column, rule.code))
    if rules.identity is not None:
        for position in np.flatnonzero(rules.identity.bad(frame.column, len(frame))).tolist():
            problems.extend(explain.entry(position, None, REQUIRED_PROPERTY))
    return problems


def _unique_problems(
    rules: GeneratedRules, frame: FrameData, explain: Explainer, found: list[RowProblem]
) -> list[RowProblem]:
    """Rows repeating a unique value that an earlier row HubSpot would accept keeps."""
    if not rules.unique:
        return []
    rejected = np.zeros(len(frame), dtype=bool)
    rejected[[p.position for p in found]] = True
    columns = [(rule.column, frame.column(rule.column).unique_values(rule.prop)) for rule in rules.unique]
    problems: list[RowProblem] = []
    for conflict in unique_conflicts(columns, rejected):
        problems.extend(
            explain.entry(conflict.position, conflict.column, DUPLICATE_UNIQUE_VALUE, keeper=conflict.keeper)
        )
    return problems
