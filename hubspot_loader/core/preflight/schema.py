"""The pandera schema generated from HubSpot's property definitions, and merging it with the user's."""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
import pandera.pandas as pa

from hubspot_loader.core.preflight.cells import ColumnData, duplicated_values
from hubspot_loader.core.preflight.codes import DUPLICATE_UNIQUE_VALUE, REQUIRED_PROPERTY
from hubspot_loader.core.preflight.properties import parse_definitions
from hubspot_loader.core.preflight.rules import (
    IDENTITY_DESCRIPTION,
    ColumnRule,
    GeneratedRules,
    IdentityRule,
    generated_rules,
)


def series_check(name: str, test: Callable[[pd.Series], np.ndarray], description: str) -> pa.Check:
    """Build a pandera column check from a vectorized "bad cell" test (nulls are seen, not dropped)."""

    def check(series: pd.Series) -> pd.Series:
        return pd.Series(~test(series), index=series.index)

    return pa.Check(check, name=name, ignore_na=False, description=description)


def _rule_check(rule: ColumnRule, naive_timezone: str) -> pa.Check:
    return series_check(rule.code, lambda s: rule.bad(ColumnData(s, naive_timezone)), rule.description)


def _identity_check(rule: IdentityRule, labels: Mapping[str, Any], naive_timezone: str) -> pa.Check:
    def check(df: pd.DataFrame) -> pd.Series:
        passed = ~rule.bad(lambda column: ColumnData(df[labels[column]], naive_timezone), len(df))
        return pd.Series(passed, index=df.index)

    return pa.Check(check, name=REQUIRED_PROPERTY, ignore_na=False, description=IDENTITY_DESCRIPTION)


def _schema(
    rules: GeneratedRules, labels: Mapping[str, Any], naive_timezone: str, name: str
) -> pa.DataFrameSchema:
    """Return the rules as a pandera schema (``labels``: each rule's column, as text → its label)."""
    checks: dict[Hashable, list[pa.Check]] = {}
    for rule in rules.columns:
        checks.setdefault(labels[rule.column], []).append(_rule_check(rule, naive_timezone))
    for unique in rules.unique:
        prop = unique.prop
        test = lambda s, prop=prop: duplicated_values(s, prop, naive_timezone)  # noqa: E731
        checks.setdefault(labels[unique.column], []).append(
            series_check(DUPLICATE_UNIQUE_VALUE, test, unique.description)
        )
    columns = {
        c: pa.Column(None, cs, nullable=True, required=True, name=cast(Any, c)) for c, cs in checks.items()
    }
    identity = [_identity_check(rules.identity, labels, naive_timezone)] if rules.identity else []
    return pa.DataFrameSchema(
        columns,
        checks=identity,
        strict=False,
        name=name,
        description="Generated from HubSpot's property definitions: values HubSpot would accept.",
    )


def schema_from_properties(
    definitions: Sequence[Mapping[str, Any]],
    mapping: Mapping[Any, str],
    *,
    key_column: Hashable | None = None,
    object_type: str | None = None,
    naive_timezone: str = "UTC",
) -> pa.DataFrameSchema:
    """Generate a pandera schema for the columns a load will send, from HubSpot's property definitions.

    Args:
        definitions: the ``results`` of the properties API for the object type (archived ones ignored).
        mapping: column → HubSpot property name, for the columns the load sends.
        key_column: the warehouse-key column; checked non-null and unique (check ``INVALID_KEY``).
        object_type: the object type; for contacts, rows need one of email, firstname, lastname.
        naive_timezone: the zone naive datetimes are wall-clock times in (as for the load), which
            decides whether a naive datetime is at midnight UTC for a ``date`` property.

    Returns:
        a non-strict schema with one required, nullable column per mapped column. Checks are named by
        HubSpot's codes (``PROPERTY_DOESNT_EXIST``, ``READ_ONLY_VALUE``, ``DUPLICATE_UNIQUE_VALUE``,
        ``INVALID_KEY``, ``REQUIRED_PROPERTY``) except the value check :data:`VALUE_CHECK`, whose
        failures :func:`run_preflight` explains with the precise code per cell. The
        ``DUPLICATE_UNIQUE_VALUE`` check sees one column: it flags every row after the first with a
        value, where :func:`run_preflight` lets the first row HubSpot would accept keep it.

    """
    rules = generated_rules(
        parse_definitions(definitions), mapping, key_column=key_column, object_type=object_type
    )
    labels = {str(column): column for column in [*mapping, *([key_column] if key_column is not None else [])]}
    name = f"hubspot_{object_type}_preflight" if object_type else "hubspot_preflight"
    return _schema(rules, labels, naive_timezone, name)


def merge_schemas(
    generated: pa.DataFrameSchema,
    user_schema: pa.DataFrameSchema | type[pa.DataFrameModel],
    *,
    keep_generated_checks: bool = False,
) -> pa.DataFrameSchema:
    """Combine a generated schema with the user's own; the user's wins where both speak about a column.

    A column both define takes the user's definition whole (dtype, coercion, nullability, checks),
    so a user can relax a rule (e.g. accept custom lifecycle stages) by declaring the column. With
    ``keep_generated_checks=True`` the generated checks whose names the user's column does not use are
    kept after the user's. Columns only one side defines are kept; frame-wide checks of both are kept
    (the user's replace generated ones of the same name); schema-level settings (strict, coerce, index,
    unique ...) are the user's.
    """
    user = user_schema.to_schema() if isinstance(user_schema, type) else user_schema
    columns: dict[Hashable, Any] = {}
    for name, column in generated.columns.items():
        mine = user.columns.get(name)
        if mine is None:
            columns[name] = column
            continue
        if keep_generated_checks:
            taken = {c.name for c in mine.checks}
            mine = mine.set_checks([*mine.checks, *(c for c in column.checks if c.name not in taken)])
        columns[name] = mine
    for name, column in user.columns.items():
        columns.setdefault(name, column)
    taken = {c.name for c in user.checks}
    merged = copy.copy(user)
    merged.columns = columns
    merged.checks = [*(c for c in generated.checks if c.name not in taken), *user.checks]
    return merged
