"""Preflight: predict, before anything is sent, which rows HubSpot will reject and why.

Everything here is pure (no I/O). The caller fetches HubSpot's own definitions once per run and passes
them in:

- ``definitions``: the ``results`` of ``GET /crm/{v3|2026-03}/properties/{objectType}``
  (:meth:`hubspot_loader.client.HubSpotClient.properties`), standard and custom objects alike;
- ``labels``: per association target, the ``results`` of the labels API
  (:meth:`hubspot_loader.client.HubSpotClient.association_labels`), or ``None`` when HubSpot did not
  know the target object type.

:func:`schema_from_properties` turns the definitions into a :class:`pandera.pandas.DataFrameSchema` for
the columns a load will send. Its checks are vectorized: each column is formatted once with
:func:`hubspot_loader.formatting.format_series` (the exact strings the loader sends) and the wire strings
are checked with pandas string operations, ``isin`` and one ``to_datetime`` over the distinct values.
The rules follow HubSpot's documented property formats (reference §9) and its error codes (§5.5):

==============================  =============================================================
property                        a non-null cell is rejected when (code)
==============================  =============================================================
any                             its wire form is longer than 65,536 characters
                                (``INVALID_STRING_LENGTH``); it has no wire form at all, e.g. a
                                dict or ``inf`` (``INVALID_VALUE``)
``email``                       it is not an email address (``INVALID_EMAIL``)
``number``                      it is not digits with at most one decimal point, optionally
                                negative (``INVALID_INTEGER``); numeric dtypes always pass
``bool``                        it is not ``true``/``false`` (any case) (``INVALID_OPTION``)
``enumeration``                 it is not one of the option values; for ``fieldType`` checkbox
                                every ``;``-separated part (or list element) must be one
                                (``INVALID_OPTION``). ``externalOptions`` properties (owners ...)
                                are not checked
``date``                        it is not ``YYYY-MM-DD``, an ISO 8601 datetime or epoch
                                milliseconds, or it is not at midnight UTC (``INVALID_DATE``)
``datetime``                    it is not an ISO 8601 datetime, a date or epoch milliseconds
                                (``INVALID_DATETIME``)
read-only or calculated         any value, even ``""`` (``READ_ONLY_VALUE``)
not a property                  any value, even ``""`` (``PROPERTY_DOESNT_EXIST``)
``hasUniqueValue``              another row of the frame has the same value (case-insensitive for
                                ``email``): every row after the first (``DUPLICATE_UNIQUE_VALUE``)
==============================  =============================================================

Null cells (and empty lists) are always allowed: the loader omits the property. ``""`` passes the value
checks (HubSpot reads it as "no value"). For ``contacts`` a row needs one of email, firstname, lastname
(``REQUIRED_PROPERTY``), and the key column must be non-null and unique (``INVALID_KEY``).

:func:`run_preflight` adds the column- and association-level checks and returns a
:class:`PreflightReport`: ``blocking`` problems (a mapped property that does not exist, with the closest
existing names; a read-only property; an unknown association target, type id or label; a missing id
map) and one failed :class:`~hubspot_loader.model.RowOutcome` per bad row (category :data:`PREFLIGHT`,
HubSpot's code, the column and a reason phrased like HubSpot's), with ``bad_positions`` so a caller can
quarantine those rows and load the rest (:meth:`PreflightReport.quarantine`). See ``docs/preflight.md``.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import difflib
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from hubspot_loader.associations import (
    DEFAULT_ASSOCIATION_TYPES,
    UnknownAssociationError,
    default_association_type,
)
from hubspot_loader.formatting import MAX_STRING_LENGTH, format_series, format_value
from hubspot_loader.model import FAILED, AssociationColumn, RowError, RowOutcome
from hubspot_loader.schemas import validate_frame

PREFLIGHT = "PREFLIGHT"
"""The :attr:`RowError.category` of rows rejected by preflight (the HubSpot code is in ``code``)."""

# Row-level codes: HubSpot's own where HubSpot has one (reference §5.5), else the loader's.
PROPERTY_DOESNT_EXIST = "PROPERTY_DOESNT_EXIST"
READ_ONLY_VALUE = "READ_ONLY_VALUE"
INVALID_OPTION = "INVALID_OPTION"
INVALID_EMAIL = "INVALID_EMAIL"
INVALID_INTEGER = "INVALID_INTEGER"
INVALID_DATE = "INVALID_DATE"
INVALID_DATETIME = "INVALID_DATETIME"
INVALID_STRING_LENGTH = "INVALID_STRING_LENGTH"
INVALID_VALUE = "INVALID_VALUE"
"""The cell has no HubSpot wire form at all (a dict, ``inf`` ...; see :mod:`hubspot_loader.formatting`)."""
REQUIRED_PROPERTY = "REQUIRED_PROPERTY"
DUPLICATE_UNIQUE_VALUE = "DUPLICATE_UNIQUE_VALUE"
"""Rows of the frame share a value of a ``hasUniqueValue`` property: HubSpot would create one of them
(which one depends on batch timing) and reject the others as ``CONFLICT``."""
UNRESOLVED_ASSOCIATION = "UNRESOLVED_ASSOCIATION"
INVALID_KEY = "INVALID_KEY"
"""The row's warehouse key is null, unformattable or not unique."""

