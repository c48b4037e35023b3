"""Preflight in phases: every check the definitions allow, what to read from HubSpot, and the report.

:func:`~hubspot_loader.core.preflight.run_preflight` runs the phases at once, without reads (offline).
Online preflight (:mod:`hubspot_loader.preflight_step`) builds :class:`PreflightChecks` (every check the
definitions allow), asks :meth:`PreflightChecks.lookups` which unique values and record ids to read, reads
them, and calls :meth:`PreflightChecks.report` with what HubSpot holds
(:class:`~hubspot_loader.core.preflight.existing.ExistingRecords`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from hubspot_loader.core.associations import normalize_object_type
from hubspot_loader.core.model import AssociationColumn
from hubspot_loader.core.plan import check_column_names
from hubspot_loader.core.preflight.associations import association_preflight, association_targets
from hubspot_loader.core.preflight.cells import FrameData
from hubspot_loader.core.preflight.codes import (
    COLUMN_NOT_IN_FRAME,
    DUPLICATE_UNIQUE_VALUE,
    REQUIRED_PROPERTY,
    SCHEMA_ERROR,
)
from hubspot_loader.core.preflight.existing import (
    ExistingRecords,
    LookupPlan,
    canonical_id,
    distinct,
    holder_ids,
    known_targets,
    missing_targets,
    own_rows,
)
from hubspot_loader.core.preflight.explain import Explainer, row_keys
from hubspot_loader.core.preflight.mapping import frame_names, mapping_problems
from hubspot_loader.core.preflight.properties import parse_definitions
from hubspot_loader.core.preflight.report import BlockingProblem, PreflightReport, RowProblem, row_outcomes
from hubspot_loader.core.preflight.rules import GeneratedRules, generated_rules
from hubspot_loader.core.preflight.unique import unique_conflicts
from hubspot_loader.core.preflight.user_schema import user_schema_problems


@dataclass(frozen=True)
class PreflightRequest:
    """What preflight checks: the frame and the load's settings (see :func:`run_preflight`'s arguments)."""

    df: pd.DataFrame
    object_type: str
    definitions: Sequence[Mapping[str, Any]]
    mapping: Mapping[Any, str]
    key_column: Hashable | None = None
    associations: Sequence[AssociationColumn] = ()
    labels: Mapping[str, Sequence[Mapping[str, Any]] | None] | None = None
    id_maps: Mapping[str, Mapping[str, str]] | None = None
    schema: pa.DataFrameSchema | type[pa.DataFrameModel] | None = None
    naive_timezone: str = "UTC"


class PreflightChecks:
    """One frame checked against HubSpot's definitions, ready to be checked against its records.

    Building it runs every check the definitions allow (the user's schema included); nothing is raised
    for a cell.

    Raises:
        hubspot_loader.errors.DuplicateColumnsError: two columns of the frame have the same name as text.

    """

    def __init__(self, request: PreflightRequest) -> None:
        df = request.df
        check_column_names(df)
        self.request = request
        self.props = parse_definitions(request.definitions)
        self.frame = FrameData(df, request.naive_timezone)
        self.blocking, self.mapped = mapping_problems(
            request.mapping, self.frame, self.props, request.object_type
        )
        key_column = request.key_column
        self.key_label = self.frame.resolve(key_column) if key_column is not None else None
        if key_column is not None and self.key_label is None:
            message = f"key column {key_column!r} is not in the frame; it has {frame_names(df)}"
            self.blocking.append(BlockingProblem(COLUMN_NOT_IN_FRAME, message))
        rules = generated_rules(
            self.props, self.mapped, key_column=self.key_label, object_type=request.object_type
        )
        self.associated = self._association_rules(rules)
        self.keys = row_keys(self.frame, self.key_label)
        self.explain = Explainer(
            self.frame, self.props, self.mapped, self.keys, self.associated, request.id_maps
        )
        self.checked = df
        self._problems: list[RowProblem] = []
        if request.schema is not None:
            rules = self._user_schema(rules, request.schema)
        self._problems.extend(_rule_problems(rules, self.frame, self.explain, self.blocking))
        self.rules = rules
        # the rows the definitions (and the user's schema) already reject
        self.rejected = np.zeros(len(df), dtype=bool)
        self.rejected[[p.position for p in self._problems]] = True
        self._targets: dict[str, pd.Series] = {}

    def _association_rules(self, rules: GeneratedRules) -> dict[str, AssociationColumn]:
        """Check the association columns; add their problems and rules; return the checked columns."""
        request = self.request
        associated: dict[str, AssociationColumn] = {}
        for association in request.associations:
            column = self.frame.resolve(association.column)
            found, rule = association_preflight(
                request.object_type, association, request.labels, request.id_maps, column
            )
            self.blocking.extend(found)
            if rule is not None:
                rules.columns.append(rule)
                associated[rule.column] = association
        return associated

    def _user_schema(
        self, rules: GeneratedRules, schema: pa.DataFrameSchema | type[pa.DataFrameModel]
    ) -> GeneratedRules:
        """Run the user's schema; record its problems; return the generated rules it does not replace."""
        user = schema.to_schema() if isinstance(schema, type) else schema
        names = [*self.mapped, *([self.key_label] if self.key_label is not None else []), *self.associated]
        generated = list(dict.fromkeys(self.frame.label(name) for name in names))
        self.checked, entries, failures = user_schema_problems(
            self.request.df, user, generated, self.key_label
        )
        self.blocking.extend(failures)
        for position, column, check, case in entries:
            name = self.frame.resolve(column) if column is not None else None
            self._problems.extend(self.explain.entry(position, name, check, case))
        return _without_user_columns(rules, user)

    # ---------------------------------------------------------------- what to read

    def _record_id_columns(self) -> list[tuple[str, str]]:
        """Return (column, target type) of the association columns holding record ids (no ``keys_from``)."""
        out = []
        for association in self.request.associations:
            column = self.frame.resolve(association.column)
            if association.keys_from is None and column is not None:
                out.append((column, normalize_object_type(association.to_object_type)))
        return out

    def _targets_of(self, column: str) -> pd.Series:
        """Return the record ids a column points at, one per line (index: row position), readable ones."""
        if column not in self._targets:
            texts = association_targets(self.frame.column(column))
            self._targets[column] = texts[~texts.str.startswith("<")]
        return self._targets[column]

    def _candidates(self, skipped: Collection[str]) -> np.ndarray:
        rows = ~self.rejected
        if skipped:
            rows &= ~pd.Series(self.keys, dtype=object).isin(set(skipped)).to_numpy(dtype=bool)
        return rows

    def lookup_keys(self) -> list[str]:
        """Keys of the rows that send a unique value or point at a record id and pass the offline checks."""
        rows = np.zeros(len(self.frame), dtype=bool)
        for rule in self.rules.unique:
            rows |= pd.notna(self.frame.column(rule.column).unique_values(rule.prop))
        for column, _target in self._record_id_columns():
            rows[np.unique(self._targets_of(column).index.to_numpy(dtype=np.int64))] = True
        return [self.keys[i] for i in np.flatnonzero(rows & ~self.rejected).tolist()]

    def lookups(self, skipped: Collection[str] = ()) -> LookupPlan:
        """Say what to read before the load: the distinct unique values and target record ids rows send.

        Rows the definitions reject and the keys in ``skipped`` (rows the load will not send) are left out;
        so are ids the id maps of this run hold for the same target type (they exist).
        """
        rows = self._candidates(skipped)
        plan = LookupPlan(self.request.object_type)
        contributing = np.zeros(len(rows), dtype=bool)
        for rule in self.rules.unique:
            values = self.frame.column(rule.column).unique_values(rule.prop)
            present = rows & pd.notna(values)
            contributing |= present
            plan.values.setdefault(rule.prop.name, []).extend(distinct(values[present].tolist()))
        known = known_targets(self.request.associations, self.request.id_maps)
        for column, target in self._record_id_columns():
            targets = self._targets_of(column)
            positions = targets.index.to_numpy(dtype=np.int64)
            sent = targets[rows[positions]]
            contributing[positions[rows[positions]]] = True
            ids = [canonical_id(t) for t in distinct(sent.tolist())]
            plan.targets.setdefault(target, []).extend(i for i in ids if i not in known.get(target, ()))
        plan.values = {p: distinct(v) for p, v in plan.values.items()}
        plan.targets = {t: distinct(v) for t, v in plan.targets.items()}
        plan.rows = int(contributing.sum())
        return plan

    def unchecked_rows(self, existing: ExistingRecords, skipped: Collection[str] = ()) -> int:
        """Count the rows to send with a unique value or a target id whose answer ``existing`` lacks."""
        rows = self._candidates(skipped)
        unchecked = np.zeros(len(rows), dtype=bool)
        for rule in self.rules.unique:
            values = self.frame.column(rule.column).unique_values(rule.prop)
            asked = pd.Series(values, dtype=object)
            known = list(existing.values_checked.get(rule.prop.name, ()))
            unchecked |= (asked.notna() & ~asked.isin(pd.Index(known, dtype=object))).to_numpy(dtype=bool)
        id_known = known_targets(self.request.associations, self.request.id_maps)
        for column, target in self._record_id_columns():
            targets = self._targets_of(column).map(canonical_id)
            known = [*existing.targets_checked.get(target, ()), *id_known.get(target, ())]
            lacking = targets[~targets.isin(pd.Index(known, dtype=object))]
            unchecked[np.unique(lacking.index.to_numpy(dtype=np.int64))] = True
        return int((unchecked & rows).sum())

    # ---------------------------------------------------------------- the report

    def report(self, existing: ExistingRecords | None = None) -> PreflightReport:
        """Return the report; with ``existing``, also the rows HubSpot's records make it reject."""
        problems = list(self._problems)
        skip = self.rejected.copy()
        frame = self.frame
        unique = [(rule, frame.column(rule.column).unique_values(rule.prop)) for rule in self.rules.unique]
        holders: list[np.ndarray] | None = None
        held_back: np.ndarray | None = None
        missing: dict[tuple[str, str], dict[int, list[str]]] = {}
        if existing is not None:
            skip |= own_rows(self.keys, [(rule.prop, values) for rule, values in unique], existing)
            holders = [holder_ids(values, existing.values.get(rule.prop.name, {})) for rule, values in unique]
            held_back = np.zeros(len(skip), dtype=bool)
            for column, target in self._record_id_columns():
                found = missing_targets(self._targets_of(column), target, existing)
                missing[(column, target)] = found
                held_back[list(found)] = True
        columns = [(rule.column, values) for rule, values in unique]
        conflicts = unique_conflicts(columns, skip, holders=holders, held_back=held_back) if unique else []
        object_type = self.request.object_type
        for conflict in conflicts:
            if conflict.existing_id is not None:
                position, column = conflict.position, conflict.column
                problems.append(self.explain.conflict(position, column, conflict.existing_id, object_type))
            else:
                problems.extend(
                    self.explain.entry(
                        conflict.position, conflict.column, DUPLICATE_UNIQUE_VALUE, keeper=conflict.keeper
                    )
                )
        refused = {c.position for c in conflicts}  # HubSpot checks unique values before associations
        for (column, target), rows in missing.items():
            for position, ids in rows.items():
                if not skip[position] and position not in refused:
                    problems.append(self.explain.invalid_targets(position, column, target, ids))
        problems.sort(key=lambda p: (p.position, p.column is None, p.column or "", p.code))
        return PreflightReport(
            object_type=object_type,
            rows_total=len(self.frame),
            blocking=self.blocking,
            problems=problems,
            rows=row_outcomes(problems, self.key_label),
            frame=self.checked if not problems and not self.blocking else self.request.df,
            online=existing is not None,
        )


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