# Blocking (column- or configuration-level) codes.
COLUMN_NOT_IN_FRAME = "COLUMN_NOT_IN_FRAME"
DUPLICATE_MAPPING = "DUPLICATE_MAPPING"
UNKNOWN_OBJECT_TYPE = "UNKNOWN_OBJECT_TYPE"
UNKNOWN_ASSOCIATION_TYPE = "UNKNOWN_ASSOCIATION_TYPE"
UNKNOWN_ASSOCIATION_LABEL = "UNKNOWN_ASSOCIATION_LABEL"
MISSING_ID_MAP = "MISSING_ID_MAP"
SCHEMA_ERROR = "SCHEMA_ERROR"

VALUE_CHECK = "hubspot_value"
"""Name of the generated per-column value check (its failures carry the codes above)."""

MESSAGE_ENTRIES = 50
"""How many problems :attr:`PreflightReport.message` lists before summarising the rest."""

_CONTACT_IDENTITY = ("email", "firstname", "lastname")
_CONTACT_TYPES = frozenset({"contacts", "contact", "0-1"})
_EMAIL = re.compile(
    r"[^@\s\"<>(),;:]+"  # local part: no spaces, quotes, brackets or separators
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"  # first domain label
    r"(?:\.[A-Za-z0-9-]+)*"  # more labels
    r"\.[A-Za-z]{2,}"  # a top-level domain of letters
)
_NUMBER = re.compile(r"\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*")
_EPOCH_MS = re.compile(r"-?\d+")
_ISO_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_SHOWN = 100
_LIST_TYPES = (list, tuple, set, frozenset, np.ndarray)


# --- property definitions -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Property:
    """The parts of HubSpot's ``Property`` model that decide what a value may be."""

    name: str
    type: str
    field_type: str
    label: str
    options: tuple[str, ...]
    external_options: bool
    unique: bool
    read_only: bool

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> _Property:
        meta = data.get("modificationMetadata") or {}
        kind = str(data.get("type") or "string")
        options = tuple(str(o.get("value")) for o in data.get("options") or () if isinstance(o, Mapping))
        if kind == "bool" and not options:
            options = ("true", "false")
        return cls(
            name=str(data["name"]),
            type=kind,
            field_type=str(data.get("fieldType") or ""),
            label=str(data.get("label") or ""),
            options=options,
            external_options=bool(data.get("externalOptions")),
            unique=bool(data.get("hasUniqueValue")),
            read_only=bool(meta.get("readOnlyValue")) or bool(data.get("calculated")),
        )

    @property
    def multi(self) -> bool:
        return self.type == "enumeration" and self.field_type == "checkbox"

    def normalise(self, texts: pd.Series) -> pd.Series:
        """Wire strings → the form HubSpot compares unique values in (emails lowercased)."""
        if self.name == "email":
            return texts.str.lower()
        if self.type == "number":
            return texts.str.strip()
        return texts


def _properties(definitions: Sequence[Mapping[str, Any]]) -> dict[str, _Property]:
    return {
        str(d["name"]): _Property.from_api(d)
        for d in definitions
        if isinstance(d, Mapping) and d.get("name") and not d.get("archived")
    }


# --- vectorized value checks ----------------------------------------------------------------------


def _positional(series: pd.Series) -> pd.Series:
    """Return the values on a fresh RangeIndex (checks work by position, whatever the index)."""
    return pd.Series(series.to_numpy(dtype=object) if series.dtype == object else series.array, copy=False)


def _too_long(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) > MAX_STRING_LENGTH
    if isinstance(value, _LIST_TYPES):
        return any(isinstance(v, str) and len(v) > MAX_STRING_LENGTH for v in value)
    return False


def _wire(series: pd.Series, naive_timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the wire strings (``None`` = omitted) and codes pre-filled for unformattable cells."""
    formatted = format_series(_positional(series), column=str(series.name), naive_timezone=naive_timezone)
    texts = np.empty(len(series), dtype=object)
    texts[:] = formatted.values
    codes = np.full(len(series), None, dtype=object)
    for error in formatted.errors:
        raw = series.iloc[error.position]
        codes[error.position] = INVALID_STRING_LENGTH if _too_long(raw) else INVALID_VALUE
    return texts, codes


def _instants(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse HubSpot date/datetime strings: (parsed, at midnight UTC) per value, by distinct value."""
    codes, uniques = pd.factorize(texts)
    distinct = pd.Series(uniques, dtype=object)
    epoch = distinct.str.fullmatch(_EPOCH_MS.pattern).fillna(False).to_numpy(dtype=bool)
    iso = distinct.str.fullmatch(_ISO_INSTANT.pattern).fillna(False).to_numpy(dtype=bool)
    stamps = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[ns, UTC]")
    if epoch.any():
        millis = pd.to_numeric(distinct[epoch], errors="coerce")
        stamps[epoch] = pd.to_datetime(millis, unit="ms", utc=True, errors="coerce")
    if iso.any():
        stamps[iso] = pd.to_datetime(distinct[iso], format="ISO8601", utc=True, errors="coerce")
    valid = stamps.notna().to_numpy()
    midnight = valid & (stamps.dt.normalize() == stamps).to_numpy(dtype=bool)
    # Outside pandas' nanosecond range (years 1677-2262): parse those few in Python.
    for i in np.flatnonzero(~valid & (epoch | iso)).tolist():
        instant = _python_instant(str(distinct.iloc[i]), bool(epoch[i]))
        if instant is not None:
            valid[i] = True
            midnight[i] = instant.time() == dt.time(0)
    return valid[codes], midnight[codes]


def _python_instant(text: str, epoch: bool) -> dt.datetime | None:
    try:
        if epoch:
            return dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.timezone.utc)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.tzinfo is None:
        return parsed
    return parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _option_codes(prop: _Property, texts: pd.Series) -> np.ndarray:
    """Mark the enumeration/bool values that are not allowed options."""
    allowed = frozenset(prop.options)
    if prop.type == "bool":
        lowered = texts.str.lower()
        texts = lowered.where(lowered.isin(("true", "false")), texts)
    if not prop.multi:
        return ~texts.isin(list(allowed)).to_numpy(dtype=bool)
    codes, uniques = pd.factorize(texts)
    bad = np.array([any(part and part not in allowed for part in str(u).split(";")) for u in uniques])
    return bad[codes] if len(bad) else np.zeros(len(texts), dtype=bool)


def _value_codes(series: pd.Series, prop: _Property, naive_timezone: str) -> np.ndarray:
    """Return the HubSpot error code each cell would get (``None``: accepted or omitted)."""
    texts, codes = _wire(series, naive_timezone)
    check = np.flatnonzero(pd.notna(texts) & pd.isna(codes))
    if not len(check):
        return codes
    values = pd.Series(texts[check], dtype=object)
    out = np.full(len(values), None, dtype=object)
    lengths = values.str.len().to_numpy()
    out[lengths > MAX_STRING_LENGTH] = INVALID_STRING_LENGTH
    todo = pd.isna(out) & (lengths > 0)  # "" means "no value": nothing more to check
    if todo.any():
        sub = values[todo].reset_index(drop=True)
        out[todo] = _type_codes(prop, sub)
    codes[check] = out
    return codes


def _type_codes(prop: _Property, texts: pd.Series) -> np.ndarray:
    out = np.full(len(texts), None, dtype=object)
    if prop.name == "email":
        out[~texts.str.fullmatch(_EMAIL.pattern).to_numpy(dtype=bool)] = INVALID_EMAIL
        return out
    kind = prop.type
    if kind == "number":
        out[~texts.str.fullmatch(_NUMBER.pattern).to_numpy(dtype=bool)] = INVALID_INTEGER
    elif kind in ("enumeration", "bool") and not prop.external_options:
        out[_option_codes(prop, texts)] = INVALID_OPTION
    elif kind == "date":
        valid, midnight = _instants(texts)
        out[~(valid & midnight)] = INVALID_DATE
    elif kind == "datetime":
        valid, _ = _instants(texts)
        out[~valid] = INVALID_DATETIME
    return out


def _sent(series: pd.Series, naive_timezone: str) -> np.ndarray:
    """Mark the cells the loader would send (any non-omitted value, even ``""``) or reject."""
    texts, codes = _wire(series, naive_timezone)
    return np.asarray(pd.notna(texts) | pd.notna(codes), dtype=bool)


def _duplicated(series: pd.Series, prop: _Property, naive_timezone: str) -> np.ndarray:
    """Mark every row whose unique value an earlier row of the frame already has (the first one is kept).

    Keeping the first occurrence makes the outcome deterministic: HubSpot itself would create whichever
    copy it happened to process first and reject the others with 409 CONFLICT.
    """
    texts, _ = _wire(series, naive_timezone)
    values = prop.normalise(pd.Series(texts, dtype=object))
    present = values.notna() & (values != "")
    return np.asarray(present & values.duplicated(keep="first"), dtype=bool)


def _key_problems(series: pd.Series, naive_timezone: str) -> np.ndarray:
    """Mark the rows whose warehouse key is null, unformattable or shared with another row."""
    formatted = format_series(_positional(series), column=str(series.name), naive_timezone=naive_timezone)
    keys = pd.Series(formatted.values, dtype=object)
    bad = keys.isna().to_numpy() | (keys.duplicated(keep=False).to_numpy() & keys.notna().to_numpy())
    return np.asarray(bad, dtype=bool)


def _series_check(name: str, test: Callable[[pd.Series], np.ndarray], description: str) -> pa.Check:
    """Build a pandera column check from a vectorized "bad cell" test (nulls are seen, not dropped)."""

    def check(series: pd.Series) -> pd.Series:
        return pd.Series(~test(series), index=series.index)

    return pa.Check(check, name=name, ignore_na=False, description=description)


def _column_checks(
    column: str, prop_name: str, prop: _Property | None, naive_timezone: str, object_type: str
) -> list[pa.Check]:
    if prop is None:
        return [
            _series_check(
                PROPERTY_DOESNT_EXIST,
                lambda s: _sent(s, naive_timezone),
                f"column {column!r}: property {prop_name!r} does not exist on {object_type}",
            )
        ]
    if prop.read_only:
        return [
            _series_check(
                READ_ONLY_VALUE,
                lambda s: _sent(s, naive_timezone),
                f"column {column!r}: property {prop.name!r} is read-only",
            )
        ]
    checks = [
        _series_check(
            VALUE_CHECK,
            lambda s: pd.notna(_value_codes(s, prop, naive_timezone)),
            f"column {column!r}: values HubSpot accepts for {prop.type} property {prop.name!r}",
        )
    ]
    if prop.unique:
        checks.append(
            _series_check(
                DUPLICATE_UNIQUE_VALUE,
                lambda s: _duplicated(s, prop, naive_timezone),
                f"column {column!r}: {prop.name!r} has unique values in HubSpot",
            )
        )
    return checks


def _identity_check(columns: Sequence[str], naive_timezone: str) -> pa.Check:
    """Contacts: a row needs one of email, firstname, lastname with a non-empty value."""

    def check(df: pd.DataFrame) -> pd.Series:
        has = np.zeros(len(df), dtype=bool)
        for column in columns:
            texts, _ = _wire(df[column], naive_timezone)
            has |= np.asarray(pd.notna(texts) & (texts != ""), dtype=bool)
        return pd.Series(has, index=df.index)

    return pa.Check(
        check,
        name=REQUIRED_PROPERTY,
        ignore_na=False,
        description="a contact needs at least one of email, firstname or lastname",
    )


def schema_from_properties(
    definitions: Sequence[Mapping[str, Any]],
    mapping: Mapping[str, str],
    *,
    key_column: str | None = None,
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
        failures :func:`run_preflight` explains with the precise code per cell.

    """
    props = _properties(definitions)
    where = object_type or "this object type"
    checks: dict[str, list[pa.Check]] = {}
    for column, prop_name in mapping.items():
        checks[column] = _column_checks(column, prop_name, props.get(prop_name), naive_timezone, where)
    if key_column is not None:
        checks.setdefault(key_column, []).append(
            _series_check(
                INVALID_KEY,
                lambda s: _key_problems(s, naive_timezone),
                f"key column {key_column!r}: non-null and unique",
            )
        )
    columns = {c: pa.Column(None, cs, nullable=True, required=True, name=c) for c, cs in checks.items()}
    frame_checks = []
    if object_type is not None and object_type.strip().lower() in _CONTACT_TYPES:
        identity = [
            column
            for column, prop_name in mapping.items()
            if prop_name in _CONTACT_IDENTITY and prop_name in props and not props[prop_name].read_only
        ]
        frame_checks.append(_identity_check(identity, naive_timezone))
    return pa.DataFrameSchema(
        columns,
        checks=frame_checks,
        strict=False,
        name=f"hubspot_{object_type}_preflight" if object_type else "hubspot_preflight",
        description="Generated from HubSpot's property definitions: values HubSpot would accept.",
    )


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


# --- the report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockingProblem:
    """A problem with the load's configuration rather than one row's values.

    ``per_row`` is ``True`` when the problem is also reported for every row it affects (a column mapped
    to a missing or read-only property fails exactly the rows with a value in it), so quarantining
    those rows removes it; ``False`` when no row can be loaded correctly until it is fixed.
    """

    code: str
    message: str
    column: str | None = None
    property: str | None = None
    suggestions: tuple[str, ...] = ()
    per_row: bool = False


@dataclass(frozen=True)
class RowProblem:
    """One (row, column) HubSpot would reject, with HubSpot's code and a reason phrased like HubSpot's."""

    position: int
    key: str
    column: str | None
    property: str | None
    code: str
    message: str
    value: str | None = None
    """The value as it would be sent (shortened to 100 characters), when there is one."""


@dataclass
class Quarantine:
    """A frame split by preflight: the rows to load, and the failed outcomes of the others.

    ``frame`` keeps the source index; ``positions[i]`` is the source position of ``frame``'s row ``i``.
    Outcomes of loading ``frame`` count positions from 0 within it: map them back with :meth:`restore`.
    """

    frame: pd.DataFrame
    positions: np.ndarray
    rejected: list[RowOutcome]

    def restore(self, outcome: RowOutcome, *, key_column: str | None) -> RowOutcome:
        """Return ``outcome`` with its source position (and, without a key column, its source key)."""
        position = int(self.positions[outcome.position])
        key = outcome.key if key_column is not None else str(position)
        return dataclasses.replace(outcome, position=position, key=key)


@dataclass
class PreflightReport:
    """What preflight predicts HubSpot would reject, before anything is sent."""

    object_type: str
    rows_total: int
    blocking: list[BlockingProblem] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    """Every (row, column) problem, in position order."""
    rows: list[RowOutcome] = field(default_factory=list)
    """One failed outcome per bad row (category :data:`PREFLIGHT`; all its problems in the message)."""
    frame: pd.DataFrame | None = None
    """The frame as validated: coerced by the user's schema when everything passed, else the input."""

    @property
    def bad_positions(self) -> set[int]:
        """Source positions of the rows HubSpot would reject."""
        return {r.position for r in self.rows}

    @property
    def ok(self) -> bool:
        """``True`` when nothing blocks and no row would be rejected."""
        return not self.blocking and not self.problems

    @property
    def can_quarantine(self) -> bool:
        """Whether loading the rows outside :attr:`bad_positions` avoids every predicted failure."""
        return all(b.per_row for b in self.blocking)

    @property
    def rows_failed(self) -> int:
        """Rows HubSpot would reject."""
        return len(self.rows)

    @property
    def error_counts(self) -> dict[str, int]:
        """Row problems per code."""
        counts: dict[str, int] = {}
        for problem in self.problems:
            counts[problem.code] = counts.get(problem.code, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def message(self) -> str:
        """A readable summary: each blocking problem, then each row problem (first 50)."""
        if self.ok:
            return f"preflight of {self.object_type}: all {self.rows_total} row(s) pass"
        counts = ", ".join(f"{k}: {v}" for k, v in self.error_counts.items())
        head = (
            f"preflight of {self.object_type}: {len(self.blocking)} blocking problem(s), "
            f"{self.rows_failed} of {self.rows_total} row(s) would be rejected"
            + (f" ({counts})" if counts else "")
        )
        lines = [f"- {b.code}: {b.message}" for b in self.blocking]
        for p in self.problems[:MESSAGE_ENTRIES]:
            column = f"column {p.column!r}" if p.column is not None else "whole row"
            lines.append(f"- row key {p.key!r} (position {p.position}), {column}: {p.code}: {p.message}")
        if len(self.problems) > MESSAGE_ENTRIES:
            lines.append(f"... and {len(self.problems) - MESSAGE_ENTRIES} more")
        return "\n".join([head, *lines])

    def to_frame(self) -> pd.DataFrame:
        """Return the row problems as a table: key, position, column, property, code, message, value."""
        columns = ["key", "position", "column", "property", "code", "message", "value"]
        return pd.DataFrame([dataclasses.asdict(p) for p in self.problems], columns=columns)

    def quarantine(self, df: pd.DataFrame) -> Quarantine:
        """Split ``df`` (the frame this report is about) into the rows to load and the rejected ones.

        Raises:
            PreflightError: a blocking problem cannot be quarantined (see :attr:`can_quarantine`).

        """
        if not self.can_quarantine:
            raise PreflightError(self)
        if len(df) != self.rows_total:
            raise ValueError(f"the report is about {self.rows_total} rows, the frame has {len(df)}")
        keep = np.setdiff1d(np.arange(len(df)), np.fromiter(self.bad_positions, dtype=np.int64))
        return Quarantine(frame=df.iloc[keep], positions=keep, rejected=list(self.rows))


class PreflightError(ValueError):
    """Preflight predicts failures and the load was asked to block; nothing was sent.

    ``report`` holds every blocking and row problem; ``str(error)`` names them.
    """

    def __init__(self, report: PreflightReport) -> None:
        super().__init__(report.message)
        self.report = report


# --- run_preflight ----------------------------------------------------------------------------------


def run_preflight(
    df: pd.DataFrame,
    *,
    object_type: str,
    definitions: Sequence[Mapping[str, Any]],
    mapping: Mapping[str, str],
    key_column: str | None = None,
    associations: Sequence[AssociationColumn] = (),
    labels: Mapping[str, Sequence[Mapping[str, Any]] | None] | None = None,
    id_maps: Mapping[str, Mapping[str, str]] | None = None,
    schema: pa.DataFrameSchema | type[pa.DataFrameModel] | None = None,
    naive_timezone: str = "UTC",
) -> PreflightReport:
    """Predict which rows of ``df`` HubSpot would reject, and what blocks the load as configured.

    Args:
        df: the rows to load.
        object_type: the object type (``contacts``, ``2-123``, ``p_vendor`` ...), used in messages and
            for the contact identity rule.
        definitions: the properties API ``results`` for ``object_type``.
        mapping: column → property for the columns the load sends (as settled by
            :func:`hubspot_loader.load.property_mapping`).
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
        the report; nothing is raised for predicted failures (see :class:`PreflightError`).

    """
    props = _properties(definitions)
    blocking: list[BlockingProblem] = []
    present = {str(c) for c in df.columns}
    mapped: dict[str, str] = {}
    seen: dict[str, str] = {}
    for column, prop_name in mapping.items():
        if column not in present:
            blocking.append(
                BlockingProblem(
                    COLUMN_NOT_IN_FRAME, f"column {column!r} is not in the frame", column, prop_name
                )
            )
            continue
        if prop_name in seen:
            blocking.append(
                BlockingProblem(
                    DUPLICATE_MAPPING,
                    f"columns {seen[prop_name]!r} and {column!r} both map to property {prop_name!r}",
                    column,
                    prop_name,
                )
            )
            continue
        seen[prop_name] = column
        mapped[column] = prop_name
        blocking.extend(_property_problem(column, prop_name, props, object_type))
    if key_column is not None and key_column not in present:
        blocking.append(
            BlockingProblem(COLUMN_NOT_IN_FRAME, f"key column {key_column!r} is not in the frame")
        )
        key_column = None

    generated = schema_from_properties(
        definitions, mapped, key_column=key_column, object_type=object_type, naive_timezone=naive_timezone
    )
    for association in associations:
        found, check = _association_preflight(
            object_type, association, labels, id_maps, present, naive_timezone
        )
        blocking.extend(found)
        if check is not None:
            generated = _with_check(generated, association.column, check)
    full = merge_schemas(generated, schema) if schema is not None else generated

    validated = validate_frame(df, full, key_column)
    keys = _row_keys(df, key_column, naive_timezone)
    explain = _Explainer(df, props, mapped, keys, naive_timezone, object_type, associations, id_maps)
    problems_: list[RowProblem] = []
    for entry in validated.entries:
        if entry.position is None:
            where = f"column {entry.column!r}: " if entry.column is not None else ""
            value = f" ({entry.failure_case})" if entry.failure_case is not None else ""
            blocking.append(
                BlockingProblem(SCHEMA_ERROR, f"{where}check {entry.check} failed{value}", entry.column)
            )
            continue
        problems_.extend(explain.entry(entry.position, entry.column, entry.check, entry.failure_case))
    problems_.sort(key=lambda p: (p.position, p.column is None, p.column or "", p.code))
    return PreflightReport(
        object_type=object_type,
        rows_total=len(df),
        blocking=blocking,
        problems=problems_,
        rows=_outcomes(problems_, key_column),
        frame=validated.frame,
    )


def _with_check(schema: pa.DataFrameSchema, column: str, check: pa.Check) -> pa.DataFrameSchema:
    existing = schema.columns.get(column)
    if existing is None:
        return schema.add_columns({column: pa.Column(None, [check], nullable=True, name=column)})
    return schema.update_column(column, checks=[*existing.checks, check])


def _property_problem(
    column: str, prop_name: str, props: Mapping[str, _Property], object_type: str
) -> list[BlockingProblem]:
    prop = props.get(prop_name)
    if prop is None:
        close = _closest(prop_name, props)
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


def _closest(name: str, props: Mapping[str, _Property], n: int = 3) -> list[str]:
    """Existing property names closest to ``name`` (by name or by label), best first."""
    candidates: dict[str, str] = {}
    for prop in props.values():
        candidates.setdefault(prop.name.lower(), prop.name)
        if prop.label:
            candidates.setdefault(prop.label.lower(), prop.name)
    out: list[str] = []
    for hit in difflib.get_close_matches(name.lower(), list(candidates), n=n * 2, cutoff=0.6):
        if candidates[hit] not in out:
            out.append(candidates[hit])
    return out[:n]


def _association_preflight(
    object_type: str,
    association: AssociationColumn,
    labels: Mapping[str, Sequence[Mapping[str, Any]] | None] | None,
    id_maps: Mapping[str, Mapping[str, str]] | None,
    present: set[str],
    naive_timezone: str,
) -> tuple[list[BlockingProblem], pa.Check | None]:
    column, target = association.column, association.to_object_type
    where = f"association column {column!r} ({object_type} → {target})"
    if column not in present:
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
    check = None
    if association.keys_from is not None:
        id_map = (id_maps or {}).get(association.keys_from)
        if id_map is None:
            message = (
                f"{where}: takes warehouse keys from {association.keys_from!r}, but no id map with that "
                f"name was given (have: {sorted(id_maps or {})})"
            )
            problems.append(BlockingProblem(MISSING_ID_MAP, message, column))
        else:
            check = _unresolved_check(column, target, id_map, naive_timezone)
    return problems, check


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


def _targets(series: pd.Series, naive_timezone: str) -> pd.Series:
    """Each row's association targets as wire strings, one per line (index = row position)."""
    exploded = _positional(series).explode()
    formatted = format_series(exploded.reset_index(drop=True), naive_timezone=naive_timezone)
    texts = pd.Series(formatted.values, index=exploded.index, dtype=object)
    for error in formatted.errors:
        texts.iloc[error.position] = f"<{error.reason}>"
    return texts[texts.notna() & (texts != "")]


def _unresolved_check(column: str, target: str, id_map: Mapping[str, str], naive_timezone: str) -> pa.Check:
    known = pd.Index(list(id_map), dtype=object)

    def unresolved(series: pd.Series) -> np.ndarray:
        targets = _targets(series, naive_timezone)
        missing = targets[~targets.isin(known)]
        bad = np.zeros(len(series), dtype=bool)
        bad[np.unique(missing.index.to_numpy(dtype=np.int64))] = True
        return bad

    return _series_check(
        UNRESOLVED_ASSOCIATION, unresolved, f"column {column!r}: every warehouse key of a {target} is loaded"
    )


def _row_keys(df: pd.DataFrame, key_column: str | None, naive_timezone: str) -> list[str]:
    if key_column is None:
        return [str(i) for i in range(len(df))]
    formatted = format_series(_positional(df[key_column]), column=key_column, naive_timezone=naive_timezone)
    return [k if k is not None else str(i) for i, k in enumerate(formatted.values)]


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + f"… ({len(text):,} characters)"


class _Explainer:
    """Turn pandera failures into HubSpot-style row problems (work done once per column, lazily)."""

    def __init__(
        self,
        df: pd.DataFrame,
        props: Mapping[str, _Property],
        mapped: Mapping[str, str],
        keys: list[str],
        naive_timezone: str,
        object_type: str,
        associations: Sequence[AssociationColumn],
        id_maps: Mapping[str, Mapping[str, str]] | None,
    ) -> None:
        self.df = df
        self.props = props
        self.mapped = mapped
        self.keys = keys
        self.tz = naive_timezone
        self.object_type = object_type
        self.associations = {a.column: a for a in associations}
        self.id_maps = id_maps or {}
        self._codes: dict[str, np.ndarray] = {}
        self._groups: dict[str, pd.Series] = {}
        self._raw: dict[str, np.ndarray] = {}
        self._texts: dict[str, np.ndarray] = {}

    def _column(self, column: str) -> pd.Series:
        return _positional(self.df[column])

    def _raw_value(self, column: str, position: int) -> Any:
        if column not in self._raw:
            self._raw[column] = self.df[column].to_numpy(dtype=object)
        return self._raw[column][position]

    def _wire_text(self, column: str, position: int) -> str | None:
        """Return the cell as it would be sent (``None``: omitted or unformattable)."""
        if column not in self._texts:
            self._texts[column] = _wire(self.df[column], self.tz)[0]
        text = self._texts[column][position]
        return None if text is None else str(text)

    def entry(self, position: int, column: str | None, check: str, case: str | None) -> list[RowProblem]:
        key = self.keys[position]
        prop_name = self.mapped.get(column) if column is not None else None
        value = None
        if column is not None and column in self.df.columns:
            text = self._wire_text(column, position)
            value = _short(text) if text is not None else None

        def problem(code: str, message: str) -> list[RowProblem]:
            return [RowProblem(position, key, column, prop_name, code, message, value)]

        if check == VALUE_CHECK and column is not None and prop_name is not None:
            prop = self.props[prop_name]
            code = self._value_code(column, prop, position)
            return problem(code, self._value_message(code, prop, column, position))
        if check == PROPERTY_DOESNT_EXIST and prop_name is not None:
            close = _closest(prop_name, self.props)
            hint = f" (closest existing: {', '.join(close)})" if close else ""
            return problem(check, f'Property "{prop_name}" does not exist{hint}')
        if check == READ_ONLY_VALUE and prop_name is not None:
            return problem(check, f"{prop_name} is a read-only property; its value cannot be set")
        if check == DUPLICATE_UNIQUE_VALUE and column is not None and prop_name is not None:
            return problem(check, self._duplicate_message(column, self.props[prop_name], position))
        if check == INVALID_KEY and column is not None:
            return problem(check, self._key_message(column, position))
        if check == UNRESOLVED_ASSOCIATION and column is not None:
            return problem(check, self._unresolved_message(column, position))
        if check == REQUIRED_PROPERTY:
            return problem(
                check, "A contact needs at least one of the properties email, firstname or lastname"
            )
        shown = f": value {case!r}" if case is not None else ""
        return problem(check, f"failed check {check}{shown}")

    def _value_code(self, column: str, prop: _Property, position: int) -> str:
        if column not in self._codes:
            self._codes[column] = _value_codes(self._column(column), prop, self.tz)
        code = self._codes[column][position]
        return str(code) if code is not None else INVALID_VALUE

    def _value_message(self, code: str, prop: _Property, column: str, position: int) -> str:
        raw = self._raw_value(column, position)
        text = self._wire_text(column, position)
        if code == INVALID_VALUE or text is None:
            if _too_long(raw):
                got = f" (got {len(raw):,})" if isinstance(raw, str) else ""
                return f"{prop.name} is longer than the maximum of {MAX_STRING_LENGTH:,} characters{got}"
            try:
                format_value(raw, naive_timezone=self.tz)
            except ValueError as exc:
                return f"{prop.name}: {exc}"
            return f"{prop.name}: the value cannot be sent"
        shown = _short(text)
        if code == INVALID_STRING_LENGTH:
            limit = f"{MAX_STRING_LENGTH:,}"
            return f"{prop.name} is longer than the maximum of {limit} characters (got {len(text):,})"
        if code == INVALID_EMAIL:
            return f"Email address {shown} is invalid"
        if code == INVALID_INTEGER:
            return f"{shown} was not a valid number"
        if code == INVALID_OPTION:
            parts = [p for p in text.split(";") if p] if prop.multi else [text]
            allowed = set(prop.options)
            if prop.type == "bool":
                parts = [p.lower() if p.lower() in ("true", "false") else p for p in parts]
            bad = next((p for p in parts if p not in allowed), text)
            return f"{_short(bad)} was not one of the allowed options: [{', '.join(prop.options)}]"
        if code == INVALID_DATE:
            valid, _ = _instants(pd.Series([text], dtype=object))
            if valid[0]:
                return f"{shown} is not at midnight UTC; a date property takes YYYY-MM-DD (or midnight UTC)"
            return f"{shown} was not a valid date"
        if code == INVALID_DATETIME:
            return f"{shown} was not a valid datetime"
        return f"{shown} is not valid for {prop.name}"

    def _duplicate_message(self, column: str, prop: _Property, position: int) -> str:
        if column not in self._groups:
            texts, _ = _wire(self._column(column), self.tz)
            self._groups[column] = prop.normalise(pd.Series(texts, dtype=object))
        values = self._groups[column]
        value = values.iloc[position]
        first = int(np.flatnonzero((values == value).to_numpy())[0])
        return (
            f"{prop.name} {_short(str(value))!r} is not unique in the frame: the row with key "
            f"{self.keys[first]!r} has it first and is the one loaded (HubSpot would reject a second "
            "object with it as already existing, CONFLICT)"
        )

    def _key_message(self, column: str, position: int) -> str:
        raw = self._raw_value(column, position)
        try:
            key = format_value(raw, naive_timezone=self.tz)
        except ValueError as exc:
            return f"key column {column!r}: the key cannot be formatted ({exc})"
        if key is None:
            return f"key column {column!r}: the key is null"
        same = [str(i) for i, k in enumerate(self.keys) if k == key and i != position]
        return f"key column {column!r}: key {key!r} is not unique (also at positions {', '.join(same[:5])})"

    def _unresolved_message(self, column: str, position: int) -> str:
        association = self.associations.get(column)
        if association is None or association.keys_from is None:
            return "unresolved association"
        id_map = self.id_maps.get(association.keys_from, {})
        targets = _targets(self.df[column].iloc[[position]], self.tz)
        unknown = [t for t in targets.tolist() if t not in id_map]
        keys = ", ".join(repr(k) for k in unknown)
        return (
            f"no {association.to_object_type} record with warehouse key {keys} in the id map "
            f"{association.keys_from!r} (not loaded, or it failed)"
        )


def _outcomes(problems: list[RowProblem], key_column: str | None) -> list[RowOutcome]:
    """One failed outcome per row: the first problem's code and column, every problem in the message."""
    by_row: dict[int, list[RowProblem]] = {}
    for problem in problems:
        by_row.setdefault(problem.position, []).append(problem)
    outcomes = []
    for position, found in sorted(by_row.items()):
        first = found[0]
        message = "; ".join(
            (f"column {p.column!r}: " if p.column is not None else "") + f"{p.code}: {p.message}"
            for p in found
        )
        error = RowError(category=PREFLIGHT, message=message, code=first.code, property=first.column)
        trace = first.key if key_column is not None else f"row-{position}"
        outcomes.append(
            RowOutcome(key=first.key, position=position, status=FAILED, error=error, trace_id=trace)
        )
    return outcomes


__all__ = [
    "PREFLIGHT",
    "BlockingProblem",
    "PreflightError",
    "PreflightReport",
    "Quarantine",
    "RowProblem",
    "merge_schemas",
    "run_preflight",
    "schema_from_properties",
]
